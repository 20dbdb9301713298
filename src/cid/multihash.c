/*
 * Multihash: varint(hash code) | varint(digest size) | digest.
 *
 * Supported: sha2-256 (0x12, exactly 32 bytes) and identity (0x00, the data
 * itself, at most IA_MH_MAX_DIGEST bytes). Other codes are refused with
 * IA_EUNSUPPORTED so a caller never treats an unchecked hash as verified.
 */
#include <string.h>

#include <openssl/evp.h>

#include "ia/cid.h"

void ia_mh_sha256(const uint8_t *data, size_t len, struct ia_multihash *out) {
    unsigned int n = 0;
    static const uint8_t empty = 0;
    memset(out, 0, sizeof *out);
    out->code = IA_MH_SHA2_256;
    out->size = 32;
    /* EVP_Digest fails only when OpenSSL cannot allocate its context; the
     * callers have no way to report that, and it is not bad input. */
    int ok = EVP_Digest(data ? data : &empty, len, out->digest, &n, EVP_sha256(), NULL);
    IA_ASSERT(ok == 1 && n == 32);
}

size_t ia_mh_to_bytes(const struct ia_multihash *mh, uint8_t *out, size_t cap) {
    uint8_t a[IA_VARINT_MAX], b[IA_VARINT_MAX];
    if (mh->size > IA_MH_MAX_DIGEST) return 0;
    size_t na = ia_varint_encode(mh->code, a);
    size_t nb = ia_varint_encode(mh->size, b);
    size_t total = na + nb + mh->size;
    if (total > cap) return 0;
    memcpy(out, a, na);
    memcpy(out + na, b, nb);
    memcpy(out + na + nb, mh->digest, mh->size);
    return total;
}

int ia_mh_from_bytes(const uint8_t *buf, size_t len, struct ia_multihash *out) {
    uint64_t code, size;
    int n1 = ia_varint_decode(buf, len, &code);
    if (n1 < 0) return ia_error_set(IA_EFORMAT, "multihash: bad hash code varint");
    int n2 = ia_varint_decode(buf + n1, len - (size_t)n1, &size);
    if (n2 < 0) return ia_error_set(IA_EFORMAT, "multihash: bad digest size varint");
    if (code == IA_MH_SHA2_256) {
        if (size != 32)
            return ia_error_set(IA_EFORMAT, "multihash: sha2-256 digest of %llu bytes (want 32)",
                                (unsigned long long)size);
    } else if (code == IA_MH_IDENTITY) {
        if (size > IA_MH_MAX_DIGEST)
            return ia_error_set(
                IA_EUNSUPPORTED,
                "multihash: identity digest of %llu bytes exceeds the %d-byte limit",
                (unsigned long long)size, IA_MH_MAX_DIGEST);
    } else {
        return ia_error_set(IA_EUNSUPPORTED, "multihash: unsupported hash function 0x%llx",
                            (unsigned long long)code);
    }
    size_t head = (size_t)n1 + (size_t)n2;
    if (size > len - head)
        return ia_error_set(IA_EFORMAT,
                            "multihash: truncated digest (%llu bytes declared, %zu present)",
                            (unsigned long long)size, len - head);
    memset(out, 0, sizeof *out);
    out->code = code;
    out->size = (uint32_t)size;
    memcpy(out->digest, buf + head, (size_t)size);
    return (int)(head + (size_t)size);
}
