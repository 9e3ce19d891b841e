/* tn_model.h — a TrueNorth network in memory: cores, crossbar prototypes,
 * neuron types, exactly the content of an IBM Corelet Programming
 * Environment (CPE) model file (tn_read.c reads it, tn_write.c writes it;
 * tn_sim.c simulates it; tn_power.c estimates its power).
 *
 * Facts and the file format: ../shared/reference/truenorth.md (Merolla 2014,
 * Cassidy 2013, Akopyan 2015; the NeMo simulator's model reader). */
#ifndef SNNC_TN_MODEL_H
#define SNNC_TN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snnc.h"

#define TN_AXONS 256
#define TN_NEURONS 256
#define TN_AXON_TYPES 4
#define TN_MAX_DELAY 15
#define TN_CHIP_CORES 4096

/* Documented widths (truenorth.md, "unconfirmed" values made named constants). */
#define TN_V_BITS 20          /* membrane potential, signed, saturating */
#define TN_THRESHOLD_BITS 18  /* alpha, beta, reset potential */
#define TN_WEIGHT_MAX 255     /* s_k and lambda: 9-bit signed, -255..255 */
#define TN_TM_MAX 18

/* One neuron type: the parameters of the neuron model (names as in CPE files). */
typedef struct tn_neuron_type {
    char name[64];
    int sigma[TN_AXON_TYPES]; /* +-1 */
    int s[TN_AXON_TYPES];     /* 0..255; type weight = sigma_k * s_k */
    bool b[TN_AXON_TYPES];    /* stochastic synapse per axon type */
    int sigma_lambda;         /* +-1 */
    int lambda;               /* 0..255 */
    bool c_lambda;            /* stochastic leak */
    bool epsilon;             /* leak reversal */
    int32_t alpha;            /* positive threshold, 0..2^18-1 */
    int32_t beta;             /* negative threshold, 0..2^18-1 */
    int TM;                   /* threshold PRN mask bits, 0..18 */
    int gamma;                /* reset mode 0 (to R), 1 (linear), 2 (none) */
    bool kappa;               /* negative threshold: saturate (1) or reset (0) */
    int sigma_VR;             /* +-1 */
    int VR;                   /* reset potential R = sigma_VR * (2^VR - 1), VR 0..18 */
    int32_t V;                /* initial potential */
} tn_neuron_type;

/* One crossbar prototype: axon types and the binary synapse matrix. */
typedef struct tn_crossbar {
    char name[64];
    uint8_t axon_type[TN_AXONS];               /* G_i in 0..3 ("S0".."S3") */
    uint64_t row[TN_AXONS][TN_NEURONS / 64];   /* bit j of row i: axon i -> neuron j */
} tn_crossbar;

/* One core. Neuron j of the core: type index into the model's neuron types
 * (-1 = unused), one destination (core id, axon, delay).  A destination
 * core outside the model (negative or not an id of the model) leaves it. */
typedef struct tn_core {
    int64_t id;
    uint32_t rng_seed;
    int time_scale_exponent;
    int crossbar;                 /* index into tn_model.crossbars */
    int type[TN_NEURONS];         /* index into tn_model.types, -1 unused */
    int dendrite[TN_NEURONS];
    int64_t dest_core[TN_NEURONS];
    int dest_axon[TN_NEURONS];
    int dest_delay[TN_NEURONS];   /* 1..15 */
    char *metadata_json;          /* the core's "metadata" object, kept verbatim (JSON text) */
} tn_core;

typedef struct tn_model {
    char *header_json;            /* the "model" object, kept verbatim (JSON text) */
    int n_crossbars;
    tn_crossbar *crossbars;
    int n_types;
    tn_neuron_type *types;
    int n_cores;
    tn_core *cores;
    /* Keys the reader does not know and skipped (inspect and simulate say
     * so): how many, and where the first is ("core 3 (line 40): key
     * \"rngseed\""). Not written back. */
    int n_unknown_keys;
    char first_unknown_key[192];
} tn_model;

int tn_model_read(const char *path, tn_model **out, snnc_err *err);
int tn_model_read_buffer(const char *text, size_t len, const char *name, tn_model **out,
                         snnc_err *err);
/* Writes the CPE form: comments, "core" repeated once per core, compressed arrays. */
int tn_model_write(const char *path, const tn_model *m, snnc_err *err);
void tn_model_free(tn_model *m);
/* The keys the reader skipped, as a sentence for a warning (false: none). */
bool tn_model_skipped_keys(const tn_model *m, char *buf, size_t size);
/* Index of the core with this id, or -1 (the destination leaves the model). */
int tn_model_core_index(const tn_model *m, int64_t id);
/* Same model? (for round-trip tests); on difference, describes the first one. */
bool tn_model_equal(const tn_model *a, const tn_model *b, char *why, size_t why_size);
/* The `snnc inspect MODEL.json --json` description (caller frees). */
char *tn_model_describe_json(const tn_model *m, const char *path, snnc_err *err);

static inline bool tn_synapse(const tn_crossbar *x, int axon, int neuron)
{
    return (x->row[axon][neuron >> 6] >> (neuron & 63)) & 1u;
}

#endif
