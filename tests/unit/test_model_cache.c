/* ia_store_model_path: the copy of a CID in cache/models, its re-check
 * (including the byte-for-byte fallback for a CID no import profile
 * reproduces), and its errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ia/store.h"

static char scratch[256];

static struct ia_store *fresh_store(void) {
    snprintf(scratch, sizeof scratch, "/tmp/ia-model-cache-XXXXXX");
    if (!mkdtemp(scratch)) return NULL;
    char home[300];
    snprintf(home, sizeof home, "%s/home", scratch);
    struct ia_store *s = NULL;
    return ia_store_open(home, &s) == IA_OK ? s : NULL;
}

static void done(struct ia_store *s) {
    char cmd[400];
    ia_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", scratch);
}

static void write_file(const char *rel, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", scratch, rel);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static int file_is(const char *path, const char *text) {
    char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && !memcmp(buf, text, n);
}

/* Adds scratch/rel (a folder when recursive) to the store. */
static int add(struct ia_store *s, const char *rel, int recursive, struct ia_cid *cid) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", scratch, rel);
    struct ia_import_opts o = {.put = ia_store_put_cb, .put_user = s};
    int rc = ia_import_profile_get("default", &o.profile);
    return rc == IA_OK ? ia_import_path(&o, p, recursive, cid) : rc;
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

static void t_not_in_store(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct ia_cid cid;
    char path[4096];
    REQUIRE(ia_cid_parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", &cid) ==
            IA_OK);
    CHECK_EQ_INT(ia_store_model_path(s, &cid, path, sizeof path), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "is not in the store"));
    CHECK(strstr(ia_error_msg(), "fetch"));
    done(s);
}

/* A CIDv1 dag-pb file node with its bytes inline: valid UnixFS, but no
 * import profile makes it, so the re-check compares with the store. */
static void t_fallback_compare(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    static const char text[] = "not really onnx, but a file all the same";
    struct ia_unixfs u = {.type = IA_UNIXFS_FILE,
                          .data = (const uint8_t *)text,
                          .data_len = sizeof text - 1,
                          .has_data = 1,
                          .filesize = sizeof text - 1,
                          .has_filesize = 1};
    uint8_t *ud = NULL, *blk = NULL;
    size_t ud_len = 0, blk_len = 0;
    REQUIRE(ia_unixfs_encode(&u, &ud, &ud_len) == IA_OK);
    struct ia_pb_node pn = {.data = ud, .data_len = ud_len, .has_data = 1};
    REQUIRE(ia_pb_node_encode(&pn, &blk, &blk_len) == IA_OK);
    struct ia_cid cid;
    ia_cid_of(1, IA_CODEC_DAG_PB, blk, blk_len, &cid);
    REQUIRE(ia_store_put(s, &cid, blk, blk_len) == IA_OK);
    ia_free(ud);
    ia_free(blk);

    char path[4096];
    REQUIRE(ia_store_model_path(s, &cid, path, sizeof path) == IA_OK);
    CHECK(ends_with(path, "/model.onnx"));
    CHECK(file_is(path, text));
    struct stat st1, st2;
    REQUIRE(stat(path, &st1) == 0);
    CHECK_EQ_INT(ia_store_model_path(s, &cid, path, sizeof path), IA_OK);
    CHECK(stat(path, &st2) == 0 && st1.st_ino == st2.st_ino); /* intact: kept */
    FILE *f = fopen(path, "r+b");
    REQUIRE(f);
    fputc('N', f);
    fclose(f);
    CHECK(!file_is(path, text));
    CHECK_EQ_INT(ia_store_model_path(s, &cid, path, sizeof path), IA_OK);
    CHECK(file_is(path, text)); /* made again */
    done(s);
}

static void t_folders(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    char p[512], path[4096];
    struct ia_cid two, none, nested;
    snprintf(p, sizeof p, "%s/two", scratch);
    mkdir(p, 0755);
    write_file("two/a.onnx", "a");
    write_file("two/b.onnx", "b");
    snprintf(p, sizeof p, "%s/none", scratch);
    mkdir(p, 0755);
    write_file("none/weights.bin", "w");
    snprintf(p, sizeof p, "%s/nested", scratch);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/nested/sub", scratch);
    mkdir(p, 0755);
    write_file("nested/sub/m.onnx", "m");
    write_file("nested/sub/w.bin", "weights");
    write_file("nested/.hidden.onnx", "ignored by the search, kept in the copy");
    REQUIRE(add(s, "two", 1, &two) == IA_OK);
    REQUIRE(add(s, "none", 1, &none) == IA_OK);
    struct ia_import_opts o = {.put = ia_store_put_cb, .put_user = s, .hidden = 1};
    REQUIRE(ia_import_profile_get("unixfs-v1-2025", &o.profile) == IA_OK);
    snprintf(p, sizeof p, "%s/nested", scratch);
    REQUIRE(ia_import_path(&o, p, 1, &nested) == IA_OK);

    CHECK_EQ_INT(ia_store_model_path(s, &two, path, sizeof path), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "2 .onnx files (a.onnx, b.onnx)") ||
          strstr(ia_error_msg(), "2 .onnx files (b.onnx, a.onnx)"));
    CHECK_EQ_INT(ia_store_model_path(s, &none, path, sizeof path), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "no .onnx file"));
    REQUIRE(ia_store_model_path(s, &nested, path, sizeof path) == IA_OK);
    CHECK(ends_with(path, "/model/sub/m.onnx"));
    char w[4200];
    snprintf(w, sizeof w, "%.4000s", path);
    strcpy(w + strlen(w) - strlen("m.onnx"), "w.bin");
    CHECK(file_is(w, "weights"));
    /* The copy, dotfile included, reproduces a unixfs-v1-2025 CID. */
    struct stat st1, st2;
    REQUIRE(stat(path, &st1) == 0);
    CHECK_EQ_INT(ia_store_model_path(s, &nested, path, sizeof path), IA_OK);
    CHECK(stat(path, &st2) == 0 && st1.st_ino == st2.st_ino);
    unlink(w);
    CHECK_EQ_INT(ia_store_model_path(s, &nested, path, sizeof path), IA_OK);
    CHECK(file_is(w, "weights"));

    char small[16];
    CHECK_EQ_INT(ia_store_model_path(s, &nested, small, sizeof small), IA_ERANGE);
    done(s);
}

TEST_MAIN(T(t_not_in_store), T(t_fallback_compare), T(t_folders))
