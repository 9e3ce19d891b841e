/* npy.h — internal entry points of the NumPy .npy reader/writer (npy.c).
 *
 * The public file functions snnc_npy_read / snnc_npy_write are declared in
 * include/snnc.h; this header adds a reader over a memory buffer, which
 * follows exactly the same checks (useful for fuzzing and for .npy data
 * embedded in other containers). */
#ifndef SNNC_NPY_H
#define SNNC_NPY_H

#include <stddef.h>

#include "snnc.h"

/* Parse a complete .npy image of `size` bytes; `name` is used in messages. */
int snnc_npy_read_buffer(const void *data, size_t size, const char *name, snnc_tensor **out,
                         snnc_err *err);

#endif
