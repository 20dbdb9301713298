/* Shape bookkeeping, element access and half-precision conversions that
 * every kernel uses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ia/kernels.h"

int ia_tensor_set_shape(struct ia_tensor *t, enum ia_dtype dtype, int rank, const int64_t *dims) {
    if (rank < 0 || rank > IA_MAX_RANK)
        return ia_error_set(IA_ERANGE, "%s: rank %d is over the supported %d",
                            t->name ? t->name : "tensor", rank, IA_MAX_RANK);
    uint64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return ia_error_set(IA_ERANGE, "%s: negative dim %lld", t->name ? t->name : "tensor",
                                (long long)dims[i]);
        if (__builtin_mul_overflow(numel, (uint64_t)dims[i], &numel))
            return ia_error_set(IA_ERANGE, "%s: element count overflows",
                                t->name ? t->name : "tensor");
    }
    size_t esize = ia_dtype_size(dtype);
    if (dtype == IA_DTYPE_STRING) esize = sizeof(struct ia_onnx_bytes);
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)esize, &nbytes) || nbytes > ((uint64_t)1 << 46))
        return ia_error_set(IA_ERANGE, "%s: %llu elements of %s are too many bytes",
                            t->name ? t->name : "tensor", (unsigned long long)numel,
                            ia_dtype_name(dtype));
    t->dtype = dtype;
    t->rank = rank;
    int64_t stride = (int64_t)esize;
    for (int i = rank - 1; i >= 0; i--) {
        t->dims[i] = dims[i];
        t->nb[i] = stride;
        /* With a zero dim elsewhere the other dims may be huge: the strides
         * are never used then, but must not overflow. */
        if (__builtin_mul_overflow(stride, dims[i] ? dims[i] : 1, &stride)) stride = INT64_MAX;
    }
    t->numel = numel;
    t->nbytes = nbytes;
    return IA_OK;
}

int ia_tensor_same_shape(const struct ia_tensor *a, const struct ia_tensor *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

const char *ia_tensor_describe(const struct ia_tensor *t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "%s[", ia_dtype_name(t->dtype));
    for (int i = 0; i < t->rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

int64_t ia_tensor_get_i64(const struct ia_tensor *t, uint64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case IA_DTYPE_INT8: return ((const int8_t *)p)[i];
    case IA_DTYPE_INT16: return ((const int16_t *)p)[i];
    case IA_DTYPE_INT32: return ((const int32_t *)p)[i];
    case IA_DTYPE_INT64: return ((const int64_t *)p)[i];
    case IA_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case IA_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case IA_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case IA_DTYPE_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case IA_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return (int64_t)ia_tensor_get_f64(t, i);
    }
}

double ia_tensor_get_f64(const struct ia_tensor *t, uint64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case IA_DTYPE_FLOAT32: return ((const float *)p)[i];
    case IA_DTYPE_FLOAT64: return ((const double *)p)[i];
    case IA_DTYPE_FLOAT16: return ia_f16_to_f32(((const uint16_t *)p)[i]);
    case IA_DTYPE_BFLOAT16: return ia_bf16_to_f32(((const uint16_t *)p)[i]);
    case IA_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    default: return (double)ia_tensor_get_i64(t, i);
    }
}

/* IEEE half <-> single, round to nearest even, with subnormals, inf, NaN. */
float ia_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t ia_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    uint32_t mant = x & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: correct */
    return (uint16_t)half;
}

float ia_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t ia_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}
