/*
 * safetensors: read (memory-mapped, validated) and write.
 *
 * Layout (https://github.com/huggingface/safetensors, format v0):
 *   u64 little-endian N            the header's length in bytes
 *   N bytes of UTF-8 JSON          {"NAME": {"dtype": "F32", "shape": [..],
 *                                            "data_offsets": [BEGIN, END]},
 *                                   ..., "__metadata__": {"k": "v", ...}}
 *                                  (may be padded at the end with spaces)
 *   the data region                tensors' bytes, little-endian, C order;
 *                                  offsets are relative to its start
 * Limits and rules we enforce (as the reference implementation does): N in
 * [2, IA_ST_MAX_HEADER] and 8 + N within the file; the header starts with
 * '{'; no duplicate keys; at most IA_ST_MAX_TENSORS tensors of rank at most
 * IA_ST_MAX_RANK; END - BEGIN == numel x dtype size (checked 64-bit
 * arithmetic); the tensors, sorted by offset, tile the data region from 0
 * to its end with no gap and no overlap. __metadata__ maps strings to
 * strings. Every error names the file and, where there is one, the tensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo_internal.h"

struct ia_st_priv {
    json_t *root;          /* owns the name/dtype strings */
    void *map;             /* mmap of the file, or NULL when parsed from memory */
    size_t map_len;
    size_t *by_name;       /* (n_tensors) indices sorted by name */
    char *label;
    struct ia_st_tensor *tensors;
    struct ia_st_meta *meta;
};

static const struct {
    const char *name;
    enum ia_dtype dtype; /* UNDEFINED: valid in the format, unsupported here */
} st_dtypes[] = {
    {"F64", IA_DTYPE_FLOAT64},  {"F32", IA_DTYPE_FLOAT32},  {"F16", IA_DTYPE_FLOAT16},
    {"BF16", IA_DTYPE_BFLOAT16}, {"I64", IA_DTYPE_INT64},   {"I32", IA_DTYPE_INT32},
    {"I16", IA_DTYPE_INT16},    {"I8", IA_DTYPE_INT8},      {"U64", IA_DTYPE_UINT64},
    {"U32", IA_DTYPE_UINT32},   {"U16", IA_DTYPE_UINT16},   {"U8", IA_DTYPE_UINT8},
    {"BOOL", IA_DTYPE_BOOL},    {"F8_E4M3", IA_DTYPE_UNDEFINED},
    {"F8_E5M2", IA_DTYPE_UNDEFINED}, {"F4", IA_DTYPE_UNDEFINED}, {"F6_E2M3", IA_DTYPE_UNDEFINED},
    {"F6_E3M2", IA_DTYPE_UNDEFINED}, {"F8_E8M0", IA_DTYPE_UNDEFINED},
    {"C64", IA_DTYPE_UNDEFINED},
};

static const char *st_dtype_name(enum ia_dtype t) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].dtype == t && t != IA_DTYPE_UNDEFINED) return st_dtypes[i].name;
    return NULL;
}

void ia_safetensors_close(struct ia_safetensors *st) {
    if (!st) return;
    struct ia_st_priv *p = st->priv;
    if (p) {
        if (p->root) json_decref(p->root);
        if (p->map) munmap(p->map, p->map_len);
        ia_free(p->by_name);
        ia_free(p->label);
        ia_free(p->tensors);
        ia_free(p->meta);
        ia_free(p);
    }
    ia_free(st);
}

static int cmp_offset(const void *a, const void *b) {
    const struct ia_st_tensor *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int cmp_name_idx(const void *a, const void *b, void *arg) {
    const struct ia_st_tensor *base = arg;
    return strcmp(base[*(const size_t *)a].name, base[*(const size_t *)b].name);
}

/* Non-negative JSON integer. */
static int json_u64(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_tensor(const char *label, const char *name, json_t *info,
                        uint64_t data_len, struct ia_st_tensor *t) {
    if (!json_is_object(info))
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': entry is not an object", label, name);
    json_t *dt = json_object_get(info, "dtype"), *shape = json_object_get(info, "shape"),
           *offs = json_object_get(info, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs))
        return ia_error_set(IA_EFORMAT,
                            "%s: tensor '%.200s': needs \"dtype\" (string), \"shape\" and "
                            "\"data_offsets\" (arrays)",
                            label, name);
    t->name = name;
    t->dtype_name = json_string_value(dt);
    size_t i, nd = sizeof st_dtypes / sizeof st_dtypes[0];
    for (i = 0; i < nd; i++)
        if (!strcmp(st_dtypes[i].name, t->dtype_name)) break;
    if (i == nd)
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': unknown dtype '%.40s'", label, name,
                            t->dtype_name);
    if (st_dtypes[i].dtype == IA_DTYPE_UNDEFINED)
        return ia_error_set(IA_EUNSUPPORTED, "%s: tensor '%.200s': dtype %s is not supported",
                            label, name, t->dtype_name);
    t->dtype = st_dtypes[i].dtype;
    t->rank = json_array_size(shape);
    if (t->rank > IA_ST_MAX_RANK)
        return ia_error_set(IA_ERANGE, "%s: tensor '%.200s': rank %zu is over %d", label, name,
                            t->rank, IA_ST_MAX_RANK);
    uint64_t numel = 1;
    for (size_t d = 0; d < t->rank; d++) {
        uint64_t v;
        if (json_u64(json_array_get(shape, d), &v) || v > (uint64_t)INT64_MAX)
            return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': shape[%zu] is not a "
                                "non-negative integer", label, name, d);
        t->dims[d] = (int64_t)v;
        if (__builtin_mul_overflow(numel, v, &numel))
            return ia_error_set(IA_ERANGE, "%s: tensor '%.200s': element count overflows", label,
                                name);
    }
    t->numel = numel;
    if (__builtin_mul_overflow(numel, (uint64_t)ia_dtype_size(t->dtype), &t->nbytes))
        return ia_error_set(IA_ERANGE, "%s: tensor '%.200s': byte size overflows", label, name);
    uint64_t b, e;
    if (json_array_size(offs) != 2 || json_u64(json_array_get(offs, 0), &b) ||
        json_u64(json_array_get(offs, 1), &e))
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': data_offsets must be two "
                            "non-negative integers", label, name);
    if (e < b)
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu] end "
                            "before they begin", label, name, (unsigned long long)b,
                            (unsigned long long)e);
    if (e > data_len)
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': data_offsets end %llu is past the "
                            "data region (%llu bytes; file truncated?)", label, name,
                            (unsigned long long)e, (unsigned long long)data_len);
    if (e - b != t->nbytes)
        return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s': %llu bytes at [%llu, %llu) but %s "
                            "with %llu elements needs %llu", label, name,
                            (unsigned long long)(e - b), (unsigned long long)b,
                            (unsigned long long)e, t->dtype_name, (unsigned long long)numel,
                            (unsigned long long)t->nbytes);
    t->offset = b;
    return IA_OK;
}

int ia_safetensors_parse(const void *buf, size_t len, const char *label,
                         struct ia_safetensors **out) {
    *out = NULL;
    if (!label) label = "safetensors";
    const uint8_t *p = buf;
    if (len < 8)
        return ia_error_set(IA_EFORMAT, "%s: %zu bytes, too short for a safetensors header",
                            label, len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | p[i];
    if (n < 2 || n > IA_ST_MAX_HEADER)
        return ia_error_set(n < 2 ? IA_EFORMAT : IA_ERANGE,
                            "%s: header length %llu is outside [2, %u]", label,
                            (unsigned long long)n, IA_ST_MAX_HEADER);
    if (n > len - 8)
        return ia_error_set(IA_EFORMAT, "%s: header length %llu is past the end of the file "
                            "(%zu bytes)", label, (unsigned long long)n, len);
    if (p[8] != '{')
        return ia_error_set(IA_EFORMAT, "%s: header does not start with '{'", label);
    uint64_t data_len = len - 8 - n;

    struct ia_safetensors *st = ia_calloc(1, sizeof *st);
    struct ia_st_priv *pr = ia_calloc(1, sizeof *pr);
    if (!st || !pr) {
        ia_free(st);
        ia_free(pr);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    st->priv = pr;
    int rc = IA_OK;
    pr->label = ia_strdup(label);
    if (!pr->label) rc = ia_error_set(IA_ENOMEM, "out of memory");
    st->label = pr->label;
    st->header_len = n;
    st->data_len = data_len;
    json_error_t jerr;
    if (rc == IA_OK) {
        pr->root = json_loadb((const char *)p + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        if (!pr->root)
            rc = ia_error_set(IA_EFORMAT, "%s: header is not valid JSON: %s (at byte %d)", label,
                              jerr.text, jerr.position);
        else if (!json_is_object(pr->root))
            rc = ia_error_set(IA_EFORMAT, "%s: header is not a JSON object", label);
    }
    size_t n_entries = rc == IA_OK ? json_object_size(pr->root) : 0;
    if (rc == IA_OK && n_entries > IA_ST_MAX_TENSORS + 1)
        rc = ia_error_set(IA_ERANGE, "%s: %zu tensors, over the limit of %d", label, n_entries,
                          IA_ST_MAX_TENSORS);
    if (rc == IA_OK && n_entries) {
        pr->tensors = ia_calloc(n_entries, sizeof *pr->tensors);
        if (!pr->tensors) rc = ia_error_set(IA_ENOMEM, "out of memory");
    }
    const char *key;
    json_t *val;
    if (rc == IA_OK) json_object_foreach(pr->root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                rc = ia_error_set(IA_EFORMAT, "%s: __metadata__ is not an object", label);
                break;
            }
            size_t nm = json_object_size(val);
            if (nm) {
                pr->meta = ia_calloc(nm, sizeof *pr->meta);
                if (!pr->meta) {
                    rc = ia_error_set(IA_ENOMEM, "out of memory");
                    break;
                }
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    rc = ia_error_set(IA_EFORMAT, "%s: __metadata__ '%.100s' is not a string",
                                      label, mk);
                    break;
                }
                pr->meta[st->n_meta].key = mk;
                pr->meta[st->n_meta++].value = json_string_value(mv);
            }
            if (rc) break;
            continue;
        }
        rc = parse_tensor(label, key, val, data_len, &pr->tensors[st->n_tensors]);
        if (rc) break;
        st->n_tensors++;
    }
    if (rc == IA_OK && st->n_tensors) {
        qsort(pr->tensors, st->n_tensors, sizeof *pr->tensors, cmp_offset);
        uint64_t at = 0;
        for (size_t i = 0; i < st->n_tensors && rc == IA_OK; i++) {
            struct ia_st_tensor *t = &pr->tensors[i];
            if (t->offset < at)
                rc = ia_error_set(IA_EFORMAT, "%s: tensor '%.200s' at [%llu, %llu) overlaps "
                                  "tensor '%.200s'", label, t->name,
                                  (unsigned long long)t->offset,
                                  (unsigned long long)(t->offset + t->nbytes),
                                  pr->tensors[i - 1].name);
            else if (t->offset > at)
                rc = ia_error_set(IA_EFORMAT, "%s: %llu unused bytes before tensor '%.200s' at "
                                  "offset %llu", label, (unsigned long long)(t->offset - at),
                                  t->name, (unsigned long long)t->offset);
            at = t->offset + t->nbytes;
            t->data = t->nbytes ? p + 8 + n + t->offset : NULL;
        }
        if (rc == IA_OK && at != data_len)
            rc = ia_error_set(IA_EFORMAT, "%s: %llu bytes after the last tensor are not covered "
                              "by any tensor", label, (unsigned long long)(data_len - at));
    } else if (rc == IA_OK && data_len) {
        rc = ia_error_set(IA_EFORMAT, "%s: no tensors but %llu bytes of data", label,
                          (unsigned long long)data_len);
    }
    if (rc == IA_OK && st->n_tensors) {
        pr->by_name = ia_malloc(st->n_tensors * sizeof *pr->by_name);
        if (!pr->by_name) rc = ia_error_set(IA_ENOMEM, "out of memory");
        else {
            for (size_t i = 0; i < st->n_tensors; i++) pr->by_name[i] = i;
            qsort_r(pr->by_name, st->n_tensors, sizeof *pr->by_name, cmp_name_idx, pr->tensors);
        }
    }
    if (rc) {
        ia_safetensors_close(st);
        return rc;
    }
    st->tensors = pr->tensors;
    st->meta = pr->meta;
    *out = st;
    return IA_OK;
}

int ia_safetensors_open(const char *path, struct ia_safetensors **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ia_error_set(e == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ia_error_set(IA_EIO, "%s: not a regular file", path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return ia_error_set(IA_EFORMAT, "%s: %lld bytes, too short for a safetensors header",
                            path, (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return ia_error_set(IA_EIO, "%s: mmap: %s", path, strerror(errno));
    int rc = ia_safetensors_parse(map, len, path, out);
    if (rc) {
        munmap(map, len);
        return rc;
    }
    (*out)->priv->map = map;
    (*out)->priv->map_len = len;
    return IA_OK;
}

const struct ia_st_tensor *ia_safetensors_find(const struct ia_safetensors *st, const char *name) {
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ia_st_tensor *t = &st->tensors[st->priv->by_name[mid]];
        int c = strcmp(name, t->name);
        if (!c) return t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* ---- writing ------------------------------------------------------------ */

int ia_safetensors_write(const char *path, const struct ia_st_entry *t, size_t n,
                         const struct ia_st_meta *meta, size_t n_meta) {
    json_t *root = json_object();
    if (!root) return ia_error_set(IA_ENOMEM, "out of memory");
    int rc = IA_OK;
    uint64_t at = 0;
    uint64_t *sizes = ia_calloc(n ? n : 1, sizeof *sizes);
    if (!sizes) rc = ia_error_set(IA_ENOMEM, "out of memory");
    if (rc == IA_OK && n_meta) {
        json_t *m = json_object();
        for (size_t i = 0; m && i < n_meta; i++)
            json_object_set_new(m, meta[i].key, json_string(meta[i].value));
        if (!m || json_object_set_new(root, "__metadata__", m))
            rc = ia_error_set(IA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == IA_OK; i++) {
        const char *dn = st_dtype_name(t[i].dtype);
        if (!dn) {
            rc = ia_error_set(IA_EUNSUPPORTED, "%s: tensor '%.200s': dtype %s has no safetensors "
                              "name", path, t[i].name, ia_dtype_name(t[i].dtype));
            break;
        }
        if (t[i].rank > IA_ST_MAX_RANK) {
            rc = ia_error_set(IA_ERANGE, "%s: tensor '%.200s': rank over %d", path, t[i].name,
                              IA_ST_MAX_RANK);
            break;
        }
        rc = ia_shape_nbytes(t[i].dtype, t[i].dims, t[i].rank, &sizes[i]);
        if (rc) {
            ia_error_wrap(rc, "%s: tensor '%.200s'", path, t[i].name);
            break;
        }
        json_t *shape = json_array(), *info = json_object();
        for (size_t d = 0; shape && d < t[i].rank; d++)
            json_array_append_new(shape, json_integer(t[i].dims[d]));
        if (!shape || !info || json_object_set_new(info, "dtype", json_string(dn)) ||
            json_object_set_new(info, "shape", shape) ||
            json_object_set_new(info, "data_offsets",
                                json_pack("[II]", (json_int_t)at, (json_int_t)(at + sizes[i]))) ||
            json_object_set_new(root, t[i].name, info)) {
            rc = ia_error_set(IA_ENOMEM, "out of memory");
            break;
        }
        at += sizes[i];
    }
    char *hdr = rc == IA_OK ? json_dumps(root, JSON_COMPACT) : NULL;
    if (rc == IA_OK && !hdr) rc = ia_error_set(IA_ENOMEM, "out of memory");
    json_decref(root);
    struct zoo_tmpfile tf;
    if (rc == IA_OK) rc = zoo_tmp_open(&tf, path);
    if (rc == IA_OK) {
        size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
        uint8_t le[8];
        for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)padded >> (8 * i));
        int ok = fwrite(le, 1, 8, tf.f) == 8 && fwrite(hdr, 1, hl, tf.f) == hl;
        for (size_t i = hl; ok && i < padded; i++) ok = fputc(' ', tf.f) != EOF;
        for (size_t i = 0; ok && i < n; i++)
            ok = !sizes[i] || fwrite(t[i].data, 1, sizes[i], tf.f) == sizes[i];
        if (!ok) {
            rc = ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: write: %s", path,
                              strerror(errno));
            zoo_tmp_abort(&tf);
        } else {
            rc = zoo_tmp_commit(&tf);
        }
    }
    free(hdr);
    ia_free(sizes);
    return rc;
}

/* ---- temp files ---------------------------------------------------------- */

int zoo_tmp_open(struct zoo_tmpfile *t, const char *path) {
    memset(t, 0, sizeof *t);
    size_t pl = strlen(path);
    t->tmp = ia_malloc(pl + 16);
    if (!t->tmp) return ia_error_set(IA_ENOMEM, "out of memory");
    memcpy(t->tmp, path, pl);
    memcpy(t->tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(t->tmp);
    if (fd < 0) {
        int e = errno;
        ia_free(t->tmp);
        t->tmp = NULL;
        return ia_error_set(e == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    t->f = fdopen(fd, "wb");
    if (!t->f) {
        close(fd);
        unlink(t->tmp);
        ia_free(t->tmp);
        t->tmp = NULL;
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    t->path = path;
    return IA_OK;
}

void zoo_tmp_abort(struct zoo_tmpfile *t) {
    if (t->f) fclose(t->f);
    if (t->tmp) unlink(t->tmp);
    ia_free(t->tmp);
    memset(t, 0, sizeof *t);
}

int zoo_tmp_commit(struct zoo_tmpfile *t) {
    int err = 0;
    if (fflush(t->f) != 0) err = errno;
    if (!err && fsync(fileno(t->f)) != 0) err = errno;
    if (fclose(t->f) != 0 && !err) err = errno;
    t->f = NULL;
    if (!err && rename(t->tmp, t->path) != 0) err = errno;
    int rc = IA_OK;
    if (err) {
        unlink(t->tmp);
        rc = ia_error_set(err == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", t->path, strerror(err));
    }
    ia_free(t->tmp);
    t->tmp = NULL;
    return rc;
}
