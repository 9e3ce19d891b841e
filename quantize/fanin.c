/* fanin.c — fan-in limiting (interface: quantize_internal.h): the column
 * groups of a split neuron (each group is one partial-sum neuron, docs/
 * CONVERSION.md §5) and pruning of a row to its largest weights. */
#include <math.h>
#include <stdlib.h>

#include "quantize_internal.h"

int snnc_q_groups(int cols, int fan_in, bool split, int **starts)
{
    int g = 1;
    if (split && fan_in > 0 && cols > fan_in)
        g = (int)(((int64_t)cols + fan_in - 1) / fan_in);
    int *s = malloc(((size_t)g + 1) * sizeof *s);
    if (!s)
        return -1;
    /* Balanced: sizes differ by at most one, each <= ceil(cols / g) <= fan_in. */
    for (int k = 0; k <= g; k++)
        s[k] = (int)((int64_t)k * cols / g);
    *starts = s;
    return g;
}

typedef struct {
    float mag;
    int idx;
} ranked;

static int by_magnitude(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->mag != b->mag)
        return a->mag > b->mag ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

int64_t snnc_q_prune_row(float *row, int n, int keep, bool rescale, float *factor)
{
    *factor = 1;
    if (keep < 0)
        keep = 0;
    if (n <= keep)
        return 0;
    ranked *r = malloc((size_t)n * sizeof *r);
    if (!r)
        return -1;
    double l1_all = 0, l1_kept = 0;
    for (int i = 0; i < n; i++) {
        r[i] = (ranked){fabsf(row[i]), i};
        l1_all += r[i].mag;
    }
    qsort(r, (size_t)n, sizeof *r, by_magnitude);
    int64_t dropped = 0;
    for (int k = 0; k < n; k++) {
        if (k < keep) {
            l1_kept += r[k].mag;
            continue;
        }
        dropped += row[r[k].idx] != 0;
        row[r[k].idx] = 0;
    }
    free(r);
    if (rescale && l1_kept > 0 && l1_kept < l1_all) {
        *factor = (float)(l1_all / l1_kept);
        for (int i = 0; i < n; i++)
            row[i] *= *factor;
    }
    return dropped;
}
