/*
 * Multibase alphabets used by CIDs.
 *
 * - base32: RFC 4648 alphabet, lower case, no padding ('b'; 'B' is the
 *   upper-case form, accepted on input). Trailing bits must be zero, and a
 *   length that cannot come from whole bytes (1, 3 or 6 chars mod 8) is
 *   refused, so every byte string has one spelling.
 * - base58btc: the bitcoin alphabet ('z', and bare for CIDv0); each leading
 *   '1' is a leading zero byte. Decoding is quadratic, so work is bounded by
 *   the output capacity, which callers keep small.
 * - base16: 'f' lower / 'F' upper, input only.
 */
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b58_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int ia_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap) {
    size_t nchars = (len * 8 + 4) / 5;
    if (len > (SIZE_MAX - 4) / 8 || nchars >= cap || nchars > (size_t)INT32_MAX)
        return ia_error_set(IA_ERANGE, "base32: output buffer too small");
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_lower[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out[o++] = b32_lower[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return (int)o;
}

static int b32_value(char c, int upper) {
    if (!upper && c >= 'a' && c <= 'z') return c - 'a';
    if (upper && c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

static int base32_decode_case(const char *in, size_t len, uint8_t *out, size_t cap, int upper) {
    size_t rem = len % 8;
    if (rem == 1 || rem == 3 || rem == 6)
        return ia_error_set(IA_EFORMAT, "base32: impossible length %zu", len);
    size_t nbytes = len / 8 * 5 + (rem * 5) / 8;
    if (nbytes > cap || nbytes > (size_t)INT32_MAX)
        return ia_error_set(IA_ERANGE, "base32: decoded data does not fit (%zu bytes)", nbytes);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b32_value(in[i], upper);
        if (v < 0)
            return ia_error_set(IA_EFORMAT, "base32: invalid character 0x%02x at %zu",
                                (unsigned char)in[i], i);
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return ia_error_set(IA_EFORMAT, "base32: non-zero trailing bits");
    return (int)o;
}

int ia_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap) {
    return base32_decode_case(in, len, out, cap, 0);
}

int ia_base58btc_encode(const uint8_t *in, size_t len, char *out, size_t cap) {
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0) zeros++;
    /* log(256)/log(58) < 1.37: digits needed for the rest. Inputs are CIDs,
     * so the quadratic loop below stays small; refuse what would not. */
    if (len > 4096) return ia_error_set(IA_ERANGE, "base58btc: input too long (%zu bytes)", len);
    size_t size = (len - zeros) * 138 / 100 + 1;
    uint8_t digits[4096 * 138 / 100 + 1];
    memset(digits, 0, size);
    size_t used = 0; /* digits in use, least significant first */
    for (size_t i = zeros; i < len; i++) {
        uint32_t carry = in[i];
        size_t j = 0;
        for (; j < used || carry; j++) {
            IA_ASSERT(j < size);
            carry += (uint32_t)digits[j] * 256;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    size_t total = zeros + used;
    if (total >= cap) return ia_error_set(IA_ERANGE, "base58btc: output buffer too small");
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++) out[o++] = '1';
    for (size_t i = 0; i < used; i++) out[o++] = b58_alpha[digits[used - 1 - i]];
    out[o] = '\0';
    return (int)o;
}

static int b58_value(char c) {
    const char *p = c ? strchr(b58_alpha, c) : NULL;
    return p ? (int)(p - b58_alpha) : -1;
}

int ia_base58btc_decode(const char *in, size_t len, uint8_t *out, size_t cap) {
    size_t zeros = 0;
    while (zeros < len && in[zeros] == '1') zeros++;
    if (zeros > cap) return ia_error_set(IA_ERANGE, "base58btc: decoded data does not fit");
    size_t room = cap - zeros;
    /* Big-endian accumulation at the end of out: out[cap-used .. cap). */
    size_t used = 0;
    for (size_t i = zeros; i < len; i++) {
        int v = b58_value(in[i]);
        if (v < 0)
            return ia_error_set(IA_EFORMAT, "base58btc: invalid character 0x%02x at %zu",
                                (unsigned char)in[i], i);
        uint32_t carry = (uint32_t)v;
        size_t j = 0;
        for (; j < used || carry; j++) {
            if (j >= room) return ia_error_set(IA_ERANGE, "base58btc: decoded data does not fit");
            uint8_t *d = &out[cap - 1 - j];
            carry += (j < used ? (uint32_t)*d : 0) * 58;
            *d = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    size_t total = zeros + used;
    if (total > (size_t)INT32_MAX) return ia_error_set(IA_ERANGE, "base58btc: too long");
    memmove(out + zeros, out + cap - used, used);
    memset(out, 0, zeros);
    return (int)total;
}

static int hex_value(char c, int upper) {
    if (c >= '0' && c <= '9') return c - '0';
    if (!upper && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (upper && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int base16_decode(const char *in, size_t len, uint8_t *out, size_t cap, int upper) {
    if (len % 2) return ia_error_set(IA_EFORMAT, "base16: odd length %zu", len);
    if (len / 2 > cap) return ia_error_set(IA_ERANGE, "base16: decoded data does not fit");
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(in[i], upper), lo = hex_value(in[i + 1], upper);
        if (hi < 0 || lo < 0)
            return ia_error_set(IA_EFORMAT, "base16: invalid character at %zu", hi < 0 ? i : i + 1);
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(len / 2);
}

int ia_multibase_decode(char prefix, const char *in, size_t len, uint8_t *out, size_t cap) {
    switch (prefix) {
    case 'b':
        return base32_decode_case(in, len, out, cap, 0);
    case 'B':
        return base32_decode_case(in, len, out, cap, 1);
    case 'z':
        return ia_base58btc_decode(in, len, out, cap);
    case 'f':
        return base16_decode(in, len, out, cap, 0);
    case 'F':
        return base16_decode(in, len, out, cap, 1);
    default:
        return ia_error_set(IA_EUNSUPPORTED, "unsupported multibase prefix '%c' (0x%02x)",
                            prefix >= 0x20 && prefix < 0x7f ? prefix : '?', (unsigned char)prefix);
    }
}
