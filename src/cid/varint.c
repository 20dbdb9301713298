/*
 * Unsigned varints (LEB128): 7 bits per byte, low group first, the high bit
 * set on every byte but the last.
 *
 * Multiformats (multihash, CID, CAR) require at most 9 bytes (63 bits) and
 * the minimal encoding, so a value has exactly one form. Protobuf varints
 * (dag-pb, UnixFS) may take 10 bytes and need not be minimal; they are read
 * with ia_pb_read_varint.
 */
#include "cid/codec_internal.h"
#include "ia/cid.h"

size_t ia_varint_encode(uint64_t v, uint8_t out[IA_VARINT_MAX]) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t ia_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int ia_varint_decode(const uint8_t *buf, size_t len, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < 9; i++) {
        if (i >= len) return ia_error_set(IA_EFORMAT, "truncated varint");
        uint8_t b = buf[i];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            /* A zero final byte after others means a longer form of a
             * smaller number: two encodings of one value are refused. */
            if (b == 0 && i > 0) return ia_error_set(IA_EFORMAT, "non-minimal varint");
            *v = x;
            return (int)(i + 1);
        }
    }
    return ia_error_set(IA_EFORMAT, "varint longer than 9 bytes");
}

size_t ia_pb_read_varint(const uint8_t *buf, size_t len, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < 10 && i < len; i++) {
        uint8_t b = buf[i];
        /* The 10th byte holds only bit 63. */
        if (i == 9 && b > 1) return 0;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}
