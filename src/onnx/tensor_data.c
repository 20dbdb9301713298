/*
 * Tensor data binding: TensorProto → struct ia_onnx_tensor with its bytes.
 *
 * Format (onnx.proto, TensorProto): dims (int64, each >= 0; none = scalar),
 * data_type (TensorProto.DataType number) and the elements in exactly one
 * of these places:
 * - raw_data: numel × element size bytes, packed little-endian (bool: one
 *   byte per element); used as is, no copy;
 * - a typed field: float_data (float), int32_data (int32, and one value per
 *   element for int8/int16/uint8/uint16/bool and the bit patterns of
 *   float16/bfloat16), int64_data (int64), double_data (double),
 *   uint64_data (uint32, uint64), string_data (string). float, int32,
 *   int64, double and uint64 are used in place; narrower types are packed
 *   into a new buffer after a range check of every value;
 * - external data (data_location = EXTERNAL): key/value pairs "location"
 *   (a path relative to the model's folder), "offset" and "length"
 *   (decimal). The location must be relative, contain no "..", and after
 *   realpath() still lie inside the model's folder; the file must be a
 *   regular file long enough for offset + the tensor's bytes. Each external
 *   file is mapped once, read-only, for the life of the model; a tensor at
 *   an offset not aligned to its element size is copied so that every
 *   tensor's data is aligned.
 * numel and bytes are computed in checked 64-bit arithmetic; any mismatch
 * between the bytes present and dims × dtype is a problem naming the tensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

#define S(x) ((x) ? (x) : "")

struct bind {
    struct onnx_conv *c;
    const Onnx__TensorProto *tp;
    const char *what;
    struct ia_onnx_tensor *t;
    char shape[160]; /* "float32[2, 3]" for messages */
};

/* Records the problem on the tensor too, so the engine never sees data. */
static int bad(struct bind *b, enum ia_verify_check_id check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct bind *b, enum ia_verify_check_id check, const char *fmt, ...) {
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = onnx_problem(b->c, check, "%s: %s", b->what, msg);
    if (rc) return rc;
    b->t->data = NULL;
    b->t->problem = b->c->p->problems[b->c->p->n_problems - 1].msg;
    return IA_OK;
}

static int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -1;
    }
    *out = v;
    return 0;
}

static int location_escapes(const char *loc) {
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Maps `resolved` once per model; *out is NULL when the file cannot be used
 * (problem recorded). */
static int get_map(struct bind *b, const char *resolved, const char *loc,
                   struct onnx_ext_map **out) {
    struct ia_model_priv *p = b->c->p;
    *out = NULL;
    for (struct onnx_ext_map *e = p->maps; e; e = e->next)
        if (!strcmp(e->path, resolved)) {
            *out = e;
            return IA_OK;
        }
    /* The resolved path has no symlinks left; O_NOFOLLOW keeps it so. */
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data file '%.200s': %s", loc,
                   strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data '%.200s' is not a regular file", loc);
    }
    struct onnx_ext_map *e = onnx_pool_alloc(&p->pool, sizeof *e);
    char *path = e ? onnx_pool_strdup(&p->pool, resolved) : NULL;
    if (!path) {
        close(fd);
        return IA_ENOMEM;
    }
    e->path = path;
    e->size = (size_t)st.st_size;
    if (e->size) {
        void *base = mmap(NULL, e->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int err = errno;
            close(fd);
            return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data '%.200s': mmap: %s", loc,
                       strerror(err));
        }
        e->base = base;
    }
    close(fd);
    e->next = p->maps;
    p->maps = e;
    *out = e;
    return IA_OK;
}

static int bind_external(struct bind *b, size_t esize) {
    struct ia_onnx_tensor *t = b->t;
    const Onnx__TensorProto *tp = b->tp;
    const char *loc = NULL;
    int has_len = 0;
    t->location = IA_ONNX_DATA_EXTERNAL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const char *k = S(tp->external_data[i]->key), *v = S(tp->external_data[i]->value);
        if (!strcmp(k, "location")) {
            loc = v;
        } else if (!strcmp(k, "offset")) {
            if (parse_u64(v, &t->ext_offset))
                return bad(b, IA_VERIFY_EXTERNAL_DATA,
                           "external data offset '%.40s' is not a number", v);
        } else if (!strcmp(k, "length")) {
            if (parse_u64(v, &t->ext_length))
                return bad(b, IA_VERIFY_EXTERNAL_DATA,
                           "external data length '%.40s' is not a number", v);
            has_len = 1;
        }
    }
    t->ext_location = loc;
    if (!loc || !*loc) return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data has no location");
    if (b->tp->has_raw_data)
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "has both external data and raw_data");
    if (t->dtype == IA_DTYPE_STRING)
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "string tensors cannot use external data");
    if (loc[0] == '/')
        return bad(b, IA_VERIFY_EXTERNAL_DATA,
                   "external data location '%.200s' is an absolute path (must be inside the "
                   "model's folder)",
                   loc);
    if (location_escapes(loc))
        return bad(b, IA_VERIFY_EXTERNAL_DATA,
                   "external data location '%.200s' leaves the model's folder", loc);
    const char *base = b->c->base_dir;
    if (!base)
        return bad(b, IA_VERIFY_EXTERNAL_DATA,
                   "external data '%.200s' needs the model's folder (loaded from memory)", loc);
    size_t nb = strlen(base), nl = strlen(loc);
    char *joined = ia_malloc(nb + nl + 2);
    if (!joined) return ia_error_set(IA_ENOMEM, "out of memory");
    memcpy(joined, base, nb);
    joined[nb] = '/';
    memcpy(joined + nb + 1, loc, nl + 1);
    char *resolved = realpath(joined, NULL);
    int err = errno;
    ia_free(joined);
    if (!resolved) {
        if (err == ENOENT)
            return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data file '%.200s' not found", loc);
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data file '%.200s': %s", loc,
                   strerror(err));
    }
    /* Symlinks inside the folder may point anywhere: judge the real path. */
    int inside =
        !strncmp(resolved, base, nb) && (resolved[nb] == '/' || (nb == 1 && base[0] == '/'));
    struct onnx_ext_map *map = NULL;
    int rc = IA_OK;
    if (!inside)
        rc = bad(b, IA_VERIFY_EXTERNAL_DATA,
                 "external data '%.200s' resolves outside the model's folder", loc);
    else
        rc = get_map(b, resolved, loc, &map);
    free(resolved);
    if (rc || !map) return rc;

    uint64_t size = map->size;
    if (t->ext_offset > size)
        return bad(b, IA_VERIFY_EXTERNAL_DATA,
                   "external data offset %llu is past the end of '%.200s' (%llu bytes)",
                   (unsigned long long)t->ext_offset, loc, (unsigned long long)size);
    uint64_t avail = size - t->ext_offset;
    if (has_len && t->ext_length != t->nbytes)
        return bad(b, IA_VERIFY_EXTERNAL_DATA, "external data length %llu but %s needs %llu bytes",
                   (unsigned long long)t->ext_length, b->shape, (unsigned long long)t->nbytes);
    if (avail < t->nbytes)
        return bad(b, IA_VERIFY_EXTERNAL_DATA,
                   "external data '%.200s' is too short: %s needs %llu bytes at offset %llu, "
                   "the file has %llu",
                   loc, b->shape, (unsigned long long)t->nbytes, (unsigned long long)t->ext_offset,
                   (unsigned long long)size);
    if (!has_len) t->ext_length = t->nbytes;
    if (t->nbytes == 0) return IA_OK;
    const uint8_t *ptr = (const uint8_t *)map->base + t->ext_offset;
    if ((uintptr_t)ptr % esize) {
        void *copy = onnx_pool_alloc(&b->c->p->pool, (size_t)t->nbytes);
        if (!copy) return IA_ENOMEM;
        memcpy(copy, ptr, (size_t)t->nbytes);
        ptr = copy;
    }
    t->data = ptr;
    return IA_OK;
}

/* Packs int32_data into the narrow type after checking each value. */
static int narrow_int32(struct bind *b, size_t esize, int64_t lo, int64_t hi) {
    const Onnx__TensorProto *tp = b->tp;
    size_t n = tp->n_int32_data;
    for (size_t i = 0; i < n; i++)
        if (tp->int32_data[i] < lo || tp->int32_data[i] > hi)
            return bad(b, IA_VERIFY_INITIALIZERS, "int32_data[%zu] = %d is out of range for %s", i,
                       (int)tp->int32_data[i], ia_dtype_name(b->t->dtype));
    uint8_t *out = onnx_pool_array(&b->c->p->pool, n, esize);
    if (!out) return IA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (esize == 1) {
            out[i] = (uint8_t)tp->int32_data[i];
        } else {
            uint16_t v = (uint16_t)tp->int32_data[i];
            memcpy(out + 2 * i, &v, 2);
        }
    }
    b->t->data = out;
    return IA_OK;
}

static int bind_typed(struct bind *b, size_t esize) {
    const Onnx__TensorProto *tp = b->tp;
    struct ia_onnx_tensor *t = b->t;
    size_t count = 0;
    const char *field = NULL;
    const void *direct = NULL;
    /* Which field the dtype must use, and how many values it holds. */
    switch (t->dtype) {
    case IA_DTYPE_FLOAT32:
        field = "float_data", count = tp->n_float_data, direct = tp->float_data;
        break;
    case IA_DTYPE_INT32:
        field = "int32_data", count = tp->n_int32_data, direct = tp->int32_data;
        break;
    case IA_DTYPE_INT8:
    case IA_DTYPE_INT16:
    case IA_DTYPE_UINT8:
    case IA_DTYPE_UINT16:
    case IA_DTYPE_BOOL:
    case IA_DTYPE_FLOAT16:
    case IA_DTYPE_BFLOAT16:
        field = "int32_data", count = tp->n_int32_data;
        break;
    case IA_DTYPE_INT64:
        field = "int64_data", count = tp->n_int64_data, direct = tp->int64_data;
        break;
    case IA_DTYPE_FLOAT64:
        field = "double_data", count = tp->n_double_data, direct = tp->double_data;
        break;
    case IA_DTYPE_UINT64:
        field = "uint64_data", count = tp->n_uint64_data, direct = tp->uint64_data;
        break;
    case IA_DTYPE_UINT32:
        field = "uint64_data", count = tp->n_uint64_data;
        break;
    default:
        return bad(b, IA_VERIFY_INITIALIZERS, "no data field for %s", ia_dtype_name(t->dtype));
    }
    size_t total = tp->n_float_data + tp->n_int32_data + tp->n_int64_data + tp->n_double_data +
                   tp->n_uint64_data + tp->n_string_data;
    if (total != count)
        return bad(b, IA_VERIFY_INITIALIZERS, "%s data is stored in a field other than %s",
                   b->shape, field);
    if ((uint64_t)count != t->numel)
        return bad(b, IA_VERIFY_INITIALIZERS, "%s has %zu values but %s needs %llu", field, count,
                   b->shape, (unsigned long long)t->numel);
    t->location = IA_ONNX_DATA_TYPED;
    if (count == 0) return IA_OK;
    if (direct) {
        t->data = direct;
        return IA_OK;
    }
    switch (t->dtype) {
    case IA_DTYPE_INT8:
        return narrow_int32(b, esize, INT8_MIN, INT8_MAX);
    case IA_DTYPE_UINT8:
        return narrow_int32(b, esize, 0, UINT8_MAX);
    case IA_DTYPE_BOOL:
        return narrow_int32(b, esize, 0, 1);
    case IA_DTYPE_INT16:
        return narrow_int32(b, esize, INT16_MIN, INT16_MAX);
    case IA_DTYPE_UINT16:
    case IA_DTYPE_FLOAT16:
    case IA_DTYPE_BFLOAT16:
        return narrow_int32(b, esize, 0, UINT16_MAX);
    case IA_DTYPE_UINT32: {
        uint32_t *out = onnx_pool_array(&b->c->p->pool, count, sizeof *out);
        if (!out) return IA_ENOMEM;
        for (size_t i = 0; i < count; i++) {
            if (tp->uint64_data[i] > UINT32_MAX)
                return bad(b, IA_VERIFY_INITIALIZERS,
                           "uint64_data[%zu] = %llu is out of range for uint32", i,
                           (unsigned long long)tp->uint64_data[i]);
            out[i] = (uint32_t)tp->uint64_data[i];
        }
        t->data = out;
        return IA_OK;
    }
    default:
        return ia_error_set(IA_EINTERNAL, "bind_typed: unhandled dtype");
    }
}

int onnx_bind_tensor(struct onnx_conv *c, const Onnx__TensorProto *tp, const char *what,
                     struct ia_onnx_tensor *t) {
    struct bind b = {.c = c, .tp = tp, .what = what, .t = t};
    t->name = S(tp->name);
    t->onnx_type = tp->has_data_type ? tp->data_type : 0;
    t->dtype = ia_onnx_dtype_from_proto(t->onnx_type);
    t->rank = tp->n_dims;
    t->dims = tp->dims;
    t->location = IA_ONNX_DATA_RAW;
    onnx_fmt_shape(b.shape, sizeof b.shape, ia_dtype_name(t->dtype), t->dims, t->rank);

    for (size_t i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return bad(&b, IA_VERIFY_INITIALIZERS, "dim %zu is negative (%lld)", i,
                       (long long)t->dims[i]);
    if (t->dtype == IA_DTYPE_UNDEFINED) {
        if (t->onnx_type == 0) return bad(&b, IA_VERIFY_INITIALIZERS, "has no data type");
        return bad(&b, IA_VERIFY_INITIALIZERS, "data type %d (%s) is not supported",
                   (int)t->onnx_type, ia_onnx_proto_type_name(t->onnx_type));
    }
    if (ia_shape_numel(t->dims, t->rank, &t->numel) != IA_OK) {
        onnx_fmt_shape(b.shape, sizeof b.shape, "", t->dims, t->rank);
        return bad(&b, IA_VERIFY_INITIALIZERS, "dims %s overflow: the element count exceeds 2^64",
                   b.shape);
    }
    size_t esize = ia_dtype_size(t->dtype);
    if (__builtin_mul_overflow(t->numel, (uint64_t)esize, &t->nbytes) ||
        t->nbytes > (uint64_t)SIZE_MAX) {
        return bad(&b, IA_VERIFY_INITIALIZERS, "%s overflows: the byte size exceeds 2^64", b.shape);
    }
    if (tp->segment) return bad(&b, IA_VERIFY_INITIALIZERS, "segmented tensors are not supported");

    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return bind_external(&b, esize);
    if (tp->n_external_data)
        return bad(&b, IA_VERIFY_EXTERNAL_DATA,
                   "has external_data entries but data_location is not EXTERNAL");

    if (t->dtype == IA_DTYPE_STRING) {
        if (tp->has_raw_data && tp->raw_data.len)
            return bad(&b, IA_VERIFY_INITIALIZERS, "string tensors cannot use raw_data");
        if ((uint64_t)tp->n_string_data != t->numel)
            return bad(&b, IA_VERIFY_INITIALIZERS, "string_data has %zu strings but %s needs %llu",
                       tp->n_string_data, b.shape, (unsigned long long)t->numel);
        t->location = IA_ONNX_DATA_TYPED;
        t->nbytes = 0;
        if (tp->n_string_data) {
            struct ia_onnx_bytes *s = onnx_pool_array(&c->p->pool, tp->n_string_data, sizeof *s);
            if (!s) return IA_ENOMEM;
            for (size_t i = 0; i < tp->n_string_data; i++) {
                s[i].data = tp->string_data[i].len ? tp->string_data[i].data : NULL;
                s[i].len = tp->string_data[i].len;
            }
            t->strings = s;
            t->n_strings = tp->n_string_data;
        }
        return IA_OK;
    }

    size_t typed = tp->n_float_data + tp->n_int32_data + tp->n_int64_data + tp->n_double_data +
                   tp->n_uint64_data + tp->n_string_data;
    if (tp->has_raw_data && (tp->raw_data.len || !typed)) {
        if (typed) return bad(&b, IA_VERIFY_INITIALIZERS, "has both raw_data and typed data");
        if ((uint64_t)tp->raw_data.len != t->nbytes)
            return bad(&b, IA_VERIFY_INITIALIZERS, "raw_data has %zu bytes but %s needs %llu",
                       tp->raw_data.len, b.shape, (unsigned long long)t->nbytes);
        t->data = t->nbytes ? tp->raw_data.data : NULL;
        return IA_OK;
    }
    if (!typed) {
        if (t->numel == 0) return IA_OK;
        return bad(&b, IA_VERIFY_INITIALIZERS, "has no data (%s needs %llu bytes)", b.shape,
                   (unsigned long long)t->nbytes);
    }
    return bind_typed(&b, esize);
}
