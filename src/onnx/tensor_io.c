/*
 * Tensor files: ONNX TensorProto (.pb) and numpy .npy, read and written.
 *
 * TensorProto (onnx.proto): dims (int64 each >= 0; none = scalar),
 * data_type (TensorProto.DataType number) and the elements either packed
 * little-endian in raw_data, or in the typed field the type uses
 * (float_data; int32_data for int32 and, one value each, int8/int16/uint8/
 * uint16/bool and the bit patterns of float16/bfloat16; int64_data;
 * double_data; uint64_data for uint32/uint64; string_data). External data
 * and segments are refused: a test tensor file stands alone. Parsed with
 * protobuf-c (no recursive message in TensorProto, so no depth limit is
 * needed); at most IA_TENSOR_IO_MAX_PB_BYTES.
 *
 * .npy (numpy's NEP 1 format): the magic "\x93NUMPY", a major and minor
 * version byte, the header length (uint16 LE for v1, uint32 LE for v2/v3),
 * then an ASCII (v3: UTF-8) Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and '\n' so the data starts at a multiple of 64 bytes,
 * then numel × itemsize bytes of data. We accept little-endian ('<'), the
 * native '=' and the byte-order-free '|' descrs of our numeric types, bool
 * ('|b1'), and fixed-width strings ('|S<n>' bytes, '<U<n>' UTF-32 → UTF-8);
 * fortran_order must be False; the header is at most
 * IA_TENSOR_IO_MAX_NPY_HEADER bytes; trailing bytes after the data are an
 * error. Every count and size is checked in 64-bit arithmetic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ia/tensor_io.h"
#include "onnx_internal.h"

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~(uint64_t)((a)-1))

/* ---- owned tensors: one block ------------------------------------------- */

/* Layout: struct ia_tensor | name\0 | (pad to 64) data | string bytes. */
static int block_alloc(enum ia_dtype dtype, int rank, const int64_t *dims, const char *name,
                       uint64_t string_bytes, struct ia_tensor **out) {
    struct ia_tensor shape = {.name = name};
    int rc = ia_tensor_set_shape(&shape, dtype, rank, dims);
    if (rc) return rc;
    size_t nlen = name ? strlen(name) + 1 : 0;
    uint64_t off_name = ALIGN_UP(sizeof(struct ia_tensor), 16);
    uint64_t off_data = ALIGN_UP(off_name + nlen, 64);
    uint64_t off_str = off_data + shape.nbytes, total;
    if (__builtin_add_overflow(off_str, string_bytes, &total) || total > ((uint64_t)1 << 46))
        return ia_error_set(IA_ERANGE, "%s: tensor of %llu bytes is too big",
                            name ? name : "tensor", (unsigned long long)shape.nbytes);
    /* Over-allocate so the data can be aligned to 64 whatever malloc gives. */
    uint8_t *raw = ia_malloc((size_t)total + 64);
    if (!raw)
        return ia_error_set(IA_ENOMEM, "out of memory for a %llu-byte tensor",
                            (unsigned long long)total);
    struct ia_tensor *t = (struct ia_tensor *)raw;
    *t = shape;
    uint8_t *base = raw;
    uintptr_t d = ALIGN_UP((uintptr_t)(base + off_data), 64);
    t->data = shape.nbytes ? (void *)d : NULL;
    if (dtype == IA_DTYPE_STRING && shape.nbytes) memset(t->data, 0, (size_t)shape.nbytes);
    t->strings = dtype == IA_DTYPE_STRING ? t->data : NULL;
    if (nlen) {
        char *nm = (char *)(base + off_name);
        memcpy(nm, name, nlen);
        t->name = nm;
    } else {
        t->name = NULL;
    }
    *out = t;
    return IA_OK;
}

/* Where the string bytes of a block start. */
static uint8_t *block_string_area(struct ia_tensor *t) { return (uint8_t *)t->data + t->nbytes; }

void ia_tensor_io_free(struct ia_tensor *t) { ia_free(t); }

int ia_tensor_io_alloc(enum ia_dtype dtype, int rank, const int64_t *dims, const char *name,
                       struct ia_tensor **out) {
    *out = NULL;
    struct ia_tensor *t;
    int rc = block_alloc(dtype, rank, dims, name, 0, &t);
    if (rc) return rc;
    if (t->nbytes) memset(t->data, 0, (size_t)t->nbytes);
    *out = t;
    return IA_OK;
}

static uint64_t strings_total(const struct ia_tensor *t) {
    uint64_t total = 0;
    const struct ia_onnx_bytes *s = t->strings ? t->strings : t->data;
    for (uint64_t i = 0; s && i < t->numel; i++) total += s[i].len;
    return total;
}

int ia_tensor_io_clone(const struct ia_tensor *t, const char *name, struct ia_tensor **out) {
    *out = NULL;
    if (t->kind != IA_KIND_TENSOR) return onnx_value_clone(t, name, out);
    uint64_t sb = t->dtype == IA_DTYPE_STRING ? strings_total(t) : 0;
    struct ia_tensor *c;
    int rc = block_alloc(t->dtype, t->rank, t->dims, name ? name : t->name, sb, &c);
    if (rc) return rc;
    if (t->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *src = t->strings ? t->strings : t->data;
        struct ia_onnx_bytes *dst = c->data;
        uint8_t *area = block_string_area(c);
        for (uint64_t i = 0; src && i < t->numel; i++) {
            dst[i].len = src[i].len;
            dst[i].data = src[i].len ? area : NULL;
            if (src[i].len) memcpy(area, src[i].data, src[i].len);
            area += src[i].len;
        }
    } else if (t->nbytes) {
        memcpy(c->data, t->data, (size_t)t->nbytes);
    }
    *out = c;
    return IA_OK;
}

/* ---- files -------------------------------------------------------------- */

enum ia_tensor_format ia_tensor_io_format_of(const char *path) {
    size_t n = strlen(path);
    if (n >= 4 && !strcasecmp(path + n - 4, ".npy")) return IA_TENSOR_FORMAT_NPY;
    return IA_TENSOR_FORMAT_PB;
}

static int read_file(const char *path, uint64_t limit, uint8_t **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return ia_error_set(err == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path, strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ia_error_set(IA_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > limit) {
        close(fd);
        return ia_error_set(IA_ERANGE, "%s: %llu bytes is over the %llu-byte limit", path,
                            (unsigned long long)st.st_size, (unsigned long long)limit);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = ia_malloc(n ? n : 1);
    if (!b) {
        close(fd);
        return ia_error_set(IA_ENOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int err = r < 0 ? errno : EIO;
            close(fd);
            ia_free(b);
            return ia_error_set(IA_EIO, "%s: read: %s", path,
                                r < 0 ? strerror(err) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return IA_OK;
}

int ia_tensor_io_read(const char *path, struct ia_tensor **out) {
    *out = NULL;
    enum ia_tensor_format fmt = ia_tensor_io_format_of(path);
    uint8_t *buf;
    size_t len;
    int rc = read_file(
        path, fmt == IA_TENSOR_FORMAT_PB ? IA_TENSOR_IO_MAX_PB_BYTES : IA_TENSOR_IO_MAX_FILE_BYTES,
        &buf, &len);
    if (rc) return rc;
    rc = fmt == IA_TENSOR_FORMAT_PB ? ia_tensor_io_read_pb(buf, len, path, out)
                                    : ia_tensor_io_read_npy(buf, len, path, out);
    ia_free(buf);
    return rc;
}

static int write_file(const char *path, const uint8_t *buf, size_t len) {
    size_t n = strlen(path);
    char *tmp = ia_malloc(n + 32);
    if (!tmp) return ia_error_set(IA_ENOMEM, "out of memory");
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        ia_free(tmp);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(err));
    }
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            err = errno;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp);
        ia_free(tmp);
        return ia_error_set(err == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(err));
    }
    ia_free(tmp);
    return IA_OK;
}

int ia_tensor_io_write(const char *path, enum ia_tensor_format fmt, const struct ia_tensor *t,
                       const char *name) {
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = fmt == IA_TENSOR_FORMAT_NPY ? ia_tensor_io_encode_npy(t, &buf, &len)
                                         : ia_tensor_io_encode_pb(t, name, &buf, &len);
    if (rc) return ia_error_wrap(rc, "%s", path);
    rc = write_file(path, buf, len);
    ia_free(buf);
    return rc;
}

/* ---- TensorProto ------------------------------------------------------- */

/* The typed field `dt` uses must hold exactly numel values, and no other
 * field any. */
static int pb_typed_count(const Onnx__TensorProto *tp, enum ia_dtype dt, uint64_t n,
                          const char *label) {
    size_t count;
    const char *field;
    switch (dt) {
    case IA_DTYPE_FLOAT32:
        count = tp->n_float_data, field = "float_data";
        break;
    case IA_DTYPE_INT64:
        count = tp->n_int64_data, field = "int64_data";
        break;
    case IA_DTYPE_FLOAT64:
        count = tp->n_double_data, field = "double_data";
        break;
    case IA_DTYPE_UINT32:
    case IA_DTYPE_UINT64:
        count = tp->n_uint64_data, field = "uint64_data";
        break;
    default:
        count = tp->n_int32_data, field = "int32_data";
        break;
    }
    size_t total = tp->n_float_data + tp->n_int32_data + tp->n_int64_data + tp->n_double_data +
                   tp->n_uint64_data + tp->n_string_data;
    if (total != count)
        return ia_error_set(IA_EFORMAT, "%s: %s data is stored in a field other than %s", label,
                            ia_dtype_name(dt), field);
    if ((uint64_t)count != n)
        return ia_error_set(IA_EFORMAT, "%s: %s has %zu values but the dims need %llu", label,
                            field, count, (unsigned long long)n);
    return IA_OK;
}

static int pb_typed(const Onnx__TensorProto *tp, struct ia_tensor *t, const char *label) {
    uint64_t n = t->numel;
    for (uint64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case IA_DTYPE_FLOAT32:
            ((float *)t->data)[i] = tp->float_data[i];
            break;
        case IA_DTYPE_INT64:
            ((int64_t *)t->data)[i] = tp->int64_data[i];
            break;
        case IA_DTYPE_FLOAT64:
            ((double *)t->data)[i] = tp->double_data[i];
            break;
        case IA_DTYPE_UINT64:
            ((uint64_t *)t->data)[i] = tp->uint64_data[i];
            break;
        case IA_DTYPE_UINT32:
            ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
            break;
        case IA_DTYPE_INT32:
            ((int32_t *)t->data)[i] = tp->int32_data[i];
            break;
        case IA_DTYPE_INT8:
            ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i];
            break;
        case IA_DTYPE_UINT8:
            ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i];
            break;
        case IA_DTYPE_BOOL:
            ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0;
            break;
        case IA_DTYPE_INT16:
            ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i];
            break;
        case IA_DTYPE_UINT16:
        case IA_DTYPE_FLOAT16:
        case IA_DTYPE_BFLOAT16:
            ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i];
            break;
        default:
            return ia_error_set(IA_EINTERNAL, "%s: unhandled dtype", label);
        }
    }
    return IA_OK;
}

static int pb_convert(const Onnx__TensorProto *tp, const char *label, struct ia_tensor **out) {
    int32_t ptype = tp->has_data_type ? tp->data_type : 0;
    enum ia_dtype dt = ia_onnx_dtype_from_proto(ptype);
    if (dt == IA_DTYPE_UNDEFINED) {
        if (ptype == 0) return ia_error_set(IA_EFORMAT, "%s: tensor has no data type", label);
        return ia_error_set(IA_EUNSUPPORTED, "%s: data type %d (%s) is not supported", label,
                            (int)ptype, ia_onnx_proto_type_name(ptype));
    }
    if (tp->n_dims > IA_MAX_RANK)
        return ia_error_set(IA_EUNSUPPORTED, "%s: rank %zu is over the supported %d", label,
                            tp->n_dims, IA_MAX_RANK);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return ia_error_set(IA_EFORMAT, "%s: dim %zu is negative (%lld)", label, i,
                                (long long)tp->dims[i]);
    if (tp->segment)
        return ia_error_set(IA_EUNSUPPORTED, "%s: segmented tensors are not supported", label);
    if ((tp->has_data_location &&
         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data)
        return ia_error_set(IA_EUNSUPPORTED, "%s: external data is not supported in a tensor file",
                            label);
    uint64_t numel;
    if (ia_shape_numel(tp->dims, tp->n_dims, &numel))
        return ia_error_set(IA_EFORMAT, "%s: the dims' element count overflows", label);
    size_t typed = tp->n_float_data + tp->n_int32_data + tp->n_int64_data + tp->n_double_data +
                   tp->n_uint64_data + tp->n_string_data;
    const char *name = tp->name && tp->name[0] ? tp->name : NULL;
    if (dt == IA_DTYPE_STRING) {
        if (tp->has_raw_data && tp->raw_data.len)
            return ia_error_set(IA_EFORMAT, "%s: string tensors cannot use raw_data", label);
        if ((uint64_t)tp->n_string_data != numel)
            return ia_error_set(IA_EFORMAT,
                                "%s: string_data has %zu strings but the dims need %llu", label,
                                tp->n_string_data, (unsigned long long)numel);
        uint64_t total = 0;
        for (size_t i = 0; i < tp->n_string_data; i++) total += tp->string_data[i].len;
        struct ia_tensor *t;
        int rc = block_alloc(dt, (int)tp->n_dims, tp->dims, name, total, &t);
        if (rc) return ia_error_wrap(rc, "%s", label);
        struct ia_onnx_bytes *s = t->data;
        uint8_t *area = block_string_area(t);
        for (size_t i = 0; i < tp->n_string_data; i++) {
            s[i].len = tp->string_data[i].len;
            s[i].data = s[i].len ? area : NULL;
            if (s[i].len) memcpy(area, tp->string_data[i].data, s[i].len);
            area += s[i].len;
        }
        *out = t;
        return IA_OK;
    }
    /* Every size check comes before the allocation: dims from the file may
     * claim far more than the bytes present. */
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)ia_dtype_size(dt), &nbytes))
        return ia_error_set(IA_EFORMAT, "%s: the tensor's byte size overflows", label);
    int raw = tp->has_raw_data && (tp->raw_data.len || !typed);
    if (raw && typed)
        return ia_error_set(IA_EFORMAT, "%s: has both raw_data and typed data", label);
    if (raw && (uint64_t)tp->raw_data.len != nbytes)
        return ia_error_set(IA_EFORMAT, "%s: raw_data has %zu bytes but %s[%llu] needs %llu", label,
                            tp->raw_data.len, ia_dtype_name(dt), (unsigned long long)numel,
                            (unsigned long long)nbytes);
    if (!raw && !typed && numel)
        return ia_error_set(IA_EFORMAT, "%s: tensor has no data (needs %llu elements)", label,
                            (unsigned long long)numel);
    if (!raw && typed) {
        int rc = pb_typed_count(tp, dt, numel, label);
        if (rc) return rc;
    }
    struct ia_tensor *t;
    int rc = block_alloc(dt, (int)tp->n_dims, tp->dims, name, 0, &t);
    if (rc) return ia_error_wrap(rc, "%s", label);
    if (raw) {
        if (t->nbytes) memcpy(t->data, tp->raw_data.data, (size_t)t->nbytes);
        if (dt == IA_DTYPE_BOOL)
            for (uint64_t i = 0; i < numel; i++)
                ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
    } else if (typed) {
        rc = pb_typed(tp, t, label);
    }
    if (rc) {
        ia_free(t);
        return rc;
    }
    *out = t;
    return IA_OK;
}

int ia_tensor_io_read_pb(const void *buf, size_t len, const char *label, struct ia_tensor **out) {
    *out = NULL;
    if (!label) label = "<memory>";
    if ((uint64_t)len > IA_TENSOR_IO_MAX_PB_BYTES)
        return ia_error_set(IA_ERANGE, "%s: %zu bytes is over protobuf's 2 GiB limit", label, len);
    struct onnx_pb_alloc pa;
    onnx_pb_alloc_init(&pa);
    Onnx__TensorProto *tp = (Onnx__TensorProto *)protobuf_c_message_unpack(
        &onnx__tensor_proto__descriptor, &pa.a, len, buf);
    if (!tp)
        return pa.failed
                   ? ia_error_set(IA_ENOMEM, "%s: out of memory while parsing", label)
                   : ia_error_set(IA_EFORMAT, "%s: not a valid TensorProto (protobuf parse failed)",
                                  label);
    int rc = pb_convert(tp, label, out);
    protobuf_c_message_free_unpacked(&tp->base, &pa.a);
    return rc;
}

int ia_tensor_io_encode_pb(const struct ia_tensor *t, const char *name, uint8_t **buf,
                           size_t *len) {
    *buf = NULL;
    *len = 0;
    if (t->kind != IA_KIND_TENSOR) return onnx_value_encode_pb(t, name, buf, len);
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int32_t ptype = ia_onnx_dtype_to_proto(t->dtype);
    if (!ptype)
        return ia_error_set(IA_EUNSUPPORTED, "%s has no ONNX data type", ia_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > IA_MAX_RANK)
        return ia_error_set(IA_EINVAL, "bad rank %d", t->rank);
    int64_t dims[IA_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    tp.n_dims = (size_t)t->rank;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = ptype;
    tp.name = (char *)(name ? name : t->name ? t->name : "");
    ProtobufCBinaryData *sd = NULL;
    if (t->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *s = t->strings ? t->strings : t->data;
        if (t->numel) {
            sd = ia_calloc((size_t)t->numel, sizeof *sd);
            if (!sd) return ia_error_set(IA_ENOMEM, "out of memory");
            for (uint64_t i = 0; i < t->numel; i++) {
                sd[i].len = s[i].len;
                sd[i].data = (uint8_t *)s[i].data;
            }
        }
        tp.n_string_data = (size_t)t->numel;
        tp.string_data = sd;
    } else {
        if (t->nbytes > IA_TENSOR_IO_MAX_PB_BYTES - 4096)
            return ia_error_set(IA_ERANGE, "%llu bytes do not fit in a TensorProto (2 GiB)",
                                (unsigned long long)t->nbytes);
        tp.has_raw_data = 1;
        tp.raw_data.len = (size_t)t->nbytes;
        tp.raw_data.data = t->data;
    }
    size_t n = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *b = ia_malloc(n ? n : 1);
    if (!b) {
        ia_free(sd);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    onnx__tensor_proto__pack(&tp, b);
    ia_free(sd);
    *buf = b;
    *len = n;
    return IA_OK;
}

/* ---- .npy ---------------------------------------------------------------- */

struct npy_descr {
    const char *code; /* without the byte-order character */
    enum ia_dtype dtype;
};
static const struct npy_descr npy_types[] = {
    {"f4", IA_DTYPE_FLOAT32}, {"f2", IA_DTYPE_FLOAT16}, {"f8", IA_DTYPE_FLOAT64},
    {"i1", IA_DTYPE_INT8},    {"i2", IA_DTYPE_INT16},   {"i4", IA_DTYPE_INT32},
    {"i8", IA_DTYPE_INT64},   {"u1", IA_DTYPE_UINT8},   {"u2", IA_DTYPE_UINT16},
    {"u4", IA_DTYPE_UINT32},  {"u8", IA_DTYPE_UINT64},  {"b1", IA_DTYPE_BOOL},
};

struct npy_header {
    char descr[32];
    int have_descr, have_order, have_shape;
    int fortran;
    int rank;
    int64_t dims[IA_MAX_RANK];
};

struct npy_lex {
    const char *p, *end;
    const char *label;
};

static void lex_ws(struct npy_lex *x) {
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static int lex_char(struct npy_lex *x, char c) {
    lex_ws(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string into buf (truncated to cap-1; too long is an error). */
static int lex_string(struct npy_lex *x, char *buf, size_t cap) {
    lex_ws(x);
    if (x->p >= x->end || (*x->p != '\'' && *x->p != '"')) return -1;
    char q = *x->p++;
    size_t n = 0;
    while (x->p < x->end && *x->p != q) {
        if (n + 1 >= cap) return -1;
        buf[n++] = *x->p++;
    }
    if (x->p >= x->end) return -1;
    x->p++;
    buf[n] = '\0';
    return 0;
}

static int npy_parse_header(const char *h, size_t len, const char *label, struct npy_header *hd) {
    struct npy_lex x = {h, h + len, label};
    memset(hd, 0, sizeof *hd);
#define BAD(what) ia_error_set(IA_EFORMAT, "%s: .npy header: %s", label, what)
    if (!lex_char(&x, '{')) return BAD("does not start with '{'");
    for (;;) {
        if (lex_char(&x, '}')) break;
        char key[32];
        if (lex_string(&x, key, sizeof key)) return BAD("expected a quoted key");
        if (!lex_char(&x, ':')) return BAD("expected ':' after a key");
        if (!strcmp(key, "descr")) {
            if (lex_string(&x, hd->descr, sizeof hd->descr))
                return BAD(
                    "'descr' is not a simple type string (structured arrays are not supported)");
            hd->have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            lex_ws(&x);
            if (x.end - x.p >= 4 && !memcmp(x.p, "True", 4)) {
                hd->fortran = 1;
                x.p += 4;
            } else if (x.end - x.p >= 5 && !memcmp(x.p, "False", 5)) {
                x.p += 5;
            } else {
                return BAD("'fortran_order' is not True or False");
            }
            hd->have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (!lex_char(&x, '(')) return BAD("'shape' is not a tuple");
            for (;;) {
                if (lex_char(&x, ')')) break;
                lex_ws(&x);
                int64_t v = 0;
                int digits = 0;
                while (x.p < x.end && *x.p >= '0' && *x.p <= '9') {
                    if (__builtin_mul_overflow(v, 10, &v) ||
                        __builtin_add_overflow(v, *x.p - '0', &v))
                        return BAD("a dimension overflows");
                    x.p++;
                    digits++;
                }
                if (x.p < x.end && *x.p == 'L') x.p++; /* Python 2 longs */
                if (!digits) return BAD("a dimension is not a non-negative integer");
                if (hd->rank >= IA_MAX_RANK)
                    return ia_error_set(IA_EUNSUPPORTED, "%s: .npy rank is over the supported %d",
                                        label, IA_MAX_RANK);
                hd->dims[hd->rank++] = v;
                if (lex_char(&x, ')')) break;
                if (!lex_char(&x, ',')) return BAD("expected ',' or ')' in 'shape'");
            }
            hd->have_shape = 1;
        } else {
            return BAD("unknown key");
        }
        if (lex_char(&x, '}')) break;
        if (!lex_char(&x, ',')) return BAD("expected ',' or '}'");
    }
    if (!hd->have_descr || !hd->have_order || !hd->have_shape)
        return BAD("missing one of 'descr', 'fortran_order', 'shape'");
#undef BAD
    return IA_OK;
}

/* UTF-32 code point to UTF-8; returns bytes written (0 for invalid). */
static size_t utf8_put(uint32_t c, uint8_t *o) {
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (uint8_t)(0xc0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c >= 0xd800 && c < 0xe000) return 0;
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    if (c < 0x110000) {
        o[0] = (uint8_t)(0xf0 | (c >> 18));
        o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
        o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        o[3] = (uint8_t)(0x80 | (c & 0x3f));
        return 4;
    }
    return 0;
}

static int npy_strings(const struct npy_header *hd, int is_unicode, uint64_t width,
                       const uint8_t *data, uint64_t avail, const char *label,
                       struct ia_tensor **out) {
    uint64_t numel, item = is_unicode ? width * 4 : width, need;
    if (ia_shape_numel(hd->dims, (size_t)hd->rank, &numel) ||
        __builtin_mul_overflow(numel, item, &need))
        return ia_error_set(IA_EFORMAT, "%s: .npy shape overflows", label);
    if (need != avail)
        return ia_error_set(IA_EFORMAT, "%s: .npy data has %llu bytes but the header needs %llu",
                            label, (unsigned long long)avail, (unsigned long long)need);
    /* UTF-8 takes at most 4 bytes per UTF-32 unit: bounded by `need`. */
    struct ia_tensor *t;
    int rc = block_alloc(IA_DTYPE_STRING, hd->rank, hd->dims, NULL, need, &t);
    if (rc) return ia_error_wrap(rc, "%s", label);
    struct ia_onnx_bytes *s = t->data;
    uint8_t *area = block_string_area(t);
    for (uint64_t i = 0; i < numel; i++) {
        const uint8_t *e = data + i * item;
        uint8_t *start = area;
        if (is_unicode) {
            uint64_t n = width;
            while (n > 0 && !memcmp(e + (n - 1) * 4, "\0\0\0\0", 4)) n--;
            for (uint64_t k = 0; k < n; k++) {
                uint32_t c = (uint32_t)e[4 * k] | (uint32_t)e[4 * k + 1] << 8 |
                             (uint32_t)e[4 * k + 2] << 16 | (uint32_t)e[4 * k + 3] << 24;
                size_t w = utf8_put(c, area);
                if (!w) {
                    ia_free(t);
                    return ia_error_set(IA_EFORMAT,
                                        "%s: .npy string %llu has an invalid code point", label,
                                        (unsigned long long)i);
                }
                area += w;
            }
        } else {
            uint64_t n = width;
            while (n > 0 && e[n - 1] == 0) n--;
            if (n) memcpy(area, e, (size_t)n);
            area += n;
        }
        s[i].len = (size_t)(area - start);
        s[i].data = s[i].len ? start : NULL;
    }
    *out = t;
    return IA_OK;
}

int ia_tensor_io_read_npy(const void *buf, size_t len, const char *label, struct ia_tensor **out) {
    *out = NULL;
    if (!label) label = "<memory>";
    const uint8_t *b = buf;
    if (len < 10 || memcmp(b, "\x93NUMPY", 6))
        return ia_error_set(IA_EFORMAT, "%s: not a .npy file (bad magic)", label);
    unsigned major = b[6];
    uint64_t hlen, hstart;
    if (major == 1) {
        hlen = (uint64_t)b[8] | (uint64_t)b[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return ia_error_set(IA_EFORMAT, "%s: .npy header is truncated", label);
        hlen = (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
        hstart = 12;
    } else {
        return ia_error_set(IA_EUNSUPPORTED, "%s: .npy version %u is not supported", label, major);
    }
    if (hlen > IA_TENSOR_IO_MAX_NPY_HEADER)
        return ia_error_set(IA_ERANGE, "%s: .npy header of %llu bytes is over the limit", label,
                            (unsigned long long)hlen);
    if (hstart + hlen > (uint64_t)len)
        return ia_error_set(IA_EFORMAT, "%s: .npy header is truncated", label);
    struct npy_header hd;
    int rc = npy_parse_header((const char *)b + hstart, (size_t)hlen, label, &hd);
    if (rc) return rc;
    if (hd.fortran)
        return ia_error_set(IA_EUNSUPPORTED,
                            "%s: .npy in Fortran order is not supported (C order only)", label);
    const uint8_t *data = b + hstart + hlen;
    uint64_t avail = (uint64_t)len - hstart - hlen;
    const char *d = hd.descr;
    char order = d[0];
    if (order != '<' && order != '|' && order != '=' && order != '>')
        return ia_error_set(IA_EUNSUPPORTED, "%s: .npy type '%s' is not supported", label,
                            hd.descr);
    const char *code = d + 1;
    if ((code[0] == 'S' || code[0] == 'U') && code[1]) {
        uint64_t width = 0;
        for (const char *p = code + 1; *p; p++) {
            if (*p < '0' || *p > '9' || width > (1u << 24))
                return ia_error_set(IA_EFORMAT, "%s: .npy type '%s' has a bad width", label,
                                    hd.descr);
            width = width * 10 + (uint64_t)(*p - '0');
        }
        if (width == 0)
            return ia_error_set(IA_EFORMAT, "%s: .npy type '%s' has width 0", label, hd.descr);
        if (code[0] == 'U' && order == '>')
            return ia_error_set(IA_EUNSUPPORTED, "%s: big-endian .npy data is not supported",
                                label);
        return npy_strings(&hd, code[0] == 'U', width, data, avail, label, out);
    }
    enum ia_dtype dt = IA_DTYPE_UNDEFINED;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (!strcmp(code, npy_types[i].code)) dt = npy_types[i].dtype;
    if (dt == IA_DTYPE_UNDEFINED)
        return ia_error_set(IA_EUNSUPPORTED, "%s: .npy type '%s' is not supported", label,
                            hd.descr);
    if (order == '>' && ia_dtype_size(dt) > 1)
        return ia_error_set(IA_EUNSUPPORTED, "%s: big-endian .npy data is not supported", label);
    uint64_t nbytes;
    if (ia_shape_nbytes(dt, hd.dims, (size_t)hd.rank, &nbytes))
        return ia_error_set(IA_EFORMAT, "%s: .npy shape overflows", label);
    if (nbytes != avail)
        return ia_error_set(IA_EFORMAT, "%s: .npy data has %llu bytes but %s needs %llu", label,
                            (unsigned long long)avail, hd.descr, (unsigned long long)nbytes);
    struct ia_tensor *t;
    rc = block_alloc(dt, hd.rank, hd.dims, NULL, 0, &t);
    if (rc) return ia_error_wrap(rc, "%s", label);
    if (t->nbytes) memcpy(t->data, data, (size_t)t->nbytes);
    if (dt == IA_DTYPE_BOOL)
        for (uint64_t i = 0; i < t->numel; i++)
            ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
    *out = t;
    return IA_OK;
}

int ia_tensor_io_encode_npy(const struct ia_tensor *t, uint8_t **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    if (t->kind != IA_KIND_TENSOR)
        return ia_error_set(IA_EUNSUPPORTED, "%s is %s: .npy holds tensors only (write .pb)",
                            t->name ? t->name : "value", ia_value_kind_name(t));
    char descr[32];
    uint64_t width = 0;
    if (t->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *s = t->strings ? t->strings : t->data;
        for (uint64_t i = 0; i < t->numel; i++)
            if (s[i].len > width) width = s[i].len;
        if (width == 0) width = 1; /* numpy has no zero-width string type */
        snprintf(descr, sizeof descr, "|S%llu", (unsigned long long)width);
    } else {
        const char *code = NULL;
        for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
            if (npy_types[i].dtype == t->dtype) code = npy_types[i].code;
        if (!code)
            return ia_error_set(IA_EUNSUPPORTED, ".npy has no %s type (write .pb instead)",
                                ia_dtype_name(t->dtype));
        snprintf(descr, sizeof descr, "%c%s", ia_dtype_size(t->dtype) == 1 ? '|' : '<', code);
    }
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->rank; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld%s", (long long)t->dims[i],
                      t->rank == 1      ? ","
                      : i + 1 < t->rank ? ", "
                                        : "");
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    /* Pad with spaces and a final '\n' so the data starts at a multiple of 64. */
    size_t total_hdr = ALIGN_UP((uint64_t)10 + (uint64_t)n + 1, 64);
    size_t hlen = total_hdr - 10;
    uint64_t dbytes;
    if (t->dtype == IA_DTYPE_STRING) {
        if (__builtin_mul_overflow(t->numel, width, &dbytes))
            return ia_error_set(IA_ERANGE, "too big");
    } else {
        dbytes = t->nbytes;
    }
    uint64_t total = total_hdr + dbytes;
    if (total > SIZE_MAX / 2) return ia_error_set(IA_ERANGE, "tensor too big for .npy");
    uint8_t *b = ia_malloc((size_t)total);
    if (!b) return ia_error_set(IA_ENOMEM, "out of memory");
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)(hlen & 0xff);
    b[9] = (uint8_t)(hlen >> 8);
    memset(b + 10, ' ', hlen);
    memcpy(b + 10, hdr, (size_t)n);
    b[total_hdr - 1] = '\n';
    uint8_t *d = b + total_hdr;
    if (t->dtype == IA_DTYPE_STRING) {
        const struct ia_onnx_bytes *s = t->strings ? t->strings : t->data;
        memset(d, 0, (size_t)dbytes);
        for (uint64_t i = 0; i < t->numel; i++)
            if (s[i].len) memcpy(d + i * width, s[i].data, s[i].len);
    } else if (dbytes) {
        memcpy(d, t->data, (size_t)dbytes);
    }
    *buf = b;
    *len = (size_t)total;
    return IA_OK;
}
