/* Fuzzes CID parsing: the input as binary (and whatever round-trips must
 * agree), and as a text string. */
#include <stdlib.h>
#include <string.h>

#include "ia/cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ia_cid c, back;
    char s[IA_CID_STR_MAX];
    int n = ia_cid_from_bytes(data, size, &c);
    if (n > 0) {
        IA_ASSERT((size_t)n <= size);
        uint8_t bin[IA_CID_BYTES_MAX];
        size_t m = ia_cid_to_bytes(&c, bin, sizeof bin);
        /* Varints are minimal, so a parsed CID re-encodes to its input. */
        IA_ASSERT(m == (size_t)n && memcmp(bin, data, m) == 0);
        IA_ASSERT(ia_cid_format(&c, s) == IA_OK);
        IA_ASSERT(ia_cid_parse(s, &back) == IA_OK && ia_cid_equal(&c, &back));
        (void)ia_cid_verify(&c, data, size);
    }
    char *str = malloc(size + 1);
    if (!str) return 0;
    memcpy(str, data, size);
    str[size] = '\0';
    if (ia_cid_parse(str, &c) == IA_OK) {
        IA_ASSERT(ia_cid_format(&c, s) == IA_OK);
        IA_ASSERT(ia_cid_parse(s, &back) == IA_OK && ia_cid_equal(&c, &back));
    }
    uint8_t out[IA_CID_BYTES_MAX];
    (void)ia_base32_decode(str, size, out, sizeof out);
    (void)ia_base58btc_decode(str, size < 512 ? size : 512, out, sizeof out);
    uint64_t v;
    (void)ia_varint_decode(data, size, &v);
    free(str);
    return 0;
}
