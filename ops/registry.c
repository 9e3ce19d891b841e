/* registry.c — the operator table: the families' tables joined, looked up
 * by ONNX op_type (interface: op.h).  Each family file (elementwise.c,
 * softmax.c, reduce.c, matmul.c, recurrent.c, shape.c, layout.c,
 * compare.c) exports one table ending in an entry whose name is NULL. */
#include <string.h>

#include "op.h"

extern const snnc_op_def snnc_ops_elementwise[];
extern const snnc_op_def snnc_ops_softmax[];
extern const snnc_op_def snnc_ops_reduce[];
extern const snnc_op_def snnc_ops_matmul[];
extern const snnc_op_def snnc_ops_recurrent[];
extern const snnc_op_def snnc_ops_shape[];
extern const snnc_op_def snnc_ops_layout[];
extern const snnc_op_def snnc_ops_compare[];

static const snnc_op_def *const families[] = {
    snnc_ops_elementwise, snnc_ops_softmax, snnc_ops_reduce, snnc_ops_matmul,
    snnc_ops_recurrent,   snnc_ops_shape,   snnc_ops_layout,  snnc_ops_compare,
};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

/* Walk the families; returns the op with global index `op`, or counts all. */
static const snnc_op_def *nth(int op, int *total)
{
    int k = 0;
    for (int f = 0; f < N_FAMILIES; f++)
        for (const snnc_op_def *d = families[f]; d->name; d++, k++)
            if (k == op)
                return d;
    if (total)
        *total = k;
    return NULL;
}

int snnc_op_count(void)
{
    int total = 0;
    nth(-1, &total);
    return total;
}

const snnc_op_def *snnc_op_get(int op) { return op < 0 ? NULL : nth(op, NULL); }

int snnc_op_lookup(const char *op_type)
{
    int k = 0;
    for (int f = 0; f < N_FAMILIES; f++)
        for (const snnc_op_def *d = families[f]; d->name; d++, k++)
            if (strcmp(d->name, op_type) == 0)
                return k;
    return -1;
}
