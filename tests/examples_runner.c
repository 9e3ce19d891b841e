/* examples_runner.c — every bundled example (examples/<name>/model.onnx,
 * exported by PyTorch) run through snnc on its input.npy and compared with
 * PyTorch's own output, expected.npy: max |difference| must be <= 1e-5 times
 * the output's scale, max(1, max |expected|) (float32 rounding grows with the
 * values: on fashion28's 28-step networks, logits up to 12, snnc and PyTorch
 * each differ from a float64 evaluation by up to 1.2e-5 and 6.4e-6).
 * The model's first output is compared.  An example may also sit one level
 * deeper (examples/<set>/<name>/, e.g. examples/fashion28/elman64_tanh/):
 * its input.npy is then the folder's own or, if it has none, the set's
 * (several networks sharing one data set).  usage: examples_runner EXAMPLES_DIR */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/tensor.h"
#include "snnc.h"

#define TOLERANCE 1e-5

static int run_example(const char *dir, const char *name)
{
    char model[4096], input[4096], expected[4096];
    snprintf(model, sizeof model, "%s/%s/model.onnx", dir, name);
    struct stat st;
    snprintf(input, sizeof input, "%s/%s/input.npy", dir, name);
    const char *slash = strchr(name, '/');
    if (stat(input, &st) != 0 && slash)   /* a set's member: the set's input.npy */
        snprintf(input, sizeof input, "%s/%.*s/input.npy", dir, (int)(slash - name), name);
    snprintf(expected, sizeof expected, "%s/%s/expected.npy", dir, name);
    snnc_err err = {0};
    snnc_graph *g = NULL;
    snnc_tensor *x = NULL, *want = NULL, *got = NULL;
    int rc = snnc_load_onnx_file(model, &g, &err);
    if (!rc)
        rc = snnc_npy_read(input, &x, &err);
    if (!rc)
        rc = snnc_npy_read(expected, &want, &err);
    const char *in_name = g ? snnc_graph_input_name(g, 0) : NULL;
    const char *out_name = g ? snnc_graph_output_name(g, 0) : NULL;
    if (!rc)
        rc = snnc_run(g, 1, &in_name, (const snnc_tensor *const *)&x, 1, &out_name, &got, &err);
    double maxdiff = 0, scale = 1;
    if (!rc && !snnc_same_shape(got, want)) {
        printf("FAIL %s: output shape differs from expected.npy\n", name);
        rc = 1;
    }
    for (int64_t i = 0; !rc && i < want->count; i++) {
        double d = fabs(snnc_tensor_get_f(got, i) - snnc_tensor_get_f(want, i));
        if (!(d <= maxdiff))
            maxdiff = isnan(d) ? INFINITY : d;
        scale = fmax(scale, fabs(snnc_tensor_get_f(want, i)));
    }
    if (err.code)
        printf("FAIL %s: %s\n", name, err.msg);
    else if (!rc)
        printf("%s %s: max |snnc - pytorch| = %.3g over %lld values (bound %.3g)\n",
               maxdiff <= TOLERANCE * scale ? "PASS" : "FAIL", name, maxdiff,
               (long long)want->count, TOLERANCE * scale);
    int failed = rc || !(maxdiff <= TOLERANCE * scale);
    snnc_tensor_free(x), snnc_tensor_free(want), snnc_tensor_free(got);
    snnc_graph_free(g);
    return failed;
}

/* Whether DIR/NAME holds an example (its expected.npy). */
static int has_expected(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/expected.npy", dir, name);
    return stat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s EXAMPLES_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 2;
    }
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;) {
        if (e->d_name[0] == '.')
            continue;
        if (has_expected(argv[1], e->d_name)) {
            names[n++] = strdup(e->d_name);
            continue;
        }
        /* not an example itself: a set of examples one level deeper? */
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", argv[1], e->d_name);
        DIR *sd = opendir(sub);
        for (struct dirent *f; sd && (f = readdir(sd)) && n < 256;) {
            char name[1024];
            snprintf(name, sizeof name, "%s/%s", e->d_name, f->d_name);
            if (f->d_name[0] != '.' && has_expected(argv[1], name))
                names[n++] = strdup(name);
        }
        if (sd)
            closedir(sd);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        failed += run_example(argv[1], names[i]);
        free(names[i]);
    }
    printf("%d passed, %d failed\n", n - failed, failed);
    return failed || n == 0;
}
