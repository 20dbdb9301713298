/*
 * tensor_io: tensors in files — ONNX TensorProto (.pb, as the ONNX test
 * suites store inputs and expected outputs) and numpy .npy (v1/v2/v3
 * headers, little-endian, C order).
 *
 * A tensor read here is one ia_malloc'd block holding the struct, its name
 * and its data, so it is freed with one ia_tensor_io_free. STRING tensors
 * keep numel struct ia_onnx_bytes entries: `data` and `strings` both point
 * at them, and the bytes they point to live in the same block.
 *
 * Readers treat their input as hostile: every size is checked in 64-bit
 * arithmetic against the bytes present, and anything malformed is
 * IA_EFORMAT with a message naming the file (or label) and what is wrong.
 * Types we lack (complex, float8, int4, maps) are IA_EUNSUPPORTED.
 *
 * Sequence and optional values (kernels.h: struct ia_tensor with kind
 * IA_KIND_SEQUENCE or IA_KIND_NONE) live in .pb files as ONNX's
 * SequenceProto / OptionalProto. A .pb file does not say which message it
 * holds, so the reader is told (ia_tensor_io_read_value). A sequence read
 * is still one block: the struct, its name, the item structs and their
 * data. Writing and cloning take any kind.
 */
#ifndef IA_TENSOR_IO_H
#define IA_TENSOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "ia/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Files bigger than this are refused before reading (IA_ERANGE). A
 * TensorProto is also bound by protobuf's 2 GiB message limit. */
#define IA_TENSOR_IO_MAX_FILE_BYTES ((uint64_t)16 << 30)
#define IA_TENSOR_IO_MAX_PB_BYTES ((uint64_t)2 << 30)
/* Longest .npy header accepted (v2/v3 allow up to 4 GiB). */
#define IA_TENSOR_IO_MAX_NPY_HEADER (1u << 20)

enum ia_tensor_format { IA_TENSOR_FORMAT_PB = 0, IA_TENSOR_FORMAT_NPY };

/* The format a path names by its extension: ".npy" → NPY, anything else →
 * PB. */
enum ia_tensor_format ia_tensor_io_format_of(const char *path);

/* Reads the file at `path` (format by extension). *out is the caller's
 * (ia_tensor_io_free). Its name is the TensorProto's name, or NULL for .npy
 * and unnamed protos. Errors: IA_ENOTFOUND, IA_EIO, IA_ERANGE, IA_EFORMAT,
 * IA_EUNSUPPORTED, IA_ENOMEM. */
int ia_tensor_io_read(const char *path, struct ia_tensor **out);
/* The same from bytes in memory (not kept); `label` names them in messages. */
int ia_tensor_io_read_pb(const void *buf, size_t len, const char *label, struct ia_tensor **out);
int ia_tensor_io_read_npy(const void *buf, size_t len, const char *label, struct ia_tensor **out);

/* Reads a .pb holding the message `type` names: IA_ONNX_TYPE_TENSOR a
 * TensorProto (any format then, as ia_tensor_io_read), IA_ONNX_TYPE_SEQUENCE
 * a SequenceProto of tensors, IA_ONNX_TYPE_OPTIONAL an OptionalProto of a
 * tensor or of such a sequence: an empty one gives kind IA_KIND_NONE, a
 * full one the value it holds. Nested sequences, maps and sparse tensors
 * are IA_EUNSUPPORTED. Freed with ia_tensor_io_free. */
int ia_tensor_io_read_value(const char *path, enum ia_onnx_type type, struct ia_tensor **out);
int ia_tensor_io_read_value_pb(const void *buf, size_t len, enum ia_onnx_type type,
                               const char *label, struct ia_tensor **out);

/* Serialises `t` into a new buffer the caller frees with ia_free. `name`
 * (may be NULL) becomes the TensorProto's name. .npy has no bfloat16 type:
 * IA_EUNSUPPORTED. STRING tensors go to .npy as fixed-width bytes ('|S<n>'). */
int ia_tensor_io_encode_pb(const struct ia_tensor *t, const char *name, uint8_t **buf, size_t *len);
int ia_tensor_io_encode_npy(const struct ia_tensor *t, uint8_t **buf, size_t *len);
/* Writes `t` to `path` in `fmt` through a temporary file renamed into place. */
int ia_tensor_io_write(const char *path, enum ia_tensor_format fmt, const struct ia_tensor *t,
                       const char *name);

/* Sequences go to .pb as a SequenceProto, empty optionals as an
 * OptionalProto; .npy refuses them (IA_EUNSUPPORTED). */

/* A deep copy of `t` (data, strings and name; a sequence's items) in one
 * block; `name` replaces t->name when not NULL. */
int ia_tensor_io_clone(const struct ia_tensor *t, const char *name, struct ia_tensor **out);
/* Allocates a tensor of the given shape with zeroed data in one block. */
int ia_tensor_io_alloc(enum ia_dtype dtype, int rank, const int64_t *dims, const char *name,
                       struct ia_tensor **out);
void ia_tensor_io_free(struct ia_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
