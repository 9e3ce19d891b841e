/* tn_ranges.h — the one table of TrueNorth parameter ranges (tn_ranges.c):
 * every neuron-type parameter and every core and per-neuron field of a model,
 * with the range accepted and where it comes from.  The reader (tn_read.c)
 * refuses a value outside it; the writer (tn_write.c) and the simulator
 * (tn_sim.c) check models in memory with tn_model_check; the mapper
 * (tn_map.c) checks what it is about to emit.  Ranges and sources are listed
 * in docs/TRUENORTH_FORMAT.md. */
#ifndef SNNC_TN_RANGES_H
#define SNNC_TN_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tn_model.h"

typedef enum tn_field {
    /* neuron-type parameters, in CPE order */
    TN_F_SIGMA0, TN_F_SIGMA1, TN_F_SIGMA2, TN_F_SIGMA3,
    TN_F_S0, TN_F_S1, TN_F_S2, TN_F_S3,
    TN_F_B0, TN_F_B1, TN_F_B2, TN_F_B3,
    TN_F_SIGMA_LAMBDA, TN_F_LAMBDA, TN_F_C_LAMBDA, TN_F_EPSILON,
    TN_F_ALPHA, TN_F_BETA, TN_F_TM, TN_F_GAMMA, TN_F_KAPPA, TN_F_SIGMA_VR, TN_F_VR, TN_F_V,
    TN_F_TYPE_PARAMS, /* the number of type parameters */
    /* core fields */
    TN_F_CORE_ID = TN_F_TYPE_PARAMS, TN_F_RNG_SEED, TN_F_TIME_SCALE,
    /* per-neuron fields of a core (checked for used neurons, type != 0) */
    TN_F_TYPE_NUMBER, TN_F_DENDRITE, TN_F_DEST_AXON, TN_F_DEST_DELAY,
    /* crossbar prototypes */
    TN_F_AXON_TYPE,
    TN_F_COUNT
} tn_field;

enum tn_range_kind {
    TN_RANGE_INT,  /* lo..hi */
    TN_RANGE_SIGN, /* -1 or 1 */
    TN_RANGE_BOOL, /* 0 or 1 (true or false in files) */
};

typedef struct tn_range {
    const char *key;    /* the name in CPE files: "alpha", "destAxons", "rngSeed" */
    const char *what;   /* for messages: "destination axon" */
    int64_t lo, hi;
    enum tn_range_kind kind;
    const char *width;  /* "18-bit", "+-1", ... */
    const char *source; /* where the range comes from */
} tn_range;

extern const tn_range tn_ranges[TN_F_COUNT];

bool tn_range_ok(tn_field f, int64_t v);
/* Why v is refused for f, e.g. `parameter "alpha" = 262144 is out of range
 * (18-bit: 0..262143)` or `destination delay 16 is out of range 1..15
 * (neurons.destDelays)`. */
void tn_range_why(tn_field f, int64_t v, char *buf, size_t size);

/* Neuron-type parameter f (TN_F_SIGMA0 .. TN_F_V) of t. */
int64_t tn_type_get(const tn_neuron_type *t, tn_field f);
void tn_type_set(tn_neuron_type *t, tn_field f, int64_t v);

/* Every range of the table over a model in memory (what the reader would
 * refuse: type parameters, core ids, axon types, and the dendrite,
 * destination axon and delay of used neurons; type indexes and crossbar
 * indexes in bounds).  `name` (the file, or NULL) starts the message, which
 * then names the neuron type, or the core, the neuron and the field. */
int tn_model_check(const tn_model *m, const char *name, snnc_err *err);

#endif
