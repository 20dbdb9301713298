/* safetensors reader/writer: round trips and malformed files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ia/zoo.h"

/* A file image: 8-byte length, the header text, then data_len bytes. */
static uint8_t *image(const char *hdr, size_t data_len, size_t *len) {
    size_t h = strlen(hdr);
    *len = 8 + h + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, hdr, h);
    for (size_t i = 0; i < data_len; i++) b[8 + h + i] = (uint8_t)i;
    return b;
}

static int parse_rc(const char *hdr, size_t data_len) {
    size_t len;
    uint8_t *b = image(hdr, data_len, &len);
    struct ia_safetensors *st = NULL;
    int rc = ia_safetensors_parse(b, len, "t.safetensors", &st);
    ia_safetensors_close(st);
    free(b);
    return rc;
}

static void test_valid(void) {
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                    "\"a\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                    "\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[24,24]}}";
    size_t len;
    uint8_t *b = image(h, 24, &len);
    struct ia_safetensors *st;
    REQUIRE(ia_safetensors_parse(b, len, "x", &st) == IA_OK);
    CHECK_EQ_INT(st->n_tensors, 3);
    CHECK_EQ_INT(st->n_meta, 1);
    CHECK_EQ_STR(st->meta[0].value, "pt");
    const struct ia_st_tensor *t = ia_safetensors_find(st, "b");
    REQUIRE(t != NULL);
    CHECK_EQ_INT(t->dtype, IA_DTYPE_INT64);
    CHECK_EQ_INT(t->nbytes, 16);
    CHECK(t->data == b + 8 + strlen(h) + 8);
    CHECK(ia_safetensors_find(st, "a")->rank == 2);
    CHECK(ia_safetensors_find(st, "z")->data == NULL);
    CHECK(ia_safetensors_find(st, "nope") == NULL);
    ia_safetensors_close(st);
    free(b);
}

static void test_malformed(void) {
    /* overlapping offsets */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                 IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "overlaps") != NULL);
    /* a gap before a tensor */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                 IA_EFORMAT);
    /* truncated data: offsets past the end */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 10),
                 IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "'a'") != NULL);
    /* bytes left over after the last tensor */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9),
                 IA_EFORMAT);
    /* dtype/shape mismatch with the byte length */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                 IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "needs 6") != NULL);
    /* numel overflow */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                          "\"data_offsets\":[0,8]}}", 8),
                 IA_ERANGE);
    /* end before begin, negative dims, unknown and unsupported dtypes */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8),
                 IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                 IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                 IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}",
                          4),
                 IA_EUNSUPPORTED);
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                          "\"data_offsets\":[0,4]}}", 4),
                 IA_ERANGE);
    /* duplicate keys, bad JSON, not an object, missing fields */
    CHECK_EQ_INT(parse_rc("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                 IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"a\":", 0), IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("[1,2]", 0), IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{\"__metadata__\":{\"k\":1}}", 0), IA_EFORMAT);
    /* no tensors but data */
    CHECK_EQ_INT(parse_rc("{}", 4), IA_EFORMAT);
    CHECK_EQ_INT(parse_rc("{}", 0), IA_OK);
}

static void test_header_length(void) {
    uint8_t b[16] = {0};
    struct ia_safetensors *st = NULL;
    /* huge header length */
    memset(b, 0xff, 8);
    CHECK_EQ_INT(ia_safetensors_parse(b, sizeof b, "h", &st), IA_ERANGE);
    /* within the limit but past the end of the file */
    memset(b, 0, 8);
    b[0] = 100;
    b[8] = '{';
    CHECK_EQ_INT(ia_safetensors_parse(b, sizeof b, "h", &st), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "past the end") != NULL);
    /* too short to hold the length */
    CHECK_EQ_INT(ia_safetensors_parse(b, 5, "h", &st), IA_EFORMAT);
    /* zero length */
    b[0] = 0;
    CHECK_EQ_INT(ia_safetensors_parse(b, sizeof b, "h", &st), IA_EFORMAT);
    CHECK(st == NULL);
}

static void test_roundtrip_file(void) {
    char dir[] = "/tmp/ia_st_XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    float w[6] = {1, 2, 3, 4, 5, 6};
    int64_t ids[3] = {7, 8, 9};
    uint16_t bf[2] = {0x3f80, 0xc000};
    int64_t d23[2] = {2, 3}, d3[1] = {3}, d2[1] = {2}, d0[1] = {0};
    struct ia_st_entry e[4] = {{"w", IA_DTYPE_FLOAT32, 2, d23, w},
                               {"ids", IA_DTYPE_INT64, 1, d3, ids},
                               {"bf", IA_DTYPE_BFLOAT16, 1, d2, bf},
                               {"empty", IA_DTYPE_FLOAT32, 1, d0, NULL}};
    struct ia_st_meta m = {"format", "pt"};
    REQUIRE(ia_safetensors_write(path, e, 4, &m, 1) == IA_OK);
    struct ia_safetensors *st;
    REQUIRE(ia_safetensors_open(path, &st) == IA_OK);
    CHECK_EQ_INT(st->n_tensors, 4);
    CHECK_EQ_INT(st->header_len % 8, 0);
    const struct ia_st_tensor *t = ia_safetensors_find(st, "w");
    REQUIRE(t && t->nbytes == sizeof w);
    CHECK(memcmp(t->data, w, sizeof w) == 0);
    t = ia_safetensors_find(st, "bf");
    REQUIRE(t);
    CHECK_EQ_STR(t->dtype_name, "BF16");
    CHECK(memcmp(t->data, bf, 4) == 0);
    ia_safetensors_close(st);
    /* a truncated copy fails naming the file */
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char cut[256];
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    f = fopen(cut, "wb");
    fwrite(buf, 1, n - 5, f);
    fclose(f);
    CHECK_EQ_INT(ia_safetensors_open(cut, &st), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "cut.safetensors") != NULL);
    char missing[256];
    snprintf(missing, sizeof missing, "%s/none.safetensors", dir);
    CHECK_EQ_INT(ia_safetensors_open(missing, &st), IA_ENOTFOUND);
    unlink(path);
    unlink(cut);
    rmdir(dir);
}

static void test_alloc_failures(void) {
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    size_t len;
    uint8_t *b = image(h, 12, &len);
    int ok = 0;
    for (long n = 0; n < 50 && !ok; n++) {
        struct ia_safetensors *st = NULL;
        ia_alloc_fail_after(n);
        int rc = ia_safetensors_parse(b, len, "x", &st);
        ia_alloc_fail_after(-1);
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        ok = rc == IA_OK;
        ia_safetensors_close(st);
    }
    CHECK(ok);
    free(b);
}

TEST_MAIN(T(test_valid), T(test_malformed), T(test_header_length), T(test_roundtrip_file),
          T(test_alloc_failures))
