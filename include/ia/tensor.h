/*
 * tensor: the element types every module shares (onnx, graph, kernels,
 * engine) and checked size arithmetic over shapes.
 *
 * The enum is ours, not ONNX's numbering, so low-bit quantized block formats
 * can be appended later without colliding with ONNX's DataType numbers; the
 * onnx module maps between the two (ia_onnx_dtype_from_proto).
 */
#ifndef IA_TENSOR_H
#define IA_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ia_dtype {
    IA_DTYPE_UNDEFINED = 0,
    IA_DTYPE_FLOAT32,
    IA_DTYPE_FLOAT16,
    IA_DTYPE_BFLOAT16,
    IA_DTYPE_FLOAT64,
    IA_DTYPE_INT8,
    IA_DTYPE_INT16,
    IA_DTYPE_INT32,
    IA_DTYPE_INT64,
    IA_DTYPE_UINT8,
    IA_DTYPE_UINT16,
    IA_DTYPE_UINT32,
    IA_DTYPE_UINT64,
    IA_DTYPE_BOOL,   /* one byte per element, 0 or 1 */
    IA_DTYPE_STRING, /* variable length: no fixed element size */
    IA_DTYPE_COUNT
};

/* Static, never NULL: "float32", "bfloat16", ...; "undefined" for values
 * outside the enum. */
const char *ia_dtype_name(enum ia_dtype t);
/* Bytes per element; 0 for UNDEFINED, STRING and values outside the enum. */
size_t ia_dtype_size(enum ia_dtype t);
/* Parses a name as printed by ia_dtype_name (also "float", "double",
 * "half"); IA_ENOTFOUND for anything else. */
int ia_dtype_from_name(const char *name, enum ia_dtype *out);

/* Element count of a shape: the product of dims[0..rank). A rank-0 shape
 * is a scalar (1 element). IA_ERANGE (message set) when a dim is negative
 * or the product overflows 64 bits. */
int ia_shape_numel(const int64_t *dims, size_t rank, uint64_t *out);
/* numel × element size with overflow checks; IA_EINVAL for dtypes without
 * a fixed size, IA_ERANGE on a negative dim or overflow. */
int ia_shape_nbytes(enum ia_dtype t, const int64_t *dims, size_t rank, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
