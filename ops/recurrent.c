/* recurrent.c — the recurrent operators RNN, LSTM and GRU (table
 * snnc_ops_recurrent, interface ops/op.h; equations and layouts in
 * docs/RECURRENT.md).
 *
 * One engine runs all three: per direction, the input projection of every
 * time step at once (X·W^T + bias, one cblas_sgemm), then per step the
 * recurrent product H·R^T (cblas_sgemm over the batch) and the cell's gate
 * equations.  Handles directions, layouts, sequence_lens, clip, the
 * activation list with alpha/beta, peepholes, input_forget and
 * linear_before_reset. */
#include <cblas.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "op.h"

/* ------------------------------------------------------------ activations */

typedef enum {
    ACT_RELU,
    ACT_TANH,
    ACT_SIGMOID,
    ACT_AFFINE,
    ACT_LEAKYRELU,
    ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH,
    ACT_HARDSIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS,
    ACT_COUNT
} act_kind;

/* Name, whether alpha / beta are consumed from activation_alpha/_beta, and
 * the defaults (those of the ONNX operators of the same name). */
static const struct {
    const char *name;
    bool alpha, beta;
    float def_alpha, def_beta;
} act_info[ACT_COUNT] = {
    [ACT_RELU] = {"Relu", false, false, 0, 0},
    [ACT_TANH] = {"Tanh", false, false, 0, 0},
    [ACT_SIGMOID] = {"Sigmoid", false, false, 0, 0},
    [ACT_AFFINE] = {"Affine", true, true, 1.0f, 0.0f},
    [ACT_LEAKYRELU] = {"LeakyRelu", true, false, 0.01f, 0},
    [ACT_THRESHOLDEDRELU] = {"ThresholdedRelu", true, false, 1.0f, 0},
    [ACT_SCALEDTANH] = {"ScaledTanh", true, true, 1.0f, 1.0f},
    [ACT_HARDSIGMOID] = {"HardSigmoid", true, true, 0.2f, 0.5f},
    [ACT_ELU] = {"Elu", true, false, 1.0f, 0},
    [ACT_SOFTSIGN] = {"Softsign", false, false, 0, 0},
    [ACT_SOFTPLUS] = {"Softplus", false, false, 0, 0},
};

typedef struct act_fn {
    act_kind kind;
    float alpha, beta;
} act_fn;

static float sigmoidf(float x)
{
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static float act_eval(const act_fn *f, float x)
{
    float a = f->alpha, b = f->beta;
    switch (f->kind) {
    case ACT_RELU: return x > 0 ? x : 0.0f;
    case ACT_TANH: return tanhf(x);
    case ACT_SIGMOID: return sigmoidf(x);
    case ACT_AFFINE: return a * x + b;
    case ACT_LEAKYRELU: return x >= 0 ? x : a * x;
    case ACT_THRESHOLDEDRELU: return x >= a ? x : 0.0f;
    case ACT_SCALEDTANH: return a * tanhf(b * x);
    case ACT_HARDSIGMOID: return fminf(fmaxf(a * x + b, 0.0f), 1.0f);
    case ACT_ELU: return x >= 0 ? x : a * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS: return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
    case ACT_COUNT: break;
    }
    return x;
}

/* x[i] = f(clip(x[i])) in place; clip <= 0 means no clipping. */
static void activate(const act_fn *f, float clip, float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (clip > 0)
            v = fminf(fmaxf(v, -clip), clip);
        x[i] = act_eval(f, v);
    }
}

/* --------------------------------------------------------- the three cells */

typedef enum { CELL_RNN, CELL_GRU, CELL_LSTM } cell_kind;

typedef struct cell_info {
    int gates;       /* blocks of hidden_size rows in W and R */
    int acts;        /* activation functions per direction */
    int max_inputs;  /* X W R B sequence_lens initial_h [initial_c P] */
    int max_outputs; /* Y Y_h [Y_c] */
    act_kind defaults[3];
} cell_info;

static const cell_info cells[] = {
    [CELL_RNN] = {1, 1, 6, 2, {ACT_TANH}},
    [CELL_GRU] = {3, 2, 6, 2, {ACT_SIGMOID, ACT_TANH}},
    [CELL_LSTM] = {4, 3, 8, 3, {ACT_SIGMOID, ACT_TANH, ACT_TANH}},
};

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P };

/* Everything the attributes say. */
typedef struct rnn_spec {
    cell_kind cell;
    const cell_info *info;
    int nd;           /* number of directions */
    bool reverse;     /* direction == "reverse" */
    int64_t hidden;   /* hidden_size, or -1 when absent */
    int64_t layout;   /* 0: time-major, 1: batch-major */
    float clip;       /* > 0, or 0 for none */
    bool input_forget, linear_before_reset;
    act_fn acts[2][3]; /* [direction][f, g, h] */
} rnn_spec;

static int find_act(const char *name)
{
    for (int k = 0; k < ACT_COUNT; k++)
        if (strcasecmp(name, act_info[k].name) == 0)
            return k;
    return -1;
}

static const snnc_attr *typed_attr(snnc_opctx *c, const char *name, snnc_attr_kind kind,
                                   snnc_attr_kind alt, int *rc)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    *rc = SNNC_OK;
    if (a && a->kind != kind && a->kind != alt) {
        *rc = snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' has the wrong type", name);
        return NULL;
    }
    return a;
}

/* activations / activation_alpha / activation_beta.  The list holds
 * acts*nd names; acts names are shared by both directions; and for one
 * direction 2*acts names use the first acts (RNN's spec default is
 * ["Tanh","Tanh"]).  alpha and beta are consumed in list order by the
 * functions that take them, defaults when the list runs out. */
static int parse_activations(snnc_opctx *c, rnn_spec *s)
{
    int rc, per = s->info->acts;
    const snnc_attr *names = typed_attr(c, "activations", SNNC_ATTR_STRINGS, SNNC_ATTR_STRINGS, &rc);
    const snnc_attr *al = rc ? NULL : typed_attr(c, "activation_alpha", SNNC_ATTR_FLOATS,
                                                 SNNC_ATTR_FLOATS, &rc);
    const snnc_attr *be = rc ? NULL : typed_attr(c, "activation_beta", SNNC_ATTR_FLOATS,
                                                 SNNC_ATTR_FLOATS, &rc);
    if (rc)
        return rc;
    if (names && names->n == 0)
        names = NULL; /* an empty list means the defaults */
    int n = names ? names->n : per;
    if (n != per * s->nd && n != per && !(s->nd == 1 && n == 2 * per))
        return snnc_op_fail(c, SNNC_EINVALID, "activations lists %d functions; expected %d", n,
                            per * s->nd);
    act_fn given[6];
    int ia = 0, ib = 0;
    for (int k = 0; k < n && k < 6; k++) {
        int kind = names ? find_act(names->strings[k]) : (int)s->info->defaults[k];
        if (kind < 0)
            return snnc_op_fail(c, SNNC_EINVALID, "unknown activation function '%s'",
                                names->strings[k]);
        given[k].kind = (act_kind)kind;
        given[k].alpha = act_info[kind].def_alpha;
        given[k].beta = act_info[kind].def_beta;
        if (act_info[kind].alpha && al && ia < al->n)
            given[k].alpha = al->floats[ia++];
        if (act_info[kind].beta && be && ib < be->n)
            given[k].beta = be->floats[ib++];
    }
    for (int d = 0; d < s->nd; d++)
        for (int k = 0; k < per; k++)
            s->acts[d][k] = given[n == per * s->nd ? d * per + k : k];
    return SNNC_OK;
}

static int int_attr(snnc_opctx *c, const char *name, int64_t def, int64_t *out)
{
    int rc;
    const snnc_attr *a = typed_attr(c, name, SNNC_ATTR_INT, SNNC_ATTR_INT, &rc);
    *out = a ? a->i : def;
    return rc;
}

static int parse_spec(snnc_opctx *c, cell_kind cell, rnn_spec *s)
{
    memset(s, 0, sizeof *s);
    s->cell = cell;
    s->info = &cells[cell];
    int rc;
    const snnc_attr *dir = typed_attr(c, "direction", SNNC_ATTR_STRING, SNNC_ATTR_STRING, &rc);
    if (rc)
        return rc;
    const char *d = dir ? dir->s : "forward";
    if (strcmp(d, "forward") == 0 || strcmp(d, "reverse") == 0)
        s->nd = 1, s->reverse = d[0] == 'r';
    else if (strcmp(d, "bidirectional") == 0)
        s->nd = 2;
    else
        return snnc_op_fail(c, SNNC_EINVALID,
                            "direction '%s' is not forward, reverse or bidirectional", d);
    int64_t lf = 0, lbr = 0;
    if ((rc = int_attr(c, "hidden_size", -1, &s->hidden)) ||
        (rc = int_attr(c, "layout", 0, &s->layout)) ||
        (rc = int_attr(c, "input_forget", 0, &lf)) ||
        (rc = int_attr(c, "linear_before_reset", 0, &lbr)))
        return rc;
    if (snnc_node_attr(c->node, "hidden_size") &&
        (s->hidden <= 0 || s->hidden > SNNC_MAX_ELEMENTS))
        return snnc_op_fail(c, SNNC_EINVALID, "hidden_size %lld must be positive (at most %lld)",
                            (long long)s->hidden, (long long)SNNC_MAX_ELEMENTS);
    if (s->layout != 0 && s->layout != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "layout %lld must be 0 or 1", (long long)s->layout);
    if (s->layout == 1 && c->opset < 14)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute layout needs opset 14 (model has %d)",
                            c->opset);
    s->input_forget = cell == CELL_LSTM && lf != 0;
    s->linear_before_reset = cell == CELL_GRU && lbr != 0;
    const snnc_attr *clip = typed_attr(c, "clip", SNNC_ATTR_FLOAT, SNNC_ATTR_INT, &rc);
    if (rc)
        return rc;
    if (clip) {
        s->clip = snnc_attr_float_or(c->node, "clip", 0);
        if (!(s->clip > 0))
            return snnc_op_fail(c, SNNC_EINVALID, "clip %g must be positive", (double)s->clip);
    }
    return parse_activations(c, s);
}

/* ------------------------------------------------------------------ infer */

/* A dim that must equal `want`; unknowable when either is symbolic. */
static int check_dim(snnc_opctx *c, const snnc_vinfo *v, const char *name, int i, int64_t want)
{
    int64_t got = v->dims[i];
    if (SNNC_IS_SYM(got) || SNNC_IS_SYM(want) || got == want)
        return SNNC_OK;
    char buf[160];
    return snnc_op_fail(c, SNNC_EINVALID, "input %s has shape %s; dimension %d should be %lld",
                        name, snnc_dims_str(v->rank, v->dims, buf, sizeof buf), i,
                        (long long)want);
}

static int check_shape(snnc_opctx *c, const snnc_vinfo *v, const char *name, int rank,
                       const int64_t *want)
{
    int rc;
    if (!v->present || v->rank < 0)
        return SNNC_OK;
    if (v->rank != rank)
        return snnc_op_fail(c, SNNC_EINVALID, "input %s has rank %d; expected %d", name, v->rank,
                            rank);
    for (int i = 0; i < rank; i++)
        if ((rc = check_dim(c, v, name, i, want[i])))
            return rc;
    return SNNC_OK;
}

static int64_t mul_dim(int64_t k, int64_t d) { return SNNC_IS_SYM(d) ? d : k * d; }

static int check_types(snnc_opctx *c, const snnc_vinfo *in, int n)
{
    static const char *const names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h",
                                        "initial_c", "P"};
    for (int i = 0; i < n; i++) {
        if (!in[i].present || in[i].dtype == SNNC_DTYPE_UNKNOWN)
            continue;
        snnc_dtype want = i == IN_SEQ ? SNNC_I64 : SNNC_F32;
        if (snnc_compute_dtype(in[i].dtype) != want)
            return snnc_op_fail(c, SNNC_EINVALID, "input %s has element type %s; expected %s",
                                names[i], snnc_dtype_name(in[i].dtype),
                                i == IN_SEQ ? "int32" : "float");
    }
    if (n < 3 || !in[IN_X].present || !in[IN_W].present || !in[IN_R].present)
        return snnc_op_fail(c, SNNC_EINVALID, "inputs X, W and R are required");
    return SNNC_OK;
}

/* hidden_size: the attribute, else R's last dim, else W's rows / gates. */
#define UNKNOWN_DIM (INT64_MIN / 2) /* symbolic-looking: no check compares it */

static int64_t resolve_hidden(const rnn_spec *s, const snnc_vinfo *in)
{
    if (s->hidden > 0)
        return s->hidden;
    if (in[IN_R].rank == 3)
        return in[IN_R].dims[2];
    if (in[IN_W].rank == 3 && !SNNC_IS_SYM(in[IN_W].dims[1]))
        return in[IN_W].dims[1] / s->info->gates;
    return UNKNOWN_DIM;
}

static int rnn_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out, cell_kind cell)
{
    rnn_spec s;
    int n_in = c->node->n_inputs, rc;
    if ((rc = parse_spec(c, cell, &s)) || (rc = check_types(c, in, n_in)))
        return rc;
    for (int j = 0; j < c->node->n_outputs; j++)
        out[j].dtype = SNNC_F32;
    const snnc_vinfo *x = &in[IN_X];
    if (x->rank >= 0 && x->rank != 3)
        return snnc_op_fail(c, SNNC_EINVALID, "input X has rank %d; expected 3", x->rank);
    if (in[IN_W].rank >= 0 && in[IN_W].rank != 3)
        return snnc_op_fail(c, SNNC_EINVALID, "input W has rank %d; expected 3", in[IN_W].rank);
    if (in[IN_R].rank >= 0 && in[IN_R].rank != 3)
        return snnc_op_fail(c, SNNC_EINVALID, "input R has rank %d; expected 3", in[IN_R].rank);
    int64_t h = resolve_hidden(&s, in), g = s.info->gates, nd = s.nd;
    int64_t unk = UNKNOWN_DIM;
    int64_t seq = x->rank == 3 ? x->dims[s.layout] : unk;
    int64_t batch = x->rank == 3 ? x->dims[1 - s.layout] : unk;
    int64_t isz = x->rank == 3 ? x->dims[2] : unk;
    int64_t w[3] = {nd, mul_dim(g, h), isz}, r[3] = {nd, mul_dim(g, h), h};
    int64_t b[2] = {nd, mul_dim(2 * g, h)}, p[2] = {nd, mul_dim(3, h)}, sl[1] = {batch};
    int64_t st[3] = {nd, batch, h}, st1[3] = {batch, nd, h};
    const int64_t *state = s.layout ? st1 : st;
    if ((rc = check_shape(c, &in[IN_W], "W", 3, w)) || (rc = check_shape(c, &in[IN_R], "R", 3, r)))
        return rc;
    if (s.hidden > 0 && in[IN_R].rank == 3 && !SNNC_IS_SYM(in[IN_R].dims[2]) &&
        in[IN_R].dims[2] != s.hidden)
        return snnc_op_fail(c, SNNC_EINVALID, "hidden_size %lld does not match R's last dim %lld",
                            (long long)s.hidden, (long long)in[IN_R].dims[2]);
    if (n_in > IN_B && (rc = check_shape(c, &in[IN_B], "B", 2, b)))
        return rc;
    if (n_in > IN_SEQ && (rc = check_shape(c, &in[IN_SEQ], "sequence_lens", 1, sl)))
        return rc;
    if (n_in > IN_H0 && (rc = check_shape(c, &in[IN_H0], "initial_h", 3, state)))
        return rc;
    if (n_in > IN_C0 && (rc = check_shape(c, &in[IN_C0], "initial_c", 3, state)))
        return rc;
    if (n_in > IN_P && (rc = check_shape(c, &in[IN_P], "P", 2, p)))
        return rc;
    if (x->rank != 3 || h == UNKNOWN_DIM)
        return SNNC_OK; /* output shapes unknown */
    int64_t y0[4] = {seq, nd, batch, h}, y1[4] = {batch, seq, nd, h};
    for (int j = 0; j < c->node->n_outputs; j++) {
        if (j == 0)
            snnc_op_set_shape(&out[0], SNNC_F32, 4, s.layout ? y1 : y0);
        else
            snnc_op_set_shape(&out[j], SNNC_F32, 3, state);
    }
    return SNNC_OK;
}

static int rnn_infer_rnn(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    return rnn_infer(c, in, out, CELL_RNN);
}
static int rnn_infer_gru(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    return rnn_infer(c, in, out, CELL_GRU);
}
static int rnn_infer_lstm(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    return rnn_infer(c, in, out, CELL_LSTM);
}

/* ---------------------------------------------------------------- compute */

/* C[m,n] = A[m,k] · B[n,k]^T + beta*C, row-major with leading dims. */
static void mm_bt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                  int64_t ldb, float beta, float *cm, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                cm[i * ldc + j] *= beta;
        return;
    }
    if (m <= 2) { /* a row or two: sgemv skips sgemm's packing of all of b (bench/) */
        for (int64_t i = 0; i < m; i++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, b, (int)ldb, a + i * lda, 1,
                        beta, cm + i * ldc, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda,
                b, (int)ldb, beta, cm, (int)ldc);
}

/* The run of one direction: sizes, this direction's weights, work space. */
typedef struct run {
    const rnn_spec *s;
    int64_t seq, batch, isz, h, gh; /* gh = gates * h */
    bool reverse;
    const act_fn *act;              /* f, g, h of this direction */
    const float *x, *w, *r, *p;     /* p NULL without peepholes */
    const float *rbh;               /* GRU linear_before_reset: Rb[h] (NULL: zeros) */
    const int64_t *len;             /* per-batch sequence lengths */
    float *y, *yh, *yc;             /* outputs (NULL when omitted) */
    int d;                          /* direction index */
    float *xw;                      /* [seq*batch, gh]: X·W^T + biases */
    float *rec;                     /* [batch, gh]: H·R^T */
    float *hs, *cs;                 /* [batch, h]: hidden and cell state */
    float *tmp;                     /* [batch, h]: GRU r.*H, LSTM clipped C */
} run;

static int64_t x_row(const run *u, int64_t t, int64_t b)
{
    return u->s->layout ? b * u->seq + t : t * u->batch + b;
}

static int64_t y_off(const run *u, int64_t t, int64_t b)
{
    int64_t nd = u->s->nd;
    return (u->s->layout ? (b * u->seq + t) * nd + u->d : (t * nd + u->d) * u->batch + b) * u->h;
}

static int64_t state_off(const run *u, int64_t b)
{
    return (u->s->layout ? b * u->s->nd + u->d : u->d * u->batch + b) * u->h;
}

/* Pre-activations of gate `k` for batch entry b: X part + H part. */
static void gate_sum(const run *u, const float *pre, int64_t b, int k, float *dst)
{
    const float *rp = u->rec + b * u->gh + k * u->h;
    for (int64_t i = 0; i < u->h; i++)
        dst[i] = pre[k * u->h + i] + rp[i];
}

static void rnn_cell(run *u, const float *pre, int64_t b, float *gate)
{
    gate_sum(u, pre, b, 0, gate);
    activate(&u->act[0], u->s->clip, gate, u->h);
    memcpy(u->hs + b * u->h, gate, (size_t)u->h * sizeof *gate);
}

/* LSTM gates i, o, f, c at blocks 0..3; peepholes i, o, f. */
static void lstm_cell(run *u, const float *pre, int64_t b, float *gate)
{
    int64_t h = u->h;
    float *gi = gate, *go = gate + h, *gf = gate + 2 * h, *gc = gate + 3 * h;
    float *cs = u->cs + b * h, *hs = u->hs + b * h, *ct = u->tmp + b * h;
    for (int k = 0; k < 4; k++)
        gate_sum(u, pre, b, k, gate + k * h);
    if (u->p)
        for (int64_t i = 0; i < h; i++) {
            gi[i] += u->p[i] * cs[i];
            gf[i] += u->p[2 * h + i] * cs[i];
        }
    activate(&u->act[0], u->s->clip, gi, h);
    if (u->s->input_forget)
        for (int64_t i = 0; i < h; i++)
            gf[i] = 1.0f - gi[i];
    else
        activate(&u->act[0], u->s->clip, gf, h);
    activate(&u->act[1], u->s->clip, gc, h);
    for (int64_t i = 0; i < h; i++)
        cs[i] = gf[i] * cs[i] + gi[i] * gc[i];
    if (u->p)
        for (int64_t i = 0; i < h; i++)
            go[i] += u->p[h + i] * cs[i];
    activate(&u->act[0], u->s->clip, go, h);
    memcpy(ct, cs, (size_t)h * sizeof *ct);
    activate(&u->act[2], u->s->clip, ct, h);
    for (int64_t i = 0; i < h; i++)
        hs[i] = go[i] * ct[i];
}

/* GRU first half: z and r (blocks 0, 1), and tmp = r .* H for the
 * default reset order. */
static void gru_zr(run *u, const float *pre, int64_t b, float *gate)
{
    gate_sum(u, pre, b, 0, gate);
    gate_sum(u, pre, b, 1, gate + u->h);
    activate(&u->act[0], u->s->clip, gate, 2 * u->h);
    if (!u->s->linear_before_reset)
        for (int64_t i = 0; i < u->h; i++)
            u->tmp[b * u->h + i] = gate[u->h + i] * u->hs[b * u->h + i];
}

/* GRU second half: the hidden gate and the new state. */
static void gru_h(run *u, const float *pre, int64_t b, float *gate)
{
    int64_t h = u->h;
    float *z = gate, *r = gate + h, *hh = gate + 2 * h, *hs = u->hs + b * h;
    const float *rp = u->rec + b * u->gh + 2 * h;
    for (int64_t i = 0; i < h; i++)
        hh[i] = u->s->linear_before_reset
                    ? pre[2 * h + i] + r[i] * (rp[i] + (u->rbh ? u->rbh[i] : 0.0f))
                    : pre[2 * h + i] + rp[i];
    activate(&u->act[1], u->s->clip, hh, h);
    for (int64_t i = 0; i < h; i++)
        hs[i] = (1.0f - z[i]) * hh[i] + z[i] * hs[i];
}

/* The time index batch entry b reads at step s, or -1 when finished. */
static int64_t step_time(const run *u, int64_t s, int64_t b)
{
    if (s >= u->len[b])
        return -1;
    return u->reverse ? u->len[b] - 1 - s : s;
}

static void run_step(run *u, int64_t s, float *gates)
{
    int64_t h = u->h, gh = u->gh;
    bool two_phase = u->s->cell == CELL_GRU && !u->s->linear_before_reset;
    /* H·R^T for every gate whose product takes H itself. */
    mm_bt(u->batch, two_phase ? 2 * h : gh, h, u->hs, h, u->r, h, 0.0f, u->rec, gh);
    for (int64_t b = 0; b < u->batch; b++) {
        int64_t t = step_time(u, s, b);
        if (t < 0)
            continue;
        const float *pre = u->xw + x_row(u, t, b) * gh;
        float *gate = gates + b * gh;
        if (u->s->cell == CELL_RNN)
            rnn_cell(u, pre, b, gate);
        else if (u->s->cell == CELL_LSTM)
            lstm_cell(u, pre, b, gate);
        else
            gru_zr(u, pre, b, gate);
    }
    if (u->s->cell == CELL_GRU) {
        if (two_phase) /* (r .* H)·Rh^T into the h block */
            mm_bt(u->batch, h, h, u->tmp, h, u->r + 2 * h * h, h, 0.0f, u->rec + 2 * h, gh);
        for (int64_t b = 0; b < u->batch; b++) {
            int64_t t = step_time(u, s, b);
            if (t >= 0)
                gru_h(u, u->xw + x_row(u, t, b) * gh, b, gates + b * gh);
        }
    }
    if (u->y)
        for (int64_t b = 0; b < u->batch; b++) {
            int64_t t = step_time(u, s, b);
            if (t >= 0)
                memcpy(u->y + y_off(u, t, b), u->hs + b * h, (size_t)h * sizeof *u->y);
        }
}

/* xw = X·W^T + Wb + Rb (all of Rb but GRU linear_before_reset's Rb[h]). */
static void input_projection(run *u, const float *bias)
{
    int64_t rows = u->seq * u->batch, gh = u->gh;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < gh; j++) {
            float v = 0.0f;
            if (bias) {
                bool keep_rb = !(u->s->linear_before_reset && j >= 2 * u->h);
                v = bias[j] + (keep_rb ? bias[gh + j] : 0.0f);
            }
            u->xw[i * gh + j] = v;
        }
    mm_bt(rows, gh, u->isz, u->x, u->isz, u->w, u->isz, 1.0f, u->xw, gh);
}

static void run_direction(run *u, const float *bias, const float *h0, const float *c0,
                          float *gates)
{
    int64_t h = u->h;
    input_projection(u, bias);
    for (int64_t b = 0; b < u->batch; b++) {
        int64_t o = state_off(u, b);
        for (int64_t i = 0; i < h; i++) {
            u->hs[b * h + i] = h0 ? h0[o + i] : 0.0f;
            u->cs[b * h + i] = c0 ? c0[o + i] : 0.0f;
        }
    }
    memset(u->tmp, 0, (size_t)(u->batch * h) * sizeof *u->tmp);
    for (int64_t s = 0; s < u->seq; s++)
        run_step(u, s, gates);
    for (int64_t b = 0; b < u->batch; b++) {
        int64_t o = state_off(u, b);
        if (u->yh)
            memcpy(u->yh + o, u->hs + b * h, (size_t)h * sizeof *u->yh);
        if (u->yc)
            memcpy(u->yc + o, u->cs + b * h, (size_t)h * sizeof *u->yc);
    }
}

static const snnc_tensor *opt_in(snnc_opctx *c, const snnc_tensor *const *in, int i)
{
    return i < c->node->n_inputs ? in[i] : NULL;
}

static float *opt_out(snnc_opctx *c, snnc_tensor *const *out, int j)
{
    if (j >= c->node->n_outputs || !out[j])
        return NULL;
    memset(out[j]->data, 0, (size_t)out[j]->count * sizeof(float));
    return snnc_f32(out[j]);
}

/* Per-batch lengths, checked to lie in [0, seq]. */
static int read_lengths(snnc_opctx *c, const snnc_tensor *sl, run *u, int64_t *len)
{
    for (int64_t b = 0; b < u->batch; b++) {
        len[b] = sl ? snnc_tensor_get_i(sl, b) : u->seq;
        if (len[b] < 0 || len[b] > u->seq)
            return snnc_op_fail(c, SNNC_EINVALID,
                                "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                                (long long)len[b], (long long)u->seq);
    }
    return SNNC_OK;
}

static int rnn_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out,
                       cell_kind cell)
{
    rnn_spec s;
    int rc = parse_spec(c, cell, &s);
    if (rc)
        return rc;
    const snnc_tensor *x = in[IN_X], *bias = opt_in(c, in, IN_B), *h0 = opt_in(c, in, IN_H0);
    const snnc_tensor *c0 = cell == CELL_LSTM ? opt_in(c, in, IN_C0) : NULL;
    const snnc_tensor *p = cell == CELL_LSTM ? opt_in(c, in, IN_P) : NULL;
    run u = {.s = &s, .seq = x->dims[s.layout], .batch = x->dims[1 - s.layout],
             .isz = x->dims[2], .h = in[IN_R]->dims[2], .x = snnc_f32(x)};
    u.gh = s.info->gates * u.h;
    if (u.seq * u.batch > INT_MAX || u.gh > INT_MAX || u.isz > INT_MAX)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "dimensions exceed the BLAS index range");
    int64_t nstate = u.batch * u.h;
    size_t nfl = (size_t)(u.seq * u.batch * u.gh + 2 * u.batch * u.gh + 3 * nstate + 1);
    float *work = malloc(nfl * sizeof *work);
    int64_t *len = malloc((size_t)(u.batch + 1) * sizeof *len);
    if (!work || !len) {
        free(work);
        free(len);
        return snnc_op_fail(c, SNNC_ENOMEM, "out of memory for the recurrent work space");
    }
    float *gates = work + u.seq * u.batch * u.gh;
    u.xw = work;
    u.rec = gates + u.batch * u.gh;
    u.hs = u.rec + u.batch * u.gh;
    u.cs = u.hs + nstate;
    u.tmp = u.cs + nstate;
    u.len = len;
    u.y = opt_out(c, out, 0);
    float *yh = opt_out(c, out, 1), *yc = cell == CELL_LSTM ? opt_out(c, out, 2) : NULL;
    if ((rc = read_lengths(c, opt_in(c, in, IN_SEQ), &u, len)) == SNNC_OK)
        for (int d = 0; d < s.nd; d++) {
            const float *bd = bias ? snnc_f32(bias) + d * 2 * u.gh : NULL;
            u.d = d;
            u.reverse = s.reverse || d == 1;
            u.act = s.acts[d];
            u.w = snnc_f32(in[IN_W]) + d * u.gh * u.isz;
            u.r = snnc_f32(in[IN_R]) + d * u.gh * u.h;
            u.p = p ? snnc_f32(p) + d * 3 * u.h : NULL;
            u.rbh = s.linear_before_reset && bd ? bd + u.gh + 2 * u.h : NULL;
            u.yh = yh;
            u.yc = yc;
            run_direction(&u, bd, h0 ? snnc_f32(h0) : NULL, c0 ? snnc_f32(c0) : NULL, gates);
        }
    free(work);
    free(len);
    return rc;
}

static int rnn_compute_rnn(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    return rnn_compute(c, in, out, CELL_RNN);
}
static int rnn_compute_gru(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    return rnn_compute(c, in, out, CELL_GRU);
}
static int rnn_compute_lstm(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    return rnn_compute(c, in, out, CELL_LSTM);
}

const snnc_op_def snnc_ops_recurrent[] = {
    {"RNN", 3, 6, 0, 2, rnn_infer_rnn, rnn_compute_rnn},
    {"GRU", 3, 6, 0, 2, rnn_infer_gru, rnn_compute_gru},
    {"LSTM", 3, 8, 0, 3, rnn_infer_lstm, rnn_compute_lstm},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
