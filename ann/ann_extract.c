/* ann_extract.c — the Elman network of a loaded graph (interface: ann/ann.h,
 * design: docs/CONVERSION.md §1).
 *
 * The data path from the sequence input to the first graph output is traced
 * by abstract interpretation: each value on it is described as the input
 * sequence after k per-step layers, one time step of it, the hidden states,
 * a readout, or an affine map of one of these awaiting its activation.  Every
 * node on the path must be a layout operator (Transpose, Squeeze, Gather,
 * Slice, ...), a dense product or bias, ReLU/tanh, or the ONNX RNN operator;
 * an unrolled nn.RNNCell loop is recognised step by step (x_t product + h
 * product -> activation).  Anything else is refused naming the node.  The
 * result is then checked against snnc_run on calibration inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/graph.h"
#include "../ir/tensor.h"
#include "../layers/layers.h"
#include "ann.h"

#define MAX_LAYERS 64 /* per-step and readout layers each */
#define WHAT "snnc converts Elman networks: per-step dense layers, one RNN (ReLU or tanh), " \
             "dense readouts of the last hidden state"

/* What a value on the data path holds. */
typedef enum {
    K_NONE, /* not on the data path (shapes, constants) */
    K_ZERO, /* all zeros (an initial state) */
    K_SEQ,  /* the input sequence after `stage` per-step layers */
    K_STEP, /* one time step t of it */
    K_HSEQ, /* the hidden states of every step (RNN output Y) */
    K_HID,  /* the hidden state after step t */
    K_OUT,  /* the last hidden state after `stage` readout layers */
    K_PRE,  /* W x_t + U h_{t-1} + b of an unrolled cell, before its activation */
} kind;

/* An affine map v -> W v + b read from the graph: W is the constant value
 * `w`, stored [n_out][n_in] when `trans`, else [n_in][n_out], times alpha. */
typedef struct {
    int w;
    bool trans;
    float alpha;
    int n_in, n_out;
    float *b; /* [n_out], owned; NULL = zero */
} affine;

/* A value's description.  Axes other than the role axes have size 1. */
typedef struct {
    kind k;
    int rank, ax_time, ax_batch, ax_feat; /* -1: no such axis */
    int t;                                /* STEP, HID, PRE: the time step */
    int stage;                            /* SEQ, STEP: per-step layers applied; OUT: readouts */
    int nfeat;
    bool lin;                             /* an affine map applied, not yet settled */
    affine a;                             /* that map; PRE: the input product, with the bias */
    affine u;                             /* PRE: the recurrent product */
    int node;                             /* node that applied the map */
} av;

/* A layer found: created by its first occurrence, compared at the others. */
typedef struct {
    bool set;
    int node;
    affine a, u;
    snnc_act act;
} slot;

typedef struct {
    snnc_graph *g;
    snnc_err *err;
    const snnc_layer *layers;
    int n_layers;
    av *v;         /* per graph value */
    bool *needed;  /* node is an ancestor of the output */
    int input;     /* the sequence input value, or -1 */
    int extra_input; /* another graph input reaching the output, or -1 */
    int T, F;      /* steps, features */
    bool batch_first;
    slot step[MAX_LAYERS], rec, out[MAX_LAYERS];
    int n_step, n_out, rec_stage, rec_op; /* rec_op: RNN node, or -1 for a cell loop */
    int progress;  /* nodes traced before a failure */
} tracer;

static const snnc_node *node_of(const tracer *tr, int k) { return &tr->g->nodes[k]; }

static int refuse(tracer *tr, int k, const char *fmt, const char *detail)
{
    const snnc_node *n = node_of(tr, k);
    return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "node '%s' (%s): %s%s", n->name, n->op_type,
                     fmt, detail ? detail : "");
}

static const snnc_tensor *const_in(const tracer *tr, int k, int i)
{
    const snnc_node *n = node_of(tr, k);
    return i < n->n_inputs && n->inputs[i] >= 0 ? tr->g->values[n->inputs[i]].constant : NULL;
}

static bool is_float(const snnc_tensor *t) { return t && (t->dtype == SNNC_F32 || t->dtype == SNNC_F64); }

static bool all_zero(const snnc_tensor *t)
{
    if (!is_float(t))
        return false;
    for (int64_t i = 0; i < t->count; i++)
        if (snnc_tensor_get_f(t, i) != 0.0)
            return false;
    return true;
}

/* ---- descriptions ---- */

static void av_clear(av *x)
{
    free(x->a.b);
    free(x->u.b);
    memset(x, 0, sizeof *x);
}

static float *dup_bias(const float *b, int n)
{
    if (!b)
        return NULL;
    float *c = malloc((size_t)n * sizeof *c);
    if (c)
        memcpy(c, b, (size_t)n * sizeof *c);
    return c;
}

static int av_copy(tracer *tr, av *dst, const av *src)
{
    av_clear(dst);
    *dst = *src;
    dst->a.b = dup_bias(src->a.b, src->a.n_out);
    dst->u.b = dup_bias(src->u.b, src->u.n_out);
    if ((src->a.b && !dst->a.b) || (src->u.b && !dst->u.b))
        return snnc_fail(tr->err, SNNC_ENOMEM, "out of memory");
    return SNNC_OK;
}

/* The data-path description of input i of node k (NULL if off the path). */
static av *input_av(tracer *tr, int k, int i)
{
    const snnc_node *n = node_of(tr, k);
    if (i >= n->n_inputs || n->inputs[i] < 0)
        return NULL;
    av *x = &tr->v[n->inputs[i]];
    return x->k == K_NONE ? NULL : x;
}

static void remove_axis(av *x, int ax)
{
    int *roles[3] = {&x->ax_time, &x->ax_batch, &x->ax_feat};
    for (int i = 0; i < 3; i++)
        if (*roles[i] > ax)
            (*roles[i])--;
    x->rank--;
}

static void insert_axis(av *x, int ax)
{
    int *roles[3] = {&x->ax_time, &x->ax_batch, &x->ax_feat};
    for (int i = 0; i < 3; i++)
        if (*roles[i] >= ax)
            (*roles[i])++;
    x->rank++;
}

static bool is_role(const av *x, int ax) { return ax == x->ax_time || ax == x->ax_batch || ax == x->ax_feat; }

/* Selecting one time step: the time axis goes (or stays as a size-1 axis). */
static void select_step(av *x, int t)
{
    x->k = x->k == K_SEQ ? K_STEP : K_HID;
    x->t = t;
    x->ax_time = -1;
}

/* ---- weights and biases ---- */

static double weight_at(const tracer *tr, const affine *a, int j, int i)
{
    const snnc_tensor *w = tr->g->values[a->w].constant;
    int64_t idx = a->trans ? (int64_t)j * a->n_in + i : (int64_t)i * a->n_out + j;
    return a->alpha * snnc_tensor_get_f(w, idx);
}

static bool affine_equal(const tracer *tr, const affine *x, const affine *y)
{
    if (x->n_in != y->n_in || x->n_out != y->n_out)
        return false;
    if (x->w != y->w || x->trans != y->trans || x->alpha != y->alpha)
        for (int j = 0; j < x->n_out; j++)
            for (int i = 0; i < x->n_in; i++)
                if (weight_at(tr, x, j, i) != weight_at(tr, y, j, i))
                    return false;
    for (int j = 0; j < x->n_out; j++)
        if ((x->b ? x->b[j] : 0.0f) != (y->b ? y->b[j] : 0.0f))
            return false;
    return true;
}

/* Add `scale` times the constant c, broadcast against x (rank x->rank),
 * to the bias of affine a when it is a per-feature bias; else false. */
static bool add_bias(const av *x, affine *a, const snnc_tensor *c, float scale, bool *oom)
{
    if (!is_float(c) || c->rank > x->rank || x->ax_feat < 0)
        return false;
    int64_t n = 1;
    for (int d = 0; d < c->rank; d++) {
        int ax = d + x->rank - c->rank;
        if (c->dims[d] != 1 && !(ax == x->ax_feat && c->dims[d] == a->n_out))
            return false;
        n *= c->dims[d];
    }
    if (!a->b && !(a->b = calloc((size_t)a->n_out, sizeof(float)))) {
        *oom = true;
        return false;
    }
    for (int j = 0; j < a->n_out; j++)
        a->b[j] += scale * (float)snnc_tensor_get_f(c, n == 1 ? 0 : j);
    return true;
}

/* ---- committing layers ---- */

static int slot_commit(tracer *tr, slot *s, av *x, snnc_act act, int k, const char *what)
{
    if (!s->set) {
        s->set = true;
        s->node = x->node;
        s->a = x->a;
        s->u = x->u;
        s->act = act;
        x->a.b = x->u.b = NULL; /* moved */
        return SNNC_OK;
    }
    if (s->act != act || !affine_equal(tr, &s->a, &x->a) ||
        (x->k == K_PRE && !affine_equal(tr, &s->u, &x->u)))
        return refuse(tr, k, what, " differs from the same layer at another time step");
    return SNNC_OK;
}

/* A settled value keeps no affine map. */
static void drop_affine(av *x)
{
    free(x->a.b);
    free(x->u.b);
    memset(&x->a, 0, sizeof x->a);
    memset(&x->u, 0, sizeof x->u);
    x->lin = false;
}

/* The affine map pending on x becomes a layer with activation `act`. */
static int commit(tracer *tr, av *x, snnc_act act, int k)
{
    int rc;
    switch (x->k) {
    case K_SEQ:
    case K_STEP:
        if (x->stage >= MAX_LAYERS)
            return refuse(tr, k, "too many per-step layers", NULL);
        if (x->stage == tr->n_step)
            tr->n_step++;
        if ((rc = slot_commit(tr, &tr->step[x->stage], x, act, k, "this per-step layer")))
            return rc;
        break;
    case K_HID:
        if (x->t != tr->T - 1) {
            char d[96];
            snprintf(d, sizeof d, " (step %d of %d); the readout must read the last one", x->t + 1, tr->T);
            return refuse(tr, k, "the readout reads an earlier hidden state", d);
        }
        x->k = K_OUT;
        x->stage = 0;
        /* fall through */
    case K_OUT:
        if (x->stage >= MAX_LAYERS)
            return refuse(tr, k, "too many readout layers", NULL);
        if (x->stage == tr->n_out)
            tr->n_out++;
        if ((rc = slot_commit(tr, &tr->out[x->stage], x, act, k, "this readout")))
            return rc;
        break;
    case K_PRE:
        if (act == SNNC_ACT_NONE)
            return refuse(tr, k, "the recurrent layer has no activation (ReLU or tanh needed)", NULL);
        if (tr->rec.set && tr->rec_op >= 0)
            return refuse(tr, k, "a second recurrent layer (stacked recurrences are not supported)", NULL);
        if (tr->rec.set && tr->rec_stage != x->stage)
            return refuse(tr, k, "the unrolled cell reads different inputs at different steps", NULL);
        tr->rec_stage = x->stage;
        tr->rec_op = -1;
        if ((rc = slot_commit(tr, &tr->rec, x, act, k, "this recurrent step")))
            return rc;
        x->k = K_HID;
        x->nfeat = x->a.n_out;
        drop_affine(x);
        return SNNC_OK;
    case K_HSEQ:
        return refuse(tr, x->node, "a dense layer on the hidden state of every time step (per-step readout); ",
                      "the readout must read the last hidden state only");
    default:
        return refuse(tr, k, "a product of a zero state outside a recurrent step", NULL);
    }
    x->stage++;
    x->nfeat = x->a.n_out;
    drop_affine(x);
    return SNNC_OK;
}

/* A value about to be multiplied, fed to the RNN or output: commit any
 * pending affine map as a layer without activation. */
static int settle(tracer *tr, av *x, int k)
{
    if (x->k == K_PRE)
        return commit(tr, x, SNNC_ACT_NONE, k);
    return x->lin ? commit(tr, x, SNNC_ACT_NONE, k) : SNNC_OK;
}

/* ---- node handlers ---- */

/* axes from attribute `attr` (older opsets) or constant input `input` */
static int axes_of(const tracer *tr, int k, const char *attr, int input, int64_t *axes, int max)
{
    const snnc_attr *a = snnc_node_attr(node_of(tr, k), attr);
    if (a && a->kind == SNNC_ATTR_INTS) {
        for (int i = 0; i < a->n && i < max; i++)
            axes[i] = a->ints[i];
        return a->n <= max ? a->n : -2;
    }
    const snnc_node *n = node_of(tr, k);
    if (input < n->n_inputs && n->inputs[input] >= 0) {
        const snnc_tensor *t = const_in(tr, k, input);
        if (!t || t->count > max)
            return -2;
        for (int64_t i = 0; i < t->count; i++)
            axes[i] = snnc_tensor_get_i(t, i);
        return (int)t->count;
    }
    return -1; /* absent */
}

static int norm_axis(int64_t ax, int rank) { return ax < 0 ? (int)(ax + rank) : (int)ax; }

/* size of axis ax of the described value (graph dims for the batch) */
static int64_t axis_size(const tracer *tr, const av *x, int value, int ax)
{
    if (ax == x->ax_time)
        return tr->T;
    if (ax == x->ax_feat)
        return x->nfeat;
    if (ax == x->ax_batch) {
        const snnc_value *v = &tr->g->values[value];
        return v->rank == x->rank ? v->dims[ax] : -1;
    }
    return 1;
}

static int do_squeeze(tracer *tr, int k, av *y)
{
    int64_t axes[SNNC_MAX_RANK];
    int n = axes_of(tr, k, "axes", 1, axes, SNNC_MAX_RANK);
    if (n == -2)
        return refuse(tr, k, "axes are not constant", NULL);
    bool drop[SNNC_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        int ax = norm_axis(axes[i], y->rank);
        if (ax < 0 || ax >= y->rank)
            return refuse(tr, k, "axis out of range", NULL);
        drop[ax] = true;
    }
    for (int ax = 0; n < 0 && ax < y->rank; ax++)
        drop[ax] = !is_role(y, ax);
    for (int ax = y->rank - 1; ax >= 0; ax--) {
        if (!drop[ax])
            continue;
        if (is_role(y, ax))
            return refuse(tr, k, "removes the batch, time or feature axis", NULL);
        remove_axis(y, ax);
    }
    return SNNC_OK;
}

static int do_unsqueeze(tracer *tr, int k, av *y)
{
    int64_t axes[SNNC_MAX_RANK];
    int n = axes_of(tr, k, "axes", 1, axes, SNNC_MAX_RANK);
    if (n < 0)
        return refuse(tr, k, "axes are not constant", NULL);
    int out_rank = y->rank + n;
    if (out_rank > SNNC_MAX_RANK)
        return refuse(tr, k, "rank too large", NULL);
    bool add[SNNC_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        int ax = norm_axis(axes[i], out_rank);
        if (ax < 0 || ax >= out_rank)
            return refuse(tr, k, "axis out of range", NULL);
        add[ax] = true;
    }
    for (int ax = 0; ax < out_rank; ax++)
        if (add[ax])
            insert_axis(y, ax);
    return SNNC_OK;
}

static int do_transpose(tracer *tr, int k, av *y)
{
    const snnc_attr *p = snnc_node_attr(node_of(tr, k), "perm");
    int perm[SNNC_MAX_RANK];
    for (int i = 0; i < y->rank; i++)
        perm[i] = p ? (i < p->n ? (int)p->ints[i] : -1) : y->rank - 1 - i;
    if (p && p->n != y->rank)
        return refuse(tr, k, "perm has the wrong length", NULL);
    int *roles[3] = {&y->ax_time, &y->ax_batch, &y->ax_feat};
    int moved[3] = {-1, -1, -1};
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < y->rank; i++)
            if (*roles[r] >= 0 && perm[i] == *roles[r])
                moved[r] = i;
    for (int r = 0; r < 3; r++)
        *roles[r] = moved[r];
    return SNNC_OK;
}

/* Gather with a constant index: one time step, or a size-1 axis. */
static int do_gather(tracer *tr, int k, av *y)
{
    const snnc_tensor *idx = const_in(tr, k, 1);
    if (!idx || idx->count != 1 || idx->rank > 1)
        return refuse(tr, k, "gathers with an index that is not one constant", NULL);
    int ax = norm_axis(snnc_attr_int_or(node_of(tr, k), "axis", 0), y->rank);
    if (ax < 0 || ax >= y->rank)
        return refuse(tr, k, "axis out of range", NULL);
    int64_t i = snnc_tensor_get_i(idx, 0);
    if (ax == y->ax_time) {
        if (i < -tr->T || i >= tr->T)
            return refuse(tr, k, "time index out of range", NULL);
        select_step(y, (int)(i < 0 ? i + tr->T : i));
    } else if (is_role(y, ax)) {
        return refuse(tr, k, "selects part of the batch or of the features", NULL);
    } else if (i != 0 && i != -1) {
        return refuse(tr, k, "index out of range", NULL);
    }
    if (idx->rank == 0)
        remove_axis(y, ax);
    return SNNC_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static int do_slice(tracer *tr, int k, int in_value, av *y)
{
    int64_t st[SNNC_MAX_RANK], en[SNNC_MAX_RANK], ax[SNNC_MAX_RANK], sp[SNNC_MAX_RANK];
    int n = axes_of(tr, k, "starts", 1, st, SNNC_MAX_RANK);
    int ne = axes_of(tr, k, "ends", 2, en, SNNC_MAX_RANK);
    int na = axes_of(tr, k, "axes", 3, ax, SNNC_MAX_RANK);
    int ns = axes_of(tr, k, "steps", 4, sp, SNNC_MAX_RANK);
    if (n < 0 || ne != n || na == -2 || ns == -2 || (na >= 0 && na != n) || (ns >= 0 && ns != n))
        return refuse(tr, k, "starts, ends, axes and steps must be constant", NULL);
    for (int i = 0; i < n; i++) {
        int a = norm_axis(na >= 0 ? ax[i] : i, y->rank);
        int64_t step = ns >= 0 ? sp[i] : 1;
        if (a < 0 || a >= y->rank || step == 0)
            return refuse(tr, k, "bad axis or step", NULL);
        int64_t dim = axis_size(tr, y, in_value, a);
        if (dim < 0) { /* symbolic batch: only the whole of it */
            if (st[i] != 0 || en[i] < INT32_MAX || step != 1)
                return refuse(tr, k, "slices the batch", NULL);
            continue;
        }
        int64_t s = st[i] < 0 ? st[i] + dim : st[i], e = en[i] < 0 ? en[i] + dim : en[i];
        int64_t count;
        if (step > 0) {
            s = clamp64(s, 0, dim), e = clamp64(e, 0, dim);
            count = e > s ? (e - s + step - 1) / step : 0;
        } else {
            s = clamp64(s, 0, dim - 1), e = clamp64(e, -1, dim - 1);
            count = s > e ? (s - e - step - 1) / -step : 0;
        }
        if (count == dim && (step == 1 || dim == 1))
            continue; /* the whole axis */
        if (a != y->ax_time || count != 1)
            return refuse(tr, k, "keeps only part of an axis (several time steps, or part of the batch or features)", NULL);
        select_step(y, (int)s);
    }
    return SNNC_OK;
}

/* Reshape / Flatten: allowed when the role axes keep their sizes and order
 * and every other axis has size 1 (the flat order is unchanged). */
static int do_reshape(tracer *tr, int k, int in_value, int out_value, av *y)
{
    const snnc_value *o = &tr->g->values[out_value];
    if (o->rank < 0)
        return refuse(tr, k, "output shape unknown", NULL);
    int *roles[3] = {&y->ax_time, &y->ax_batch, &y->ax_feat};
    int order[3], nr = 0;
    for (int ax = 0; ax < y->rank; ax++)
        for (int r = 0; r < 3; r++)
            if (*roles[r] == ax)
                order[nr++] = r;
    int64_t size[3];
    for (int r = 0; r < 3; r++)
        size[r] = *roles[r] >= 0 ? axis_size(tr, y, in_value, *roles[r]) : 0;
    int next = 0, newpos[3] = {-1, -1, -1};
    for (int ax = 0; ax < o->rank; ax++) {
        if (next < nr && o->dims[ax] == size[order[next]] && o->dims[ax] != -1) {
            newpos[order[next++]] = ax;
        } else if (o->dims[ax] != 1) {
            return refuse(tr, k, "mixes the batch, time and feature axes", NULL);
        }
    }
    if (next < nr)
        return refuse(tr, k, "mixes the batch, time and feature axes", NULL);
    for (int r = 0; r < 3; r++)
        *roles[r] = newpos[r];
    y->rank = o->rank;
    return SNNC_OK;
}

static int layout_op(tracer *tr, int k, const av *x)
{
    const snnc_node *n = node_of(tr, k);
    if (n->outputs[0] < 0)
        return SNNC_OK;
    av *y = &tr->v[n->outputs[0]];
    int rc = av_copy(tr, y, x);
    if (rc || x->k == K_ZERO)
        return rc;
    if (x->k == K_PRE)
        return refuse(tr, k, "reshapes the pre-activation of a recurrent step", NULL);
    const char *op = n->op_type;
    if (!strcmp(op, "Identity"))
        return SNNC_OK;
    if (!strcmp(op, "Squeeze"))
        return do_squeeze(tr, k, y);
    if (!strcmp(op, "Unsqueeze"))
        return do_unsqueeze(tr, k, y);
    if (!strcmp(op, "Transpose"))
        return do_transpose(tr, k, y);
    if (!strcmp(op, "Gather"))
        return do_gather(tr, k, y);
    if (!strcmp(op, "Slice"))
        return do_slice(tr, k, n->inputs[0], y);
    return do_reshape(tr, k, n->inputs[0], n->outputs[0], y);
}

/* MatMul(x, W) and Gemm(x, W, C): an affine map on the last (feature) axis. */
static int dense_op(tracer *tr, int k, av *x)
{
    const snnc_node *n = node_of(tr, k);
    bool gemm = !strcmp(n->op_type, "Gemm");
    const snnc_tensor *w = const_in(tr, k, 1);
    if (input_av(tr, k, 1) || (gemm && input_av(tr, k, 2)))
        return refuse(tr, k, "multiplies or adds two values of the data path", NULL);
    if (!is_float(w) || w->rank != 2)
        return refuse(tr, k, "the weight is not a constant matrix", NULL);
    if (gemm && snnc_attr_int_or(n, "transA", 0))
        return refuse(tr, k, "transA is set", NULL);
    int rc = x->k == K_ZERO ? SNNC_OK : settle(tr, x, k);
    if (rc)
        return rc;
    av y = {0};
    if ((rc = av_copy(tr, &y, x)))
        return rc;
    bool trans = gemm && snnc_attr_int_or(n, "transB", 0);
    drop_affine(&y);
    y.lin = true;
    y.node = k;
    y.a = (affine){.w = n->inputs[1], .trans = trans,
                   .alpha = gemm ? snnc_attr_float_or(n, "alpha", 1.0f) : 1.0f,
                   .n_in = (int)(trans ? w->dims[1] : w->dims[0]),
                   .n_out = (int)(trans ? w->dims[0] : w->dims[1])};
    if (x->k != K_ZERO) {
        if (x->k == K_HSEQ) {
            av_clear(&y);
            return refuse(tr, k, "a dense layer on the hidden state of every time step (per-step readout); ",
                          "the readout must read the last hidden state only");
        }
        if (x->ax_feat != x->rank - 1 || x->rank < 2 || x->nfeat != y.a.n_in) {
            av_clear(&y);
            return refuse(tr, k, "does not act on the feature axis", NULL);
        }
        y.nfeat = y.a.n_out;
    }
    bool oom = false;
    if (gemm && const_in(tr, k, 2) &&
        !add_bias(&(av){.rank = 2, .ax_feat = 1}, &y.a, const_in(tr, k, 2),
                  snnc_attr_float_or(n, "beta", 1.0f), &oom)) {
        av_clear(&y);
        return oom ? snnc_fail(tr->err, SNNC_ENOMEM, "out of memory")
                   : refuse(tr, k, "C is not a per-output bias", NULL);
    }
    av_clear(&tr->v[n->outputs[0]]);
    tr->v[n->outputs[0]] = y;
    return SNNC_OK;
}

/* x_t W (+b) + h_{t-1} U (+b): the two products of an unrolled step. */
static int make_pre(tracer *tr, int k, av *p, av *q)
{
    av *x = p->k == K_STEP ? p : q, *h = p->k == K_STEP ? q : p;
    if (!p->lin || !q->lin || x->k != K_STEP || (h->k != K_HID && h->k != K_ZERO) ||
        (h->k == K_HID && tr->rec_op >= 0))
        return refuse(tr, k, "adds two values of the data path that are not the input and "
                             "recurrent products of one Elman step", NULL);
    if (h->k == K_ZERO ? x->t != 0 : h->t != x->t - 1)
        return refuse(tr, k, "the recurrent product reads the state of another step", NULL);
    int H = x->a.n_out;
    if (h->a.n_out != H || h->a.n_in != H)
        return refuse(tr, k, "the recurrent weight is not square with the hidden size", NULL);
    const snnc_value *o = &tr->g->values[node_of(tr, k)->outputs[0]];
    if (o->rank != x->rank)
        return refuse(tr, k, "the two products have different ranks", NULL);
    av y = {0};
    int rc = av_copy(tr, &y, x);
    if (rc)
        return rc;
    y.k = K_PRE;
    y.u = h->a;
    y.u.b = NULL;
    if (h->a.b) {
        if (!y.a.b && !(y.a.b = calloc((size_t)H, sizeof(float)))) {
            av_clear(&y);
            return snnc_fail(tr->err, SNNC_ENOMEM, "out of memory");
        }
        for (int j = 0; j < H; j++)
            y.a.b[j] += h->a.b[j];
    }
    av_clear(&tr->v[node_of(tr, k)->outputs[0]]);
    tr->v[node_of(tr, k)->outputs[0]] = y;
    return SNNC_OK;
}

static int add_op(tracer *tr, int k)
{
    const snnc_node *n = node_of(tr, k);
    av *p = input_av(tr, k, 0), *q = input_av(tr, k, 1);
    if (p && q)
        return strcmp(n->op_type, "Add") ? refuse(tr, k, "subtracts two values of the data path", NULL)
                                         : make_pre(tr, k, p, q);
    av *x = p ? p : q;
    const snnc_tensor *c = const_in(tr, k, p ? 1 : 0);
    if (!strcmp(n->op_type, "Sub") && !p)
        return refuse(tr, k, "subtracts a layer's value from a constant", NULL);
    if (!c)
        return refuse(tr, k, "adds a value that is neither constant nor on the data path", NULL);
    if (!x->lin && x->k != K_PRE)
        return refuse(tr, k, "adds a constant to a layer's output (changes values between layers)", NULL);
    av y = {0};
    int rc = av_copy(tr, &y, x);
    bool oom = false;
    if (!rc && !add_bias(&y, &y.a, c, strcmp(n->op_type, "Sub") ? 1.0f : -1.0f, &oom))
        rc = oom ? snnc_fail(tr->err, SNNC_ENOMEM, "out of memory")
                 : refuse(tr, k, "the constant is not a per-feature bias (if it is the folded product of "
                                 "a zero initial state, export with a dynamic batch axis)", NULL);
    if (rc) {
        av_clear(&y);
        return rc;
    }
    av_clear(&tr->v[n->outputs[0]]);
    tr->v[n->outputs[0]] = y;
    return SNNC_OK;
}

static int activation_op(tracer *tr, int k, av *x)
{
    const snnc_node *n = node_of(tr, k);
    snnc_act act = !strcmp(n->op_type, "Relu") ? SNNC_ACT_RELU : SNNC_ACT_TANH;
    if (!x->lin && x->k != K_PRE)
        return refuse(tr, k, "an activation not preceded by a dense or recurrent product "
                             "(changes values between layers)", NULL);
    av y = {0};
    int rc = av_copy(tr, &y, x);
    if (!rc)
        rc = commit(tr, &y, act, k);
    if (rc) {
        av_clear(&y);
        return rc;
    }
    av_clear(&tr->v[n->outputs[0]]);
    tr->v[n->outputs[0]] = y;
    return SNNC_OK;
}

static int rnn_bias(tracer *tr, int k, int H, float **out)
{
    const snnc_tensor *b = const_in(tr, k, 3);
    *out = NULL;
    if (!b)
        return node_of(tr, k)->n_inputs > 3 && node_of(tr, k)->inputs[3] >= 0
                   ? refuse(tr, k, "the bias is not constant", NULL) : SNNC_OK;
    if (!is_float(b) || b->rank != 2 || b->dims[0] != 1 || b->dims[1] != 2 * H)
        return refuse(tr, k, "bias B is not [1, 2 hidden_size]", NULL);
    if (!(*out = malloc((size_t)H * sizeof(float))))
        return snnc_fail(tr->err, SNNC_ENOMEM, "out of memory");
    for (int j = 0; j < H; j++)
        (*out)[j] = (float)snnc_tensor_get_f(b, j) + (float)snnc_tensor_get_f(b, H + j);
    return SNNC_OK;
}

/* The ONNX RNN operator: forward, one direction, ReLU or tanh, no clip. */
static int rnn_op(tracer *tr, int k, av *x)
{
    const snnc_node *n = node_of(tr, k);
    const char *dir = snnc_attr_string_or(n, "direction", "forward");
    if (strcmp(dir, "forward"))
        return refuse(tr, k, strcmp(dir, "reverse") ? "direction is bidirectional (forward only)"
                                                    : "direction is reverse (forward only)", NULL);
    if (snnc_node_attr(n, "clip"))
        return refuse(tr, k, "clip is set (a clipped cell is not an Elman layer)", NULL);
    const snnc_attr *acts = snnc_node_attr(n, "activations");
    snnc_act act = SNNC_ACT_TANH;
    if (acts) {
        if (acts->kind != SNNC_ATTR_STRINGS || acts->n != 1)
            return refuse(tr, k, "activations must name one function", NULL);
        if (!strcmp(acts->strings[0], "Relu"))
            act = SNNC_ACT_RELU;
        else if (strcmp(acts->strings[0], "Tanh"))
            return refuse(tr, k, "activation is ", acts->strings[0]);
    }
    if (tr->rec.set)
        return refuse(tr, k, "a second recurrent layer (stacked recurrences are not supported)", NULL);
    int layout = (int)snnc_attr_int_or(n, "layout", 0);
    int rc = settle(tr, x, k);
    if (rc)
        return rc;
    if (x->k != K_SEQ || x->rank != 3 || x->ax_time != (layout ? 1 : 0) ||
        x->ax_batch != (layout ? 0 : 1) || x->ax_feat != 2)
        return refuse(tr, k, "X is not the input sequence in the operator's layout", NULL);
    const snnc_tensor *w = const_in(tr, k, 1), *r = const_in(tr, k, 2);
    int H = (int)snnc_attr_int_or(n, "hidden_size", 0);
    if (!is_float(w) || !is_float(r) || w->rank != 3 || r->rank != 3 || w->dims[0] != 1 ||
        w->dims[1] != H || w->dims[2] != x->nfeat || r->dims[0] != 1 || r->dims[1] != H ||
        r->dims[2] != H || H <= 0)
        return refuse(tr, k, "W or R is not a constant of the expected shape", NULL);
    const snnc_tensor *lens = const_in(tr, k, 4);
    if (n->n_inputs > 4 && n->inputs[4] >= 0) {
        for (int64_t i = 0; lens && i < lens->count; i++)
            if (snnc_tensor_get_i(lens, i) != tr->T)
                lens = NULL;
        if (!lens)
            return refuse(tr, k, "sequence_lens is not the full length for every sequence", NULL);
    }
    if (n->n_inputs > 5 && n->inputs[5] >= 0) {
        const av *h0 = input_av(tr, k, 5);
        const snnc_tensor *c = const_in(tr, k, 5);
        if (c ? !all_zero(c) : (!h0 || h0->k != K_ZERO))
            return refuse(tr, k, "the initial state is not zero", NULL);
    }
    float *b;
    if ((rc = rnn_bias(tr, k, H, &b)))
        return rc;
    tr->rec = (slot){.set = true, .node = k, .act = act,
                     .a = {.w = n->inputs[1], .trans = true, .alpha = 1, .n_in = x->nfeat, .n_out = H, .b = b},
                     .u = {.w = n->inputs[2], .trans = true, .alpha = 1, .n_in = H, .n_out = H}};
    tr->rec_op = k;
    tr->rec_stage = x->stage;
    for (int o = 0; o < 2 && o < n->n_outputs; o++) {
        if (n->outputs[o] < 0)
            continue;
        av *y = &tr->v[n->outputs[o]];
        av_clear(y);
        *y = (av){.k = o ? K_HID : K_HSEQ, .nfeat = H, .t = tr->T - 1, .node = k};
        if (o == 0) /* Y: [T, 1, B, H] or (layout 1) [B, T, 1, H] */
            y->rank = 4, y->ax_time = layout ? 1 : 0, y->ax_batch = layout ? 0 : 2, y->ax_feat = 3;
        else /* Y_h: [1, B, H] or [B, 1, H] */
            y->rank = 3, y->ax_time = -1, y->ax_batch = layout ? 0 : 1, y->ax_feat = 2;
    }
    return SNNC_OK;
}

static bool op_in(const char *op, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(op, *list))
            return true;
    return false;
}

static int trace_node(tracer *tr, int k)
{
    static const char *const layout_ops[] = {"Identity", "Squeeze", "Unsqueeze", "Transpose", "Gather",
                                             "Slice", "Reshape", "Flatten", NULL};
    static const char *const zero_ops[] = {"Expand", "Tile", "Cast", NULL};
    const snnc_node *n = node_of(tr, k);
    const char *op = n->op_type;
    if (!strcmp(op, "ConstantOfShape")) {
        const snnc_attr *val = snnc_node_attr(n, "value");
        if (n->outputs[0] >= 0 && (!val || (val->kind == SNNC_ATTR_TENSOR && all_zero(val->t))))
            tr->v[n->outputs[0]].k = K_ZERO;
        return SNNC_OK;
    }
    if (!strcmp(op, "Shape") || !strcmp(op, "Size"))
        return SNNC_OK;
    av *x = NULL;
    bool all_zero_in = true;
    for (int i = 0; i < n->n_inputs; i++) {
        av *a = input_av(tr, k, i);
        if (a && !x)
            x = a;
        if (a && a->k != K_ZERO)
            all_zero_in = false;
    }
    if (!x)
        return SNNC_OK; /* off the data path */
    if (*n->domain)
        return refuse(tr, k, "an operator of domain ", n->domain);
    if (all_zero_in && op_in(op, zero_ops) && n->outputs[0] >= 0) {
        tr->v[n->outputs[0]].k = K_ZERO;
        return SNNC_OK;
    }
    if (op_in(op, layout_ops) && x == input_av(tr, k, 0))
        return layout_op(tr, k, x);
    if (!strcmp(op, "MatMul") || !strcmp(op, "Gemm"))
        return x == input_av(tr, k, 0) ? dense_op(tr, k, x)
                                       : refuse(tr, k, "the data path is the weight operand", NULL);
    if (!strcmp(op, "Add") || !strcmp(op, "Sub"))
        return add_op(tr, k);
    if (!strcmp(op, "Relu") || !strcmp(op, "Tanh"))
        return activation_op(tr, k, x);
    if (!strcmp(op, "RNN"))
        return x == input_av(tr, k, 0) ? rnn_op(tr, k, x)
                                       : refuse(tr, k, "the initial state is not zero", NULL);
    if (x->k == K_HSEQ && (!strncmp(op, "Reduce", 6) || !strcmp(op, "Concat")))
        return refuse(tr, k, "combines the hidden states of several time steps; ",
                      "the readout must read the last hidden state only");
    if (!strcmp(op, "Sigmoid") || !strcmp(op, "LeakyRelu") || !strcmp(op, "HardSigmoid") ||
        !strcmp(op, "Clip") || !strcmp(op, "Elu") || !strcmp(op, "Softsign") || !strcmp(op, "Softplus"))
        return refuse(tr, k, "activation not supported (ReLU or tanh only)", NULL);
    if (!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax"))
        return refuse(tr, k, "normalises the readout; export the network's logits without it (", WHAT ")");
    return refuse(tr, k, "changes values on the data path and is no part of an Elman layer; ", WHAT);
}

/* ---- driver ---- */

static void mark_needed(tracer *tr, int out_value)
{
    snnc_graph *g = tr->g;
    bool *vneed = calloc((size_t)g->n_values + 1, sizeof(bool));
    if (!vneed)
        return;
    vneed[out_value] = true;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        const snnc_node *n = &g->nodes[k];
        for (int j = 0; j < n->n_outputs && !tr->needed[k]; j++)
            tr->needed[k] = n->outputs[j] >= 0 && vneed[n->outputs[j]];
        for (int i = 0; tr->needed[k] && i < n->n_inputs; i++)
            if (n->inputs[i] >= 0)
                vneed[n->inputs[i]] = true;
    }
    for (int i = 0; i < g->n_inputs; i++)
        if (vneed[g->inputs[i]]) {
            if (tr->input == -1)
                tr->input = g->inputs[i];
            else if (tr->extra_input < 0)
                tr->extra_input = g->inputs[i];
        }
    free(vneed);
}

/* Precheck with the recognised layers, naming them. */
static int check_layers(tracer *tr)
{
    const snnc_layer *rec = NULL;
    for (int i = 0; i < tr->n_layers; i++) {
        const snnc_layer *l = &tr->layers[i];
        switch (l->kind) {
        case SNNC_LAYER_LSTM:
        case SNNC_LAYER_GRU:
        case SNNC_LAYER_RELATIONAL:
            return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "layer '%s' is %s layer; %s", l->name,
                             l->kind == SNNC_LAYER_LSTM  ? "an LSTM"
                             : l->kind == SNNC_LAYER_GRU ? "a GRU"
                                                         : "a relational-network",
                             WHAT);
        case SNNC_LAYER_RNN:
        case SNNC_LAYER_RNN_CELL:
            if (l->directions != 1)
                return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                                 "layer '%s' is a bidirectional RNN; %s", l->name, WHAT);
            if (strcmp(l->activation, "Relu") && strcmp(l->activation, "Tanh"))
                return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                                 "layer '%s': activation %s (ReLU or tanh only)", l->name, l->activation);
            if (rec)
                return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                                 "layers '%s' and '%s': more than one recurrent layer; %s", rec->name,
                                 l->name, WHAT);
            rec = l;
            break;
        default:
            break;
        }
    }
    return SNNC_OK;
}

static const char *layer_name(const tracer *tr, int node)
{
    for (int i = 0; i < tr->n_layers; i++)
        if (tr->layers[i].kind == SNNC_LAYER_RNN_CELL)
            for (int j = 0; j < tr->layers[i].n_nodes; j++)
                if (tr->layers[i].nodes[j] == node)
                    return tr->layers[i].name;
    return tr->g->nodes[node].name;
}

static int materialise(const tracer *tr, const slot *s, snnc_ann_role role, snnc_ann_layer *l,
                       const char *name)
{
    snprintf(l->name, sizeof l->name, "%s", name);
    l->role = role;
    l->act = s->act;
    l->n_in = s->a.n_in;
    l->n_out = s->a.n_out;
    size_t no = (size_t)l->n_out, ni = (size_t)l->n_in;
    l->W = malloc(no * ni * sizeof(float));
    l->b = calloc(no, sizeof(float));
    l->U = role == SNNC_ANN_RECURRENT ? malloc(no * no * sizeof(float)) : NULL;
    if (!l->W || !l->b || (role == SNNC_ANN_RECURRENT && !l->U))
        return snnc_fail(tr->err, SNNC_ENOMEM, "out of memory");
    for (int j = 0; j < l->n_out; j++) {
        for (int i = 0; i < l->n_in; i++)
            l->W[(size_t)j * ni + i] = (float)weight_at(tr, &s->a, j, i);
        for (int i = 0; l->U && i < l->n_out; i++)
            l->U[(size_t)j * no + i] = (float)weight_at(tr, &s->u, j, i);
        l->b[j] = s->a.b ? s->a.b[j] : 0.0f;
    }
    return SNNC_OK;
}

static int finish(tracer *tr, snnc_ann **out)
{
    snnc_graph *g = tr->g;
    av *y = &tr->v[g->outputs[0]];
    const char *oname = g->values[g->outputs[0]].name;
    if (y->k == K_NONE)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "output '%s' does not depend on the input sequence", oname);
    int k = y->node;
    int rc = y->k == K_ZERO ? SNNC_OK : settle(tr, y, g->values[g->outputs[0]].producer);
    if (rc)
        return rc;
    if (!tr->rec.set)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "output '%s': no recurrent layer on the path from the input; %s",
                         oname, WHAT);
    if (y->k == K_HID && y->t != tr->T - 1)
        return refuse(tr, k, "the output is an earlier hidden state, not the last one", NULL);
    if ((y->k != K_OUT && y->k != K_HID) || y->lin || y->ax_time >= 0 || y->ax_batch < 0 ||
        y->ax_batch > y->ax_feat)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                         "output '%s' is not [batch, features] of the last hidden state or its readout; %s",
                         oname, WHAT);
    if (tr->n_step != tr->rec_stage)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "per-step layers after the recurrent input; %s", WHAT);
    snnc_ann *a = calloc(1, sizeof *a);
    int nl = tr->n_step + 1 + tr->n_out;
    if (!a || !(a->layers = calloc((size_t)nl, sizeof *a->layers))) {
        free(a);
        return snnc_fail(tr->err, SNNC_ENOMEM, "out of memory");
    }
    snprintf(a->input_name, sizeof a->input_name, "%s", g->values[tr->input].name);
    snprintf(a->output_name, sizeof a->output_name, "%s", oname);
    a->n_inputs = tr->F;
    a->steps = tr->T;
    a->batch_first = tr->batch_first;
    a->n_layers = nl;
    for (int i = 0; !rc && i < nl; i++) {
        const slot *s = i < tr->n_step ? &tr->step[i] : i == tr->n_step ? &tr->rec : &tr->out[i - tr->n_step - 1];
        snnc_ann_role role = i < tr->n_step ? SNNC_ANN_STEP_DENSE : i == tr->n_step ? SNNC_ANN_RECURRENT : SNNC_ANN_READOUT;
        const char *name = role == SNNC_ANN_RECURRENT ? layer_name(tr, s->node) : g->nodes[s->node].name;
        rc = materialise(tr, s, role, &a->layers[i], name);
        int want = i ? a->layers[i - 1].n_out : tr->F;
        if (!rc && a->layers[i].n_in != want) /* guaranteed by the trace; kept as a guard */
            rc = snnc_fail(tr->err, SNNC_EUNSUPPORTED, "layer '%s' reads %d features, the previous gives %d",
                           a->layers[i].name, a->layers[i].n_in, want);
    }
    if (rc) {
        snnc_ann_free(a);
        return rc;
    }
    *out = a;
    return SNNC_OK;
}

static void tracer_clear(tracer *tr)
{
    for (int i = 0; tr->v && i < tr->g->n_values; i++)
        av_clear(&tr->v[i]);
    for (int i = 0; i < tr->n_step && i < MAX_LAYERS; i++)
        free(tr->step[i].a.b);
    for (int i = 0; i < tr->n_out && i < MAX_LAYERS; i++)
        free(tr->out[i].a.b);
    free(tr->rec.a.b);
    free(tr->rec.u.b);
    memset(tr->step, 0, sizeof tr->step);
    memset(tr->out, 0, sizeof tr->out);
    memset(&tr->rec, 0, sizeof tr->rec);
    tr->n_step = tr->n_out = tr->rec_stage = 0;
    tr->rec_op = -1;
}

/* One trace under a layout hypothesis. */
static int trace(tracer *tr, bool batch_first, snnc_ann **out)
{
    tracer_clear(tr);
    const snnc_value *in = &tr->g->values[tr->input];
    tr->batch_first = batch_first;
    tr->T = (int)in->dims[batch_first ? 1 : 0];
    tr->F = (int)in->dims[2];
    tr->progress = 0;
    tr->v[tr->input] = (av){.k = K_SEQ, .rank = 3, .ax_time = batch_first ? 1 : 0,
                            .ax_batch = batch_first ? 0 : 1, .ax_feat = 2, .nfeat = tr->F};
    for (int k = 0; k < tr->g->n_nodes; k++) {
        if (!tr->needed[k])
            continue;
        int rc = trace_node(tr, k);
        if (rc)
            return rc;
        tr->progress++;
    }
    return finish(tr, out);
}

static int check_input(tracer *tr, bool *try_bf, bool *try_sf)
{
    if (tr->input == -1)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "the output does not depend on any graph input");
    if (tr->extra_input >= 0)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                         "input '%s' reaches the output besides the sequence input '%s'; initial states must be "
                         "zero and the network must have one input", tr->g->values[tr->extra_input].name,
                         tr->g->values[tr->input].name);
    const snnc_value *in = &tr->g->values[tr->input];
    if (in->rank != 3 || (in->dtype != SNNC_F32 && in->dtype != SNNC_F64))
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED,
                         "input '%s' is not a float sequence [batch, steps, features] or [steps, batch, features]",
                         in->name);
    if (in->dims[2] <= 0 || in->dims[2] > INT32_MAX / 2)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "input '%s': the feature count must be fixed", in->name);
    /* the time axis must be fixed; a symbolic dim can only be the batch */
    *try_bf = in->dims[1] > 0 && in->dims[1] <= INT32_MAX;
    *try_sf = in->dims[0] > 0 && in->dims[0] <= INT32_MAX;
    if (!*try_bf && !*try_sf)
        return snnc_fail(tr->err, SNNC_EUNSUPPORTED, "input '%s': the number of steps must be fixed", in->name);
    return SNNC_OK;
}

/* Max |ann - graph| on the calibration batch. */
static int verify(snnc_graph *g, const snnc_ann *a, const snnc_tensor *calib, snnc_err *err)
{
    for (int64_t i = 0; i < calib->count; i++)
        if (!isfinite(snnc_tensor_get_f(calib, i)))
            return snnc_fail(err, SNNC_EINVALID, "calibration input: element %lld is not finite", (long long)i);
    const char *in_name = a->input_name, *out_name = a->output_name;
    snnc_tensor *want = NULL, *got = NULL;
    int rc = snnc_run(g, 1, &in_name, &calib, 1, &out_name, &want, err);
    if (rc) {
        snnc_err_prefix(err, "calibration run of the graph");
        return rc;
    }
    if (!(rc = snnc_ann_run(a, calib, &got, NULL, err))) {
        double worst = 0;
        int64_t at = 0;
        if (got->count != want->count) {
            rc = snnc_fail(err, SNNC_EUNSUPPORTED, "extraction does not reproduce the graph: %lld outputs, graph %lld",
                           (long long)got->count, (long long)want->count);
        }
        for (int64_t i = 0; !rc && i < got->count; i++) {
            double d = fabs(snnc_tensor_get_f(got, i) - snnc_tensor_get_f(want, i));
            if (!(d <= worst)) /* NaN counts as the worst */
                worst = isnan(d) ? INFINITY : d, at = i;
        }
        const snnc_ann_layer *rl = NULL;
        for (int i = 0; i < a->n_layers; i++)
            if (a->layers[i].role == SNNC_ANN_RECURRENT)
                rl = &a->layers[i];
        int n_out = a->layers[a->n_layers - 1].n_out;
        if (!rc && worst > 1e-4)
            rc = snnc_fail(err, SNNC_EUNSUPPORTED,
                           "extraction does not reproduce the graph: max error %.3g at sample %lld, output %lld "
                           "(network around recurrent layer '%s' of a shape snnc does not support)",
                           worst, (long long)(at / n_out), (long long)(at % n_out), rl ? rl->name : "?");
    }
    snnc_tensor_free(want);
    snnc_tensor_free(got);
    return rc;
}

int snnc_ann_extract(snnc_graph *g, const snnc_tensor *calib, snnc_ann **out, snnc_err *err)
{
    *out = NULL;
    if (!g || g->n_outputs < 1)
        return snnc_fail(err, SNNC_EUSAGE, "no graph or no output");
    tracer tr = {.g = g, .err = err, .input = -1, .extra_input = -1, .rec_op = -1};
    snnc_layer *layers = NULL;
    int rc = snnc_recognize_layers(g, &layers, &tr.n_layers, err);
    if (rc)
        return rc;
    tr.layers = layers;
    tr.v = calloc((size_t)g->n_values + 1, sizeof *tr.v);
    tr.needed = calloc((size_t)g->n_nodes + 1, sizeof *tr.needed);
    bool bf = false, sf = false;
    if (!tr.v || !tr.needed)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc)
        rc = check_layers(&tr);
    if (!rc)
        mark_needed(&tr, g->outputs[0]);
    if (!rc)
        rc = check_input(&tr, &bf, &sf);
    if (!rc) {
        /* try batch-first then sequence-first where the shape does not tell */
        snnc_err first = {0};
        int progress = -1;
        rc = bf ? trace(&tr, true, out) : SNNC_EUNSUPPORTED;
        if (rc && bf) {
            first = *err;
            progress = tr.progress;
        }
        if (rc && sf) {
            snnc_err_clear(err);
            rc = trace(&tr, false, out);
            if (rc && progress > tr.progress)
                *err = first;
        }
    }
    tracer_clear(&tr);
    free(tr.v);
    free(tr.needed);
    snnc_layers_free(layers, tr.n_layers);
    if (!rc && calib && (rc = verify(g, *out, calib, err))) {
        snnc_ann_free(*out);
        *out = NULL;
    }
    return rc;
}
