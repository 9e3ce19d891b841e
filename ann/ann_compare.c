/* ann_compare.c — how close one network's outputs are to another's on the
 * same batch (ann.h): the agreement of the class (argmax, ties to the first
 * index) and KL(p_ref || p) of the softmax outputs, natural log.  The
 * measure of snnc check's constraint costs (docs/CHECK.md) and of the
 * constraint stage's range search (docs/QUANTIZE.md §4a). */
#include <math.h>
#include <stdlib.h>

#include "ir/error.h"

#include "ann.h"

/* log softmax of v[0..n) into out, in double. */
static void log_softmax(const float *v, int n, double *out)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    for (int i = 0; i < n; i++)
        s += exp((double)v[i] - m);
    for (int i = 0; i < n; i++)
        out[i] = (double)v[i] - m - log(s);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        best = v[i] > v[best] ? i : best;
    return best;
}

int snnc_ann_agreement(const float *ref, const float *y, int64_t batch, int classes,
                       double *kl_per_sample, double *kl, double *agreement, snnc_err *err)
{
    double *lp = malloc(2 * (size_t)classes * sizeof *lp), same = 0, total = 0;
    if (!lp)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int64_t b = 0; b < batch; b++) {
        const float *pr = ref + b * classes, *py = y + b * classes;
        same += argmax(pr, classes) == argmax(py, classes);
        log_softmax(pr, classes, lp);
        log_softmax(py, classes, lp + classes);
        double d = 0;
        for (int i = 0; i < classes; i++)
            d += exp(lp[i]) * (lp[i] - lp[classes + i]);
        if (kl_per_sample)
            kl_per_sample[b] = d;
        total += d;
    }
    free(lp);
    *kl = batch ? total / (double)batch : 0;
    *agreement = batch ? same / (double)batch : 1;
    return SNNC_OK;
}

bool snnc_significantly_lower(const double *before, const double *after, int64_t n, double sigmas)
{
    if (n < 2)
        return false;
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++)
        m += before[i] - after[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++)
        v += (before[i] - after[i] - m) * (before[i] - after[i] - m);
    return m > 0 && m > sigmas * sqrt(v / (double)(n - 1) / (double)n);
}
