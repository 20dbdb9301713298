/* Private to src/onnx: the memory pool behind a model or builder, the
 * loader's conversion context, and helpers shared by load, tensor binding,
 * verify and write. */
#ifndef IA_ONNX_INTERNAL_H
#define IA_ONNX_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ia/core.h"
#include "ia/onnx.h"
#include "onnx/onnx.pb-c.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX tensor data is little-endian; big-endian hosts are not supported"
#endif

/* ---- pool: many small allocations, one free ----------------------------- */

struct onnx_pool_chunk;
struct onnx_pool {
    struct onnx_pool_chunk *head;
};

/* Zeroed, 16-byte aligned; NULL (IA_ENOMEM set) on failure or overflow. */
void *onnx_pool_alloc(struct onnx_pool *p, size_t n);
void *onnx_pool_array(struct onnx_pool *p, size_t count, size_t size);
char *onnx_pool_strdup(struct onnx_pool *p, const char *s);
char *onnx_pool_printf(struct onnx_pool *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void onnx_pool_free(struct onnx_pool *p);

/* protobuf-c allocator over ia_malloc; `failed` is set when an allocation
 * fails so callers can tell ENOMEM from a parse error. */
struct onnx_pb_alloc {
    ProtobufCAllocator a;
    int failed;
};
void onnx_pb_alloc_init(struct onnx_pb_alloc *pa);

/* ---- the model's private side ------------------------------------------ */

struct onnx_ext_map {
    char *path; /* resolved (realpath), pool-owned */
    void *base; /* NULL for an empty file */
    size_t size;
    struct onnx_ext_map *next;
};

struct ia_model_priv {
    struct onnx_pool pool;
    struct onnx_pb_alloc pba; /* pb was unpacked with it and is freed with it */
    Onnx__ModelProto *pb;     /* strings and raw_data of the model point into it */
    struct onnx_ext_map *maps;
    struct ia_onnx_problem *problems; /* ia_realloc'd */
    size_t n_problems, cap_problems;
};

/* The loader's context while converting protobuf into struct ia_model. */
struct onnx_conv {
    struct ia_model *m;
    struct ia_model_priv *p;
    unsigned flags;
    const char *label;    /* the path, or "<memory>": prefixes strict-load errors */
    const char *base_dir; /* resolved folder for external data, or NULL */
};

/* Records a problem. With IA_ONNX_LOAD_KEEP_GOING it is kept and IA_OK
 * returned; otherwise it becomes the error message (prefixed by the
 * label) and IA_EFORMAT is returned. IA_ENOMEM either way on allocation
 * failure. Non-printable bytes in the message become '?'. */
int onnx_problem(struct onnx_conv *c, enum ia_verify_check_id check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Binds a TensorProto's data into `t` (tensor_data.c). `what` names it in
 * messages ("initializer 'W'"). */
int onnx_bind_tensor(struct onnx_conv *c, const Onnx__TensorProto *tp, const char *what,
                     struct ia_onnx_tensor *t);

/* "float32[2, 3]" into buf (truncated to cap). */
void onnx_fmt_shape(char *buf, size_t cap, const char *type_name, const int64_t *dims, size_t rank);
/* Replaces bytes outside printable ASCII with '?' in place. */
void onnx_sanitize(char *s);
/* "" and "ai.onnx" are the default domain. */
int onnx_is_default_domain(const char *d);

/* value_io.c: SequenceProto / OptionalProto for ia_tensor_io_encode_pb and
 * ia_tensor_io_clone when t->kind is not IA_KIND_TENSOR. */
struct ia_tensor;
int onnx_value_encode_pb(const struct ia_tensor *t, const char *name, uint8_t **buf, size_t *len);
int onnx_value_clone(const struct ia_tensor *t, const char *name, struct ia_tensor **out);

#endif
