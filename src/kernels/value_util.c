/* Sequence and optional values in a struct ia_tensor slot (see kernels.h):
 * marking outputs, copying values through, and packing a sequence's
 * elements into one block its owner frees at once. */
#include <string.h>

#include "ia/kernels.h"

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~(uint64_t)((a)-1))
/* A packed block is refused beyond this (matches ia_tensor_set_shape). */
#define PACK_MAX_BYTES ((uint64_t)1 << 46)

static void clear_keep_name(struct ia_tensor *t) {
    const char *name = t->name;
    memset(t, 0, sizeof *t);
    t->name = name;
}

void ia_value_set_sequence(struct ia_tensor *t, enum ia_dtype elem) {
    clear_keep_name(t);
    t->kind = IA_KIND_SEQUENCE;
    t->dtype = elem;
}

void ia_value_set_none(struct ia_tensor *t) {
    clear_keep_name(t);
    t->kind = IA_KIND_NONE;
}

const char *ia_value_kind_name(const struct ia_tensor *t) {
    switch (t->kind) {
    case IA_KIND_SEQUENCE:
        return "a sequence";
    case IA_KIND_NONE:
        return "an empty optional";
    default:
        return "a tensor";
    }
}

int ia_value_infer_like(struct ia_tensor *dst, const struct ia_tensor *src) {
    switch (src->kind) {
    case IA_KIND_SEQUENCE:
        ia_value_set_sequence(dst, src->dtype);
        return IA_OK;
    case IA_KIND_NONE:
        ia_value_set_none(dst);
        return IA_OK;
    default:
        return ia_tensor_set_shape(dst, src->dtype, src->rank, src->dims);
    }
}

void ia_value_copy(struct ia_tensor *dst, const struct ia_tensor *src) {
    if (!dst) return;
    if (src->kind == IA_KIND_SEQUENCE) {
        dst->kind = IA_KIND_SEQUENCE;
        dst->dtype = src->dtype;
        dst->n_items = src->n_items;
        dst->items = src->items;
        return;
    }
    if (src->kind != IA_KIND_TENSOR) return;
    /* STRING entries are (ptr, len) pairs: the engine copies their bytes. */
    const void *from =
        src->dtype == IA_DTYPE_STRING && src->strings ? (const void *)src->strings : src->data;
    if (src->nbytes && dst->data != from) memmove(dst->data, from, (size_t)src->nbytes);
}

static const struct ia_onnx_bytes *strings_of(const struct ia_tensor *t) {
    return t->strings ? t->strings : (const struct ia_onnx_bytes *)t->data;
}

int ia_value_pack_items(const struct ia_tensor *items, size_t n, size_t head, void **block,
                        struct ia_tensor **copies) {
    *block = NULL;
    *copies = NULL;
    /* Layout: head | n structs | per item, 63 bytes of slack to align its
     * data to 64, the data, then (strings) the bytes. */
    uint64_t off_items = ALIGN_UP((uint64_t)head, 16), total;
    if (__builtin_mul_overflow((uint64_t)n, (uint64_t)sizeof(struct ia_tensor), &total) ||
        __builtin_add_overflow(total, off_items, &total))
        return ia_error_set(IA_ERANGE, "a sequence of %zu items is too big", n);
    for (size_t i = 0; i < n; i++) {
        const struct ia_tensor *t = &items[i];
        if (t->kind != IA_KIND_TENSOR)
            return ia_error_set(IA_EUNSUPPORTED,
                                "sequence item %zu is %s; only tensors are supported", i,
                                ia_value_kind_name(t));
        if (t->nbytes && !t->data && !(t->dtype == IA_DTYPE_STRING && t->strings))
            return ia_error_set(IA_EINTERNAL, "sequence item %zu has no data", i);
        uint64_t bytes = t->nbytes + 63;
        if (t->dtype == IA_DTYPE_STRING) {
            const struct ia_onnx_bytes *s = strings_of(t);
            for (uint64_t k = 0; s && k < t->numel; k++) bytes += s[k].len;
        }
        if (__builtin_add_overflow(total, bytes, &total) || total > PACK_MAX_BYTES)
            return ia_error_set(IA_ERANGE, "a sequence of %zu items is too big", n);
    }
    uint8_t *base = ia_malloc((size_t)total ? (size_t)total : 1);
    if (!base)
        return ia_error_set(IA_ENOMEM, "out of memory for a %llu-byte sequence",
                            (unsigned long long)total);
    memset(base, 0, (size_t)off_items);
    struct ia_tensor *out = (struct ia_tensor *)(base + off_items);
    uint8_t *p = base + off_items + (uint64_t)n * sizeof *out;
    for (size_t i = 0; i < n; i++) {
        const struct ia_tensor *t = &items[i];
        struct ia_tensor *c = &out[i];
        *c = *t;
        c->name = NULL;
        c->items = NULL;
        c->n_items = 0;
        p = (uint8_t *)(uintptr_t)ALIGN_UP((uintptr_t)p, 64);
        c->data = p;
        c->strings = NULL;
        if (t->dtype == IA_DTYPE_STRING) {
            const struct ia_onnx_bytes *s = strings_of(t);
            struct ia_onnx_bytes *d = c->data;
            uint8_t *area = p + t->nbytes;
            for (uint64_t k = 0; k < t->numel; k++) {
                size_t len = s ? s[k].len : 0;
                d[k].len = len;
                d[k].data = len ? area : NULL;
                if (len) memcpy(area, s[k].data, len);
                area += len;
            }
            c->strings = d;
            p = area;
        } else {
            if (t->nbytes) memcpy(c->data, t->data, (size_t)t->nbytes);
            p += t->nbytes;
        }
    }
    *block = base;
    *copies = out;
    return IA_OK;
}

int ia_value_own_items(struct ia_tensor *t, void **block) {
    struct ia_tensor *copies;
    size_t n = t->items ? t->n_items : 0;
    int rc = ia_value_pack_items(t->items, n, 0, block, &copies);
    if (rc) return ia_error_wrap(rc, "%s", t->name ? t->name : "sequence");
    t->items = copies;
    t->n_items = n;
    return IA_OK;
}
