/* evaluator.h — the float32 reference evaluator over the graph IR
 * (evaluator.c).  snnc_run (include/snnc.h) runs a whole graph; the node
 * runner is shared with constant folding (passes/shape_infer.c). */
#ifndef SNNC_EVALUATOR_H
#define SNNC_EVALUATOR_H

#include "../ir/graph.h"

/* Run node k on concrete inputs (NULL for omitted optional inputs, in
 * compute dtypes).  out[j] receives a new tensor, or NULL for an omitted
 * output.  On failure every out[j] is NULL. */
int snnc_eval_node(snnc_graph *g, int k, const snnc_tensor *const *in, snnc_tensor **out,
                   snnc_err *err);

/* The first node whose operator snnc cannot execute, or SNNC_OK. */
int snnc_eval_check_supported(const snnc_graph *g, snnc_err *err);

#endif
