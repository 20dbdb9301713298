/*
 * CAR v1 (https://ipld.io/specs/transport/car/carv1/):
 *
 *   varint(header length) | DAG-CBOR header {"roots": [CID...], "version": 1}
 *   then sections until EOF: varint(length) | binary CID | block bytes
 *
 * Varints are multiformats varints (minimal, at most 9 bytes). Limits: the
 * header is at most CAR_MAX_HEADER bytes with at most IA_CAR_MAX_ROOTS
 * roots; a section is 1..IA_CAR_MAX_SECTION bytes, so the stream reader's
 * buffer never grows past that. EOF exactly between sections is the clean
 * end; EOF inside one is an error, as is a zero-length section. Blocks are
 * not hashed here: callers verify them against their CIDs.
 *
 * Errors name the source (the name given, or "<memory>") and the byte
 * offset of the section at fault, and stay: after one, every later call
 * returns the same code.
 */
#include <errno.h>
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

#define CAR_MAX_HEADER (64u << 10)

struct ia_car_reader {
    FILE *f;            /* stream source, or NULL */
    const uint8_t *mem; /* memory source */
    size_t mem_len;
    uint64_t pos; /* bytes consumed so far */
    char *name;   /* for messages (ia_malloc'd) */
    int err;      /* sticky error, 0 if none */
    uint8_t *buf; /* stream: current section, cap bytes */
    size_t cap;
    struct ia_cid roots[IA_CAR_MAX_ROOTS];
    size_t n_roots;
};

/* Reads a varint. Returns 1 on success, 0 at a clean EOF (no byte at all),
 * negative on a truncated or bad varint. */
static int read_varint(struct ia_car_reader *r, uint64_t *v, const char *what) {
    uint8_t tmp[9];
    size_t n = 0;
    if (r->f) {
        for (;;) {
            int ch = getc(r->f);
            if (ch == EOF) {
                if (ferror(r->f))
                    return ia_error_set(IA_EIO, "%s: read error at byte %llu: %s", r->name,
                                        (unsigned long long)(r->pos + n), strerror(errno));
                if (n == 0) return 0;
                return ia_error_set(IA_EFORMAT, "%s: truncated %s at byte %llu", r->name, what,
                                    (unsigned long long)r->pos);
            }
            tmp[n++] = (uint8_t)ch;
            if (!(ch & 0x80) || n == sizeof tmp) break;
        }
    } else {
        size_t left = r->mem_len - (size_t)r->pos;
        if (left == 0) return 0;
        n = left < sizeof tmp ? left : sizeof tmp;
        memcpy(tmp, r->mem + r->pos, n);
        size_t end = 0;
        while (end < n && (tmp[end] & 0x80)) end++;
        if (end == n && n < sizeof tmp)
            return ia_error_set(IA_EFORMAT, "%s: truncated %s at byte %llu", r->name, what,
                                (unsigned long long)r->pos);
    }
    int used = ia_varint_decode(tmp, n, v);
    if (used < 0)
        return ia_error_wrap(IA_EFORMAT, "%s: bad %s at byte %llu", r->name, what,
                             (unsigned long long)r->pos);
    r->pos += (uint64_t)used;
    return 1;
}

/* Makes len bytes available at *out: into the caller's memory, or read into
 * r->buf. */
static int read_bytes(struct ia_car_reader *r, size_t len, const uint8_t **out, const char *what,
                      uint64_t section_at) {
    if (!r->f) {
        if (len > r->mem_len - (size_t)r->pos)
            return ia_error_set(
                IA_EFORMAT, "%s: truncated %s at byte %llu (%zu bytes declared, %zu left)", r->name,
                what, (unsigned long long)section_at, len, r->mem_len - (size_t)r->pos);
        *out = r->mem + r->pos;
        r->pos += len;
        return IA_OK;
    }
    if (len > r->cap) {
        /* Grow geometrically but never beyond the section limit. */
        size_t ncap = r->cap ? r->cap : 4096;
        while (ncap < len) ncap *= 2;
        if (ncap > IA_CAR_MAX_SECTION) ncap = IA_CAR_MAX_SECTION;
        IA_ASSERT(ncap >= len);
        uint8_t *nb = ia_realloc(r->buf, ncap);
        if (!nb)
            return ia_error_set(IA_ENOMEM, "%s: out of memory for a %zu-byte section", r->name,
                                len);
        r->buf = nb;
        r->cap = ncap;
    }
    size_t got = len ? fread(r->buf, 1, len, r->f) : 0;
    if (got != len) {
        if (ferror(r->f))
            return ia_error_set(IA_EIO, "%s: read error at byte %llu: %s", r->name,
                                (unsigned long long)(r->pos + got), strerror(errno));
        return ia_error_set(IA_EFORMAT,
                            "%s: truncated %s at byte %llu (%zu bytes declared, %zu present)",
                            r->name, what, (unsigned long long)section_at, len, got);
    }
    r->pos += len;
    *out = r->buf;
    return IA_OK;
}

static int read_header(struct ia_car_reader *r) {
    uint64_t hlen;
    int rc = read_varint(r, &hlen, "header length");
    if (rc == 0) return ia_error_set(IA_EFORMAT, "%s: empty file, not a CAR", r->name);
    if (rc < 0) return rc;
    if (hlen == 0 || hlen > CAR_MAX_HEADER)
        return ia_error_set(IA_EFORMAT, "%s: CAR header length %llu out of range (1..%u)", r->name,
                            (unsigned long long)hlen, CAR_MAX_HEADER);
    const uint8_t *h;
    if ((rc = read_bytes(r, (size_t)hlen, &h, "CAR header", 0)) < 0) return rc;
    return ia_car_header_decode(h, (size_t)hlen, r->name, r->roots, &r->n_roots);
}

static int reader_new(FILE *f, const uint8_t *mem, size_t len, const char *name,
                      struct ia_car_reader **out) {
    *out = NULL;
    struct ia_car_reader *r = ia_calloc(1, sizeof *r);
    if (!r) return ia_error_set(IA_ENOMEM, "out of memory opening a CAR");
    r->f = f;
    r->mem = mem;
    r->mem_len = len;
    r->name = ia_strdup(name);
    if (!r->name) {
        ia_free(r);
        return ia_error_set(IA_ENOMEM, "out of memory opening a CAR");
    }
    int rc = read_header(r);
    if (rc < 0) {
        ia_car_reader_close(r);
        return rc;
    }
    *out = r;
    return IA_OK;
}

int ia_car_reader_open(FILE *f, const char *name_for_errors, struct ia_car_reader **out) {
    if (!f) return ia_error_set(IA_EINVAL, "CAR: no stream");
    return reader_new(f, NULL, 0, name_for_errors ? name_for_errors : "<stream>", out);
}

int ia_car_reader_open_mem(const uint8_t *buf, size_t len, struct ia_car_reader **out) {
    if (!buf && len) return ia_error_set(IA_EINVAL, "CAR: no buffer");
    static const uint8_t empty = 0;
    return reader_new(NULL, buf ? buf : &empty, len, "<memory>", out);
}

void ia_car_reader_close(struct ia_car_reader *r) {
    if (!r) return;
    ia_free(r->buf);
    ia_free(r->name);
    ia_free(r);
}

size_t ia_car_reader_n_roots(const struct ia_car_reader *r) { return r->n_roots; }

const struct ia_cid *ia_car_reader_root(const struct ia_car_reader *r, size_t i) {
    return i < r->n_roots ? &r->roots[i] : NULL;
}

static int next_section(struct ia_car_reader *r, struct ia_cid *cid, const uint8_t **data,
                        size_t *len) {
    uint64_t at = r->pos, slen;
    int rc = read_varint(r, &slen, "section length");
    if (rc <= 0) return rc;
    if (slen == 0)
        return ia_error_set(IA_EFORMAT, "%s: zero-length section at byte %llu", r->name,
                            (unsigned long long)at);
    if (slen > IA_CAR_MAX_SECTION)
        return ia_error_set(IA_ERANGE, "%s: section at byte %llu claims %llu bytes (limit %u)",
                            r->name, (unsigned long long)at, (unsigned long long)slen,
                            (unsigned)IA_CAR_MAX_SECTION);
    const uint8_t *s;
    if ((rc = read_bytes(r, (size_t)slen, &s, "section", at)) < 0) return rc;
    int n = ia_cid_from_bytes(s, (size_t)slen, cid);
    if (n < 0) return ia_error_wrap(n, "%s: section at byte %llu", r->name, (unsigned long long)at);
    *data = s + n;
    *len = (size_t)slen - (size_t)n;
    return 1;
}

int ia_car_reader_next(struct ia_car_reader *r, struct ia_cid *cid, const uint8_t **data,
                       size_t *len) {
    if (r->err) return r->err;
    int rc = next_section(r, cid, data, len);
    if (rc < 0) r->err = rc;
    return rc;
}

/* ---- writer ---------------------------------------------------------------- */

struct ia_car_writer {
    FILE *f;
    int err;
};

static int w_write(struct ia_car_writer *w, const void *p, size_t n) {
    if (w->err) return w->err;
    if (n && fwrite(p, 1, n, w->f) != n) {
        int e = errno;
        w->err =
            ia_error_set(e == ENOSPC ? IA_ENOSPC : IA_EIO, "CAR: write failed: %s", strerror(e));
    }
    return w->err;
}

int ia_car_writer_open(FILE *f, const struct ia_cid *roots, size_t n_roots,
                       struct ia_car_writer **out) {
    *out = NULL;
    if (!f) return ia_error_set(IA_EINVAL, "CAR: no stream");
    uint8_t *h;
    size_t hlen;
    int rc = ia_car_header_encode(roots, n_roots, &h, &hlen);
    if (rc < 0) return rc;
    struct ia_car_writer *w = ia_calloc(1, sizeof *w);
    if (!w) {
        ia_free(h);
        return ia_error_set(IA_ENOMEM, "out of memory opening a CAR writer");
    }
    w->f = f;
    uint8_t v[IA_VARINT_MAX];
    size_t vn = ia_varint_encode(hlen, v);
    rc = w_write(w, v, vn);
    if (rc == IA_OK) rc = w_write(w, h, hlen);
    ia_free(h);
    if (rc < 0) {
        ia_free(w);
        return rc;
    }
    *out = w;
    return IA_OK;
}

int ia_car_writer_put(struct ia_car_writer *w, const struct ia_cid *cid, const uint8_t *data,
                      size_t len) {
    if (w->err) return w->err;
    uint8_t cb[IA_CID_BYTES_MAX];
    size_t cn = ia_cid_to_bytes(cid, cb, sizeof cb);
    if (cn == 0) return ia_error_set(IA_EINVAL, "CAR: invalid CID");
    /* The reader refuses bigger sections, so the writer never makes one. */
    if (len > IA_CAR_MAX_SECTION - cn)
        return ia_error_set(IA_ERANGE, "CAR: block of %zu bytes exceeds the section limit", len);
    uint8_t v[IA_VARINT_MAX];
    size_t vn = ia_varint_encode(cn + len, v);
    int rc = w_write(w, v, vn);
    if (rc == IA_OK) rc = w_write(w, cb, cn);
    if (rc == IA_OK) rc = w_write(w, data, len);
    return rc;
}

int ia_car_writer_close(struct ia_car_writer *w) {
    if (!w) return IA_OK;
    int rc = w->err;
    if (rc == IA_OK && fflush(w->f) != 0) {
        int e = errno;
        rc = ia_error_set(e == ENOSPC ? IA_ENOSPC : IA_EIO, "CAR: flush failed: %s", strerror(e));
    }
    ia_free(w);
    return rc;
}
