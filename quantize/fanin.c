/* fanin.c — fan-in limiting in spike channels (interface: quantize_internal.h;
 * docs/QUANTIZE.md §6): the column groups of a split neuron (each group is
 * one partial-sum neuron, docs/CONVERSION.md §5) and pruning of a row to its
 * largest weights.  A column costs its channels: 2 for a signed source
 * (tanh outputs, signed inputs: a pair of spike channels), else 1. */
#include <math.h>
#include <stdlib.h>

#include "quantize_internal.h"

static int cost(const unsigned char *ch, int i) { return ch ? ch[i] : 1; }

/* Balanced cut into g groups: boundary k at the first column whose
 * channels before it reach floor(k C / g).  0 when a group is empty or
 * holds more than fan_in channels. */
static int balanced(const unsigned char *ch, int cols, int64_t C, int g, int fan_in, int *s)
{
    int64_t before = 0;
    int i = 0;
    s[0] = 0;
    for (int k = 1; k < g; k++) {
        int64_t target = (int64_t)k * C / g;
        while (i < cols && before < target)
            before += cost(ch, i++);
        s[k] = i;
    }
    s[g] = cols;
    for (int k = 0; k < g; k++) {
        int64_t sum = 0;
        for (int j = s[k]; j < s[k + 1]; j++)
            sum += cost(ch, j);
        if (s[k + 1] <= s[k] || sum > fan_in)
            return 0;
    }
    return 1;
}

int snnc_q_groups(int cols, const unsigned char *ch, int fan_in, bool split, int **starts)
{
    int64_t C = 0;
    for (int i = 0; i < cols; i++)
        C += cost(ch, i);
    /* Greedy contiguous packing gives the fewest groups (a column never
     * exceeds fan_in: the caller checks). */
    int g = 1;
    if (split && fan_in > 0 && C > fan_in) {
        int64_t fill = 0;
        for (int i = 0; i < cols; i++) {
            if (fill + cost(ch, i) > fan_in) {
                g++;
                fill = 0;
            }
            fill += cost(ch, i);
        }
    }
    int *s = malloc(((size_t)g + 1) * sizeof *s);
    if (!s)
        return -1;
    /* Balanced when it fits (unsigned columns: sizes differ by at most
     * one), else the greedy cut itself. */
    if (g > 1 && !balanced(ch, cols, C, g, fan_in, s)) {
        int64_t fill = 0;
        int k = 0;
        s[0] = 0;
        for (int i = 0; i < cols; i++) {
            if (fill + cost(ch, i) > fan_in) {
                s[++k] = i;
                fill = 0;
            }
            fill += cost(ch, i);
        }
    }
    s[0] = 0;
    s[g] = cols;
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

int64_t snnc_q_prune_row(float *row, const unsigned char *ch, int n, int budget, bool rescale, float *factor,
                         int *used)
{
    *factor = 1;
    *used = 0;
    if (budget < 0)
        budget = 0;
    int64_t need = 0;
    for (int i = 0; i < n; i++)
        need += row[i] != 0 ? cost(ch, i) : 0;
    if (need <= budget) {
        *used = (int)need;
        return 0;
    }
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
    int left = budget;
    for (int k = 0; k < n; k++) {
        int i = r[k].idx;
        if (row[i] == 0)
            continue;
        if (cost(ch, i) <= left) { /* kept; one that does not fit is dropped, smaller ones may */
            left -= cost(ch, i);
            l1_kept += r[k].mag;
            continue;
        }
        dropped++;
        row[i] = 0;
    }
    free(r);
    *used = budget - left;
    if (rescale && l1_kept > 0 && l1_kept < l1_all) {
        *factor = (float)(l1_all / l1_kept);
        for (int i = 0; i < n; i++)
            row[i] *= *factor;
    }
    return dropped;
}
