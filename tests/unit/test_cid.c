/* Tests for the cid codecs: varint, multihash, multibase, CID, dag-pb,
 * UnixFS, CAR. Vectors come from the IPFS reference implementations
 * (kubo / js-ipfs) or were computed independently (Python hashlib,
 * base64.b32encode, a bignum base58). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/cid.h"

/* An exact-size heap copy so ASan catches any read past the end. */
static uint8_t *dup_exact(const void *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    if (n) memcpy(b, p, n);
    return b;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *n) {
    size_t len = strlen(hex);
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        out[i / 2] = (uint8_t)v;
    }
    *n = len / 2;
}

static void test_varint(void) {
    const uint64_t vals[] = {0,   1,     127,   128,          255,
                             300, 16383, 16384, (1ull << 32), (1ull << 63) - 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t b[IA_VARINT_MAX];
        size_t n = ia_varint_encode(vals[i], b);
        uint64_t v = 0;
        CHECK_EQ_INT(ia_varint_decode(b, n, &v), n);
        CHECK(v == vals[i]);
        CHECK_EQ_INT(ia_varint_decode(b, n - 1, &v), n == 1 ? IA_EFORMAT : IA_EFORMAT);
    }
    uint8_t b300[] = {0xac, 0x02};
    uint64_t v;
    CHECK_EQ_INT(ia_varint_decode(b300, 2, &v), 2);
    CHECK_EQ_INT(v, 300);
    uint8_t nonmin[] = {0x80, 0x00};
    CHECK_EQ_INT(ia_varint_decode(nonmin, 2, &v), IA_EFORMAT);
    uint8_t nonmin2[] = {0x81, 0x80, 0x00};
    CHECK_EQ_INT(ia_varint_decode(nonmin2, 3, &v), IA_EFORMAT);
    uint8_t ten[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_EQ_INT(ia_varint_decode(ten, 10, &v), IA_EFORMAT);
    CHECK_EQ_INT(ia_varint_decode(ten, 0, &v), IA_EFORMAT);
    uint8_t zero[] = {0x00};
    CHECK_EQ_INT(ia_varint_decode(zero, 1, &v), 1);
    CHECK_EQ_INT(v, 0);
}

static void test_multihash(void) {
    struct ia_multihash mh;
    ia_mh_sha256((const uint8_t *)"abc", 3, &mh);
    uint8_t want[32];
    size_t n;
    hex_to_bytes("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, &n);
    CHECK(mh.code == IA_MH_SHA2_256 && mh.size == 32 && memcmp(mh.digest, want, 32) == 0);
    uint8_t buf[64];
    size_t len = ia_mh_to_bytes(&mh, buf, sizeof buf);
    CHECK_EQ_INT(len, 34);
    CHECK_EQ_INT(ia_mh_to_bytes(&mh, buf, 33), 0);
    struct ia_multihash back;
    CHECK_EQ_INT(ia_mh_from_bytes(buf, len, &back), 34);
    CHECK(memcmp(&back, &mh, sizeof mh) == 0);
    CHECK_EQ_INT(ia_mh_from_bytes(buf, 33, &back), IA_EFORMAT);
    uint8_t wrongsize[] = {0x12, 0x10, 1, 2};
    CHECK_EQ_INT(ia_mh_from_bytes(wrongsize, sizeof wrongsize, &back), IA_EFORMAT);
    uint8_t unknown[] = {0x13, 0x02, 0xaa, 0xbb};
    CHECK_EQ_INT(ia_mh_from_bytes(unknown, sizeof unknown, &back), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "0x13") != NULL);
    uint8_t blake[] = {0xa0, 0xe4, 0x02, 0x20};
    CHECK_EQ_INT(ia_mh_from_bytes(blake, sizeof blake, &back), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "0xb220") != NULL);
    uint8_t ident[] = {0x00, 0x03, 'a', 'b', 'c'};
    CHECK_EQ_INT(ia_mh_from_bytes(ident, sizeof ident, &back), 5);
    CHECK(back.code == IA_MH_IDENTITY && back.size == 3 && memcmp(back.digest, "abc", 3) == 0);
    uint8_t bigident[] = {0x00, 0x81, 0x01};
    CHECK_EQ_INT(ia_mh_from_bytes(bigident, sizeof bigident, &back), IA_EUNSUPPORTED);
}

static void test_base32(void) {
    static const struct {
        const char *in, *out;
    } v[] = {
        {"", ""},
        {"f", "my"},
        {"fo", "mzxq"},
        {"foo", "mzxw6"},
        {"foob", "mzxw6yq"},
        {"fooba", "mzxw6ytb"},
        {"foobar", "mzxw6ytboi"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char s[64];
        uint8_t b[64];
        size_t n = strlen(v[i].in);
        CHECK_EQ_INT(ia_base32_encode((const uint8_t *)v[i].in, n, s, sizeof s), strlen(v[i].out));
        CHECK_EQ_STR(s, v[i].out);
        CHECK_EQ_INT(ia_base32_decode(v[i].out, strlen(v[i].out), b, sizeof b), n);
        CHECK(memcmp(b, v[i].in, n) == 0);
    }
    uint8_t data[41];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof data; n++) {
        char s[80];
        uint8_t b[64];
        int k = ia_base32_encode(data, n, s, sizeof s);
        REQUIRE(k >= 0);
        CHECK_EQ_INT(ia_base32_decode(s, (size_t)k, b, sizeof b), n);
        CHECK(memcmp(b, data, n) == 0);
    }
    char small[4];
    uint8_t b[8];
    CHECK_EQ_INT(ia_base32_encode((const uint8_t *)"foo", 3, small, sizeof small), IA_ERANGE);
    CHECK_EQ_INT(ia_base32_decode("mzxw6ytboi", 10, b, 5), IA_ERANGE);
    CHECK_EQ_INT(ia_base32_decode("MZXW6", 5, b, sizeof b), IA_EFORMAT); /* upper case */
    CHECK_EQ_INT(ia_base32_decode("mzx1", 4, b, sizeof b), IA_EFORMAT);  /* '1' not in alphabet */
    CHECK_EQ_INT(ia_base32_decode("m", 1, b, sizeof b), IA_EFORMAT);     /* impossible length */
    CHECK_EQ_INT(ia_base32_decode("mzx", 3, b, sizeof b), IA_EFORMAT);
    CHECK_EQ_INT(ia_base32_decode("mz", 2, b, sizeof b), IA_EFORMAT); /* 'z' leaves bits set */
    CHECK_EQ_INT(ia_base32_decode("mzxw6ytbo=", 10, b, sizeof b), IA_EFORMAT);
}

static void test_base58(void) {
    char s[64];
    uint8_t b[64];
    CHECK_EQ_INT(ia_base58btc_encode((const uint8_t *)"hello world", 11, s, sizeof s), 15);
    CHECK_EQ_STR(s, "StV1DL6CwTryKyV");
    CHECK_EQ_INT(ia_base58btc_encode((const uint8_t *)"\0\0hello", 7, s, sizeof s), 9);
    CHECK_EQ_STR(s, "11Cn8eVZg");
    CHECK_EQ_INT(ia_base58btc_decode("11Cn8eVZg", 9, b, sizeof b), 7);
    CHECK(memcmp(b, "\0\0hello", 7) == 0);
    CHECK_EQ_INT(ia_base58btc_encode(NULL, 0, s, sizeof s), 0);
    CHECK_EQ_INT(ia_base58btc_decode("", 0, b, sizeof b), 0);
    uint8_t data[40];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(255 - i * 13);
    for (size_t n = 0; n <= sizeof data; n++) {
        uint8_t in[40] = {0};
        memcpy(in + (n > 3 ? 3 : n), data, n - (n > 3 ? 3 : n)); /* some leading zeros */
        int k = ia_base58btc_encode(in, n, s, sizeof s);
        REQUIRE(k >= 0);
        CHECK_EQ_INT(ia_base58btc_decode(s, (size_t)k, b, sizeof b), n);
        CHECK(memcmp(b, in, n) == 0);
    }
    CHECK_EQ_INT(ia_base58btc_decode("StV0DL", 6, b, sizeof b), IA_EFORMAT);
    CHECK_EQ_INT(ia_base58btc_decode("StVlDL", 6, b, sizeof b), IA_EFORMAT);
    CHECK_EQ_INT(ia_base58btc_decode("StVODL", 6, b, sizeof b), IA_EFORMAT);
    CHECK_EQ_INT(ia_base58btc_decode("StV1DL6CwTryKyV", 15, b, 10), IA_ERANGE);
    CHECK_EQ_INT(ia_base58btc_encode((const uint8_t *)"hello world", 11, s, 15), IA_ERANGE);
}

#define EMPTY_RAW "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define EMPTY_DIR_V0 "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
#define EMPTY_DIR_V1 "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
/* `echo "hello world" | ipfs add --cid-version=1` and plain `ipfs add`. */
#define HELLO_RAW "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
#define HELLO_V0 "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"

static void test_cid_vectors(void) {
    struct ia_cid c;
    char s[IA_CID_STR_MAX];
    ia_cid_of(1, IA_CODEC_RAW, NULL, 0, &c);
    CHECK_EQ_INT(ia_cid_format(&c, s), IA_OK);
    CHECK_EQ_STR(s, EMPTY_RAW);
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"hello world\n", 12, &c);
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, HELLO_RAW);
    const uint8_t dir[] = {0x0a, 0x02, 0x08, 0x01};
    ia_cid_of(0, IA_CODEC_DAG_PB, dir, sizeof dir, &c);
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, EMPTY_DIR_V0);
    ia_cid_of(1, IA_CODEC_DAG_PB, dir, sizeof dir, &c);
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, EMPTY_DIR_V1);
    CHECK_EQ_STR(ia_codec_name(IA_CODEC_RAW), "raw");
    CHECK_EQ_STR(ia_codec_name(IA_CODEC_DAG_PB), "dag-pb");
    CHECK_EQ_STR(ia_codec_name(0x1234), "unknown");
}

static void test_cid_parse(void) {
    struct ia_cid a, b;
    char s[IA_CID_STR_MAX];
    REQUIRE(ia_cid_parse(EMPTY_DIR_V0, &a) == IA_OK);
    CHECK_EQ_INT(a.version, 0);
    CHECK(a.codec == IA_CODEC_DAG_PB);
    ia_cid_format(&a, s);
    CHECK_EQ_STR(s, EMPTY_DIR_V0);
    /* v0 -> v1 is the same multihash under a new prefix. */
    a.version = 1;
    ia_cid_format(&a, s);
    CHECK_EQ_STR(s, EMPTY_DIR_V1);
    REQUIRE(ia_cid_parse(EMPTY_DIR_V1, &b) == IA_OK);
    CHECK(ia_cid_equal(&a, &b));
    uint8_t bin[IA_CID_BYTES_MAX];
    size_t n = ia_cid_to_bytes(&b, bin, sizeof bin);
    CHECK_EQ_INT(n, 36);
    struct ia_cid c;
    CHECK_EQ_INT(ia_cid_from_bytes(bin, n, &c), 36);
    CHECK(ia_cid_equal(&b, &c));
    CHECK_EQ_INT(ia_cid_to_bytes(&b, bin, 35), 0);

    /* The same CID in the other multibases we read. */
    char upper[IA_CID_STR_MAX];
    for (size_t i = 0; EMPTY_DIR_V1[i]; i++)
        upper[i] = (char)(EMPTY_DIR_V1[i] >= 'a' && EMPTY_DIR_V1[i] <= 'z' ? EMPTY_DIR_V1[i] - 32
                                                                           : EMPTY_DIR_V1[i]);
    upper[strlen(EMPTY_DIR_V1)] = '\0';
    CHECK_EQ_INT(ia_cid_parse(upper, &c), IA_OK);
    CHECK(ia_cid_equal(&b, &c));
    char z[IA_CID_STR_MAX] = "z";
    REQUIRE(ia_base58btc_encode(bin, n, z + 1, sizeof z - 1) > 0);
    CHECK_EQ_INT(ia_cid_parse(z, &c), IA_OK);
    CHECK(ia_cid_equal(&b, &c));
    char f[IA_CID_STR_MAX] = "f";
    for (size_t i = 0; i < n; i++) snprintf(f + 1 + 2 * i, 3, "%02x", bin[i]);
    CHECK_EQ_INT(ia_cid_parse(f, &c), IA_OK);
    CHECK(ia_cid_equal(&b, &c));
    f[0] = 'F';
    CHECK_EQ_INT(ia_cid_parse(f, &c), IA_EFORMAT); /* lower-case digits under 'F' */

    /* Rejections. */
    CHECK(ia_cid_parse("", &c) < 0);
    CHECK(ia_cid_parse("b", &c) < 0);
    CHECK(ia_cid_parse("x" EMPTY_RAW, &c) == IA_EUNSUPPORTED);
    CHECK(ia_cid_parse(EMPTY_RAW "a", &c) < 0);
    CHECK(ia_cid_parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0", &c) < 0);
    CHECK(ia_cid_parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn7", &c) < 0);
    char longs[400];
    memset(longs, 'a', sizeof longs - 1);
    longs[0] = 'b';
    longs[sizeof longs - 1] = '\0';
    CHECK(ia_cid_parse(longs, &c) == IA_EFORMAT);
    /* A v1 CID with an unknown codec (0x99) names it. */
    uint8_t odd2[37]; /* 0x99 takes two varint bytes: 0x99 0x01 */
    odd2[0] = 1;
    odd2[1] = 0x99;
    odd2[2] = 0x01;
    memcpy(odd2 + 3, bin + 2, 34);
    char os[IA_CID_STR_MAX] = "b";
    ia_base32_encode(odd2, sizeof odd2, os + 1, sizeof os - 1);
    CHECK_EQ_INT(ia_cid_parse(os, &c), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "unknown codec 0x99") != NULL);
    CHECK_EQ_INT(ia_cid_from_bytes(odd2, sizeof odd2, &c), IA_EUNSUPPORTED);
    /* Trailing bytes after a binary CID are the caller's; after text they are an error. */
    uint8_t trail[37];
    memcpy(trail, bin, 36);
    trail[36] = 0;
    CHECK_EQ_INT(ia_cid_from_bytes(trail, 37, &c), 36);
    os[0] = 'b';
    ia_base32_encode(trail, 37, os + 1, sizeof os - 1);
    CHECK_EQ_INT(ia_cid_parse(os, &c), IA_EFORMAT);
    /* Explicit version 0 and version 2. */
    uint8_t v0x[] = {0x00, 0x70, 0x12, 0x20};
    CHECK_EQ_INT(ia_cid_from_bytes(v0x, sizeof v0x, &c), IA_EFORMAT);
    uint8_t v2[] = {0x02, 0x70, 0x12, 0x20};
    CHECK_EQ_INT(ia_cid_from_bytes(v2, sizeof v2, &c), IA_EUNSUPPORTED);
    /* Truncated digests at every length. */
    for (size_t k = 0; k < 36; k++) {
        uint8_t *t = dup_exact(bin, k);
        CHECK(ia_cid_from_bytes(t, k, &c) < 0);
        free(t);
    }
    /* dag-cbor CIDs parse (they appear in CARs) even though we store no such blocks. */
    uint8_t cbor[36];
    memcpy(cbor, bin, 36);
    cbor[1] = IA_CODEC_DAG_CBOR;
    CHECK_EQ_INT(ia_cid_from_bytes(cbor, 36, &c), 36);
    /* Identity CIDs round-trip through text. */
    uint8_t idc[] = {0x01, 0x55, 0x00, 0x03, 'a', 'b', 'c'};
    CHECK_EQ_INT(ia_cid_from_bytes(idc, sizeof idc, &c), 7);
    CHECK_EQ_INT(ia_cid_format(&c, s), IA_OK);
    CHECK_EQ_INT(ia_cid_parse(s, &a), IA_OK);
    CHECK(ia_cid_equal(&a, &c));
    CHECK_EQ_INT(ia_cid_verify(&c, (const uint8_t *)"abc", 3), IA_OK);
    CHECK_EQ_INT(ia_cid_verify(&c, (const uint8_t *)"abd", 3), IA_ECORRUPT);
}

static void test_cid_verify(void) {
    struct ia_cid c;
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"hello world\n", 12, &c);
    CHECK_EQ_INT(ia_cid_verify(&c, (const uint8_t *)"hello world\n", 12), IA_OK);
    CHECK_EQ_INT(ia_cid_verify(&c, (const uint8_t *)"hello world!", 12), IA_ECORRUPT);
    CHECK(strstr(ia_error_msg(), HELLO_RAW) != NULL);
    c.mh.code = 0xb220;
    CHECK_EQ_INT(ia_cid_verify(&c, (const uint8_t *)"x", 1), IA_EUNSUPPORTED);
}

/* A dag-pb file node as the reference importer writes it. */
static void test_unixfs_hello(void) {
    struct ia_unixfs u = {.type = IA_UNIXFS_FILE,
                          .data = (const uint8_t *)"hello world\n",
                          .data_len = 12,
                          .has_data = 1,
                          .filesize = 12,
                          .has_filesize = 1};
    uint8_t *ub, *pb;
    size_t ulen, plen;
    REQUIRE(ia_unixfs_encode(&u, &ub, &ulen) == IA_OK);
    struct ia_pb_node node = {.data = ub, .data_len = ulen, .has_data = 1};
    REQUIRE(ia_pb_node_encode(&node, &pb, &plen) == IA_OK);
    uint8_t want[64];
    size_t wn;
    hex_to_bytes("0a120802120c68656c6c6f20776f726c640a180c", want, &wn);
    CHECK(plen == wn && memcmp(pb, want, wn) == 0);
    struct ia_cid c;
    char s[IA_CID_STR_MAX];
    ia_cid_of(0, IA_CODEC_DAG_PB, pb, plen, &c);
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, HELLO_V0);
    ia_free(ub);
    ia_free(pb);

    /* Directory: Type only; empty file: Type and filesize 0 (as ipfs-unixfs). */
    struct ia_unixfs d = {.type = IA_UNIXFS_DIRECTORY};
    REQUIRE(ia_unixfs_encode(&d, &ub, &ulen) == IA_OK);
    CHECK(ulen == 2 && ub[0] == 0x08 && ub[1] == 0x01);
    struct ia_pb_node dn = {.data = ub, .data_len = ulen, .has_data = 1};
    REQUIRE(ia_pb_node_encode(&dn, &pb, &plen) == IA_OK);
    ia_cid_of(0, IA_CODEC_DAG_PB, pb, plen, &c);
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, EMPTY_DIR_V0);
    ia_free(ub);
    ia_free(pb);
    struct ia_unixfs e = {.type = IA_UNIXFS_FILE, .has_data = 1, .data_len = 0, .has_filesize = 1};
    REQUIRE(ia_unixfs_encode(&e, &ub, &ulen) == IA_OK);
    CHECK(ulen == 4 && memcmp(ub, "\x08\x02\x18\x00", 4) == 0);
    ia_free(ub);
}

static void test_unixfs_roundtrip(void) {
    uint64_t bs[] = {262144, 262144, 1000};
    struct ia_unixfs u = {.type = IA_UNIXFS_FILE,
                          .filesize = 525288,
                          .has_filesize = 1,
                          .blocksizes = bs,
                          .n_blocksizes = 3,
                          .mode = 0755,
                          .has_mode = 1,
                          .fanout = 256,
                          .has_fanout = 1,
                          .hash_type = 0x22,
                          .has_hash_type = 1};
    uint8_t *b;
    size_t n;
    REQUIRE(ia_unixfs_encode(&u, &b, &n) == IA_OK);
    /* Unpacked blocksizes, as the JS and Go encoders write them. */
    CHECK(n > 6 && b[0] == 0x08 && b[1] == 0x02 && b[2] == 0x18);
    struct ia_unixfs d;
    REQUIRE(ia_unixfs_decode(b, n, &d) == IA_OK);
    CHECK_EQ_INT(d.type, IA_UNIXFS_FILE);
    CHECK(d.has_filesize && d.filesize == 525288);
    CHECK_EQ_INT(d.n_blocksizes, 3);
    CHECK(d.n_blocksizes == 3 && d.blocksizes[0] == 262144 && d.blocksizes[2] == 1000);
    CHECK(d.has_mode && d.mode == 0755 && d.has_fanout && d.fanout == 256);
    CHECK(d.has_hash_type && d.hash_type == 0x22 && !d.has_data);
    ia_unixfs_free(&d);
    ia_free(b);

    /* Packed blocksizes, mtime and an unknown field are read. */
    const uint8_t packed[] = {0x08, 0x02, 0x18, 0x0a, 0x22, 0x02, 0x05, 0x05, 0x42,
                              0x02, 0x08, 0x01, 0x50, 0x07, 0x12, 0x01, 'x'};
    uint8_t *pk = dup_exact(packed, sizeof packed);
    REQUIRE(ia_unixfs_decode(pk, sizeof packed, &d) == IA_OK);
    CHECK(d.n_blocksizes == 2 && d.blocksizes[0] == 5 && d.blocksizes[1] == 5);
    CHECK(d.has_data && d.data_len == 1 && d.data[0] == 'x');
    ia_unixfs_free(&d);
    free(pk);

    const struct {
        const char *hex;
        int rc;
    } bad[] = {
        {"", IA_EFORMAT},           /* no Type */
        {"1203616263", IA_EFORMAT}, /* Data only */
        {"0809", IA_EFORMAT},       /* unknown type 9 */
        {"0a0102", IA_EFORMAT},     /* Type as bytes */
        {"080218", IA_EFORMAT},     /* truncated filesize */
        {"0802120a61", IA_EFORMAT}, /* Data longer than the message */
        {"08022203ff", IA_EFORMAT}, /* packed blocksizes overrun */
        {"08022201ff", IA_EFORMAT}, /* packed varint cut */
        {"08020b", IA_EFORMAT},     /* group wire type */
        {"08024001", IA_EFORMAT},   /* mtime as varint */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t raw[16];
        size_t rn;
        hex_to_bytes(bad[i].hex, raw, &rn);
        uint8_t *p = dup_exact(raw, rn);
        int rc = ia_unixfs_decode(p, rn, &d);
        if (rc != bad[i].rc)
            fprintf(stderr, "  unixfs bad case %zu (%s): rc %d\n", i, bad[i].hex, rc);
        CHECK_EQ_INT(rc, bad[i].rc);
        CHECK(d.blocksizes == NULL);
        free(p);
    }
}

static void make_cid(int i, struct ia_cid *c) {
    char s[32];
    snprintf(s, sizeof s, "block %d", i);
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)s, strlen(s), c);
}

static void test_dagpb_roundtrip(void) {
    struct ia_pb_link links[3] = {0};
    make_cid(0, &links[0].cid);
    links[0].has_name = 1; /* empty name, as the importer's file links */
    links[0].tsize = 262144;
    links[0].has_tsize = 1;
    make_cid(1, &links[1].cid);
    links[1].cid.version = 0;
    links[1].cid.codec = IA_CODEC_DAG_PB;
    links[1].name = (const uint8_t *)"model.onnx";
    links[1].name_len = 10;
    links[1].has_name = 1;
    make_cid(2, &links[2].cid);
    struct ia_pb_node node = {.links = links,
                              .n_links = 3,
                              .data = (const uint8_t *)"\x08\x02",
                              .data_len = 2,
                              .has_data = 1};
    uint8_t *b;
    size_t n;
    REQUIRE(ia_pb_node_encode(&node, &b, &n) == IA_OK);
    /* Links first, Hash first within each. */
    CHECK(b[0] == 0x12 && b[2] == 0x0a);
    CHECK(b[n - 4] == 0x0a && b[n - 3] == 0x02);
    uint8_t *e = dup_exact(b, n);
    struct ia_pb_node d;
    REQUIRE(ia_pb_node_decode(e, n, &d) == IA_OK);
    REQUIRE(d.n_links == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(ia_cid_equal(&d.links[i].cid, &links[i].cid));
        CHECK_EQ_INT(d.links[i].has_name, links[i].has_name);
        CHECK_EQ_INT(d.links[i].name_len, links[i].name_len);
        CHECK_EQ_INT(d.links[i].has_tsize, links[i].has_tsize);
        CHECK(d.links[i].tsize == links[i].tsize);
    }
    CHECK(memcmp(d.links[1].name, "model.onnx", 10) == 0);
    CHECK(d.has_data && d.data_len == 2 && d.data[1] == 0x02);
    uint8_t *b2;
    size_t n2;
    REQUIRE(ia_pb_node_encode(&d, &b2, &n2) == IA_OK);
    CHECK(n2 == n && memcmp(b, b2, n) == 0);

    struct ia_cid root, *out;
    size_t nout;
    ia_cid_of(1, IA_CODEC_DAG_PB, b, n, &root);
    REQUIRE(ia_block_links(&root, e, n, &out, &nout) == IA_OK);
    CHECK_EQ_INT(nout, 3);
    CHECK(nout == 3 && ia_cid_equal(&out[1], &links[1].cid));
    ia_free(out);
    struct ia_cid raw;
    ia_cid_of(1, IA_CODEC_RAW, b, n, &raw);
    CHECK_EQ_INT(ia_block_links(&raw, e, n, &out, &nout), IA_OK);
    CHECK(nout == 0 && out == NULL);
    raw.codec = IA_CODEC_DAG_CBOR;
    CHECK_EQ_INT(ia_block_links(&raw, e, n, &out, &nout), IA_EUNSUPPORTED);

    ia_pb_node_free(&d);
    ia_free(b);
    ia_free(b2);
    free(e);

    /* An empty node and a node with empty Data differ. */
    struct ia_pb_node empty = {0};
    REQUIRE(ia_pb_node_encode(&empty, &b, &n) == IA_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ia_pb_node_decode(b, 0, &d), IA_OK);
    CHECK(!d.has_data && d.n_links == 0);
    ia_free(b);
    empty.has_data = 1;
    REQUIRE(ia_pb_node_encode(&empty, &b, &n) == IA_OK);
    CHECK(n == 2 && b[0] == 0x0a && b[1] == 0x00);
    CHECK_EQ_INT(ia_pb_node_decode(b, n, &d), IA_OK);
    CHECK(d.has_data && d.data_len == 0);
    ia_free(b);
}

static void test_dagpb_malformed(void) {
    /* A valid link body: Hash = the 36-byte CID of "block 0". */
    struct ia_cid c;
    make_cid(0, &c);
    uint8_t cb[IA_CID_BYTES_MAX];
    size_t cn = ia_cid_to_bytes(&c, cb, sizeof cb);
    char h[200] = "";
    for (size_t i = 0; i < cn; i++) snprintf(h + 2 * i, 3, "%02x", cb[i]);
    char hash_field[220];
    snprintf(hash_field, sizeof hash_field, "0a24%s", h); /* 0x24 = 36 */
    struct {
        const char *what;
        char hex[400];
        int rc;
    } cases[] = {
        {"unknown field 3", "1a00", IA_EFORMAT},
        {"Data as varint", "0801", IA_EFORMAT},
        {"Links as varint", "1001", IA_EFORMAT},
        {"duplicate Data",
         "0a00"
         "0a00",
         IA_EFORMAT},
        {"truncated Data",
         "0a05"
         "0102",
         IA_EFORMAT},
        {"bad length varint", "0aff", IA_EFORMAT},
        {"link without Hash",
         "1202"
         "1800",
         IA_EFORMAT},
        {"empty link", "1200", IA_EFORMAT},
        {"field number 0", "0200", IA_EFORMAT},
        {"fixed32 wire type", "0d00000000", IA_EFORMAT},
    };
    struct {
        const char *what;
        const char *fmt;
        int rc;
    } lcases[] = {
        {"Data before Links",
         "0a00"
         "1226%s",
         IA_OK},
        {"Links split by Data",
         "1226%s"
         "0a00"
         "1226%s",
         IA_EFORMAT},
        {"Name before Hash",
         "122a"
         "1202ab00"
         "%s",
         IA_EFORMAT},
        {"Tsize before Name",
         "122a"
         "%s"
         "1801"
         "1200",
         IA_EFORMAT},
        {"Hash twice",
         "124c"
         "%s"
         "%s",
         IA_EFORMAT},
        {"Tsize as bytes",
         "1228"
         "%s"
         "1a00",
         IA_EFORMAT},
        {"unknown link field",
         "1228"
         "%s"
         "2000",
         IA_EFORMAT},
        {"Hash with trailing byte",
         "1227"
         "0a25%s00",
         IA_EFORMAT},
        {"valid", "1226%s", IA_OK},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < nc + sizeof lcases / sizeof lcases[0]; i++) {
        char hex[600];
        const char *what;
        int want;
        if (i < nc) {
            snprintf(hex, sizeof hex, "%s", cases[i].hex);
            what = cases[i].what;
            want = cases[i].rc;
        } else {
            const char *fmt = lcases[i - nc].fmt;
            /* Each %s is the Hash field, except where the case itself frames it. */
            if (strstr(fmt, "0a25%s"))
                snprintf(hex, sizeof hex, fmt, h);
            else
                snprintf(hex, sizeof hex, fmt, hash_field, hash_field);
            what = lcases[i - nc].what;
            want = lcases[i - nc].rc;
        }
        uint8_t raw[300];
        size_t rn;
        hex_to_bytes(hex, raw, &rn);
        uint8_t *p = dup_exact(raw, rn);
        struct ia_pb_node d;
        int rc = ia_pb_node_decode(p, rn, &d);
        if (rc != want)
            fprintf(stderr, "  dag-pb case '%s': rc %d (%s)\n", what, rc, ia_error_msg());
        CHECK_EQ_INT(rc, want);
        if (rc == IA_OK)
            ia_pb_node_free(&d);
        else
            CHECK(d.links == NULL);
        free(p);
    }
    /* A link whose Hash is not a CID names the link. */
    const uint8_t badcid[] = {0x12, 0x04, 0x0a, 0x02, 0x01, 0x99};
    struct ia_pb_node d;
    CHECK(ia_pb_node_decode(badcid, sizeof badcid, &d) < 0);
    CHECK(strstr(ia_error_msg(), "link 0") != NULL);
}

static void test_dagpb_limits(void) {
    struct ia_pb_node d;
    uint8_t *big = calloc(1, IA_DAGPB_MAX_BLOCK + 1);
    REQUIRE(big);
    CHECK_EQ_INT(ia_pb_node_decode(big, IA_DAGPB_MAX_BLOCK + 1, &d), IA_ERANGE);
    free(big);
    /* One link more than allowed: each is 38 bytes, so the block fits. */
    struct ia_cid c;
    make_cid(0, &c);
    uint8_t cb[IA_CID_BYTES_MAX];
    size_t cn = ia_cid_to_bytes(&c, cb, sizeof cb);
    size_t one = 2 + 2 + cn, n = (size_t)IA_DAGPB_MAX_LINKS + 1;
    uint8_t *b = malloc(one * n);
    REQUIRE(b);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = b + i * one;
        p[0] = 0x12;
        p[1] = (uint8_t)(2 + cn);
        p[2] = 0x0a;
        p[3] = (uint8_t)cn;
        memcpy(p + 4, cb, cn);
    }
    CHECK_EQ_INT(ia_pb_node_decode(b, one * n, &d), IA_ERANGE);
    REQUIRE(ia_pb_node_decode(b, one * (n - 1), &d) == IA_OK);
    CHECK_EQ_INT(d.n_links, IA_DAGPB_MAX_LINKS);
    ia_pb_node_free(&d);
    free(b);
}

static void test_alloc_failure(void) {
    struct ia_pb_link links[2] = {0};
    make_cid(0, &links[0].cid);
    make_cid(1, &links[1].cid);
    struct ia_pb_node node = {.links = links, .n_links = 2};
    uint8_t *b;
    size_t n;
    REQUIRE(ia_pb_node_encode(&node, &b, &n) == IA_OK);
    ia_alloc_fail_after(0);
    struct ia_pb_node d;
    CHECK_EQ_INT(ia_pb_node_decode(b, n, &d), IA_ENOMEM);
    uint8_t *b2;
    size_t n2;
    CHECK_EQ_INT(ia_pb_node_encode(&node, &b2, &n2), IA_ENOMEM);
    ia_alloc_fail_after(-1);
    ia_free(b);
}

/* ---- CAR ---- */

static size_t build_car(uint8_t **out, struct ia_cid *roots, struct ia_cid *cids, int nblocks) {
    FILE *f = tmpfile();
    struct ia_car_writer *w;
    if (!f) return 0;
    for (int i = 0; i < nblocks; i++) make_cid(i, &cids[i]);
    roots[0] = cids[0];
    ia_cid_of(0, IA_CODEC_DAG_PB, (const uint8_t *)"\x0a\x02\x08\x01", 4, &roots[1]);
    if (ia_car_writer_open(f, roots, 2, &w) != IA_OK) return 0;
    for (int i = 0; i < nblocks; i++) {
        char s[32];
        snprintf(s, sizeof s, "block %d", i);
        if (ia_car_writer_put(w, &cids[i], (const uint8_t *)s, strlen(s)) != IA_OK) return 0;
    }
    if (ia_car_writer_close(w) != IA_OK) return 0;
    long len = ftell(f);
    rewind(f);
    *out = malloc((size_t)len);
    if (fread(*out, 1, (size_t)len, f) != (size_t)len) return 0;
    fclose(f);
    return (size_t)len;
}

static int read_all(struct ia_car_reader *r, int *count) {
    struct ia_cid c;
    const uint8_t *d;
    size_t n;
    int rc;
    *count = 0;
    while ((rc = ia_car_reader_next(r, &c, &d, &n)) == 1) {
        if (ia_cid_verify(&c, d, n) != IA_OK) return -100;
        (*count)++;
    }
    return rc;
}

static void test_car_roundtrip(void) {
    uint8_t *car;
    struct ia_cid roots[2], cids[5];
    size_t len = build_car(&car, roots, cids, 5);
    REQUIRE(len > 0);
    /* DAG-CBOR header: map, "roots" first, tag 42 CIDs, "version": 1 last. */
    CHECK(car[1] == 0xa2 && car[2] == 0x65 && memcmp(car + 3, "roots", 5) == 0 && car[8] == 0x82);
    CHECK(car[9] == 0xd8 && car[10] == 0x2a && car[11] == 0x58 && car[12] == 37 && car[13] == 0x00);
    CHECK(car[0] + 1 < (int)len && car[car[0]] == 0x01 &&
          memcmp(car + car[0] - 7, "version", 7) == 0);

    struct ia_car_reader *r;
    REQUIRE(ia_car_reader_open_mem(car, len, &r) == IA_OK);
    CHECK_EQ_INT(ia_car_reader_n_roots(r), 2);
    CHECK(ia_cid_equal(ia_car_reader_root(r, 0), &roots[0]));
    CHECK(ia_cid_equal(ia_car_reader_root(r, 1), &roots[1]));
    CHECK(ia_car_reader_root(r, 2) == NULL);
    int count;
    CHECK_EQ_INT(read_all(r, &count), 0);
    CHECK_EQ_INT(count, 5);
    CHECK_EQ_INT(read_all(r, &count), 0); /* stays at the end */
    ia_car_reader_close(r);

    FILE *f = fmemopen(car, len, "rb");
    REQUIRE(f);
    REQUIRE(ia_car_reader_open(f, "test.car", &r) == IA_OK);
    CHECK_EQ_INT(ia_car_reader_n_roots(r), 2);
    CHECK_EQ_INT(read_all(r, &count), 0);
    CHECK_EQ_INT(count, 5);
    ia_car_reader_close(r);
    fclose(f);

    /* Every truncation: clean only exactly at a section boundary. */
    size_t hdr = 1 + car[0];
    size_t boundaries[6];
    size_t pos = hdr;
    for (int i = 0; i < 6; i++) {
        boundaries[i] = pos;
        if (i < 5) pos += 1 + car[pos];
    }
    CHECK_EQ_INT(boundaries[5], len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = dup_exact(car, cut);
        int clean = 0;
        for (int i = 0; i < 6; i++) clean |= boundaries[i] == cut;
        int rc = ia_car_reader_open_mem(t, cut, &r);
        if (cut < hdr) {
            CHECK(rc < 0);
        } else {
            REQUIRE(rc == IA_OK);
            rc = read_all(r, &count);
            if (clean)
                CHECK_EQ_INT(rc, 0);
            else
                CHECK_EQ_INT(rc, IA_EFORMAT);
            ia_car_reader_close(r);
        }
        /* The stream reader agrees. */
        FILE *tf = cut ? fmemopen(t, cut, "rb") : NULL;
        if (tf) {
            rc = ia_car_reader_open(tf, "cut.car", &r);
            if (cut < hdr) {
                CHECK(rc < 0);
            } else {
                REQUIRE(rc == IA_OK);
                rc = read_all(r, &count);
                if (clean)
                    CHECK_EQ_INT(rc, 0);
                else {
                    CHECK_EQ_INT(rc, IA_EFORMAT);
                    CHECK(strstr(ia_error_msg(), "cut.car") != NULL);
                }
                ia_car_reader_close(r);
            }
            fclose(tf);
        }
        free(t);
    }
    free(car);
}

static void test_car_bad(void) {
    struct ia_car_reader *r;
    uint8_t *car;
    struct ia_cid roots[2], cids[2];
    size_t len = build_car(&car, roots, cids, 2);
    REQUIRE(len > 0);
    size_t hdr = 1 + car[0];

    CHECK_EQ_INT(ia_car_reader_open_mem(car, 0, &r), IA_EFORMAT);
    const uint8_t garbage[] = "this is not a CAR file at all";
    CHECK(ia_car_reader_open_mem(garbage, sizeof garbage, &r) < 0);
    CHECK(strstr(ia_error_msg(), "<memory>") != NULL);
    /* CARv2 pragma: {"version": 2}. */
    const uint8_t v2[] = {0x0a, 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x02};
    CHECK_EQ_INT(ia_car_reader_open_mem(v2, sizeof v2, &r), IA_EUNSUPPORTED);
    /* version 1 but no roots. */
    const uint8_t noroots[] = {0x0a, 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01};
    CHECK_EQ_INT(ia_car_reader_open_mem(noroots, sizeof noroots, &r), IA_EFORMAT);
    /* Keys in the other order are read. */
    const uint8_t swapped[] = {0x11, 0xa2, 0x67, 'v', 'e', 'r', 's', 'i', 'o',
                               'n',  0x01, 0x65, 'r', 'o', 'o', 't', 's', 0x80};
    CHECK_EQ_INT(ia_car_reader_open_mem(swapped, sizeof swapped, &r), IA_OK);
    if (r) {
        CHECK_EQ_INT(ia_car_reader_n_roots(r), 0);
        ia_car_reader_close(r);
    }
    /* A header length beyond the limit, or zero. */
    const uint8_t hugehdr[] = {0xff, 0xff, 0x7f, 0xa2};
    CHECK_EQ_INT(ia_car_reader_open_mem(hugehdr, sizeof hugehdr, &r), IA_EFORMAT);
    const uint8_t zerohdr[] = {0x00};
    CHECK_EQ_INT(ia_car_reader_open_mem(zerohdr, 1, &r), IA_EFORMAT);
    /* Header: wrong tag, missing 0x00 prefix, trailing byte inside header. */
    uint8_t *t = dup_exact(car, len);
    t[10] = 0x2b;
    CHECK_EQ_INT(ia_car_reader_open_mem(t, len, &r), IA_EFORMAT);
    memcpy(t, car, len);
    t[13] = 0x01;
    CHECK_EQ_INT(ia_car_reader_open_mem(t, len, &r), IA_EFORMAT);
    memcpy(t, car, len);
    t[0]++;
    CHECK(ia_car_reader_open_mem(t, len, &r) < 0);
    free(t);

    /* Oversized, zero-length and non-minimal section lengths. */
    uint8_t buf[256];
    memcpy(buf, car, hdr);
    uint8_t v[IA_VARINT_MAX];
    size_t vn = ia_varint_encode((uint64_t)IA_CAR_MAX_SECTION + 1, v);
    memcpy(buf + hdr, v, vn);
    REQUIRE(ia_car_reader_open_mem(buf, hdr + vn, &r) == IA_OK);
    int count;
    CHECK_EQ_INT(read_all(r, &count), IA_ERANGE);
    CHECK(strstr(ia_error_msg(), "byte") != NULL);
    ia_car_reader_close(r);
    vn = ia_varint_encode(UINT64_C(1) << 62, v);
    memcpy(buf + hdr, v, vn);
    REQUIRE(ia_car_reader_open_mem(buf, hdr + vn, &r) == IA_OK);
    CHECK_EQ_INT(read_all(r, &count), IA_ERANGE);
    ia_car_reader_close(r);
    buf[hdr] = 0x00;
    REQUIRE(ia_car_reader_open_mem(buf, hdr + 1, &r) == IA_OK);
    CHECK_EQ_INT(read_all(r, &count), IA_EFORMAT);
    ia_car_reader_close(r);
    buf[hdr] = 0x80;
    buf[hdr + 1] = 0x00;
    REQUIRE(ia_car_reader_open_mem(buf, hdr + 2, &r) == IA_OK);
    CHECK_EQ_INT(read_all(r, &count), IA_EFORMAT);
    ia_car_reader_close(r);
    /* A section whose CID is garbage: error names the offset, and sticks. */
    buf[hdr] = 0x03;
    buf[hdr + 1] = 0x05;
    buf[hdr + 2] = 0x55;
    buf[hdr + 3] = 0x12;
    REQUIRE(ia_car_reader_open_mem(buf, hdr + 4, &r) == IA_OK);
    struct ia_cid c;
    const uint8_t *d;
    size_t n;
    CHECK(ia_car_reader_next(r, &c, &d, &n) < 0);
    char want[64];
    snprintf(want, sizeof want, "section at byte %zu", hdr);
    CHECK(strstr(ia_error_msg(), want) != NULL);
    CHECK(ia_car_reader_next(r, &c, &d, &n) < 0);
    ia_car_reader_close(r);
    /* A corrupted block reads fine; verification is the caller's. */
    t = dup_exact(car, len);
    t[len - 1] ^= 1;
    REQUIRE(ia_car_reader_open_mem(t, len, &r) == IA_OK);
    CHECK_EQ_INT(read_all(r, &count), -100);
    ia_car_reader_close(r);
    free(t);
    free(car);
}

static void test_car_writer_limits(void) {
    FILE *f = tmpfile();
    REQUIRE(f);
    struct ia_cid roots[IA_CAR_MAX_ROOTS + 1];
    for (int i = 0; i <= IA_CAR_MAX_ROOTS; i++) make_cid(i, &roots[i]);
    struct ia_car_writer *w;
    CHECK_EQ_INT(ia_car_writer_open(f, roots, IA_CAR_MAX_ROOTS + 1, &w), IA_ERANGE);
    REQUIRE(ia_car_writer_open(f, roots, IA_CAR_MAX_ROOTS, &w) == IA_OK);
    static uint8_t big[IA_CAR_MAX_SECTION];
    CHECK_EQ_INT(ia_car_writer_put(w, &roots[0], big, sizeof big), IA_ERANGE);
    CHECK_EQ_INT(ia_car_writer_close(w), IA_OK);
    rewind(f);
    struct ia_car_reader *r;
    REQUIRE(ia_car_reader_open(f, "roots.car", &r) == IA_OK);
    CHECK_EQ_INT(ia_car_reader_n_roots(r), IA_CAR_MAX_ROOTS);
    CHECK(ia_cid_equal(ia_car_reader_root(r, 63), &roots[63]));
    int count;
    CHECK_EQ_INT(read_all(r, &count), 0);
    CHECK_EQ_INT(count, 0);
    ia_car_reader_close(r);
    fclose(f);
    /* A write error surfaces (a read-only stream). */
    f = fopen("/dev/null", "rb");
    REQUIRE(f);
    if (ia_car_writer_open(f, roots, 1, &w) == IA_OK) CHECK(ia_car_writer_close(w) < 0);
    fclose(f);
}

TEST_MAIN(T(test_varint), T(test_multihash), T(test_base32), T(test_base58), T(test_cid_vectors),
          T(test_cid_parse), T(test_cid_verify), T(test_unixfs_hello), T(test_unixfs_roundtrip),
          T(test_dagpb_roundtrip), T(test_dagpb_malformed), T(test_dagpb_limits),
          T(test_alloc_failure), T(test_car_roundtrip), T(test_car_bad), T(test_car_writer_limits))
