/* Fuzz target: tensor files (.pb TensorProto and .npy). Every input is fed
 * to both readers; whatever parses is written back out and must read back
 * to the same dtype, shape and bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ia/tensor_io.h"

static void round_trip(const struct ia_tensor *t, int npy) {
    uint8_t *buf;
    size_t len;
    int rc =
        npy ? ia_tensor_io_encode_npy(t, &buf, &len) : ia_tensor_io_encode_pb(t, NULL, &buf, &len);
    if (rc) return; /* e.g. bfloat16 has no .npy type */
    struct ia_tensor *r = NULL;
    rc = npy ? ia_tensor_io_read_npy(buf, len, "rt", &r) : ia_tensor_io_read_pb(buf, len, "rt", &r);
    ia_free(buf);
    if (rc) abort();
    if (r->dtype != t->dtype || !ia_tensor_same_shape(r, t)) abort();
    if (t->dtype == IA_DTYPE_STRING) {
        for (uint64_t i = 0; i < t->numel; i++) {
            const struct ia_onnx_bytes *a = &t->strings[i], *b = &r->strings[i];
            /* .npy pads with NULs and numpy strips trailing ones */
            size_t la = a->len;
            if (npy)
                while (la && a->data[la - 1] == 0) la--;
            if (la != b->len || (la && memcmp(a->data, b->data, la))) abort();
        }
    } else if (t->nbytes && memcmp(r->data, t->data, (size_t)t->nbytes)) {
        abort();
    }
    ia_tensor_io_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int npy = 0; npy < 2; npy++) {
        struct ia_tensor *t = NULL;
        int rc = npy ? ia_tensor_io_read_npy(data, size, "fuzz", &t)
                     : ia_tensor_io_read_pb(data, size, "fuzz", &t);
        if (rc == IA_OK) {
            /* Cap the work: a tiny file may legally describe a huge empty-dim shape. */
            if (t->nbytes < (1u << 24)) {
                round_trip(t, 0);
                round_trip(t, 1);
            }
            ia_tensor_io_free(t);
        }
        ia_error_clear();
    }
    return 0;
}
