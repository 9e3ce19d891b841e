/* bench_eval.c — throughput benchmark of the float reference evaluator on a
 * large LSTM (not part of the test suite; docs/BENCHMARKS.md explains the
 * figures).  It builds an ONNX LSTM model in memory with protobuf-c (fixed-
 * seed weights), then times snnc_load_onnx_buffer, snnc_run, and cblas_sgemm
 * at a large square size (the BLAS peak) and at the LSTM's own two shapes,
 * and prints one line per figure and a final JSON line.
 * usage: bench_eval [--input N] [--hidden N] [--seq N] [--batch N] ... (--help) */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <cblas.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "onnx_build.h"
#include "onnx.pb-c.h"
#include "snnc.h"

/* ------------------------------------------------------------- options */

typedef struct opts {
    long input, hidden, seq, batch;
    int import_runs, eval_runs, gemm_runs;
    long gemm_n;
    uint64_t seed;
    const char *write_path;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_eval [options]\n"
            "  --input N        LSTM input size (default 512)\n"
            "  --hidden N       LSTM hidden size (default 1024)\n"
            "  --seq N          sequence length in steps (default 100)\n"
            "  --batch N        batch size (default 32)\n"
            "  --import-runs N  timed imports, median reported (default 5)\n"
            "  --eval-runs N    timed evaluations after one warm-up, median reported (default 5)\n"
            "  --gemm N         size of the square sgemm measuring the BLAS peak (default 2048)\n"
            "  --gemm-runs N    timed sgemm calls per shape, best reported (default 5)\n"
            "  --seed N         PRNG seed of weights and input (default 1)\n"
            "  --write FILE     also write the generated model to FILE\n");
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){512, 1024, 100, 32, 5, 5, 5, 2048, 1, NULL};
    long seed = 1, ir = 5, er = 5, gr = 5;
    const snnc_bench_opt opt[] = {
        {"--input", SNNC_BENCH_LONG, &o->input, 1, 1 << 16, NULL},
        {"--hidden", SNNC_BENCH_LONG, &o->hidden, 1, 1 << 16, NULL},
        {"--seq", SNNC_BENCH_LONG, &o->seq, 1, 1 << 20, NULL},
        {"--batch", SNNC_BENCH_LONG, &o->batch, 1, 1 << 16, NULL},
        {"--gemm", SNNC_BENCH_LONG, &o->gemm_n, 1, 1 << 15, NULL},
        {"--seed", SNNC_BENCH_LONG, &seed, 0, (double)(1L << 62), NULL},
        {"--import-runs", SNNC_BENCH_LONG, &ir, 1, 1000, NULL},
        {"--eval-runs", SNNC_BENCH_LONG, &er, 1, 1000, NULL},
        {"--gemm-runs", SNNC_BENCH_LONG, &gr, 1, 1000, NULL},
        {"--write", SNNC_BENCH_STRING, &o->write_path, 0, 0, "a file name"},
    };
    if (snnc_bench_parse("bench_eval", argc, argv, opt, sizeof opt / sizeof opt[0], usage))
        return -1;
    o->seed = (uint64_t)seed;
    o->import_runs = (int)ir, o->eval_runs = (int)er, o->gemm_runs = (int)gr;
    /* Keep every tensor within snnc's element limit and the BLAS int range. */
    double w = 4.0 * (double)o->hidden * (double)(o->input > o->hidden ? o->input : o->hidden);
    double rows = (double)o->seq * (double)o->batch;
    double y = rows * 4.0 * (double)o->hidden, x = rows * (double)o->input;
    if (w >= (double)SNNC_MAX_ELEMENTS || y >= (double)SNNC_MAX_ELEMENTS ||
        x >= (double)SNNC_MAX_ELEMENTS) {
        fprintf(stderr, "bench_eval: sizes too large (a tensor would exceed 2^31 elements)\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ utilities */

/* Uniform in [-scale, scale). */
static void fill_uniform(float *v, size_t n, float scale, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * (2.0f * (float)snnc_bench_uniform01(s) - 1.0f);
}

/* -------------------------------------------------- the model, in memory */

/* Storage the ModelProto points into; freed by model_free. */
typedef struct model_parts {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto node, *nodes[1];
    char *node_in[4], *node_out[3];
    Onnx__AttributeProto hidden_attr, *attrs[1];
    bench_init init[3];
    Onnx__TensorProto *inits[3];
    bench_value val[4];
    Onnx__ValueInfoProto *ins[1], *outs[3];
} model_parts;

/* A single-layer forward LSTM, opset 14, time-major: X[seq, batch, input]
 * -> Y[seq, 1, batch, hidden], Y_h, Y_c[1, batch, hidden].  Weights are
 * uniform in +-1/sqrt(hidden) (PyTorch's initialisation). */
static int model_build(model_parts *p, const opts *o, uint64_t *rng)
{
    memset(p, 0, sizeof *p);
    int64_t ni = o->input, nh = o->hidden, ns = o->seq, nb = o->batch;
    float sc = 1.0f / sqrtf((float)nh);
    int64_t dw[3] = {1, 4 * nh, ni}, dr[3] = {1, 4 * nh, nh}, db[2] = {1, 8 * nh};
    if (bench_init_set(&p->init[0], "W", 3, dw, sc, false, rng) ||
        bench_init_set(&p->init[1], "R", 3, dr, sc, false, rng) ||
        bench_init_set(&p->init[2], "B", 2, db, sc, false, rng))
        return -1;
    int64_t dx[3] = {ns, nb, ni}, dy[4] = {ns, 1, nb, nh}, ds[3] = {1, nb, nh};
    for (int k = 0; k < 3; k++)
        p->inits[k] = &p->init[k].t;
    bench_value_set(&p->val[0], "X", 3, dx);
    bench_value_set(&p->val[1], "Y", 4, dy);
    bench_value_set(&p->val[2], "Y_h", 3, ds);
    bench_value_set(&p->val[3], "Y_c", 3, ds);
    p->ins[0] = &p->val[0].vi;
    for (int k = 0; k < 3; k++)
        p->outs[k] = &p->val[k + 1].vi;

    onnx__attribute_proto__init(&p->hidden_attr);
    p->hidden_attr.name = "hidden_size";
    p->hidden_attr.has_type = 1;
    p->hidden_attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    p->hidden_attr.has_i = 1;
    p->hidden_attr.i = nh;
    p->attrs[0] = &p->hidden_attr;
    onnx__node_proto__init(&p->node);
    p->node_in[0] = "X", p->node_in[1] = "W", p->node_in[2] = "R", p->node_in[3] = "B";
    p->node_out[0] = "Y", p->node_out[1] = "Y_h", p->node_out[2] = "Y_c";
    p->node.name = "lstm";
    p->node.op_type = "LSTM";
    p->node.n_input = 4;
    p->node.input = p->node_in;
    p->node.n_output = 3;
    p->node.output = p->node_out;
    p->node.n_attribute = 1;
    p->node.attribute = p->attrs;
    p->nodes[0] = &p->node;

    onnx__graph_proto__init(&p->graph);
    p->graph.name = "bench_lstm";
    p->graph.n_node = 1;
    p->graph.node = p->nodes;
    p->graph.n_initializer = 3;
    p->graph.initializer = p->inits;
    p->graph.n_input = 1;
    p->graph.input = p->ins;
    p->graph.n_output = 3;
    p->graph.output = p->outs;

    onnx__operator_set_id_proto__init(&p->opset);
    p->opset.domain = "";
    p->opset.has_version = 1;
    p->opset.version = 14;
    p->opsets[0] = &p->opset;
    onnx__model_proto__init(&p->model);
    p->model.has_ir_version = 1;
    p->model.ir_version = 7;
    p->model.producer_name = "snnc bench_eval";
    p->model.n_opset_import = 1;
    p->model.opset_import = p->opsets;
    p->model.graph = &p->graph;
    return 0;
}

static void model_free(model_parts *p)
{
    for (int k = 0; k < 3; k++)
        bench_init_free(&p->init[k]);
}

/* Serialise into a new buffer; returns NULL on failure. */
static uint8_t *model_pack(const opts *o, uint64_t *rng, size_t *size)
{
    model_parts *p = calloc(1, sizeof *p);
    uint8_t *buf = p && !model_build(p, o, rng) ? bench_model_pack(&p->model, size) : NULL;
    if (p)
        model_free(p);
    free(p);
    return buf;
}

static int write_file(const char *path, const uint8_t *buf, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, size, f) != size) {
        fprintf(stderr, "bench_eval: cannot write '%s': %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (fclose(f)) {
        fprintf(stderr, "bench_eval: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- measures */

/* Median seconds of `runs` imports of the buffer. */
static int time_import(const uint8_t *buf, size_t size, int runs, double *med, double *best)
{
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t)
        return -1;
    for (int r = 0; r < runs; r++) {
        snnc_graph *g = NULL;
        snnc_err err = {0};
        double t0 = snnc_bench_now();
        int rc = snnc_load_onnx_buffer(buf, size, "bench_lstm", &g, &err);
        t[r] = snnc_bench_now() - t0;
        snnc_graph_free(g);
        if (rc) {
            fprintf(stderr, "bench_eval: import failed: %s\n", err.msg);
            free(t);
            return -1;
        }
    }
    *med = snnc_bench_median(t, runs);
    *best = t[0];
    free(t);
    return 0;
}

/* One warm-up run, then `runs` timed snnc_run calls asking for Y, Y_h, Y_c. */
static int time_eval(snnc_graph *g, const snnc_tensor *x, int runs, double *med, double *best,
                     double *checksum)
{
    const char *in_names[1] = {"X"}, *out_names[3] = {"Y", "Y_h", "Y_c"};
    const snnc_tensor *inputs[1] = {x};
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t)
        return -1;
    for (int r = -1; r < runs; r++) {
        snnc_tensor *out[3] = {NULL, NULL, NULL};
        snnc_err err = {0};
        double t0 = snnc_bench_now();
        int rc = snnc_run(g, 1, in_names, inputs, 3, out_names, out, &err);
        double dt = snnc_bench_now() - t0;
        if (!rc && r < 0) { /* a figure to see that runs compute the same thing */
            const float *yh = out[1]->data;
            *checksum = 0.0;
            for (int64_t i = 0; i < out[1]->count; i++)
                *checksum += yh[i];
        }
        for (int j = 0; j < 3; j++)
            snnc_tensor_free(out[j]);
        if (rc) {
            fprintf(stderr, "bench_eval: evaluation failed: %s\n", err.msg);
            free(t);
            return -1;
        }
        if (r >= 0)
            t[r] = dt;
    }
    *med = snnc_bench_median(t, runs);
    *best = t[0];
    free(t);
    return 0;
}

/* Best GFLOP/s of `runs` row-major sgemm calls C[m,n] = A[m,k]·B^T, after a
 * warm-up call; B is [n,k] as the LSTM's weights are (NoTrans x Trans). */
static double gemm_gflops(long m, long n, long k, int runs, uint64_t *rng)
{
    float *a = malloc((size_t)m * (size_t)k * sizeof *a);
    float *b = malloc((size_t)n * (size_t)k * sizeof *b);
    float *c = calloc((size_t)m * (size_t)n, sizeof *c);
    double best = -1.0;
    if (a && b && c) {
        fill_uniform(a, (size_t)m * (size_t)k, 1.0f, rng);
        fill_uniform(b, (size_t)n * (size_t)k, 1.0f, rng);
        for (int r = -1; r < runs; r++) {
            double t0 = snnc_bench_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a,
                        (int)k, b, (int)k, 0.0f, c, (int)n);
            double dt = snnc_bench_now() - t0;
            double gf = 2.0 * (double)m * (double)n * (double)k / dt * 1e-9;
            if (r >= 0 && gf > best)
                best = gf;
        }
    }
    free(a);
    free(b);
    free(c);
    return best;
}

/* What BLAS says about itself, when it is OpenBLAS (looked up at run time
 * so that any CBLAS links). */
static void blas_info(char *cfg, size_t cap, int *threads)
{
    char *(*get_config)(void), *(*get_core)(void);
    int (*get_threads)(void);
    /* POSIX's way to turn dlsym's void * into a function pointer. */
    *(void **)&get_config = dlsym(RTLD_DEFAULT, "openblas_get_config");
    *(void **)&get_core = dlsym(RTLD_DEFAULT, "openblas_get_corename");
    *(void **)&get_threads = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    snprintf(cfg, cap, "%s%s%s", get_config ? get_config() : "unknown CBLAS",
             get_core ? " core=" : "", get_core ? get_core() : "");
    *threads = get_threads ? get_threads() : -1;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v ? v : dflt;
}

/* Print s as a JSON string. */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* Print ,"key":value with `prec` decimals. */
static void json_num(const char *key, int prec, double v)
{
    printf(",\"%s\":%.*f", key, prec, v);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 1;
    uint64_t rng = o.seed;
    double di = (double)o.input, dh = (double)o.hidden, ds = (double)o.seq, db = (double)o.batch;

    /* FLOPs of one forward pass.  Matrix products: X·W^T (2·4H·I per row)
     * and H·R^T (2·4H·H per row), for S·B rows.  Element-wise, per hidden
     * unit per row: 12 adds forming the four pre-activations (X part, H
     * part, Wb, Rb), 3 sigmoids + 2 tanh counted as 1 each, 3 for
     * c = f.c + i.g, 1 for h = o.tanh(c): 21. */
    double mm_flops = 2.0 * 4.0 * dh * (di + dh) * db * ds;
    double ew_flops = 21.0 * dh * db * ds;
    double flops = mm_flops + ew_flops;

    double t0 = snnc_bench_now();
    size_t size = 0;
    uint8_t *buf = model_pack(&o, &rng, &size);
    if (!buf) {
        fprintf(stderr, "bench_eval: out of memory building the model\n");
        return 2;
    }
    double t_gen = snnc_bench_now() - t0;
    if (o.write_path && write_file(o.write_path, buf, size)) {
        free(buf);
        return 2;
    }

    char cfg[512];
    int blas_threads;
    blas_info(cfg, sizeof cfg, &blas_threads);
    printf("model            LSTM input=%ld hidden=%ld seq=%ld batch=%ld (opset 14, forward)\n",
           o.input, o.hidden, o.seq, o.batch);
    printf("model size       %.1f MiB serialised (generated in %.3f s)%s%s\n",
           (double)size / 1048576.0, t_gen, o.write_path ? ", written to " : "",
           o.write_path ? o.write_path : "");
    printf("blas             %s; threads=%d OPENBLAS_NUM_THREADS=%s OPENBLAS_CORETYPE=%s\n", cfg,
           blas_threads, env_or("OPENBLAS_NUM_THREADS", "(unset)"),
           env_or("OPENBLAS_CORETYPE", "(unset)"));
    double load[3] = {-1, -1, -1};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    printf("machine          %ld CPUs online, load average %.2f (other work skews timings)\n",
           sysconf(_SC_NPROCESSORS_ONLN), load[0]);
    fflush(stdout);

    double imp_med, imp_best;
    if (time_import(buf, size, o.import_runs, &imp_med, &imp_best)) {
        free(buf);
        return 2;
    }
    printf("import           median %.4f s, best %.4f s over %d runs (%.0f MiB/s)\n", imp_med,
           imp_best, o.import_runs, (double)size / 1048576.0 / imp_med);
    fflush(stdout);

    snnc_graph *g = NULL;
    snnc_err err = {0};
    snnc_tensor *x = NULL;
    int64_t xd[3] = {o.seq, o.batch, o.input};
    if (snnc_load_onnx_buffer(buf, size, "bench_lstm", &g, &err) ||
        !(x = snnc_tensor_new(SNNC_F32, 3, xd, &err))) {
        fprintf(stderr, "bench_eval: %s\n", err.msg);
        snnc_graph_free(g);
        free(buf);
        return 2;
    }
    free(buf);
    fill_uniform(x->data, (size_t)x->count, 1.0f, &rng);

    double ev_med, ev_best, checksum = 0.0;
    if (time_eval(g, x, o.eval_runs, &ev_med, &ev_best, &checksum)) {
        snnc_tensor_free(x);
        snnc_graph_free(g);
        return 2;
    }
    snnc_tensor_free(x);
    snnc_graph_free(g);
    double rss_eval = snnc_bench_peak_rss_mib();
    double ev_gf = flops / ev_med * 1e-9, ev_gf_best = flops / ev_best * 1e-9;
    printf("flops            %.3f GFLOP per run (matrix products %.3f, element-wise %.4f)\n",
           flops * 1e-9, mm_flops * 1e-9, ew_flops * 1e-9);
    printf("evaluation       median %.4f s, best %.4f s over %d runs -> %.1f GFLOP/s (best %.1f)\n",
           ev_med, ev_best, o.eval_runs, ev_gf, ev_gf_best);
    printf("checksum         sum(Y_h) = %.6g\n", checksum);
    fflush(stdout);

    /* The BLAS peak, and the two shapes the LSTM engine calls: the input
     * projection of all steps at once and the per-step recurrent product. */
    long n = o.gemm_n, gh = 4 * o.hidden;
    double peak = gemm_gflops(n, n, n, o.gemm_runs, &rng);
    double proj = gemm_gflops(o.seq * o.batch, gh, o.input, o.gemm_runs, &rng);
    double rec = gemm_gflops(o.batch, gh, o.hidden, o.gemm_runs, &rng);
    if (peak <= 0 || proj <= 0 || rec <= 0) {
        fprintf(stderr, "bench_eval: out of memory for the sgemm measurements\n");
        return 2;
    }
    /* The time the LSTM would take if it ran at exactly those sgemm rates. */
    double t_bound =
        2.0 * ds * db * 4.0 * dh * di / (proj * 1e9) + ds * 2.0 * db * 4.0 * dh * dh / (rec * 1e9);
    printf("blas peak        %.1f GFLOP/s (sgemm %ldx%ldx%ld, best of %d)\n", peak, n, n, n,
           o.gemm_runs);
    printf("blas lstm shapes %.1f GFLOP/s input projection (%ldx%ldx%ld), %.1f GFLOP/s recurrent "
           "step (%ldx%ldx%ld)\n",
           proj, o.seq * o.batch, gh, o.input, rec, o.batch, gh, o.hidden);
    printf("blas-bound time  %.4f s (matrix products alone at those rates; best evaluation is "
           "%.2fx)\n",
           t_bound, ev_best / t_bound);
    /* Best against best: both least disturbed by other work on the machine. */
    printf("ratio            evaluation / peak = %.1f %% (best run; median run %.1f %%)\n",
           100.0 * ev_gf_best / peak, 100.0 * ev_gf / peak);
    double rss = snnc_bench_peak_rss_mib();
    printf("peak rss         %.1f MiB through import + evaluation, %.1f MiB at exit "
           "(with the sgemm buffers)\n",
           rss_eval, rss);

    printf("{\"bench\":\"lstm_eval\"");
    json_num("input", 0, di);
    json_num("hidden", 0, dh);
    json_num("seq", 0, ds);
    json_num("batch", 0, db);
    json_num("model_bytes", 0, (double)size);
    json_num("import_s_median", 6, imp_med);
    json_num("import_s_best", 6, imp_best);
    json_num("eval_s_median", 6, ev_med);
    json_num("eval_s_best", 6, ev_best);
    json_num("gflop_per_run", 6, flops * 1e-9);
    json_num("matmul_gflop_per_run", 6, mm_flops * 1e-9);
    json_num("eval_gflops_median", 3, ev_gf);
    json_num("eval_gflops_best", 3, ev_gf_best);
    json_num("blas_peak_gflops", 3, peak);
    json_num("blas_peak_n", 0, (double)n);
    json_num("blas_proj_gflops", 3, proj);
    json_num("blas_step_gflops", 3, rec);
    json_num("blas_bound_s", 6, t_bound);
    json_num("eval_over_peak", 4, ev_gf_best / peak);
    json_num("eval_over_peak_median", 4, ev_gf / peak);
    json_num("peak_rss_eval_mib", 1, rss_eval);
    json_num("peak_rss_mib", 1, rss);
    json_num("load_avg", 2, load[0]);
    json_num("blas_threads", 0, (double)blas_threads);
    printf(",\"checksum_yh\":%.9g", checksum);
    printf(",\"blas_config\":");
    json_str(cfg);
    printf("}\n");
    return 0;
}
