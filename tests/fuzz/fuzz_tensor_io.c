/* Fuzz target: tensor files (.pb TensorProto and .npy). Every input is fed
 * to both readers; whatever parses is written back out and must read back
 * to the same dtype, shape and bytes. The .pb bytes also go to the
 * SequenceProto and OptionalProto readers, whose results must survive a
 * write and read back with the same kind and items. */
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

static void value_round_trip(const uint8_t *data, size_t size, enum ia_onnx_type type) {
    struct ia_tensor *t = NULL, *r = NULL;
    if (ia_tensor_io_read_value_pb(data, size, type, "fuzz", &t) != IA_OK) return;
    uint8_t *buf;
    size_t len;
    if (t->kind == IA_KIND_SEQUENCE || t->kind == IA_KIND_NONE) {
        if (ia_tensor_io_encode_pb(t, NULL, &buf, &len) != IA_OK) abort();
        /* An optional holding a sequence reads as the sequence, and is
         * written back as one. */
        enum ia_onnx_type back = t->kind == IA_KIND_SEQUENCE ? IA_ONNX_TYPE_SEQUENCE : type;
        if (ia_tensor_io_read_value_pb(buf, len, back, "rt", &r) != IA_OK) abort();
        ia_free(buf);
        if (r->kind != t->kind || r->n_items != t->n_items) abort();
        for (size_t i = 0; i < t->n_items; i++)
            if (r->items[i].dtype != t->items[i].dtype ||
                !ia_tensor_same_shape(&r->items[i], &t->items[i]))
                abort();
        ia_tensor_io_free(r);
    }
    ia_tensor_io_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    value_round_trip(data, size, IA_ONNX_TYPE_SEQUENCE);
    value_round_trip(data, size, IA_ONNX_TYPE_OPTIONAL);
    ia_error_clear();
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
