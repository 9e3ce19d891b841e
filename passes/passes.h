/* passes.h — the load-time passes over the graph IR, each a standalone
 * function graph -> graph (toposort.c, shape_infer.c, dce.c), and the list
 * that runs them in order after import. */
#ifndef SNNC_PASSES_H
#define SNNC_PASSES_H

#include "../ir/graph.h"

/* Every node input defined, no cycles; nodes reordered so each comes after
 * the producers of its inputs. */
int snnc_pass_toposort(snnc_graph *g, snnc_err *err);
/* Element types and (symbolic) shapes of every value; values computable at
 * load time (constants, shape arithmetic on symbolic dims) become constants. */
int snnc_pass_shape_infer(snnc_graph *g, snnc_err *err);
/* Remove nodes whose outputs nothing reads. */
int snnc_pass_dce(snnc_graph *g, snnc_err *err);

/* toposort, shape_infer (with constant folding), dce. */
int snnc_run_load_passes(snnc_graph *g, snnc_err *err);

#endif
