/* Blockstore, pins, gc, verify-blocks, UnixFS reads and CAR import/export,
 * on DAGs built by hand with the codec API so each test controls every
 * byte (including lying sizes and hostile names). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ia/cid.h"
#include "ia/store.h"

static char scratch[256];

/* A fresh store in a new temp folder each time. */
static struct ia_store *fresh_store(void) {
    snprintf(scratch, sizeof scratch, "/tmp/ia_test_store.XXXXXX");
    if (!mkdtemp(scratch)) return NULL;
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s/home", scratch);
    struct ia_store *s = NULL;
    if (ia_store_open(home, &s) != IA_OK) return NULL;
    return s;
}

static void done_store(struct ia_store *s) {
    ia_store_close(s);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", scratch);
}

static struct ia_cid put_raw(struct ia_store *s, const char *text) {
    struct ia_cid cid;
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)text, strlen(text), &cid);
    int rc = ia_store_put(s, &cid, (const uint8_t *)text, strlen(text));
    if (rc != IA_OK) fprintf(stderr, "put_raw: %s\n", ia_error_msg());
    return cid;
}

/* A dag-pb node with UnixFS data of `type`, optional inline data, links
 * (names may be NULL) and blocksizes for File nodes. */
static struct ia_cid put_pb(struct ia_store *s, int type, const char *inline_data,
                            const struct ia_cid *kids, const char *const *names,
                            const uint64_t *sizes, size_t n, int lie_filesize) {
    struct ia_unixfs u;
    memset(&u, 0, sizeof u);
    u.type = type;
    uint64_t total = 0;
    if (inline_data) {
        u.data = (const uint8_t *)inline_data;
        u.data_len = strlen(inline_data);
        u.has_data = 1;
        total = u.data_len;
    }
    uint64_t bs[16];
    if (type == IA_UNIXFS_FILE) {
        for (size_t i = 0; i < n; i++) total += bs[i] = sizes[i];
        u.blocksizes = bs;
        u.n_blocksizes = n;
        u.filesize = total + (lie_filesize ? 1 : 0);
        u.has_filesize = 1;
    }
    uint8_t *ub;
    size_t ul;
    struct ia_cid cid;
    memset(&cid, 0, sizeof cid);
    if (ia_unixfs_encode(&u, &ub, &ul) != IA_OK) return cid;
    struct ia_pb_link links[16];
    memset(links, 0, sizeof links);
    for (size_t i = 0; i < n; i++) {
        links[i].cid = kids[i];
        if (names) {
            links[i].name = (const uint8_t *)names[i];
            links[i].name_len = strlen(names[i]);
            links[i].has_name = 1;
        }
        links[i].tsize = sizes ? sizes[i] : 0;
        links[i].has_tsize = 1;
    }
    struct ia_pb_node node = {links, n, ub, ul, 1};
    uint8_t *blk;
    size_t bl;
    if (ia_pb_node_encode(&node, &blk, &bl) == IA_OK) {
        ia_cid_of(1, IA_CODEC_DAG_PB, blk, bl, &cid);
        if (ia_store_put(s, &cid, blk, bl) != IA_OK)
            fprintf(stderr, "put_pb: %s\n", ia_error_msg());
        ia_free(blk);
    }
    ia_free(ub);
    return cid;
}

static int block_file(struct ia_store *s, const struct ia_cid *cid, char *path) {
    /* Find the file by listing the shard folders: the test must not share
     * the store's naming code, or a naming bug would hide itself. */
    uint8_t mhb[IA_MH_MAX_DIGEST + 20];
    size_t n = ia_mh_to_bytes(&cid->mh, mhb, sizeof mhb);
    char b32[512];
    int m = ia_base32_encode(mhb, n, b32, sizeof b32);
    for (int i = 0; i < m; i++)
        if (b32[i] >= 'a' && b32[i] <= 'z') b32[i] -= 32;
    snprintf(path, PATH_MAX, "%s/blocks/%.2s/%s", ia_store_home(s), b32 + m - 3, b32);
    struct stat st;
    return stat(path, &st) == 0;
}

static void corrupt_file(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    int c = fgetc(f);
    fseek(f, 0, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

static int count_blocks_cb(void *user, const struct ia_multihash *mh, uint64_t size) {
    (void)mh;
    (void)size;
    (*(int *)user)++;
    return IA_OK;
}

static int n_blocks(struct ia_store *s) {
    int n = 0;
    ia_store_foreach(s, count_blocks_cb, &n);
    return n;
}

/* ---- blocks ------------------------------------------------------------- */

static void test_put_get_has_delete(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct ia_cid a = put_raw(s, "hello block");
    CHECK_EQ_INT(ia_store_has(s, &a), 1);
    char path[PATH_MAX];
    CHECK(block_file(s, &a, path));
    CHECK(strstr(path, "/blocks/") != NULL);
    uint8_t *d;
    size_t n;
    CHECK_EQ_INT(ia_store_get(s, &a, &d, &n), IA_OK);
    CHECK(n == 11 && memcmp(d, "hello block", 11) == 0);
    ia_free(d);
    /* put twice is a no-op */
    CHECK_EQ_INT(ia_store_put(s, &a, (const uint8_t *)"hello block", 11), IA_OK);
    CHECK_EQ_INT(n_blocks(s), 1);
    /* wrong data for a CID is refused and nothing is written */
    struct ia_cid b;
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"x", 1, &b);
    CHECK_EQ_INT(ia_store_put(s, &b, (const uint8_t *)"y", 1), IA_ECORRUPT);
    CHECK_EQ_INT(ia_store_has(s, &b), 0);
    CHECK_EQ_INT(ia_store_get(s, &b, &d, &n), IA_ENOTFOUND);
    CHECK_EQ_INT(ia_store_delete(s, &a.mh), IA_OK);
    CHECK_EQ_INT(ia_store_has(s, &a), 0);
    CHECK_EQ_INT(ia_store_delete(s, &a.mh), IA_ENOTFOUND);
    /* identity: no file, data is the digest */
    struct ia_cid id = {1, IA_CODEC_RAW, {IA_MH_IDENTITY, 3, {'a', 'b', 'c'}}};
    CHECK_EQ_INT(ia_store_put(s, &id, (const uint8_t *)"abc", 3), IA_OK);
    CHECK_EQ_INT(ia_store_has(s, &id), 1);
    CHECK_EQ_INT(ia_store_get(s, &id, &d, &n), IA_OK);
    CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
    ia_free(d);
    CHECK_EQ_INT(n_blocks(s), 0);
    /* no temp files left */
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/tmp", ia_store_home(s));
    DIR *dir = opendir(tmp);
    int left = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (e->d_name[0] != '.') left++;
    if (dir) closedir(dir);
    CHECK_EQ_INT(left, 0);
    done_store(s);
}

static void test_corrupt_block(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct ia_cid a = put_raw(s, "some bytes that will rot");
    char path[PATH_MAX];
    REQUIRE(block_file(s, &a, path));
    corrupt_file(path);
    uint8_t *d = (uint8_t *)1;
    size_t n;
    CHECK_EQ_INT(ia_store_get(s, &a, &d, &n), IA_ECORRUPT);
    CHECK(d == NULL);
    char str[IA_CID_STR_MAX];
    ia_cid_format(&a, str);
    CHECK(strstr(ia_error_msg(), str) != NULL);
    /* a verified put repairs a damaged copy of another size */
    FILE *f = fopen(path, "ab");
    if (f) fputs("junk", f), fclose(f);
    CHECK_EQ_INT(ia_store_put(s, &a, (const uint8_t *)"some bytes that will rot", 24), IA_OK);
    CHECK_EQ_INT(ia_store_get(s, &a, &d, &n), IA_OK);
    ia_free(d);
    done_store(s);
}

static void test_stale_tmp_cleaned(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    char home[PATH_MAX], p1[PATH_MAX + 32], p2[PATH_MAX + 32];
    snprintf(home, sizeof home, "%s", ia_store_home(s));
    /* our own pid is alive; one above pid_max never is */
    snprintf(p1, sizeof p1, "%s/tmp/999999999.dead.0", home);
    snprintf(p2, sizeof p2, "%s/tmp/%d.alive.0", home, (int)getpid());
    FILE *f = fopen(p1, "w");
    if (f) fclose(f);
    f = fopen(p2, "w");
    if (f) fclose(f);
    ia_store_close(s);
    REQUIRE(ia_store_open(home, &s) == IA_OK);
    struct stat st;
    CHECK(stat(p1, &st) != 0);
    CHECK(stat(p2, &st) == 0);
    unlink(p2);
    /* a recent file of another form may belong to a live process */
    snprintf(p1, sizeof p1, "%s/tmp/fetch-abc123", home);
    f = fopen(p1, "w");
    if (f) fclose(f);
    ia_store_close(s);
    REQUIRE(ia_store_open(home, &s) == IA_OK);
    CHECK(stat(p1, &st) == 0);
    done_store(s);
}

static void test_alloc_failures(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s", ia_store_home(s));
    ia_store_close(s);
    s = NULL;
    int ok = 0;
    for (long k = 0; k < 40 && !ok; k++) {
        struct ia_store *t = NULL;
        ia_alloc_fail_after(k);
        int rc = ia_store_open(home, &t);
        ia_alloc_fail_after(-1);
        if (rc == IA_OK) {
            ok = 1;
            ia_store_close(t);
        } else {
            CHECK_EQ_INT(rc, IA_ENOMEM);
            CHECK(t == NULL);
        }
    }
    CHECK(ok);
    REQUIRE(ia_store_open(home, &s) == IA_OK);
    ok = 0;
    for (long k = 0; k < 40 && !ok; k++) {
        char text[64];
        snprintf(text, sizeof text, "alloc %ld", k);
        struct ia_cid c;
        ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)text, strlen(text), &c);
        ia_alloc_fail_after(k);
        int rc = ia_store_put(s, &c, (const uint8_t *)text, strlen(text));
        uint8_t *d = NULL;
        size_t n;
        int grc = rc == IA_OK ? ia_store_get(s, &c, &d, &n) : IA_ENOMEM;
        ia_alloc_fail_after(-1);
        if (rc == IA_OK && grc == IA_OK) ok = 1;
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        CHECK(grc == IA_OK || grc == IA_ENOMEM);
        ia_free(d);
    }
    CHECK(ok);
    /* gc and verify under injected failures fail cleanly */
    for (long k = 0; k < 20; k++) {
        uint64_t r, b;
        struct ia_verify_counts vc;
        ia_alloc_fail_after(k);
        int rc1 = ia_store_gc(s, &r, &b);
        ia_alloc_fail_after(k);
        int rc2 = ia_store_verify_blocks(s, NULL, NULL, NULL, &vc);
        ia_alloc_fail_after(-1);
        CHECK(rc1 == IA_OK || rc1 == IA_ENOMEM);
        CHECK(rc2 == IA_OK || rc2 == IA_ENOMEM);
    }
    done_store(s);
}

/* ---- pins, gc, verify ---------------------------------------------------- */

/* root(file: "head" + [a, mid(file: [b, c])]) */
struct dag {
    struct ia_cid a, b, c, mid, root;
};

static void build_dag(struct ia_store *s, struct dag *g) {
    g->a = put_raw(s, "AAAA");
    g->b = put_raw(s, "BBBBBB");
    g->c = put_raw(s, "CC");
    struct ia_cid k1[2] = {g->b, g->c};
    uint64_t s1[2] = {6, 2};
    g->mid = put_pb(s, IA_UNIXFS_FILE, NULL, k1, NULL, s1, 2, 0);
    struct ia_cid k2[2] = {g->a, g->mid};
    uint64_t s2[2] = {4, 8};
    g->root = put_pb(s, IA_UNIXFS_FILE, "head", k2, NULL, s2, 2, 0);
}

static void count_pin(void *user, const struct ia_cid *cid) {
    (void)cid;
    (*(int *)user)++;
}

static void test_pins_gc(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct dag g;
    build_dag(s, &g);
    put_raw(s, "garbage one");
    put_raw(s, "garbage two");
    CHECK_EQ_INT(n_blocks(s), 7);
    CHECK_EQ_INT(ia_store_pin_add(s, &g.root), IA_OK);
    int np = 0;
    ia_store_pin_list(s, count_pin, &np);
    CHECK_EQ_INT(np, 1);
    uint64_t removed = 0, bytes = 0;
    CHECK_EQ_INT(ia_store_gc(s, &removed, &bytes), IA_OK);
    CHECK_EQ_INT(removed, 2);
    CHECK_EQ_INT(bytes, 22);
    CHECK_EQ_INT(n_blocks(s), 5);
    CHECK(ia_store_has(s, &g.b));
    /* pin of an incomplete DAG is refused, naming the missing block */
    CHECK_EQ_INT(ia_store_delete(s, &g.c.mh), IA_OK);
    CHECK_EQ_INT(ia_store_pin_add(s, &g.mid), IA_ENOTFOUND);
    char str[IA_CID_STR_MAX];
    ia_cid_format(&g.c, str);
    CHECK(strstr(ia_error_msg(), str) != NULL);
    put_raw(s, "CC");
    /* a corrupt pinned dag-pb node: gc refuses and deletes nothing */
    put_raw(s, "garbage three");
    char path[PATH_MAX];
    REQUIRE(block_file(s, &g.mid, path));
    corrupt_file(path);
    CHECK_EQ_INT(ia_store_gc(s, &removed, &bytes), IA_ECORRUPT);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(n_blocks(s), 6);
    /* unpinned, everything goes */
    CHECK_EQ_INT(ia_store_pin_rm(s, &g.root), IA_OK);
    CHECK_EQ_INT(ia_store_pin_rm(s, &g.root), IA_ENOTFOUND);
    CHECK_EQ_INT(ia_store_gc(s, &removed, &bytes), IA_OK);
    CHECK_EQ_INT(removed, 6);
    CHECK_EQ_INT(n_blocks(s), 0);
    done_store(s);
}

static void test_gc_shared_multihash(void) {
    /* One block linked as raw by one pin and as dag-pb by another: the
     * dag-pb reading's children must stay. */
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct ia_cid leaf = put_raw(s, "child");
    uint64_t sz = 5;
    struct ia_cid node = put_pb(s, IA_UNIXFS_FILE, NULL, &leaf, NULL, &sz, 1, 0);
    struct ia_cid as_raw = node;
    as_raw.codec = IA_CODEC_RAW;
    /* The raw reading comes first in the walk, so it sees the block first. */
    struct ia_cid kids[2] = {as_raw, node};
    const char *names[2] = {"as-raw", "as-pb"};
    uint64_t sizes[2] = {50, 50};
    struct ia_cid dir = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, kids, names, sizes, 2, 0);
    CHECK_EQ_INT(ia_store_pin_add(s, &dir), IA_OK);
    uint64_t removed, bytes;
    CHECK_EQ_INT(ia_store_gc(s, &removed, &bytes), IA_OK);
    CHECK_EQ_INT(removed, 0);
    CHECK(ia_store_has(s, &leaf));
    done_store(s);
}

struct bad_list {
    int n;
    char why[4][512];
};

static void on_bad(void *user, const struct ia_multihash *mh, const char *why) {
    (void)mh;
    struct bad_list *b = user;
    if (b->n < 4) snprintf(b->why[b->n], sizeof b->why[0], "%s", why);
    b->n++;
}

static void test_verify_blocks(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct dag g;
    build_dag(s, &g);
    struct ia_verify_counts c;
    struct bad_list bad = {0};
    CHECK_EQ_INT(ia_store_verify_blocks(s, NULL, on_bad, &bad, &c), IA_OK);
    CHECK_EQ_INT(c.checked, 5);
    CHECK_EQ_INT(c.corrupt, 0);
    CHECK_EQ_INT(bad.n, 0);
    char path[PATH_MAX];
    REQUIRE(block_file(s, &g.b, path));
    corrupt_file(path);
    CHECK_EQ_INT(ia_store_delete(s, &g.c.mh), IA_OK);
    CHECK_EQ_INT(ia_store_verify_blocks(s, NULL, on_bad, &bad, &c), IA_ECORRUPT);
    CHECK_EQ_INT(c.checked, 4);
    CHECK_EQ_INT(c.corrupt, 1);
    char str[IA_CID_STR_MAX];
    ia_cid_format(&g.b, str);
    CHECK(bad.n == 1 && strstr(bad.why[0], str));
    memset(&bad, 0, sizeof bad);
    CHECK_EQ_INT(ia_store_verify_blocks(s, &g.root, on_bad, &bad, &c), IA_ECORRUPT);
    CHECK_EQ_INT(c.checked, 4);
    CHECK_EQ_INT(c.corrupt, 1);
    CHECK_EQ_INT(c.missing, 1);
    CHECK_EQ_INT(bad.n, 2);
    ia_cid_format(&g.c, str);
    CHECK(strstr(bad.why[1], str) != NULL);
    done_store(s);
}

/* ---- cat / get / ls -------------------------------------------------------- */

struct buf {
    char b[256];
    size_t n;
};

static int to_buf(void *user, const uint8_t *data, size_t len) {
    struct buf *b = user;
    if (b->n + len > sizeof b->b) return IA_ERANGE;
    memcpy(b->b + b->n, data, len);
    b->n += len;
    return IA_OK;
}

static void test_cat(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct dag g;
    build_dag(s, &g);
    struct buf out = {{0}, 0};
    CHECK_EQ_INT(ia_store_cat(s, &g.root, to_buf, &out), IA_OK);
    CHECK(out.n == 16 && memcmp(out.b, "headAAAABBBBBBCC", 16) == 0);
    out.n = 0;
    CHECK_EQ_INT(ia_store_cat(s, &g.a, to_buf, &out), IA_OK);
    CHECK(out.n == 4);
    /* a parent that claims the wrong size for a child */
    struct ia_cid kids[2] = {g.a, g.b};
    uint64_t wrong[2] = {4, 7};
    struct ia_cid liar = put_pb(s, IA_UNIXFS_FILE, NULL, kids, NULL, wrong, 2, 0);
    out.n = 0;
    CHECK_EQ_INT(ia_store_cat(s, &liar, to_buf, &out), IA_ECORRUPT);
    CHECK_EQ_INT(out.n, 4); /* a's bytes, none of b's */
    uint64_t right[2] = {4, 6};
    struct ia_cid liar2 = put_pb(s, IA_UNIXFS_FILE, NULL, kids, NULL, right, 2, 1);
    out.n = 0;
    CHECK_EQ_INT(ia_store_cat(s, &liar2, to_buf, &out), IA_ECORRUPT);
    CHECK_EQ_INT(out.n, 0);
    /* corrupt leaf: bytes before it only */
    char path[PATH_MAX];
    REQUIRE(block_file(s, &g.c, path));
    corrupt_file(path);
    out.n = 0;
    CHECK_EQ_INT(ia_store_cat(s, &g.root, to_buf, &out), IA_ECORRUPT);
    CHECK_EQ_INT(out.n, 14);
    /* directories are not files */
    const char *names[1] = {"f"};
    uint64_t sz = 4;
    struct ia_cid dir = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, &g.a, names, &sz, 1, 0);
    CHECK_EQ_INT(ia_store_cat(s, &dir, to_buf, &out), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "is a directory") != NULL);
    /* a self-similar chain deeper than the limit fails cleanly */
    struct ia_cid cur = g.a;
    uint64_t csz = 4;
    for (int i = 0; i < 70; i++) cur = put_pb(s, IA_UNIXFS_FILE, NULL, &cur, NULL, &csz, 1, 0);
    out.n = 0;
    CHECK_EQ_INT(ia_store_cat(s, &cur, to_buf, &out), IA_ECORRUPT);
    CHECK_EQ_INT(out.n, 0);
    done_store(s);
}

static int read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int n = (int)fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

struct ls_out {
    int n, dirs;
    char names[8][32];
    uint64_t sizes[8];
};

static void on_entry(void *user, const struct ia_store_entry *e) {
    struct ls_out *o = user;
    if (o->n < 8) {
        snprintf(o->names[o->n], 32, "%s", e->name);
        o->sizes[o->n] = e->size;
    }
    o->dirs += e->is_dir;
    o->n++;
}

static void test_get_ls(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct dag g;
    build_dag(s, &g);
    const char *sub_names[1] = {"inner.txt"};
    uint64_t four = 4;
    struct ia_cid sub = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, &g.a, sub_names, &four, 1, 0);
    struct ia_cid kids[2] = {g.root, sub};
    const char *names[2] = {"file.bin", "sub"};
    uint64_t sizes[2] = {100, 50};
    struct ia_cid dir = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, kids, names, sizes, 2, 0);
    char out[PATH_MAX + 8], p[PATH_MAX + 64], buf[64];
    snprintf(out, sizeof out, "%s/out", scratch);
    CHECK_EQ_INT(ia_store_get_path(s, &dir, out), IA_OK);
    snprintf(p, sizeof p, "%s/file.bin", out);
    CHECK(read_file(p, buf, sizeof buf) == 16 && memcmp(buf, "headAAAABBBBBBCC", 16) == 0);
    snprintf(p, sizeof p, "%s/sub/inner.txt", out);
    CHECK(read_file(p, buf, sizeof buf) == 4 && memcmp(buf, "AAAA", 4) == 0);
    CHECK_EQ_INT(ia_store_get_path(s, &dir, out), IA_EEXIST);
    struct ls_out lo;
    memset(&lo, 0, sizeof lo);
    CHECK_EQ_INT(ia_store_ls(s, &dir, on_entry, &lo), IA_OK);
    CHECK_EQ_INT(lo.n, 2);
    CHECK_EQ_INT(lo.dirs, 1);
    CHECK_EQ_STR(lo.names[0], "file.bin");
    CHECK_EQ_INT(lo.sizes[0], 16);
    CHECK_EQ_INT(lo.sizes[1], 50);
    /* hostile names: nothing is written anywhere, out_path is removed */
    const char *hostile[] = {"..", ".", "a/b", "../escape", ""};
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        struct ia_cid two[2] = {g.a, g.b};
        const char *nm[2] = {"ok.txt", hostile[i]};
        uint64_t sz[2] = {4, 6};
        struct ia_cid bad = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, two, nm, sz, 2, 0);
        char o2[PATH_MAX + 16];
        snprintf(o2, sizeof o2, "%s/h%zu", scratch, i);
        CHECK_EQ_INT(ia_store_get_path(s, &bad, o2), IA_ECORRUPT);
        struct stat st;
        CHECK(lstat(o2, &st) != 0);
        snprintf(p, sizeof p, "%s/escape", scratch);
        CHECK(lstat(p, &st) != 0);
    }
    /* duplicate names */
    struct ia_cid two[2] = {g.a, g.b};
    const char *dup[2] = {"same", "same"};
    uint64_t dsz[2] = {4, 6};
    struct ia_cid dd = put_pb(s, IA_UNIXFS_DIRECTORY, NULL, two, dup, dsz, 2, 0);
    snprintf(p, sizeof p, "%s/dup", scratch);
    CHECK_EQ_INT(ia_store_get_path(s, &dd, p), IA_ECORRUPT);
    done_store(s);
}

/* ---- CAR --------------------------------------------------------------------- */

static void test_car_roundtrip(void) {
    struct ia_store *s = fresh_store();
    REQUIRE(s);
    struct dag g;
    build_dag(s, &g);
    put_raw(s, "not in the dag");
    char car[PATH_MAX + 16];
    snprintf(car, sizeof car, "%s/x.car", scratch);
    CHECK_EQ_INT(ia_store_car_export(s, &g.root, car), IA_OK);
    /* order: depth first, root first, each once */
    FILE *f = fopen(car, "rb");
    REQUIRE(f);
    struct ia_car_reader *r;
    REQUIRE(ia_car_reader_open(f, car, &r) == IA_OK);
    struct ia_cid want[5] = {g.root, g.a, g.mid, g.b, g.c}, got;
    const uint8_t *d;
    size_t n;
    int k = 0;
    while (ia_car_reader_next(r, &got, &d, &n) == 1) {
        CHECK(k < 5 && ia_cid_equal(&got, &want[k]));
        k++;
    }
    CHECK_EQ_INT(k, 5);
    ia_car_reader_close(r);
    fclose(f);
    /* into a second store */
    char home2[PATH_MAX + 16];
    snprintf(home2, sizeof home2, "%s/home2", scratch);
    struct ia_store *s2;
    REQUIRE(ia_store_open(home2, &s2) == IA_OK);
    struct ia_cid *roots;
    size_t nr;
    CHECK_EQ_INT(ia_store_car_import(s2, car, &roots, &nr), IA_OK);
    CHECK(nr == 1 && ia_cid_equal(&roots[0], &g.root));
    ia_free(roots);
    CHECK_EQ_INT(n_blocks(s2), 5);
    struct buf out = {{0}, 0};
    CHECK_EQ_INT(ia_store_cat(s2, &g.root, to_buf, &out), IA_OK);
    CHECK(out.n == 16);
    int np = 0;
    ia_store_pin_list(s2, count_pin, &np);
    CHECK_EQ_INT(np, 1);
    ia_store_close(s2);

    /* a bad CAR leaves the store unchanged: flip a byte of the last block */
    char home3[PATH_MAX + 16];
    snprintf(home3, sizeof home3, "%s/home3", scratch);
    struct ia_store *s3;
    REQUIRE(ia_store_open(home3, &s3) == IA_OK);
    f = fopen(car, "r+b");
    REQUIRE(f);
    fseek(f, -1, SEEK_END);
    int c = fgetc(f);
    fseek(f, -1, SEEK_END);
    fputc(c ^ 0x40, f);
    fclose(f);
    CHECK_EQ_INT(ia_store_car_import(s3, car, &roots, &nr), IA_ECORRUPT);
    CHECK(roots == NULL);
    CHECK_EQ_INT(n_blocks(s3), 0);
    np = 0;
    ia_store_pin_list(s3, count_pin, &np);
    CHECK_EQ_INT(np, 0);
    /* truncated */
    CHECK_EQ_INT(truncate(car, 60), 0);
    CHECK(ia_store_car_import(s3, car, &roots, &nr) < 0);
    CHECK_EQ_INT(n_blocks(s3), 0);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/tmp", home3);
    DIR *dir = opendir(tmp);
    int left = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (e->d_name[0] != '.') left++;
    if (dir) closedir(dir);
    CHECK_EQ_INT(left, 0);
    ia_store_close(s3);
    /* missing root: export a DAG, then import a CAR that lacks its root */
    snprintf(car, sizeof car, "%s/y.car", scratch);
    f = fopen(car, "wb");
    REQUIRE(f);
    struct ia_car_writer *w;
    REQUIRE(ia_car_writer_open(f, &g.root, 1, &w) == IA_OK);
    ia_car_writer_put(w, &g.a, (const uint8_t *)"AAAA", 4);
    CHECK_EQ_INT(ia_car_writer_close(w), IA_OK);
    fclose(f);
    REQUIRE(ia_store_open(home3, &s3) == IA_OK);
    CHECK_EQ_INT(ia_store_car_import(s3, car, &roots, &nr), IA_ENOTFOUND);
    CHECK_EQ_INT(n_blocks(s3), 0);
    ia_store_close(s3);
    done_store(s);
}

TEST_MAIN(T(test_put_get_has_delete), T(test_corrupt_block), T(test_stale_tmp_cleaned),
          T(test_alloc_failures), T(test_pins_gc), T(test_gc_shared_multihash),
          T(test_verify_blocks), T(test_cat), T(test_get_ls), T(test_car_roundtrip))
