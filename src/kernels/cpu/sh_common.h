/*
 * Helpers shared by the shape, data-movement and reduction kernels
 * (shape_ops.c, sh_*.c, gather_scatter.c, reduce.c, resize.c, einsum.c,
 * misc.c). Private to those files.
 *
 * Element access is by size: every dtype with a fixed size is moved as
 * bytes, and STRING tensors are moved as their (ptr, len) entries, so a
 * data-movement op works on every dtype without a per-type switch.
 */
#ifndef IA_KERNELS_SH_COMMON_H
#define IA_KERNELS_SH_COMMON_H

#include <stdint.h>
#include <string.h>

#include "ia/kernels.h"

/* Bytes one element occupies in t->data (strings: one ia_onnx_bytes). */
static inline size_t sh_esize(enum ia_dtype t) {
    return t == IA_DTYPE_STRING ? sizeof(struct ia_onnx_bytes) : ia_dtype_size(t);
}

/* Input i, or NULL when absent (past n_inputs or omitted). */
static inline const struct ia_tensor *sh_in(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

/* Output i, or NULL when absent or unused. */
static inline struct ia_tensor *sh_out(const struct ia_op_ctx *ctx, size_t i) {
    return i < ctx->n_outputs ? ctx->outputs[i] : NULL;
}

/* Bytes to read an input's elements from: string tensors keep their entries
 * in `strings` when the producer set it, in `data` otherwise. */
static inline const void *sh_src(const struct ia_tensor *t) {
    if (t->dtype == IA_DTYPE_STRING && t->strings) return t->strings;
    return t->data;
}

/* Where to write an output's elements; a string output's entries live in
 * its data buffer, so `strings` is pointed there. The entries copied refer
 * to bytes the producing input owns. */
static inline void *sh_dst(struct ia_tensor *t) {
    if (t->dtype == IA_DTYPE_STRING) t->strings = (const struct ia_onnx_bytes *)t->data;
    return t->data;
}

static inline int sh_is_int_dtype(enum ia_dtype t) {
    return t == IA_DTYPE_INT32 || t == IA_DTYPE_INT64;
}

/* memcpy that accepts n == 0 with NULL pointers (zero-size tensors). */
static inline void sh_memcpy(void *dst, const void *src, size_t n) {
    if (n) memcpy(dst, src, n);
}

/* Copies the elements of an input into a dense output of the same element
 * count, whatever the dtype. */
void sh_copy_all(struct ia_tensor *out, const struct ia_tensor *in);

/* Copies a strided view into dense `dst`: element (i0..ir-1) comes from
 * src + sum(ik * sstrides[k]) bytes; strides may be zero or negative. */
void sh_copy_strided(void *dst, const void *src, size_t esize, int rank, const int64_t *dims,
                     const int64_t *sstrides);
/* The same, split over the pool's threads when the copy is big (pool may
 * be NULL). */
void sh_copy_strided_pool(struct ia_pool *pool, void *dst, const void *src, size_t esize, int rank,
                          const int64_t *dims, const int64_t *sstrides);

/* Byte strides of a dense row-major shape with elements of esize bytes.
 * An empty tensor may have huge dims beside its zero one: strides then
 * saturate instead of overflowing (they are never used to address data). */
static inline void sh_strides(int rank, const int64_t *dims, size_t esize, int64_t *out) {
    int64_t st = (int64_t)esize;
    for (int k = rank - 1; k >= 0; k--) {
        out[k] = st;
        if (__builtin_mul_overflow(st, dims[k] ? dims[k] : 1, &st)) st = INT64_MAX;
    }
}

/* Product of dims[from..to): 0 when one is 0, INT64_MAX when it overflows
 * (only possible for an empty tensor, which callers return early for). */
static inline int64_t sh_prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    int sat = 0;
    for (int k = from; k < to; k++) {
        if (dims[k] == 0) return 0;
        if (!sat && __builtin_mul_overflow(p, dims[k], &p)) sat = 1;
    }
    return sat ? INT64_MAX : p;
}

/* Reads the values of an int32/int64 (also int8..uint64) input into out
 * (at most cap). IA_EAGAIN when the data is not known yet; IA_EINVAL for a
 * non-integer tensor or more than cap values. `what` names the input. */
int sh_read_i64s(const struct ia_op_ctx *ctx, const struct ia_tensor *t, const char *what,
                 int64_t *out, size_t cap, size_t *n);

/* Normalises `n` axes against rank into out (sorted ascending); IA_EINVAL
 * on an axis outside the rank or a repeated one. */
int sh_norm_axes(const struct ia_op_ctx *ctx, const int64_t *axes, size_t n, int rank, int *out);

/* Reads element i of any numeric tensor as double / writes one into a
 * numeric tensor (rounding through the dtype's conversion). */
double sh_get_f64(const void *data, enum ia_dtype t, uint64_t i);
void sh_set_f64(void *data, enum ia_dtype t, uint64_t i, double v);
int sh_is_numeric(enum ia_dtype t);

/* Infer for ops whose output 0 has input 0's dtype and shape. */
int sh_same_shape_infer(struct ia_op_ctx *ctx);

/* The dims of t as a printable "[2,3,4]" for messages. */
const char *sh_dims_str(const struct ia_tensor *t, char *buf, size_t cap);

#endif
