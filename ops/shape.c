/* shape.c — operator family (stub; being written). */
#include "op.h"

const snnc_op_def snnc_ops_shape[] = {
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
