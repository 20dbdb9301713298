/*
 * The CAR v1 header, the one piece of DAG-CBOR we need:
 *
 *   a2                       map of 2
 *     65 "roots"   8N        array of N (N <= IA_CAR_MAX_ROOTS)
 *       d8 2a  58 LL  00 <binary CID>    tag 42, bytes: 0x00 prefix + CID
 *     67 "version" 01
 *
 * DAG-CBOR sorts map keys by length then bytes, so "roots" comes first;
 * we write that order and read either. Indefinite lengths, other keys,
 * other tags and extra bytes after the map are refused. A map holding only
 * "version" is the CARv2 pragma (or a version-only header): refused as
 * unsupported when the version is not 1, malformed when roots are missing.
 */
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

struct cbor {
    const uint8_t *p;
    size_t len, pos;
    const char *name;
};

/* Reads one item head: major type and argument. */
static int head(struct cbor *c, int *major, uint64_t *arg) {
    if (c->pos >= c->len)
        return ia_error_set(IA_EFORMAT, "%s: CAR header truncated at byte %zu", c->name, c->pos);
    uint8_t b = c->p[c->pos++];
    *major = b >> 5;
    uint8_t ai = b & 31;
    if (ai < 24) {
        *arg = ai;
        return IA_OK;
    }
    if (ai > 27)
        return ia_error_set(IA_EFORMAT, "%s: CAR header: unsupported CBOR item 0x%02x at byte %zu",
                            c->name, b, c->pos - 1);
    size_t n = (size_t)1 << (ai - 24);
    if (c->len - c->pos < n)
        return ia_error_set(IA_EFORMAT, "%s: CAR header truncated at byte %zu", c->name, c->pos);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | c->p[c->pos++];
    *arg = v;
    return IA_OK;
}

static int expect(struct cbor *c, int want_major, uint64_t *arg, const char *what) {
    int major = -1; /* set by head() on success */
    size_t at = c->pos;
    int rc = head(c, &major, arg);
    if (rc < 0) return rc;
    if (major != want_major)
        return ia_error_set(IA_EFORMAT, "%s: CAR header: expected %s at byte %zu", c->name, what,
                            at);
    return IA_OK;
}

static int read_roots(struct cbor *c, struct ia_cid *roots, size_t *n_roots) {
    uint64_t n;
    int rc = expect(c, 4, &n, "an array of roots");
    if (rc < 0) return rc;
    if (n > IA_CAR_MAX_ROOTS)
        return ia_error_set(IA_ERANGE, "%s: CAR header has %llu roots (at most %d)", c->name,
                            (unsigned long long)n, IA_CAR_MAX_ROOTS);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t tag, blen;
        size_t at = c->pos;
        if ((rc = expect(c, 6, &tag, "a CID (tag 42)")) < 0) return rc;
        if (tag != 42)
            return ia_error_set(IA_EFORMAT, "%s: CAR header: tag %llu at byte %zu, expected 42",
                                c->name, (unsigned long long)tag, at);
        if ((rc = expect(c, 2, &blen, "CID bytes")) < 0) return rc;
        if (blen > c->len - c->pos)
            return ia_error_set(IA_EFORMAT, "%s: CAR header truncated in root %llu", c->name,
                                (unsigned long long)i);
        const uint8_t *b = c->p + c->pos;
        if (blen < 1 || b[0] != 0x00)
            return ia_error_set(IA_EFORMAT, "%s: CAR header: root %llu lacks the 0x00 prefix",
                                c->name, (unsigned long long)i);
        int used = ia_cid_from_bytes(b + 1, (size_t)blen - 1, &roots[i]);
        if (used < 0)
            return ia_error_wrap(used, "%s: CAR header: root %llu", c->name, (unsigned long long)i);
        if ((uint64_t)used != blen - 1)
            return ia_error_set(IA_EFORMAT, "%s: CAR header: root %llu has trailing bytes", c->name,
                                (unsigned long long)i);
        c->pos += (size_t)blen;
    }
    *n_roots = (size_t)n;
    return IA_OK;
}

int ia_car_header_decode(const uint8_t *buf, size_t len, const char *name, struct ia_cid *roots,
                         size_t *n_roots) {
    struct cbor c = {buf, len, 0, name};
    uint64_t n_keys, version = 0;
    int rc = expect(&c, 5, &n_keys, "a map");
    if (rc < 0) return rc;
    if (n_keys < 1 || n_keys > 2)
        return ia_error_set(IA_EFORMAT, "%s: CAR header map has %llu keys (want roots, version)",
                            name, (unsigned long long)n_keys);
    int have_roots = 0, have_version = 0;
    for (uint64_t k = 0; k < n_keys; k++) {
        uint64_t klen;
        size_t at = c.pos;
        if ((rc = expect(&c, 3, &klen, "a text key")) < 0) return rc;
        if (klen > c.len - c.pos) return ia_error_set(IA_EFORMAT, "%s: CAR header truncated", name);
        const char *key = (const char *)c.p + c.pos;
        c.pos += (size_t)klen;
        if (klen == 5 && memcmp(key, "roots", 5) == 0 && !have_roots) {
            if ((rc = read_roots(&c, roots, n_roots)) < 0) return rc;
            have_roots = 1;
        } else if (klen == 7 && memcmp(key, "version", 7) == 0 && !have_version) {
            if ((rc = expect(&c, 0, &version, "an integer version")) < 0) return rc;
            have_version = 1;
        } else {
            return ia_error_set(IA_EFORMAT,
                                "%s: CAR header: unexpected or repeated key at byte %zu", name, at);
        }
    }
    if (!have_version) return ia_error_set(IA_EFORMAT, "%s: CAR header has no version", name);
    if (version != 1)
        return ia_error_set(IA_EUNSUPPORTED, "%s: CAR version %llu is not supported (only 1)", name,
                            (unsigned long long)version);
    if (!have_roots) return ia_error_set(IA_EFORMAT, "%s: CAR header has no roots", name);
    if (c.pos != c.len)
        return ia_error_set(IA_EFORMAT, "%s: CAR header has %zu bytes after the map", name,
                            c.len - c.pos);
    return IA_OK;
}

static uint8_t *put_head(uint8_t *p, int major, uint64_t v) {
    if (v < 24) {
        *p++ = (uint8_t)(major << 5 | (int)v);
    } else if (v < 256) {
        *p++ = (uint8_t)(major << 5 | 24);
        *p++ = (uint8_t)v;
    } else {
        /* Nothing in this header exceeds 16 bits (roots and CIDs are small). */
        IA_ASSERT(v < 65536);
        *p++ = (uint8_t)(major << 5 | 25);
        *p++ = (uint8_t)(v >> 8);
        *p++ = (uint8_t)v;
    }
    return p;
}

int ia_car_header_encode(const struct ia_cid *roots, size_t n_roots, uint8_t **out,
                         size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (n_roots > IA_CAR_MAX_ROOTS)
        return ia_error_set(IA_ERANGE, "CAR: %zu roots (at most %d)", n_roots, IA_CAR_MAX_ROOTS);
    /* map + "roots" + array head + per root (tag 2 + bytes head 3 + 0x00 + CID) + "version" 1 */
    size_t cap = 1 + 6 + 2 + n_roots * (2 + 3 + 1 + IA_CID_BYTES_MAX) + 8 + 1;
    uint8_t *buf = ia_malloc(cap);
    if (!buf) return ia_error_set(IA_ENOMEM, "CAR: out of memory for the header");
    uint8_t *p = buf;
    *p++ = 0xa2;
    p = put_head(p, 3, 5);
    memcpy(p, "roots", 5);
    p += 5;
    p = put_head(p, 4, n_roots);
    for (size_t i = 0; i < n_roots; i++) {
        uint8_t cb[IA_CID_BYTES_MAX];
        size_t n = ia_cid_to_bytes(&roots[i], cb, sizeof cb);
        if (n == 0) {
            ia_free(buf);
            return ia_error_set(IA_EINVAL, "CAR: root %zu is not a valid CID", i);
        }
        *p++ = 0xd8;
        *p++ = 42;
        p = put_head(p, 2, n + 1);
        *p++ = 0x00;
        memcpy(p, cb, n);
        p += n;
    }
    p = put_head(p, 3, 7);
    memcpy(p, "version", 7);
    p += 7;
    *p++ = 0x01;
    IA_ASSERT((size_t)(p - buf) <= cap);
    *out = buf;
    *out_len = (size_t)(p - buf);
    return IA_OK;
}
