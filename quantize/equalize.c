/* equalize.c — per-neuron activity ranges (interface: quantize_internal.h,
 * docs/QUANTIZE.md §4b) by rescaling the float network's units: a ReLU
 * unit's output can be divided by any s > 0 if its incoming weights and
 * bias are divided by s and its outgoing weights multiplied by s (ReLU is
 * positively homogeneous), which leaves the network's outputs unchanged.
 * With s_j = a_j / a (a_j the unit's own calibrated range, a the layer's),
 * every unit of the rescaled layer has the range a, so one per-layer
 * quantiser on the rescaled network is the per-neuron quantiser of range
 * a_j on the original one, and the downstream count-domain weights
 * w_kj a_j / a_out(k) absorb the per-neuron ranges. */
#include <stdlib.h>

#include "quantize_internal.h"

#define SCALE_MIN 0.25f /* s_j kept within [SCALE_MIN, 1 / SCALE_MIN] */

void snnc_q_rescale_units(snnc_ann *a, int l, const float *s)
{
    snnc_ann_layer *L = &a->layers[l], *next = l + 1 < a->n_layers ? &a->layers[l + 1] : NULL;
    int n = L->n_out;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < L->n_in; i++)
            L->W[(size_t)j * L->n_in + i] /= s[j];
        L->b[j] /= s[j];
        for (int k = 0; L->U && k < n; k++) /* U'_jk = U_jk s_k / s_j */
            L->U[(size_t)j * n + k] = L->U[(size_t)j * n + k] * s[k] / s[j];
        for (int k = 0; next && k < next->n_out; k++)
            next->W[(size_t)k * next->n_in + j] *= s[j];
    }
}

int snnc_q_equalize(snnc_ann *a, float *const *unit_range, const float *layer_range, float **scale)
{
    for (int l = 0; l < a->n_layers; l++) {
        scale[l] = NULL;
        const snnc_ann_layer *L = &a->layers[l];
        if (L->act != SNNC_ACT_RELU || l + 1 >= a->n_layers || !(layer_range[l] > 0))
            continue;
        float *s = malloc((size_t)L->n_out * sizeof *s);
        if (!s)
            return SNNC_ENOMEM;
        for (int j = 0; j < L->n_out; j++) {
            float v = unit_range[l][j] / layer_range[l];
            s[j] = v < SCALE_MIN ? SCALE_MIN : v > 1 / SCALE_MIN ? 1 / SCALE_MIN : v;
        }
        snnc_q_rescale_units(a, l, s);
        scale[l] = s;
    }
    return SNNC_OK;
}

snnc_ann *snnc_constrain_float_view(const snnc_ann *a, const snnc_layer_constraints *S, int n_stats)
{
    snnc_ann *v = snnc_ann_copy(a);
    for (int l = 0; v && l < n_stats && l < v->n_layers; l++)
        if (S[l].unit_scale && S[l].n_rows == v->layers[l].n_out)
            snnc_q_rescale_units(v, l, S[l].unit_scale);
    return v;
}
