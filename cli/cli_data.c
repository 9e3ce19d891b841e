/* cli_data.c — checks of every value of the data files the conversion
 * commands read (interface: cli.h): an input or calibration batch is not
 * empty and all finite; class labels are integers in [0, classes), one per
 * sample.  Each error names the file, the first bad element (flat index and
 * multi-index) and the reason; status SNNC_EINVALID (exit 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "cli.h"

/* "element 209 [3, 2, 1]": the flat index and the index per dimension. */
static const char *element(const snnc_tensor *t, int64_t flat, char *buf, size_t n)
{
    int64_t idx[SNNC_MAX_RANK], rest = flat;
    for (int d = t->rank - 1; d >= 0; d--) {
        idx[d] = t->dims[d] > 0 ? rest % t->dims[d] : 0;
        rest = t->dims[d] > 0 ? rest / t->dims[d] : 0;
    }
    size_t o = (size_t)snprintf(buf, n, "element %lld [", (long long)flat);
    for (int d = 0; d < t->rank && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", d ? ", " : "", (long long)idx[d]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

static const char *nonfinite_name(double v) { return isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf"; }

int snnc_cli_check_batch(const snnc_tensor *t, const char *flag, const char *file, snnc_err *err)
{
    char shape[128], at[160];
    if (t->count == 0)
        return snnc_fail(err, SNNC_EINVALID, "%s %s: empty batch (shape %s)", flag, file,
                         snnc_dims_str(t->rank, t->dims, shape, sizeof shape));
    if (t->dtype != SNNC_F32 && t->dtype != SNNC_F64)
        return SNNC_OK;
    for (int64_t i = 0; i < t->count; i++) {
        double v = snnc_tensor_get_f(t, i);
        if (!isfinite(v))
            return snnc_fail(err, SNNC_EINVALID, "%s %s: %s is %s (values must be finite)", flag,
                             file, element(t, i, at, sizeof at), nonfinite_name(v));
    }
    return SNNC_OK;
}

/* Label i of t as an integer, or the reason it is not one. */
static const char *label_at(const snnc_tensor *t, int64_t i, int64_t *out)
{
    double v = snnc_tensor_get_f(t, i);
    switch (t->dtype) {
    case SNNC_I64:
        *out = ((const int64_t *)t->data)[i];
        return NULL;
    case SNNC_I32:
    case SNNC_U8:
        *out = (int64_t)v; /* exact: these fit a double */
        return NULL;
    case SNNC_F32:
    case SNNC_F64:
        if (!isfinite(v))
            return nonfinite_name(v);
        if (v != floor(v))
            return "fractional";
        if (v < -1e15 || v > 1e15) /* beyond any class count; the cast stays defined */
            return "out of range";
        *out = (int64_t)v;
        return NULL;
    default:
        return "not a number";
    }
}

int snnc_cli_read_labels(const char *path, int64_t samples, int classes, int64_t **out,
                         snnc_err *err)
{
    return snnc_cli_read_labels_as("--labels", path, samples, classes, false, out, NULL, err);
}

int snnc_cli_read_labels_as(const char *flag, const char *path, int64_t samples, int classes,
                            bool integers, int64_t **out, int64_t *n, snnc_err *err)
{
    snnc_tensor *t = NULL;
    *out = NULL;
    int rc = snnc_cli_read_tensor(path, &t, err);
    if (rc)
        return rc;
    bool any = samples < 0;
    if (any && t->rank >= 1)
        samples = t->dims[0];
    if (n)
        *n = samples;
    char shape[128], at[160];
    bool column = t->rank == 2 && t->dims[1] == 1;
    if (t->dtype == SNNC_BOOL || t->dtype == SNNC_DTYPE_UNKNOWN ||
        (integers && t->dtype != SNNC_I64 && t->dtype != SNNC_I32))
        rc = snnc_fail(err, SNNC_EINVALID, "%s %s: %s values; class labels are integers%s", flag,
                       path, snnc_dtype_name(t->dtype), integers ? " (int64 or int32)" : "");
    else if (!(t->rank == 1 || column) || t->dims[0] != samples)
        rc = any ? snnc_fail(err, SNNC_EINVALID, "%s %s: shape %s; expected one dimension, one "
                             "label per sample", flag, path,
                             snnc_dims_str(t->rank, t->dims, shape, sizeof shape))
                 : snnc_fail(err, SNNC_EINVALID, "%s %s: shape %s; expected [%lld], one label "
                             "per sample of the input", flag, path,
                             snnc_dims_str(t->rank, t->dims, shape, sizeof shape), (long long)samples);
    else if (!(*out = malloc((size_t)(samples ? samples : 1) * sizeof **out)))
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int64_t i = 0; !rc && i < samples; i++) {
        int64_t v = 0;
        const char *why = label_at(t, i, &v);
        if (!why && (v < 0 || v >= classes))
            why = v < 0 ? "negative" : "not below the class count";
        if (why) {
            rc = snnc_fail(err, SNNC_EINVALID, "%s %s: %s is %s (%g); labels are class "
                           "indices 0..%d", flag, path, element(t, i, at, sizeof at), why,
                           snnc_tensor_get_f(t, i), classes - 1);
            break;
        }
        (*out)[i] = v;
    }
    if (rc) {
        free(*out);
        *out = NULL;
    }
    snnc_tensor_free(t);
    return rc;
}
