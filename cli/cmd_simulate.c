/* cmd_simulate.c — `snnc simulate MODEL.json --ticks N [--spikes IN.csv]
 * [--output-spikes OUT.csv] [--threads N] [--json]`: bit-exact simulation of
 * a TrueNorth model file (truenorth/tn_sim.h) with its power estimate
 * (truenorth/tn_power.c).  Spike files are CSV lines without header:
 * `tick,core,axon` in (read and checked by truenorth/tn_spikes.c; what is
 * not used is said on stderr), `tick,core,neuron` out, core being the core's id.
 * With a directory argument (OUTDIR of snnc convert) it evaluates the
 * conversion instead: cmd_evaluate.c. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../ir/error.h"
#include "cli.h"
#include "cli_options.h"
#include "io/file.h"
#include "truenorth/tn_sim.h"
#include "truenorth/tn_spikes.h"

static const char usage[] =
    "usage: snnc simulate MODEL.json --ticks N [--spikes IN.csv] [--output-spikes OUT.csv]\n"
    "                     [--threads N] [--json]\n\n"
    "Simulate a TrueNorth model file (IBM CPE format) bit-exactly for N ticks (1 ms each at\n"
    "real time) and estimate its power.  An input spike listed for tick t is integrated in\n"
    "tick t; a spike fired in tick t with delay d arrives in tick t + d.\n"
    "  --ticks N               ticks to simulate\n"
    "  --spikes IN.csv         input spikes, lines 'tick,core,axon' (core: the core's id)\n"
    "  --output-spikes OUT.csv every spike fired, lines 'tick,core,neuron', sorted\n"
    "  --threads N             simulator threads (default: one per CPU; results do not depend\n"
    "                          on it)\n"
    "  --json                  one JSON object: ticks, spikes, synaptic events, mean rate,\n"
    "                          power (static, dynamic, total, energy, constants and sources),\n"
    "                          wall time\n"
    "Progress goes to stderr every few seconds in long runs.\n\n"
    "snnc simulate OUTDIR --input [NAME=]FILE [--labels FILE.npy] [--output FILE.npy] [--json]\n"
    "evaluates a conversion (OUTDIR of 'snnc convert') at four stages; see\n"
    "'snnc simulate OUTDIR --help'.\n";

typedef struct opts {
    const char *model, *spikes, *out;
    long long ticks;
    int threads;
    bool json, help;
} opts;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){NULL, NULL, NULL, -1, 0, false, false};
    const snnc_cli_option table[] = {
        SNNC_OPT_FLAG_("--json", &o->json),
        SNNC_OPT_INT64_("--ticks", &o->ticks, 0, (long long)1 << 40),
        SNNC_OPT_INT_("--threads", &o->threads, 0, 64),
        SNNC_OPT_TEXT_("--spikes", &o->spikes),
        SNNC_OPT_TEXT_("--output-spikes", &o->out),
        SNNC_OPT_END,
    };
    int st = snnc_cli_parse("simulate", usage, argc, argv, table, &o->model, &o->help);
    if (st || o->help)
        return st;
    if (!o->model)
        return snnc_cli_usage("simulate", "no MODEL.json given");
    if (o->ticks < 0)
        return snnc_cli_usage("simulate", "--ticks N is required");
    return 0;
}

/* ------------------------------------------------------- input spikes */

/* Reads IN.csv (truenorth/tn_spikes.c) and says on stderr what of it the
 * run does not use. */
static int read_spikes(const opts *o, const tn_model *m, tn_input_spike **in, size_t *n_in,
                       snnc_err *err)
{
    tn_spikes_notes nt;
    int rc = tn_spikes_read(o->spikes, m, o->ticks, in, n_in, &nt, err);
    if (rc)
        return rc;
    if (!nt.lines)
        fprintf(stderr, "snnc simulate: warning: %s holds no spikes (no line 'tick,core,axon')\n",
                o->spikes);
    if (nt.late)
        fprintf(stderr, "snnc simulate: warning: %s: %zu spike%s at ticks >= %lld (--ticks) not "
                "used, the first at line %lld (tick %lld)\n", o->spikes, nt.late,
                nt.late == 1 ? "" : "s", o->ticks, nt.late_line, (long long)nt.late_tick);
    if (nt.repeated)
        fprintf(stderr, "snnc simulate: warning: %s: %zu line%s repeat%s an earlier spike (same "
                "tick, core and axon: the axon is active once), ignored; the first at line %lld "
                "(as line %lld)\n", o->spikes, nt.repeated, nt.repeated == 1 ? "" : "s",
                nt.repeated == 1 ? "s" : "", nt.repeated_line, nt.repeated_of);
    return SNNC_OK;
}

/* -------------------------------------------------------------- running */

typedef struct result {
    tn_activity act;
    int64_t neurons;
    double load_s, sim_s, wall_s;
} result;

static int write_spikes(FILE *f, const tn_output_spike *o, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (fprintf(f, "%lld,%lld,%d\n", (long long)o[k].tick, (long long)o[k].core, o[k].neuron) < 0)
            return -1;
    return 0;
}

/* Runs in chunks of about a quarter second, writing spikes as they come
 * and reporting progress every few seconds. */
static int simulate(tn_sim *s, const opts *o, const tn_input_spike *in, size_t n_in, FILE *fout,
                    result *r, snnc_err *err)
{
    double start = now(), last_report = start;
    int64_t done = 0, chunk = 16;
    size_t first = 0;
    while (done < o->ticks) {
        int64_t len = chunk < o->ticks - done ? chunk : o->ticks - done;
        size_t end = first;
        while (end < n_in && in[end].tick < done + len)
            end++;
        tn_output_spike *spikes = NULL;
        size_t n_spikes = 0;
        double t0 = now();
        int rc = tn_sim_run(s, len, in + first, end - first, fout ? &spikes : NULL,
                            fout ? &n_spikes : NULL, &r->act, err);
        if (!rc && fout && write_spikes(fout, spikes, n_spikes))
            rc = snnc_fail(err, SNNC_EIO, "%s: write error", o->out);
        free(spikes);
        if (rc)
            return rc;
        double dt = now() - t0;
        done += len, first = end;
        chunk = dt > 0.05 ? (int64_t)((double)len * 0.25 / dt) + 1 : chunk * 4;
        if (chunk > (int64_t)1 << 20)
            chunk = (int64_t)1 << 20;
        if (now() - last_report >= 3.0 && done < o->ticks) {
            last_report = now();
            fprintf(stderr, "snnc simulate: tick %lld of %lld (%.0f ticks/s)\n", (long long)done,
                    (long long)o->ticks, (double)done / (last_report - start));
        }
    }
    r->sim_s = now() - start;
    return SNNC_OK;
}

static json_t *report_json(const opts *o, const result *r, const snnc_power_report *p)
{
    double rate = r->neurons && r->act.ticks
                      ? (double)r->act.spikes / ((double)r->neurons * (double)r->act.ticks * 1e-3)
                      : 0.0;
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "format",
                          "truenorth", "model", o->model, "ticks", (json_int_t)r->act.ticks,
                          "cores", (json_int_t)r->act.cores, "neurons", (json_int_t)r->neurons,
                          "spikes", (json_int_t)r->act.spikes, "spikes_leaving",
                          (json_int_t)r->act.spikes_leaving, "input_spikes",
                          (json_int_t)r->act.input_spikes, "synaptic_events",
                          (json_int_t)r->act.synaptic_events, "hops", (json_int_t)r->act.hops,
                          "mean_rate_hz", rate);
    json_object_set_new(j, "power", snnc_power_report_json(p));
    json_object_set_new(j, "wall_time_s", json_real(r->wall_s));
    json_object_set_new(j, "load_time_s", json_real(r->load_s));
    json_object_set_new(j, "simulation_time_s", json_real(r->sim_s));
    if (o->out)
        json_object_set_new(j, "output_spikes", json_string(o->out));
    return j;
}

static void report_text(const opts *o, const result *r, const snnc_power_report *p)
{
    double rate = r->neurons && r->act.ticks
                      ? (double)r->act.spikes / ((double)r->neurons * (double)r->act.ticks * 1e-3)
                      : 0.0;
    printf("model            %s\n", o->model);
    printf("ticks            %lld (%lld cores, %lld neurons used)\n", (long long)r->act.ticks,
           (long long)r->act.cores, (long long)r->neurons);
    printf("spikes           %lld (%lld leaving the model), %lld input spikes\n",
           (long long)r->act.spikes, (long long)r->act.spikes_leaving,
           (long long)r->act.input_spikes);
    printf("synaptic events  %lld\nhops             %lld\nmean rate        %.4g Hz per neuron\n",
           (long long)r->act.synaptic_events, (long long)r->act.hops, rate);
    printf("wall time        %.3f s (loading %.3f s, simulation %.3f s)\n", r->wall_s, r->load_s,
           r->sim_s);
    if (o->out)
        printf("output spikes    %s\n", o->out);
    snnc_power_report_print(stdout, p);
}

static int run(const opts *o, snnc_err *err)
{
    double start = now();
    tn_model *m = NULL;
    tn_input_spike *in = NULL;
    size_t n_in = 0;
    tn_sim *s = NULL;
    snnc_cli_outputs files = {0};
    FILE *fout = NULL;
    result r = {0};
    int rc = tn_model_read(o->model, &m, err);
    char note[320];
    if (!rc && tn_model_skipped_keys(m, note, sizeof note))
        fprintf(stderr, "snnc simulate: warning: %s: %s\n", o->model, note);
    if (!rc && o->spikes)
        rc = read_spikes(o, m, &in, &n_in, err);
    if (!rc && (rc = tn_sim_new(m, o->threads, &s, err)))
        snnc_err_prefix(err, "%s", o->model); /* the reader's checks (tn_ranges.c): capacity */
    if (!rc && o->out) {
        const char *tmp = snnc_cli_outputs_add(&files, o->out, err);
        if (!tmp)
            rc = err->code;
        else if (!(fout = fopen(tmp, "w")))
            rc = snnc_fail(err, SNNC_EIO, "%s: %s", o->out, strerror(errno));
    }
    r.load_s = now() - start;
    if (!rc) {
        for (int c = 0; c < m->n_cores; c++)
            for (int j = 0; j < TN_NEURONS; j++)
                r.neurons += m->cores[c].type[j] >= 0;
        r.act.cores = m->n_cores;
        rc = simulate(s, o, in, n_in, fout, &r, err);
    }
    if (fout && fclose(fout) && !rc)
        rc = snnc_fail(err, SNNC_EIO, "%s: write error", o->out);
    if (!rc && o->out)
        rc = snnc_cli_outputs_commit(&files, err);
    else if (o->out)
        snnc_cli_outputs_abort(&files);
    r.wall_s = now() - start;
    if (!rc) {
        snnc_power_report p;
        tn_power_estimate(&r.act, &p);
        if (o->json) {
            json_t *j = report_json(o, &r, &p);
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
            printf("\n");
            json_decref(j);
        } else {
            report_text(o, &r, &p);
        }
    }
    tn_sim_free(s);
    free(in);
    tn_model_free(m);
    return rc;
}

/* Is this `simulate OUTDIR`: the first argument that is not an option (nor
 * an option's value) a directory, or an --input given (only OUTDIR takes
 * one: a missing OUTDIR is then named as such)? */
static bool first_arg_is_dir(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--input"))
            return true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json") || snnc_cli_is_help(a))
            continue;
        if (a[0] == '-' && a[1]) {
            i++;
            continue;
        }
        struct stat sb;
        return stat(a, &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    return false;
}

int snnc_cmd_simulate(int argc, char **argv)
{
    if (first_arg_is_dir(argc, argv))
        return snnc_cmd_evaluate(argc, argv); /* OUTDIR of snnc convert: cmd_evaluate.c */
    opts o;
    int st = parse_args(argc, argv, &o);
    if (st)
        return st;
    if (o.help)
        return SNNC_EXIT_OK; /* usage printed */
    snnc_err err = {0};
    if (o.out && snnc_cli_output_check("--output-spikes", o.out, false, true, NULL, &err))
        return snnc_cli_fail("simulate", &err);
    return run(&o, &err) ? snnc_cli_fail("simulate", &err) : SNNC_EXIT_OK;
}
