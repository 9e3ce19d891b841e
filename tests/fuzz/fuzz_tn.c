/* fuzz_tn.c — libFuzzer target for the TrueNorth CPE model reader and the
 * input spike parser (run_fuzz.sh tn builds it).
 *
 * The input is a model file, optionally followed by a line "%%spikes" and a
 * spike CSV.  A model that is read must be accepted by the simulator (the
 * reader and the simulator share one range table, tn_ranges.c), run a few
 * ticks, be described, and be written and read back equal to itself.
 * Spikes that are read must be sorted, in the run and in the model.  Every
 * failure must say why; everything is freed (LeakSanitizer). */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../truenorth/tn_sim.h"
#include "../../truenorth/tn_spikes.h"
#include "snnc.h"

#define TICKS 6
static const char marker[] = "\n%%spikes\n";

static void check_failure(int rc, const snnc_err *err)
{
    if (rc == SNNC_OK || !err->msg[0])
        abort(); /* a failure always says why */
}

static void spikes_and_run(const tn_model *m, const char *csv, size_t len)
{
    tn_input_spike *in = NULL;
    size_t n_in = 0;
    tn_spikes_notes notes;
    snnc_err err = {0};
    if (csv) {
        int rc = tn_spikes_parse(csv, len, "fuzz.csv", m, TICKS, &in, &n_in, &notes, &err);
        if (rc) {
            check_failure(rc, &err);
            return;
        }
        if (n_in + notes.late + notes.repeated != notes.lines)
            abort(); /* every spike line is used or counted */
        for (size_t k = 0; k < n_in; k++)
            if (in[k].tick < 0 || in[k].tick >= TICKS || (k && in[k].tick < in[k - 1].tick) ||
                in[k].axon < 0 || in[k].axon >= TN_AXONS || tn_model_core_index(m, in[k].core) < 0)
                abort();
    }
    tn_sim *s = NULL;
    int rc = tn_sim_new(m, 1, &s, &err);
    if (rc == SNNC_EINVALID || rc == SNNC_EUSAGE)
        abort(); /* what the reader accepts, the simulator accepts */
    if (!rc) {
        tn_output_spike *out = NULL;
        size_t n_out = 0;
        tn_activity act = {0};
        if (tn_sim_run(s, TICKS, in, n_in, &out, &n_out, &act, &err) == SNNC_EINVALID)
            abort();
        free(out);
    }
    tn_sim_free(s);
    free(in);
}

static void round_trip(const tn_model *m)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_tn.%d.json", (int)getpid());
    snnc_err err = {0};
    int rc = tn_model_write(path, m, &err);
    if (rc == SNNC_EINVALID)
        abort(); /* the writer writes whatever the reader read */
    tn_model *back = NULL;
    if (!rc) {
        if (tn_model_read(path, &back, &err))
            abort();
        char why[256];
        if (!tn_model_equal(m, back, why, sizeof why))
            abort();
        tn_model_free(back);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *csv = NULL;
    size_t model_len = size, csv_len = 0;
    const char *mk = memmem(text, size, marker, sizeof marker - 1);
    if (mk) {
        model_len = (size_t)(mk - text);
        csv = mk + sizeof marker - 1;
        csv_len = size - model_len - (sizeof marker - 1);
    }
    tn_model *m = NULL;
    snnc_err err = {0};
    int rc = tn_model_read_buffer(text, model_len, "fuzz.json", &m, &err);
    if (rc) {
        if (m)
            abort();
        check_failure(rc, &err);
        return 0;
    }
    char *desc = tn_model_describe_json(m, "fuzz.json", &err);
    free(desc);
    spikes_and_run(m, csv, csv_len);
    round_trip(m);
    tn_model_free(m);
    return 0;
}
