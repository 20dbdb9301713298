/* Element types: names, sizes, checked shape arithmetic. */
#include "ia/tensor.h"

#include <string.h>

#include "ia/core.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[IA_DTYPE_COUNT] = {
    [IA_DTYPE_UNDEFINED] = {"undefined", 0}, [IA_DTYPE_FLOAT32] = {"float32", 4},
    [IA_DTYPE_FLOAT16] = {"float16", 2},     [IA_DTYPE_BFLOAT16] = {"bfloat16", 2},
    [IA_DTYPE_FLOAT64] = {"float64", 8},     [IA_DTYPE_INT8] = {"int8", 1},
    [IA_DTYPE_INT16] = {"int16", 2},         [IA_DTYPE_INT32] = {"int32", 4},
    [IA_DTYPE_INT64] = {"int64", 8},         [IA_DTYPE_UINT8] = {"uint8", 1},
    [IA_DTYPE_UINT16] = {"uint16", 2},       [IA_DTYPE_UINT32] = {"uint32", 4},
    [IA_DTYPE_UINT64] = {"uint64", 8},       [IA_DTYPE_BOOL] = {"bool", 1},
    [IA_DTYPE_STRING] = {"string", 0},
};
_Static_assert(sizeof dtypes / sizeof dtypes[0] == IA_DTYPE_COUNT, "one entry per dtype");

const char *ia_dtype_name(enum ia_dtype t) {
    if ((unsigned)t >= IA_DTYPE_COUNT) return "undefined";
    return dtypes[t].name;
}

size_t ia_dtype_size(enum ia_dtype t) {
    if ((unsigned)t >= IA_DTYPE_COUNT) return 0;
    return dtypes[t].size;
}

int ia_dtype_from_name(const char *name, enum ia_dtype *out) {
    static const struct {
        const char *alias;
        enum ia_dtype t;
    } aliases[] = {
        {"float", IA_DTYPE_FLOAT32}, {"double", IA_DTYPE_FLOAT64}, {"half", IA_DTYPE_FLOAT16}};
    if (!name) return ia_error_set(IA_EINVAL, "dtype name is NULL");
    for (int t = 1; t < IA_DTYPE_COUNT; t++)
        if (!strcmp(name, dtypes[t].name)) {
            *out = (enum ia_dtype)t;
            return IA_OK;
        }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i].alias)) {
            *out = aliases[i].t;
            return IA_OK;
        }
    return ia_error_set(IA_ENOTFOUND, "unknown dtype '%.64s'", name);
}

int ia_shape_numel(const int64_t *dims, size_t rank, uint64_t *out) {
    uint64_t n = 1;
    int has_zero = 0;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return ia_error_set(IA_ERANGE, "dim %zu is negative (%lld)", i, (long long)dims[i]);
        if (dims[i] == 0) has_zero = 1;
    }
    /* A zero dim makes the product 0 whatever the others are. */
    if (has_zero) rank = 0, n = 0;
    for (size_t i = 0; i < rank; i++) {
        if (__builtin_mul_overflow(n, (uint64_t)dims[i], &n))
            return ia_error_set(IA_ERANGE, "element count overflows 64 bits");
    }
    *out = n;
    return IA_OK;
}

int ia_shape_nbytes(enum ia_dtype t, const int64_t *dims, size_t rank, uint64_t *out) {
    size_t es = ia_dtype_size(t);
    if (es == 0) return ia_error_set(IA_EINVAL, "%s has no fixed element size", ia_dtype_name(t));
    uint64_t n;
    int rc = ia_shape_numel(dims, rank, &n);
    if (rc != IA_OK) return rc;
    if (__builtin_mul_overflow(n, (uint64_t)es, out))
        return ia_error_set(IA_ERANGE, "byte size overflows 64 bits");
    return IA_OK;
}
