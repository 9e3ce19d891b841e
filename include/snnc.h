/* snnc.h — the public interface of libsnnc.
 *
 * libsnnc reads trained recurrent networks from ONNX, executes them in
 * float32 as the reference every later stage is measured against, and
 * (in later stages) converts them to spiking networks for neuromorphic
 * chips.  Everything a program needs is here; the rest of the library's
 * headers are internal.  Every fallible call returns an snnc_status and
 * fills an snnc_err with a message naming the file, node or field. */
#ifndef SNNC_H
#define SNNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SNNC_VERSION "0.1.0"

/* Status codes.  The CLI maps USAGE to exit 1 and every other failure to 2. */
typedef enum {
    SNNC_OK = 0,
    SNNC_EUSAGE,       /* the caller asked for something malformed */
    SNNC_EINVALID,     /* an input file or value is invalid */
    SNNC_EUNSUPPORTED, /* valid, but beyond what snnc supports */
    SNNC_EIO,          /* a file could not be read or written */
    SNNC_ENOMEM,       /* a size was absurd, or allocation failed */
    SNNC_STATUS_COUNT
} snnc_status;

typedef struct snnc_err {
    int code;
    char msg[1024];
} snnc_err;

/* Element types.  The evaluator computes in F32, I64 and BOOL; the other
 * types are read from files and converted on the way in. */
typedef enum {
    SNNC_DTYPE_UNKNOWN = 0,
    SNNC_F32,
    SNNC_F64,
    SNNC_I32,
    SNNC_I64,
    SNNC_U8,
    SNNC_BOOL,
    SNNC_DTYPE_COUNT
} snnc_dtype;

#define SNNC_MAX_RANK 8

/* A dense C-order tensor that owns its data. */
typedef struct snnc_tensor {
    snnc_dtype dtype;
    int rank;
    int64_t dims[SNNC_MAX_RANK];
    int64_t count; /* product of dims */
    void *data;
} snnc_tensor;

/* Tensors. snnc_tensor_new refuses (SNNC_ENOMEM) element counts that
 * overflow or exceed SNNC_MAX_ELEMENTS, and tensors over
 * SNNC_MAX_TENSOR_BYTES, before allocating. */
#define SNNC_MAX_ELEMENTS ((int64_t)1 << 31)
#define SNNC_MAX_TENSOR_BYTES ((uint64_t)2 << 30) /* one tensor: 2 GiB */
snnc_tensor *snnc_tensor_new(snnc_dtype dtype, int rank, const int64_t *dims, snnc_err *err);
void snnc_tensor_free(snnc_tensor *t);
size_t snnc_dtype_size(snnc_dtype dtype);
const char *snnc_dtype_name(snnc_dtype dtype);

/* A loaded, checked and simplified ONNX graph. */
typedef struct snnc_graph snnc_graph;

int snnc_load_onnx_file(const char *path, snnc_graph **out, snnc_err *err);
int snnc_load_onnx_buffer(const void *data, size_t size, const char *name, snnc_graph **out,
                          snnc_err *err);
void snnc_graph_free(snnc_graph *g);

/* Graph inputs and outputs, by position. */
int snnc_graph_input_count(const snnc_graph *g);
int snnc_graph_output_count(const snnc_graph *g);
const char *snnc_graph_input_name(const snnc_graph *g, int i);
const char *snnc_graph_output_name(const snnc_graph *g, int i);

/* Run the float reference evaluator.  inputs[i] feeds the graph input
 * named in_names[i] (converted to its declared element type); outputs[j]
 * receives a new tensor for out_names[j] that the caller frees. */
int snnc_run(snnc_graph *g, int n_in, const char *const *in_names, const snnc_tensor *const *inputs,
             int n_out, const char *const *out_names, snnc_tensor **outputs, snnc_err *err);

/* A description of the model (what `snnc inspect --json` prints), as a
 * JSON text the caller frees. */
char *snnc_describe_json(const snnc_graph *g, snnc_err *err);

/* NumPy .npy and ONNX TensorProto .pb files. */
int snnc_npy_read(const char *path, snnc_tensor **out, snnc_err *err);
int snnc_npy_write(const char *path, const snnc_tensor *t, snnc_err *err);
int snnc_tensor_pb_read(const char *path, snnc_tensor **out, char **name, snnc_err *err);

#ifdef __cplusplus
}
#endif
#endif
