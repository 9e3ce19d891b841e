/* tn_spikes.h — input spike files for the TrueNorth simulator (tn_spikes.c):
 * CSV lines `tick,core,axon`, read and checked against a model and a run
 * length.  Rules (docs/TRUENORTH.md, "Command line"): anything malformed or
 * not in the model is refused naming the file, the line and the field;
 * spikes the run cannot use (at ticks >= the run length, or repeating an
 * earlier line) are left out and counted, so the caller can say so. */
#ifndef SNNC_TN_SPIKES_H
#define SNNC_TN_SPIKES_H

#include <stddef.h>
#include <stdint.h>

#include "tn_sim.h"

/* What a spike file held that the run does not use. */
typedef struct tn_spikes_notes {
    size_t lines;                   /* spike lines (blank and # lines not counted) */
    size_t late;                    /* at ticks >= the run's tick count */
    long long late_line;            /* the first of them: its line and tick */
    int64_t late_tick;
    size_t repeated;                /* same tick, core and axon as an earlier line */
    long long repeated_line, repeated_of; /* the first of them, and the line it repeats */
} tn_spikes_notes;

/* Parses `len` bytes of spike CSV (`name` for messages) for a run of
 * `ticks` ticks from tick 0 of model m.  *out: the spikes used, sorted by
 * tick, file order kept within a tick (caller frees). */
int tn_spikes_parse(const char *text, size_t len, const char *name, const tn_model *m,
                    int64_t ticks, tn_input_spike **out, size_t *n_out, tn_spikes_notes *notes,
                    snnc_err *err);
/* The same for a file. */
int tn_spikes_read(const char *path, const tn_model *m, int64_t ticks, tn_input_spike **out,
                   size_t *n_out, tn_spikes_notes *notes, snnc_err *err);

#endif
