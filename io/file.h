/* file.h — reading an input file whole, once (file.c): the one way snnc
 * gets the bytes of a model, a tensor, a TrueNorth model file, a spike list
 * or a report, whatever the path names: a regular file, a symbolic link, a
 * FIFO, a pipe such as /dev/stdin, or a device. */
#ifndef SNNC_IO_FILE_H
#define SNNC_IO_FILE_H

#include <stddef.h>

#include "snnc.h"

/* Input files larger than this are refused (protobuf's own limit on a
 * message, 2 GiB; larger .npy data is streamed by npy.c, bounded by its header). */
#define SNNC_MAX_FILE_BYTES ((size_t)2 << 30)

/* What the bytes must look like, checked as they arrive, so that a device
 * such as /dev/zero is refused at once instead of at the size limit.  A
 * bitmask: the file is refused when it fails every kind given (0: anything). */
enum {
    SNNC_BYTES_TEXT = 1,     /* no NUL byte (JSON, CSV) */
    SNNC_BYTES_NPY = 2,      /* byte 0 is the first of the .npy magic, 0x93 */
    SNNC_BYTES_PROTOBUF = 4, /* byte 0 is a protobuf field tag (ONNX model, TensorProto) */
};

/* Read the file at `path` into memory with one open and one pass of reads,
 * never asking its size first (pipes and devices have none): at most
 * `limit` bytes, more is refused.  *data (free()) holds *size bytes and a
 * NUL after them.  Errors name the path: cannot open (SNNC_EIO), a
 * directory (SNNC_EIO), too large (SNNC_ENOMEM), bytes of the wrong kind
 * (SNNC_EINVALID), a read error (SNNC_EIO). */
int snnc_read_file(const char *path, size_t limit, unsigned expect, void **data, size_t *size,
                   snnc_err *err);

#endif
