/* graph.h — the graph IR every stage reads: values, nodes, attributes,
 * symbolic dimensions (graph.c).
 *
 * A graph is two flat arrays.  A value is a named tensor edge with a known
 * or partly symbolic shape and, if known at load time, its contents.  A node
 * is one operator application, its inputs and outputs indices into the
 * value array (-1 for an omitted optional input).  Passes (passes/) keep the
 * nodes topologically sorted.  Dimensions are int64: >= 0 is a concrete
 * size, <= -2 names a symbol (SNNC_SYM(id)) such as a dynamic batch. */
#ifndef SNNC_GRAPH_H
#define SNNC_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "snnc.h"

/* Symbols are numbered from -2 so that -1, Reshape's "infer this dim", can
 * stand in a tracked shape value beside them. */
#define SNNC_SYM(id) (-2 - (int64_t)(id))
#define SNNC_SYM_ID(dim) ((int)(-2 - (dim)))
#define SNNC_IS_SYM(dim) ((dim) <= -2)

typedef enum {
    SNNC_ATTR_FLOAT,
    SNNC_ATTR_INT,
    SNNC_ATTR_STRING,
    SNNC_ATTR_TENSOR,
    SNNC_ATTR_FLOATS,
    SNNC_ATTR_INTS,
    SNNC_ATTR_STRINGS,
    SNNC_ATTR_OTHER, /* graphs, sparse tensors, type protos: kept by name only */
    SNNC_ATTR_KIND_COUNT
} snnc_attr_kind;

typedef struct snnc_attr {
    char *name;
    snnc_attr_kind kind;
    float f;
    int64_t i;
    char *s;
    snnc_tensor *t;
    int n;          /* elements of floats / ints / strings */
    float *floats;
    int64_t *ints;
    char **strings;
} snnc_attr;

typedef struct snnc_value {
    char *name;
    snnc_dtype dtype;            /* SNNC_DTYPE_UNKNOWN until inferred */
    int rank;                    /* -1 unknown */
    int64_t dims[SNNC_MAX_RANK]; /* concrete or SNNC_SYM(id) */
    snnc_tensor *constant;       /* contents known at load time, or NULL */
    /* For small 1-D int64 values whose elements are dimensions (the output of
     * Shape and the arithmetic on it): the elements, possibly symbolic.
     * n_symval = -1 when not tracked. */
    int n_symval;
    int64_t symval[SNNC_MAX_RANK];
    int producer; /* node index, or -1 for graph inputs and constants */
    bool is_initializer;
} snnc_value;

typedef struct snnc_node {
    char *name;   /* never NULL: ONNX's name, or "<op>_<index>" when unnamed */
    char *op_type;
    char *domain; /* "" for the default domain */
    int op;       /* index into the operator table (ops/op.h), -1 unsupported */
    int n_inputs, n_outputs;
    int *inputs;  /* value indices, -1 for an omitted optional input */
    int *outputs;
    int n_attrs;
    snnc_attr *attrs;
} snnc_node;

struct snnc_graph {
    char *path;     /* file it came from, for messages */
    char *producer; /* producer_name producer_version */
    int64_t ir_version;
    int opset;      /* default-domain opset */
    int n_values, cap_values;
    snnc_value *values;
    int n_nodes, cap_nodes;
    snnc_node *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs; /* value indices (inputs exclude initializers) */
    int n_syms;
    char **sym_names;
    int *index;     /* open-addressing hash of value names -> value index + 1 */
    int index_cap;  /* a power of two, > 2 n_values */
};

snnc_graph *snnc_graph_new(void);
/* Index of the value named `name`, or -1. */
int snnc_graph_find_value(const snnc_graph *g, const char *name);
/* Index of the value named `name`, created (unknown type and shape) if new; -1 on OOM. */
int snnc_graph_intern_value(snnc_graph *g, const char *name);
/* Append a node (takes ownership of nothing; copies strings). Returns index or -1. */
int snnc_graph_add_node(snnc_graph *g, const char *name, const char *op_type, const char *domain);
/* Symbol id for `name` (interned); a fresh unnamed symbol when name is NULL. */
int snnc_graph_symbol(snnc_graph *g, const char *name);
const char *snnc_graph_symbol_name(const snnc_graph *g, int64_t dim);

void snnc_attr_clear(snnc_attr *a);
void snnc_node_clear(snnc_node *n);

/* Attribute lookup; the *_or functions return `def` when absent. */
const snnc_attr *snnc_node_attr(const snnc_node *n, const char *name);
int64_t snnc_attr_int_or(const snnc_node *n, const char *name, int64_t def);
float snnc_attr_float_or(const snnc_node *n, const char *name, float def);
const char *snnc_attr_string_or(const snnc_node *n, const char *name, const char *def);

/* Number of nodes reading value v; shape "[N,3]" with symbol names. */
int snnc_graph_value_uses(const snnc_graph *g, int v);
const char *snnc_value_shape_str(const snnc_graph *g, const snnc_value *v, char *buf, size_t size);

#endif
