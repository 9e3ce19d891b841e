/* bench_convert.c — time and memory of `snnc convert` on a large Elman
 * network (issue 4; docs/BENCHMARKS.md explains the figures).  It builds an
 * ONNX model in memory with protobuf-c (RNN, Relu, forward, then Squeeze +
 * Gemm readout of Y_h; fixed-seed weights) and a random calibration batch,
 * then runs the stages of mapper/pipeline.h one by one (import, extract,
 * constrain, lower, match, tune, map, emit, report), timing each and the total,
 * with the peak resident set.  A refusing stage is named with its reason;
 * the stages before it are still printed.  One line per figure, then JSON.
 * usage: bench_convert [--preset 1m|10m] [--input N] [--hidden N] ... (--help) */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include <ftw.h>
#include <sys/stat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "onnx_build.h"
#include "ir/error.h"
#include "mapper/pipeline.h"
#include "onnx.pb-c.h"
#include "snnc.h"

/* ------------------------------------------------------------- options */

typedef struct opts {
    long input, hidden, steps, classes, batch;
    uint64_t seed;
    bool prune, report;
    const char *write_path, *keep_dir;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_convert [options]\n"
            "  --preset P       1m (input 64, hidden 1000: 1.08 M parameters, the default) or\n"
            "                   10m (input 128, hidden 3100: 10.0 M); --input/--hidden override it\n"
            "  --input N        input features per step\n"
            "  --hidden N       hidden units of the Relu RNN\n"
            "  --steps N        sequence length (default 8)\n"
            "  --classes N      readout classes (default 10)\n"
            "  --batch N        calibration samples (default 32)\n"
            "  --fan-in-strategy S  prune (default) or split (1 m: 17 column groups, 34 k partial neurons)\n"
            "  --report N       1 (default): also the report stage (TrueNorth run of the\n"
            "                   calibration batch for power, mapping report); 0: skip it\n"
            "  --seed N         PRNG seed of weights and calibration data (default 1)\n"
            "  --write FILE     also write the generated model to FILE\n"
            "  --keep DIR       emit into DIR (must not exist) and keep it; default: a\n"
            "                   temporary directory, removed at exit\n");
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){64, 1000, 8, 10, 32, 1, true, true, NULL, NULL};
    for (int i = 1; i + 1 < argc; i++) /* the preset first, so explicit sizes override it */
        if (!strcmp(argv[i], "--preset") && !strcmp(argv[i + 1], "10m"))
            o->input = 128, o->hidden = 3100;
    const char *preset = NULL, *strategy = "prune";
    long seed = 1, report = 1;
    const snnc_bench_opt opt[] = {
        {"--preset", SNNC_BENCH_STRING, &preset, 0, 0, "1m or 10m"},
        {"--input", SNNC_BENCH_LONG, &o->input, 1, 1 << 16, NULL},
        {"--hidden", SNNC_BENCH_LONG, &o->hidden, 1, 1 << 16, NULL},
        {"--steps", SNNC_BENCH_LONG, &o->steps, 1, 1 << 16, NULL},
        {"--classes", SNNC_BENCH_LONG, &o->classes, 1, 1 << 16, NULL},
        {"--batch", SNNC_BENCH_LONG, &o->batch, 1, 1 << 16, NULL},
        {"--fan-in-strategy", SNNC_BENCH_STRING, &strategy, 0, 0, "prune or split"},
        {"--report", SNNC_BENCH_LONG, &report, 0, 1, NULL},
        {"--seed", SNNC_BENCH_LONG, &seed, 0, (double)(1L << 62), NULL},
        {"--write", SNNC_BENCH_STRING, &o->write_path, 0, 0, "a file name"},
        {"--keep", SNNC_BENCH_STRING, &o->keep_dir, 0, 0, "a directory"},
    };
    if (snnc_bench_parse("bench_convert", argc, argv, opt, sizeof opt / sizeof opt[0], usage))
        return -1;
    if (preset && strcmp(preset, "1m") && strcmp(preset, "10m")) {
        fprintf(stderr, "bench_convert: --preset must be 1m or 10m\n");
        return -1;
    }
    if (strcmp(strategy, "prune") && strcmp(strategy, "split")) {
        fprintf(stderr, "bench_convert: --fan-in-strategy must be prune or split\n");
        return -1;
    }
    o->prune = !strcmp(strategy, "prune");
    o->report = report != 0;
    o->seed = (uint64_t)seed;
    double big = (double)o->hidden * (double)(o->input > o->hidden ? o->input : o->hidden);
    double x = (double)o->steps * (double)o->batch * (double)o->input;
    if (big >= (double)SNNC_MAX_ELEMENTS || x >= (double)SNNC_MAX_ELEMENTS) {
        fprintf(stderr, "bench_convert: sizes too large (a tensor would exceed 2^31 elements)\n");
        return -1;
    }
    return 0;
}

static double n_params(const opts *o)
{
    double I = (double)o->input, H = (double)o->hidden, C = (double)o->classes;
    return H * I + H * H + 2 * H + C * H + C; /* W, R, Wb + Rb, readout weights and bias */
}

/* -------------------------------------------------- the model, in memory */

enum { N_INIT = 6, N_NODE = 3, N_VI = 2 };

/* Storage the ModelProto points into; freed by model_free. */
typedef struct model_parts {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto node[N_NODE], *nodes[N_NODE];
    char *rnn_in[4], *rnn_out[2], *sq_in[2], *sq_out[1], *gemm_in[3], *gemm_out[1];
    Onnx__AttributeProto attr[4], *rnn_attrs[3], *gemm_attrs[1];
    char *acts[1];
    bench_init init[N_INIT];
    Onnx__TensorProto *inits[N_INIT];
    bench_value val[N_VI];
    Onnx__ValueInfoProto *ins[1], *outs[1];
} model_parts;

static void set_attr_int(Onnx__AttributeProto *a, char *name, int64_t v)
{
    onnx__attribute_proto__init(a);
    a->name = name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

static void set_node(Onnx__NodeProto *n, char *name, char *op, size_t n_in, char **in,
                     size_t n_out, char **out, size_t n_attr, Onnx__AttributeProto **attr)
{
    onnx__node_proto__init(n);
    n->name = name;
    n->op_type = op;
    n->n_input = n_in, n->input = in;
    n->n_output = n_out, n->output = out;
    n->n_attribute = n_attr, n->attribute = attr;
}

/* Opset 14, time-major: X[T, B, I] -> RNN(Relu, forward) -> Y_h[1, B, H] ->
 * Squeeze(axes [0]) -> Gemm(transB) -> logits[B, C].  W uniform in
 * +-1/sqrt(I) (inputs in [0, 1)); R uniform in +-0.5 sqrt(3/H), a spectral
 * radius of about 0.5 so the Relu recurrence neither dies nor explodes;
 * biases +-0.1; readout +-1/sqrt(H). */
static int model_build(model_parts *p, const opts *o, uint64_t *rng)
{
    memset(p, 0, sizeof *p);
    int64_t I = o->input, H = o->hidden, C = o->classes, T = o->steps, B = o->batch;
    int64_t dw[3] = {1, H, I}, dr[3] = {1, H, H}, db[2] = {1, 2 * H}, dax[1] = {1};
    int64_t dwo[2] = {C, H}, dbo[1] = {C};
    if (bench_init_set(&p->init[0], "W", 3, dw, 1.0f / sqrtf((float)I), false, rng) ||
        bench_init_set(&p->init[1], "R", 3, dr, 0.5f * sqrtf(3.0f / (float)H), false, rng) ||
        bench_init_set(&p->init[2], "B", 2, db, 0.1f, false, rng) ||
        bench_init_set(&p->init[3], "axes0", 1, dax, 0, true, rng) ||
        bench_init_set(&p->init[4], "Wo", 2, dwo, 1.0f / sqrtf((float)H), false, rng) ||
        bench_init_set(&p->init[5], "bo", 1, dbo, 0.1f, false, rng))
        return -1;
    int64_t dx[3] = {T, B, I}, dy[2] = {B, C};
    for (int k = 0; k < N_INIT; k++)
        p->inits[k] = &p->init[k].t;
    bench_value_set(&p->val[0], "X", 3, dx);
    bench_value_set(&p->val[1], "logits", 2, dy);
    p->ins[0] = &p->val[0].vi, p->outs[0] = &p->val[1].vi;

    set_attr_int(&p->attr[0], "hidden_size", H);
    onnx__attribute_proto__init(&p->attr[1]);
    p->attr[1].name = "activations";
    p->attr[1].has_type = 1;
    p->attr[1].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    static uint8_t relu[] = "Relu";
    p->attr[1].n_strings = 1;
    p->attr[1].strings = calloc(1, sizeof *p->attr[1].strings);
    if (!p->attr[1].strings)
        return -1;
    p->attr[1].strings[0] = (ProtobufCBinaryData){4, relu};
    onnx__attribute_proto__init(&p->attr[2]);
    p->attr[2].name = "direction";
    p->attr[2].has_type = 1;
    p->attr[2].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    static uint8_t fwd[] = "forward";
    p->attr[2].has_s = 1;
    p->attr[2].s = (ProtobufCBinaryData){7, fwd};
    set_attr_int(&p->attr[3], "transB", 1);
    for (int k = 0; k < 3; k++)
        p->rnn_attrs[k] = &p->attr[k];
    p->gemm_attrs[0] = &p->attr[3];

    p->rnn_in[0] = "X", p->rnn_in[1] = "W", p->rnn_in[2] = "R", p->rnn_in[3] = "B";
    p->rnn_out[0] = "", p->rnn_out[1] = "Y_h";
    p->sq_in[0] = "Y_h", p->sq_in[1] = "axes0", p->sq_out[0] = "h_last";
    p->gemm_in[0] = "h_last", p->gemm_in[1] = "Wo", p->gemm_in[2] = "bo";
    p->gemm_out[0] = "logits";
    set_node(&p->node[0], "rnn", "RNN", 4, p->rnn_in, 2, p->rnn_out, 3, p->rnn_attrs);
    set_node(&p->node[1], "squeeze", "Squeeze", 2, p->sq_in, 1, p->sq_out, 0, NULL);
    set_node(&p->node[2], "readout", "Gemm", 3, p->gemm_in, 1, p->gemm_out, 1, p->gemm_attrs);
    for (int k = 0; k < N_NODE; k++)
        p->nodes[k] = &p->node[k];

    onnx__graph_proto__init(&p->graph);
    p->graph.name = "bench_elman";
    p->graph.n_node = N_NODE, p->graph.node = p->nodes;
    p->graph.n_initializer = N_INIT, p->graph.initializer = p->inits;
    p->graph.n_input = 1, p->graph.input = p->ins;
    p->graph.n_output = 1, p->graph.output = p->outs;
    onnx__operator_set_id_proto__init(&p->opset);
    p->opset.domain = "";
    p->opset.has_version = 1;
    p->opset.version = 14;
    p->opsets[0] = &p->opset;
    onnx__model_proto__init(&p->model);
    p->model.has_ir_version = 1;
    p->model.ir_version = 7;
    p->model.producer_name = "snnc bench_convert";
    p->model.n_opset_import = 1;
    p->model.opset_import = p->opsets;
    p->model.graph = &p->graph;
    return 0;
}

static void model_free(model_parts *p)
{
    for (int k = 0; k < N_INIT; k++)
        bench_init_free(&p->init[k]);
    free(p->attr[1].strings);
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
    int bad = !f || fwrite(buf, 1, size, f) != size;
    if (f && fclose(f))
        bad = 1;
    if (bad)
        fprintf(stderr, "bench_convert: cannot write '%s'\n", path);
    return bad ? -1 : 0;
}

/* Calibration batch [T, B, I], uniform in [0, 1). */
static snnc_tensor *make_calib(const opts *o, uint64_t *rng)
{
    snnc_err err = {0};
    int64_t dims[3] = {o->steps, o->batch, o->input};
    snnc_tensor *x = snnc_tensor_new(SNNC_F32, 3, dims, &err);
    if (!x)
        return NULL;
    float *v = x->data;
    for (int64_t i = 0; i < x->count; i++)
        v[i] = (float)snnc_bench_uniform01(rng);
    return x;
}

/* ------------------------------------------------------------- stages */

enum { S_IMPORT, S_EXTRACT, S_CONSTRAIN, S_LOWER, S_MATCH, S_TUNE, S_MAP, S_EMIT, S_REPORT, S_COUNT };
static const char *const stage_name[S_COUNT] = {"import", "extract", "constrain", "lower", "match",
                                                "tune", "map", "emit", "report"};

typedef struct run {
    double sec[S_COUNT], rss[S_COUNT]; /* wall time; peak RSS (MiB) at the stage's end */
    int done;                          /* stages completed */
    int failed;                        /* stage that refused, -1 none */
    snnc_err err;
    int cores;
    double power_w;
} run;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* The files convert writes that cost time: the TrueNorth model file, the
 * netlist, the response plots (report.json is the report stage's). */
static int emit(const snnc_pipeline *p, const char *dir, snnc_err *err)
{
    char *tn = join(dir, "truenorth"), *model = join(dir, "truenorth/model.json");
    char *net = join(dir, "network.json");
    int rc = !tn || !model || !net ? snnc_fail(err, SNNC_ENOMEM, "out of memory") : SNNC_OK;
    if (!rc && mkdir(tn, 0777))
        rc = snnc_fail(err, SNNC_EIO, "%s: cannot create", tn);
    if (!rc)
        rc = tn_model_write(model, p->mapping->model, err);
    if (!rc)
        rc = snnc_netlist_write_json(p->netlist, net, err);
    if (!rc && p->curves)
        rc = snnc_plots_write(dir, p->curves, p->n_curves, err);
    free(tn), free(model), free(net);
    return rc;
}

/* What convert's report needs beyond the files: the mapping report and the
 * TrueNorth run of the calibration batch that gives the dynamic power. */
static int report(const snnc_pipeline *p, const snnc_tensor *calib, run *r, snnc_err *err)
{
    char *mj = tn_map_report_json(p->mapping, p->netlist, err);
    if (!mj)
        return err->code ? err->code : SNNC_ENOMEM;
    free(mj);
    tn_activity act = {0};
    int rc = snnc_pipeline_run_truenorth(p->mapping, p->mapping->model, p->ann, calib, NULL, NULL,
                                         &act, err);
    if (!rc) {
        snnc_power_report pr;
        snnc_pipeline_power(&act, calib->dims[1], &pr);
        r->power_w = pr.total_power_w;
    }
    return rc;
}

/* One stage: rc of the call; records time and RSS, or the refusal. */
static bool stage_end(run *r, int s, int rc, double *t)
{
    double t1 = snnc_bench_now();
    if (rc) {
        r->failed = s;
        return false;
    }
    r->sec[s] = t1 - *t;
    r->rss[s] = snnc_bench_peak_rss_mib();
    r->done = s + 1;
    *t = snnc_bench_now();
    return true;
}

static void run_stages(const opts *o, const uint8_t *buf, size_t size, const snnc_tensor *calib,
                       const char *dir, run *r)
{
    snnc_constraints c;
    snnc_constraints_default(&c);
    c.fanin = o->prune ? SNNC_FANIN_PRUNE : SNNC_FANIN_SPLIT;
    snnc_pipeline p = {0};
    snnc_graph *g = NULL;
    snnc_err *e = &r->err;
    double t = snnc_bench_now();
    int rc = snnc_load_onnx_buffer(buf, size, "bench_elman", &g, e);
    if (stage_end(r, S_IMPORT, rc, &t)) {
        rc = snnc_ann_extract(g, calib, &p.ann, e);
        if (!rc)
            rc = snnc_ann_check_finite(p.ann, e);
        snnc_graph_free(g);
        g = NULL;
    }
    if (r->done == S_EXTRACT && stage_end(r, S_EXTRACT, rc, &t))
        rc = snnc_constrain(p.ann, &c, calib, &p.constrained, &p.stats, &p.n_stats, e);
    if (r->done == S_CONSTRAIN && stage_end(r, S_CONSTRAIN, rc, &t))
        rc = snnc_lower(p.constrained, p.stats, p.n_stats, &p.netlist, e);
    if (r->done == S_LOWER && stage_end(r, S_LOWER, rc, &t))
        rc = snnc_match(p.netlist, p.constrained, p.stats, calib, &p.curves, &p.n_curves, e);
    if (r->done == S_MATCH && stage_end(r, S_MATCH, rc, &t))
        rc = snnc_tune(p.netlist, p.ann, calib, e);
    if (r->done == S_TUNE && stage_end(r, S_TUNE, rc, &t))
        rc = tn_map_netlist(p.netlist, NULL, &p.mapping, e);
    if (r->done == S_MAP && stage_end(r, S_MAP, rc, &t)) {
        r->cores = p.mapping->report.n_cores;
        rc = emit(&p, dir, e);
    }
    if (r->done == S_EMIT && stage_end(r, S_EMIT, rc, &t) && o->report)
        stage_end(r, S_REPORT, report(&p, calib, r, e), &t);
    snnc_graph_free(g);
    snnc_pipeline_free(&p);
}

/* --------------------------------------------------------------- output */

static void print_run(const opts *o, const run *r, size_t model_bytes, double gen_sec)
{
    double total = 0;
    printf("model            Elman Relu RNN: input %ld, hidden %ld, steps %ld, classes %ld: "
           "%.3f M parameters, %.1f MiB ONNX (generated in %.2f s)\n",
           o->input, o->hidden, o->steps, o->classes, n_params(o) / 1e6,
           (double)model_bytes / 1048576.0, gen_sec);
    printf("constraints      defaults (16 weight levels, 16 activity levels, fan-in 64), "
           "fan-in strategy %s; calibration batch %ld\n", o->prune ? "prune" : "split", o->batch);
    for (int s = 0; s < r->done; s++) {
        total += r->sec[s];
        printf("%-16s %8.3f s   peak rss %8.1f MiB\n", stage_name[s], r->sec[s], r->rss[s]);
    }
    if (r->failed >= 0)
        printf("refused          stage %s: %s\n", stage_name[r->failed], r->err.msg);
    else if (r->done == S_REPORT)
        printf("%-16s (skipped, --report 0)\n", stage_name[S_REPORT]);
    double conv = 0; /* convert proper: extract..emit, the model read from memory */
    for (int s = S_EXTRACT; s < r->done && s <= S_EMIT; s++)
        conv += r->sec[s];
    printf("total            %8.3f s   (%s%d of %d stages)\n", total,
           r->failed >= 0 ? "incomplete: " : "", r->done, o->report ? S_COUNT : S_REPORT);
    printf("convert w/o report %6.3f s   (import .. emit)\n", conv + r->sec[S_IMPORT]);
    if (r->done > S_MAP)
        printf("cores            %d\n", r->cores);
    if (r->done > S_REPORT)
        printf("power            %.6g W at real time\n", r->power_w);
    printf("peak rss         %8.1f MiB\n", snnc_bench_peak_rss_mib());

    printf("{\"input\": %ld, \"hidden\": %ld, \"steps\": %ld, \"classes\": %ld, \"batch\": %ld, "
           "\"parameters\": %.0f, \"fan_in_strategy\": \"%s\", \"stages\": {",
           o->input, o->hidden, o->steps, o->classes, o->batch, n_params(o),
           o->prune ? "prune" : "split");
    for (int s = 0; s < r->done; s++)
        printf("%s\"%s\": {\"seconds\": %.4f, \"peak_rss_mib\": %.1f}", s ? ", " : "",
               stage_name[s], r->sec[s], r->rss[s]);
    printf("}, \"total_seconds\": %.4f, \"complete\": %s, \"failed_stage\": ", total,
           r->failed < 0 ? "true" : "false");
    if (r->failed >= 0) {
        printf("\"%s\", \"error\": \"", stage_name[r->failed]);
        for (const char *m = r->err.msg; *m; m++)
            if (*m == '"' || *m == '\\')
                printf("\\%c", *m);
            else if ((unsigned char)*m >= 0x20)
                putchar(*m);
        printf("\"");
    } else
        printf("null");
    printf(", \"cores\": %d, \"peak_rss_mib\": %.1f}\n", r->done > S_MAP ? r->cores : -1,
           snnc_bench_peak_rss_mib());
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    uint64_t rng = o.seed;
    double t0 = snnc_bench_now();
    size_t size = 0;
    uint8_t *buf = model_pack(&o, &rng, &size);
    snnc_tensor *calib = buf ? make_calib(&o, &rng) : NULL;
    double gen = snnc_bench_now() - t0;
    if (!buf || !calib) {
        fprintf(stderr, "bench_convert: out of memory building the model\n");
        free(buf);
        snnc_tensor_free(calib);
        return 1;
    }
    if (o.write_path && write_file(o.write_path, buf, size)) {
        free(buf);
        snnc_tensor_free(calib);
        return 1;
    }
    char tmpl[] = "/tmp/bench_convert.XXXXXX";
    const char *dir = o.keep_dir;
    if (dir ? mkdir(dir, 0777) != 0 : (dir = mkdtemp(tmpl)) == NULL) {
        fprintf(stderr, "bench_convert: cannot create the output directory\n");
        free(buf);
        snnc_tensor_free(calib);
        return 1;
    }
    run r = {.failed = -1};
    run_stages(&o, buf, size, calib, dir, &r);
    if (!o.keep_dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    print_run(&o, &r, size, gen);
    free(buf);
    snnc_tensor_free(calib);
    return r.failed >= 0 ? 1 : 0;
}
