/*
 * Sequence and optional values in .pb files: ONNX's SequenceProto and
 * OptionalProto (onnx-data.proto), as the node test suite stores them.
 * Our protobuf-c bindings come from onnx.proto alone, which lacks these
 * two messages, so their few fields are read and written here directly on
 * the protobuf wire format:
 *
 *   SequenceProto  1 name (bytes)  2 elem_type (varint: 1 tensor, 2 sparse
 *                  tensor, 3 sequence, 4 map, 5 optional)  3 tensor_values
 *                  (repeated TensorProto)  4 sparse_tensor_values
 *                  5 sequence_values  6 map_values  7 optional_values
 *   OptionalProto  1 name  2 elem_type (0 undefined = no value, 1 tensor,
 *                  3 sequence, ...)  3 tensor_value  4 sparse_tensor_value
 *                  5 sequence_value  6 map_value  7 optional_value
 *
 * A key is a varint (field << 3 | wire type); wire types 0 (varint), 1
 * (8 bytes), 2 (varint length + bytes) and 5 (4 bytes) are accepted and
 * unknown fields skipped; groups (3, 4) and anything else are IA_EFORMAT.
 * Every length is checked against the bytes left in 64-bit arithmetic.
 * We support sequences of tensors and optionals of a tensor or of such a
 * sequence (nesting two deep at most); the other element kinds are
 * IA_EUNSUPPORTED. Tensors inside go through ia_tensor_io_read_pb.
 *
 * A value read is one ia_malloc'd block (freed with ia_tensor_io_free):
 * the struct ia_tensor, its name, then for a sequence the item structs and
 * their data (ia_value_pack_items). An empty optional is IA_KIND_NONE; an
 * optional with a value is read as that value.
 */
#include <stdio.h>
#include <string.h>

#include "ia/tensor_io.h"
#include "onnx_internal.h"

/* ---- wire format -------------------------------------------------------- */

struct pb_field {
    uint32_t num;
    int wire;
    uint64_t v;       /* varint value */
    const uint8_t *p; /* wire 2: the bytes */
    size_t len;
};

static int pb_varint(const uint8_t **cur, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*cur >= end) return -1;
        uint8_t b = *(*cur)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* 1: a field in *f; 0: the end; -1: malformed. */
static int pb_next(const uint8_t **cur, const uint8_t *end, struct pb_field *f) {
    if (*cur >= end) return 0;
    uint64_t key;
    if (pb_varint(cur, end, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    f->p = NULL;
    f->len = 0;
    f->v = 0;
    switch (f->wire) {
    case 0:
        return pb_varint(cur, end, &f->v) ? -1 : 1;
    case 1:
    case 5: {
        size_t n = f->wire == 1 ? 8 : 4;
        if ((size_t)(end - *cur) < n) return -1;
        *cur += n;
        return 1;
    }
    case 2: {
        uint64_t n;
        if (pb_varint(cur, end, &n) || n > (uint64_t)(end - *cur)) return -1;
        f->p = *cur;
        f->len = (size_t)n;
        *cur += n;
        return 1;
    }
    default:
        return -1;
    }
}

static const char *const elem_names[] = {"undefined", "tensor", "sparse tensor",
                                         "sequence",  "map",    "optional"};

static const char *elem_name(uint64_t e) { return e < 6 ? elem_names[e] : "unknown"; }

/* ---- reading -------------------------------------------------------------- */

/* A struct ia_tensor with room for a name of name_len bytes after it, in
 * one zeroed block. */
static struct ia_tensor *header_block(size_t name_len) {
    return ia_calloc(1, sizeof(struct ia_tensor) + name_len + 1);
}

static void set_name(struct ia_tensor *t, const uint8_t *name, size_t len) {
    char *nm = (char *)(t + 1);
    if (len) memcpy(nm, name, len);
    nm[len] = '\0';
    t->name = len ? nm : NULL;
}

static int read_sequence(const uint8_t *buf, size_t len, const char *label,
                         struct ia_tensor **out) {
    const uint8_t *cur = buf, *end = buf + len, *name = NULL;
    size_t name_len = 0, n = 0, cap = 0;
    struct ia_tensor **parts = NULL;
    struct pb_field f;
    int r, rc = IA_OK;
    uint64_t elem = 0;
    while (rc == IA_OK && (r = pb_next(&cur, end, &f)) == 1) {
        if (f.num == 1 && f.wire == 2) {
            name = f.p;
            name_len = f.len;
        } else if (f.num == 2 && f.wire == 0) {
            elem = f.v;
        } else if (f.num == 3 && f.wire == 2) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                struct ia_tensor **np = ia_realloc(parts, nc * sizeof *np);
                if (!np) {
                    rc = ia_error_set(IA_ENOMEM, "out of memory");
                    break;
                }
                parts = np;
                cap = nc;
            }
            char sub[256];
            snprintf(sub, sizeof sub, "%s: item %zu", label, n);
            rc = ia_tensor_io_read_pb(f.p, f.len, sub, &parts[n]);
            if (rc == IA_OK) n++;
        } else if (f.num >= 4 && f.num <= 7 && f.wire == 2) {
            rc = ia_error_set(IA_EUNSUPPORTED, "%s: sequences of %s are not supported", label,
                              f.num == 4   ? "sparse tensors"
                              : f.num == 5 ? "sequences"
                              : f.num == 6 ? "maps"
                                           : "optionals");
        }
    }
    if (rc == IA_OK && r < 0)
        rc = ia_error_set(IA_EFORMAT, "%s: not a valid SequenceProto (protobuf parse failed)",
                          label);
    if (rc == IA_OK && elem != 0 && elem != 1)
        rc = ia_error_set(IA_EUNSUPPORTED, "%s: sequences of %s are not supported", label,
                          elem_name(elem));
    for (size_t i = 1; rc == IA_OK && i < n; i++)
        if (parts[i]->dtype != parts[0]->dtype)
            rc = ia_error_set(IA_EFORMAT, "%s: item %zu is %s but item 0 is %s", label, i,
                              ia_dtype_name(parts[i]->dtype), ia_dtype_name(parts[0]->dtype));
    struct ia_tensor *items = NULL;
    if (rc == IA_OK && n) {
        items = ia_malloc(n * sizeof *items);
        if (!items) rc = ia_error_set(IA_ENOMEM, "out of memory");
        for (size_t i = 0; items && i < n; i++) items[i] = *parts[i];
    }
    if (rc == IA_OK) {
        void *block;
        struct ia_tensor *copies;
        size_t head = sizeof(struct ia_tensor) + name_len + 1;
        rc = ia_value_pack_items(items, n, head, &block, &copies);
        if (rc == IA_OK) {
            struct ia_tensor *t = block;
            ia_value_set_sequence(t, n ? parts[0]->dtype : IA_DTYPE_UNDEFINED);
            set_name(t, name, name_len);
            t->items = copies;
            t->n_items = n;
            *out = t;
        } else {
            rc = ia_error_wrap(rc, "%s", label);
        }
    }
    ia_free(items);
    for (size_t i = 0; i < n; i++) ia_tensor_io_free(parts[i]);
    ia_free(parts);
    return rc;
}

static int read_optional(const uint8_t *buf, size_t len, const char *label,
                         struct ia_tensor **out) {
    const uint8_t *cur = buf, *end = buf + len, *name = NULL, *val = NULL;
    size_t name_len = 0, val_len = 0;
    uint32_t val_field = 0;
    struct pb_field f;
    int r;
    uint64_t elem = 0;
    while ((r = pb_next(&cur, end, &f)) == 1) {
        if (f.num == 1 && f.wire == 2) {
            name = f.p;
            name_len = f.len;
        } else if (f.num == 2 && f.wire == 0) {
            elem = f.v;
        } else if (f.num >= 3 && f.num <= 7 && f.wire == 2) {
            if (val_field)
                return ia_error_set(IA_EFORMAT, "%s: an OptionalProto with two values", label);
            val_field = f.num;
            val = f.p;
            val_len = f.len;
        }
    }
    if (r < 0)
        return ia_error_set(IA_EFORMAT, "%s: not a valid OptionalProto (protobuf parse failed)",
                            label);
    if (val_field == 4 || val_field > 5 || (elem != 0 && elem != 1 && elem != 3))
        return ia_error_set(IA_EUNSUPPORTED, "%s: optionals of %s are not supported", label,
                            val_field == 4   ? "sparse tensors"
                            : val_field == 6 ? "maps"
                            : val_field == 7 ? "optionals"
                                             : elem_name(elem));
    if ((val_field == 3 && elem != 1) || (val_field == 5 && elem != 3) ||
        (!val_field && elem != 0 && elem != 1 && elem != 3))
        return ia_error_set(IA_EFORMAT, "%s: elem_type %s does not match the value", label,
                            elem_name(elem));
    if (val_field == 3) return ia_tensor_io_read_pb(val, val_len, label, out);
    if (val_field == 5) return read_sequence(val, val_len, label, out);
    struct ia_tensor *t = header_block(name_len);
    if (!t) return ia_error_set(IA_ENOMEM, "out of memory");
    ia_value_set_none(t);
    set_name(t, name, name_len);
    *out = t;
    return IA_OK;
}

int ia_tensor_io_read_value_pb(const void *buf, size_t len, enum ia_onnx_type type,
                               const char *label, struct ia_tensor **out) {
    *out = NULL;
    if (!label) label = "<memory>";
    if ((uint64_t)len > IA_TENSOR_IO_MAX_PB_BYTES)
        return ia_error_set(IA_ERANGE, "%s: %zu bytes is over protobuf's 2 GiB limit", label, len);
    switch (type) {
    case IA_ONNX_TYPE_TENSOR:
        return ia_tensor_io_read_pb(buf, len, label, out);
    case IA_ONNX_TYPE_SEQUENCE:
        return read_sequence(buf, len, label, out);
    case IA_ONNX_TYPE_OPTIONAL:
        return read_optional(buf, len, label, out);
    default:
        return ia_error_set(IA_EUNSUPPORTED,
                            "%s: only tensors, sequences and optionals can be "
                            "read",
                            label);
    }
}

int ia_tensor_io_read_value(const char *path, enum ia_onnx_type type, struct ia_tensor **out) {
    *out = NULL;
    if (type == IA_ONNX_TYPE_TENSOR) return ia_tensor_io_read(path, out);
    if (ia_tensor_io_format_of(path) != IA_TENSOR_FORMAT_PB)
        return ia_error_set(IA_EUNSUPPORTED, "%s: sequences and optionals are read from .pb only",
                            path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return ia_error_set(IA_ENOTFOUND, "%s: cannot open", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = IA_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= IA_TENSOR_IO_MAX_PB_BYTES) {
                rc = ia_error_set(IA_ERANGE, "%s: over protobuf's 2 GiB limit", path);
                break;
            }
            size_t nc = cap ? cap * 2 : 4096;
            uint8_t *nb = ia_realloc(buf, nc);
            if (!nb) {
                rc = ia_error_set(IA_ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp)) rc = ia_error_set(IA_EIO, "%s: read failed", path);
            break;
        }
    }
    fclose(fp);
    if (rc == IA_OK) rc = ia_tensor_io_read_value_pb(buf, len, type, path, out);
    ia_free(buf);
    return rc;
}

/* ---- writing and copying ---------------------------------------------------- */

struct pb_out {
    uint8_t *b;
    size_t len, cap;
    int failed;
};

static void out_bytes(struct pb_out *o, const void *p, size_t n) {
    if (o->failed) return;
    if (o->len + n > o->cap) {
        size_t nc = o->cap ? o->cap : 256;
        while (nc < o->len + n) nc *= 2;
        uint8_t *nb = ia_realloc(o->b, nc);
        if (!nb) {
            o->failed = 1;
            return;
        }
        o->b = nb;
        o->cap = nc;
    }
    if (n) memcpy(o->b + o->len, p, n);
    o->len += n;
}

static void out_varint(struct pb_out *o, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    out_bytes(o, tmp, n);
}

static void out_field_bytes(struct pb_out *o, uint32_t num, const void *p, size_t n) {
    out_varint(o, (uint64_t)num << 3 | 2);
    out_varint(o, n);
    out_bytes(o, p, n);
}

int onnx_value_encode_pb(const struct ia_tensor *t, const char *name, uint8_t **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    if (t->kind == IA_KIND_TENSOR) return ia_tensor_io_encode_pb(t, name, buf, len);
    struct pb_out o = {0};
    const char *nm = name ? name : t->name;
    if (nm && nm[0]) out_field_bytes(&o, 1, nm, strlen(nm));
    if (t->kind == IA_KIND_NONE) {
        out_varint(&o, 2 << 3); /* elem_type: undefined, no value */
        out_varint(&o, 0);
    } else {
        out_varint(&o, 2 << 3); /* elem_type: tensor */
        out_varint(&o, 1);
        for (size_t i = 0; i < t->n_items; i++) {
            uint8_t *ib;
            size_t il;
            if (t->items[i].kind != IA_KIND_TENSOR) {
                ia_free(o.b);
                return ia_error_set(IA_EUNSUPPORTED, "sequence item %zu is not a tensor", i);
            }
            int rc = ia_tensor_io_encode_pb(&t->items[i], "", &ib, &il);
            if (rc) {
                ia_free(o.b);
                return rc;
            }
            out_field_bytes(&o, 3, ib, il);
            ia_free(ib);
        }
    }
    if (o.failed || (uint64_t)o.len > IA_TENSOR_IO_MAX_PB_BYTES) {
        ia_free(o.b);
        return o.failed ? ia_error_set(IA_ENOMEM, "out of memory")
                        : ia_error_set(IA_ERANGE, "a sequence over protobuf's 2 GiB limit");
    }
    if (!o.b) {
        o.b = ia_malloc(1);
        if (!o.b) return ia_error_set(IA_ENOMEM, "out of memory");
    }
    *buf = o.b;
    *len = o.len;
    return IA_OK;
}

int onnx_value_clone(const struct ia_tensor *t, const char *name, struct ia_tensor **out) {
    *out = NULL;
    if (t->kind == IA_KIND_TENSOR) return ia_tensor_io_clone(t, name, out);
    const char *nm = name ? name : t->name;
    size_t name_len = nm ? strlen(nm) : 0;
    void *block;
    struct ia_tensor *copies;
    size_t n = t->kind == IA_KIND_SEQUENCE && t->items ? t->n_items : 0;
    int rc =
        ia_value_pack_items(t->items, n, sizeof(struct ia_tensor) + name_len + 1, &block, &copies);
    if (rc) return rc;
    struct ia_tensor *c = block;
    if (t->kind == IA_KIND_SEQUENCE) {
        ia_value_set_sequence(c, t->dtype);
        c->items = copies;
        c->n_items = n;
    } else {
        ia_value_set_none(c);
    }
    set_name(c, (const uint8_t *)nm, name_len);
    *out = c;
    return IA_OK;
}
