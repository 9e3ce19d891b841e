/* cli_outdir.h — the OUTDIR contract between `snnc convert`, which writes
 * it, and `snnc simulate OUTDIR` and `snnc report`, which read it back
 * (cli_outdir.c): TrueNorth's limits on the constraints, the manifest of
 * part digests (OUTDIR/manifest.json, SHA-256), and report.json checked
 * field by field.  Every refusal names the file and the field or part and
 * is SNNC_EINVALID (exit 2). */
#ifndef SNNC_CLI_OUTDIR_H
#define SNNC_CLI_OUTDIR_H

#include <jansson.h>

#include "quantize/finetune.h"
#include "quantize/quantize.h"

/* TrueNorth's limits on the constraints (docs/TRUENORTH_MAPPING.md): 4-bit
 * codes on 4 axon types, windows within the largest delay (15 ticks), 4
 * axons an input of a 256-axon core.  Activity ranges below the median
 * calibration activity saturate most activities (at percentile 0.01 the
 * readout of examples/elman_tn64 needs mult 151, beyond 31). */
#define SNNC_TN_WEIGHT_LEVELS_MAX 16
#define SNNC_TN_ACTIVITY_LEVELS_MAX 16
#define SNNC_TN_FAN_IN_MAX 64
#define SNNC_PERCENTILE_MIN 50
#define SNNC_SEED_MAX ((long long)1 << 62)

/* Write DIR/manifest.json: the SHA-256 of every regular file under DIR
 * (relative paths, byte order), so that the same files give the same bytes. */
int snnc_outdir_manifest_write(const char *dir, snnc_err *err);

/* Check OUTDIR against its manifest: the manifest well formed, the parts
 * the readers need listed, every listed part a regular file with its
 * digest (a part changed, truncated or from another conversion is refused
 * by name).  Then load OUTDIR/report.json and check every field the
 * readers use (type and range); *report is the object (caller decrefs). */
int snnc_outdir_open(const char *dir, json_t **report, snnc_err *err);

/* report.json's "constraint_method": the method the constraint stage chose
 * and its candidates' KL / agreement on the calibration batch
 * (docs/QUANTIZE.md §5b; -1 figures are null). */
json_t *snnc_outdir_method_json(const snnc_constrain_method *m);

/* The constraints of a report snnc_outdir_open accepted. */
void snnc_outdir_constraints(const json_t *report, snnc_constraints *c);
/* Its fine-tuning options (steps 0 when absent); true when it was
 * fine-tuned with labels (OUTDIR/calib_labels.npy). */
bool snnc_outdir_finetune(const json_t *report, snnc_finetune_opts *ft);

#endif
