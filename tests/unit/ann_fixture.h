/* ann_fixture.h — building small float Elman networks (snnc_ann) and input
 * batches by hand, for the unit tests of the stages that take one
 * (quantize/, the constraint method); header-only, like harness.h. */
#ifndef SNNC_TEST_ANN_FIXTURE_H
#define SNNC_TEST_ANN_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ann.h"
#include "ir/error.h"
#include "ir/tensor.h"

static inline float *fdup(const float *p, size_t n)
{
    float *c = malloc(n * sizeof *c);
    memcpy(c, p, n * sizeof *c);
    return c;
}

/* A batch-first network "x" -> "y" of n_layers layers, all still empty. */
static inline snnc_ann *new_ann(int n_inputs, int steps, int n_layers)
{
    snnc_ann *a = calloc(1, sizeof *a);
    snprintf(a->input_name, sizeof a->input_name, "x");
    snprintf(a->output_name, sizeof a->output_name, "y");
    a->n_inputs = n_inputs;
    a->steps = steps;
    a->batch_first = true;
    a->n_layers = n_layers;
    a->layers = calloc((size_t)n_layers, sizeof *a->layers);
    return a;
}

/* Layer l takes ownership of W, U, b (malloc'd; b NULL = zeros); name NULL
 * = "layer<l>". */
static inline void set_layer(snnc_ann *a, int l, const char *name, snnc_ann_role role, snnc_act act,
                             int n_in, int n_out, float *W, float *U, float *b)
{
    snnc_ann_layer *L = &a->layers[l];
    if (name)
        snprintf(L->name, sizeof L->name, "%s", name);
    else
        snprintf(L->name, sizeof L->name, "layer%d", l);
    L->role = role;
    L->act = act;
    L->n_in = n_in;
    L->n_out = n_out;
    L->W = W;
    L->U = U;
    L->b = b ? b : calloc((size_t)n_out, sizeof(float));
}

/* A float32 tensor [d0, d1, d2] holding v. */
static inline snnc_tensor *tensor3(int d0, int d1, int d2, const float *v)
{
    snnc_err err = {0};
    snnc_tensor *t = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){d0, d1, d2}, &err);
    memcpy(t->data, v, (size_t)t->count * sizeof(float));
    return t;
}

#endif
