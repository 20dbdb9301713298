/*
 * CIDs.
 *
 * Binary: CIDv0 is a bare sha2-256 multihash (0x12 0x20 + 32 bytes, 34 in
 * all); CIDv1 is varint(1) | varint(codec) | multihash. Codecs accepted:
 * raw, dag-pb and dag-cbor; anything else is IA_EUNSUPPORTED naming it.
 *
 * Text: CIDv0 is 46 base58btc characters starting "Qm"; CIDv1 is multibase
 * ('b' base32 lower when we write it; 'B', 'z', 'f', 'F' also read).
 * Strings are at most IA_CID_STR_MAX - 1 characters; the whole string and
 * the whole decoded byte string must be consumed.
 */
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

static int codec_known(uint64_t codec) {
    return codec == IA_CODEC_RAW || codec == IA_CODEC_DAG_PB || codec == IA_CODEC_DAG_CBOR;
}

const char *ia_codec_name(uint64_t codec) {
    switch (codec) {
    case IA_CODEC_RAW:
        return "raw";
    case IA_CODEC_DAG_PB:
        return "dag-pb";
    case IA_CODEC_DAG_CBOR:
        return "dag-cbor";
    default:
        return "unknown";
    }
}

int ia_cid_from_bytes(const uint8_t *buf, size_t len, struct ia_cid *out) {
    if (len >= 2 && buf[0] == IA_MH_SHA2_256 && buf[1] == 32) {
        struct ia_cid c = {.version = 0, .codec = IA_CODEC_DAG_PB};
        int n = ia_mh_from_bytes(buf, len, &c.mh);
        if (n < 0) return ia_error_wrap(n, "CIDv0");
        *out = c;
        return n;
    }
    uint64_t version, codec;
    int n1 = ia_varint_decode(buf, len, &version);
    if (n1 < 0) return ia_error_set(IA_EFORMAT, "CID: bad version varint");
    if (version != 1) {
        if (version == 0)
            return ia_error_set(IA_EFORMAT, "CID: explicit version 0 is not a valid CID");
        return ia_error_set(IA_EUNSUPPORTED, "CID: unsupported version %llu",
                            (unsigned long long)version);
    }
    int n2 = ia_varint_decode(buf + n1, len - (size_t)n1, &codec);
    if (n2 < 0) return ia_error_set(IA_EFORMAT, "CID: bad codec varint");
    if (!codec_known(codec))
        return ia_error_set(IA_EUNSUPPORTED, "CID: unknown codec 0x%llx",
                            (unsigned long long)codec);
    size_t head = (size_t)n1 + (size_t)n2;
    struct ia_cid c = {.version = 1, .codec = codec};
    int n3 = ia_mh_from_bytes(buf + head, len - head, &c.mh);
    if (n3 < 0) return ia_error_wrap(n3, "CID");
    *out = c;
    return (int)(head + (size_t)n3);
}

size_t ia_cid_to_bytes(const struct ia_cid *cid, uint8_t *out, size_t cap) {
    if (cid->version == 0) return ia_mh_to_bytes(&cid->mh, out, cap);
    uint8_t a[IA_VARINT_MAX], b[IA_VARINT_MAX];
    size_t na = ia_varint_encode(cid->version, a);
    size_t nb = ia_varint_encode(cid->codec, b);
    if (na + nb > cap) return 0;
    size_t m = ia_mh_to_bytes(&cid->mh, out + na + nb, cap - na - nb);
    if (m == 0) return 0;
    memcpy(out, a, na);
    memcpy(out + na, b, nb);
    return na + nb + m;
}

int ia_cid_parse(const char *str, struct ia_cid *out) {
    if (!str) return ia_error_set(IA_EINVAL, "CID: no string");
    size_t len = strnlen(str, IA_CID_STR_MAX);
    if (len == 0) return ia_error_set(IA_EFORMAT, "CID: empty string");
    if (len >= IA_CID_STR_MAX)
        return ia_error_set(IA_EFORMAT, "CID: string longer than %d characters",
                            IA_CID_STR_MAX - 1);
    uint8_t bin[IA_CID_BYTES_MAX];
    int n;
    if (len == 46 && str[0] == 'Q' && str[1] == 'm') {
        n = ia_base58btc_decode(str, len, bin, sizeof bin);
        if (n < 0) return ia_error_wrap(IA_EFORMAT, "invalid CID \"%s\"", str);
        if (n != 34 || bin[0] != IA_MH_SHA2_256 || bin[1] != 32)
            return ia_error_set(IA_EFORMAT, "invalid CIDv0 \"%s\": not a sha2-256 multihash", str);
    } else {
        n = ia_multibase_decode(str[0], str + 1, len - 1, bin, sizeof bin);
        if (n < 0) return ia_error_wrap(n == IA_ERANGE ? IA_EFORMAT : n, "invalid CID \"%s\"", str);
    }
    struct ia_cid c;
    int used = ia_cid_from_bytes(bin, (size_t)n, &c);
    if (used < 0) return ia_error_wrap(used, "invalid CID \"%s\"", str);
    if (used != n)
        return ia_error_set(IA_EFORMAT, "invalid CID \"%s\": %d trailing bytes", str, n - used);
    *out = c;
    return IA_OK;
}

int ia_cid_format(const struct ia_cid *cid, char out[IA_CID_STR_MAX]) {
    uint8_t bin[IA_CID_BYTES_MAX];
    out[0] = '\0';
    if (cid->version == 0 &&
        (cid->codec != IA_CODEC_DAG_PB || cid->mh.code != IA_MH_SHA2_256 || cid->mh.size != 32))
        return ia_error_set(IA_EINVAL, "CIDv0 must be dag-pb with a sha2-256 hash");
    if (cid->version > 1) return ia_error_set(IA_EINVAL, "CID version %u", cid->version);
    size_t n = ia_cid_to_bytes(cid, bin, sizeof bin);
    if (n == 0)
        return ia_error_set(IA_EINVAL, "CID does not serialise (digest size %u)", cid->mh.size);
    int rc;
    if (cid->version == 0) {
        rc = ia_base58btc_encode(bin, n, out, IA_CID_STR_MAX);
    } else {
        out[0] = 'b';
        rc = ia_base32_encode(bin, n, out + 1, IA_CID_STR_MAX - 1);
    }
    if (rc < 0) {
        out[0] = '\0';
        return rc;
    }
    return IA_OK;
}

int ia_cid_equal(const struct ia_cid *a, const struct ia_cid *b) {
    return a->version == b->version && a->codec == b->codec && a->mh.code == b->mh.code &&
           a->mh.size == b->mh.size && memcmp(a->mh.digest, b->mh.digest, a->mh.size) == 0;
}

void ia_cid_of(uint8_t version, uint64_t codec, const uint8_t *data, size_t len,
               struct ia_cid *out) {
    IA_ASSERT(version == 1 || (version == 0 && codec == IA_CODEC_DAG_PB));
    memset(out, 0, sizeof *out);
    out->version = version;
    out->codec = codec;
    ia_mh_sha256(data, len, &out->mh);
}

int ia_cid_verify(const struct ia_cid *cid, const uint8_t *data, size_t len) {
    char s[IA_CID_STR_MAX];
    if (cid->mh.code == IA_MH_SHA2_256) {
        struct ia_multihash mh;
        ia_mh_sha256(data, len, &mh);
        if (cid->mh.size == 32 && memcmp(mh.digest, cid->mh.digest, 32) == 0) return IA_OK;
    } else if (cid->mh.code == IA_MH_IDENTITY) {
        if (cid->mh.size == len && (len == 0 || memcmp(cid->mh.digest, data, len) == 0))
            return IA_OK;
    } else {
        if (ia_cid_format(cid, s) != IA_OK) strcpy(s, "(unprintable CID)");
        return ia_error_set(IA_EUNSUPPORTED, "%s: cannot verify hash function 0x%llx", s,
                            (unsigned long long)cid->mh.code);
    }
    if (ia_cid_format(cid, s) != IA_OK) strcpy(s, "(unprintable CID)");
    return ia_error_set(IA_ECORRUPT, "%s: block of %zu bytes does not match its hash", s, len);
}
