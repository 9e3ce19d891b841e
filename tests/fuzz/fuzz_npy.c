/* fuzz_npy.c — libFuzzer target for the NumPy .npy reader (run_fuzz.sh
 * builds it): arbitrary bytes go to snnc_npy_read_buffer (io/npy.h); a
 * tensor that is read must have a consistent shape and is freed. */
#include <stdint.h>
#include <stdlib.h>

#include "../../io/npy.h"
#include "../../ir/tensor.h"
#include "snnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    snnc_tensor *t = NULL;
    snnc_err err = {0};
    if (snnc_npy_read_buffer(data, size, "fuzz.npy", &t, &err) == SNNC_OK) {
        /* a tensor that was accepted must describe itself consistently */
        if (!t || t->rank < 0 || t->rank > SNNC_MAX_RANK ||
            t->count != snnc_shape_count(t->rank, t->dims))
            abort();
        if (t->count > 0) {
            volatile double last = snnc_tensor_get_f(t, t->count - 1); /* touches the end */
            (void)last;
        }
        snnc_tensor_free(t);
    } else if (t || !err.msg[0]) {
        abort(); /* a failure leaves no tensor and always says why */
    }
    return 0;
}
