/* The UnixFS importer: root CIDs against values computed by the reference
 * importer (ipfs-unixfs-importer 17.1.1 through tests/ref/import.mjs, on the
 * same bytes: pattern() below is gen.py's formula), the folder-size limit
 * where the reference would shard, leaf encoding, streaming, and clean
 * failure on put errors and allocation failures. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ia/cid.h"
#include "ia/core.h"

static char tmp[64];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void tmp_setup(void) {
    if (tmp[0]) nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    strcpy(tmp, "/tmp/ia_importer_XXXXXX");
    if (!mkdtemp(tmp)) abort();
}

static const char *P(const char *rel) {
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, rel);
    return buf[i];
}

/* byte i = top byte of (i * golden ratio), as tests/ref vectors were made. */
static void pattern(uint8_t *b, size_t n, uint64_t off) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(((off + i) * 0x9E3779B97F4A7C15ull) >> 56);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
}

static void write_pattern(const char *path, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    pattern(b, n, 0);
    write_file(path, b, n);
    free(b);
}

static void mkdir_p(const char *path) { mkdir(path, 0755); }

static struct ia_import_profile profile(const char *name) {
    struct ia_import_profile p;
    if (ia_import_profile_get(name, &p) != IA_OK) abort();
    return p;
}

/* Imports and formats the root; "" on error (message in ia_error_msg). */
static int import_str(const struct ia_import_opts *o, const char *path, int recursive,
                      char out[IA_CID_STR_MAX]) {
    struct ia_cid root;
    out[0] = '\0';
    int rc = ia_import_path(o, path, recursive, &root);
    if (rc == IA_OK)
        ia_cid_format(&root, out);
    else
        fprintf(stderr, "    import %s: %s\n", path, ia_error_msg());
    return rc;
}

static void check_cid(const struct ia_import_profile *p, const char *path, int recursive,
                      const char *want) {
    struct ia_import_opts o = {.profile = *p};
    char got[IA_CID_STR_MAX];
    CHECK_EQ_INT(import_str(&o, path, recursive, got), IA_OK);
    CHECK_EQ_STR(got, want);
}

static void t_profiles(void) {
    struct ia_import_profile p;
    REQUIRE(ia_import_profile_get("default", &p) == IA_OK);
    CHECK(p.cid_version == 1 && p.raw_leaves && p.chunk_size == 262144 && p.max_links == 174);
    CHECK(!p.dir_size_exact);
    REQUIRE(ia_import_profile_get("unixfs-v1-2025", &p) == IA_OK);
    CHECK(p.cid_version == 1 && p.raw_leaves && p.chunk_size == 1048576 && p.max_links == 1024);
    CHECK(p.dir_size_exact);
    REQUIRE(ia_import_profile_get("unixfs-v0-2015", &p) == IA_OK);
    CHECK(p.cid_version == 0 && !p.raw_leaves && p.chunk_size == 262144 && p.max_links == 174);
    CHECK_EQ_INT(ia_import_profile_get("kubo", &p), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "unixfs-v0-2015") != NULL);
    struct ia_import_opts o = {.profile = profile("default")};
    o.profile.max_links = 1;
    struct ia_cid c;
    CHECK_EQ_INT(ia_import_path(&o, "/dev/null", 0, &c), IA_EINVAL);
}

static const char *const profiles3[3] = {"default", "unixfs-v1-2025", "unixfs-v0-2015"};

static void t_known_files(void) {
    tmp_setup();
    write_file(P("empty"), "", 0);
    write_file(P("hello"), "hello\n", 6);
    write_pattern(P("p262144"), 262144);
    write_pattern(P("p262145"), 262145);
    write_pattern(P("p1048577"), 1048577);
    static const struct {
        const char *file;
        const char *want[3];
    } v[] = {
        {"empty",
         {"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
          "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
          "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"}},
        {"hello",
         {"bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
          "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
          "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"}},
        {"p262144", /* exactly one 256 KiB chunk: the leaf is the root */
         {"bafkreiep65rql7vflzbjwyq3zyoqlznrfsaqpfmy5wtkhlnglsrjck72xm",
          "bafkreiep65rql7vflzbjwyq3zyoqlznrfsaqpfmy5wtkhlnglsrjck72xm",
          "QmQCRNMUtcxngN5NWcxzpY7eHMktRJpSi9iHGqr6UK2hcL"}},
        {"p262145",
         {"bafybeibnwsyqgjwwxrf62z3s5wqwx3jlvcrn6pnsrul2z2azciblhwiwoi",
          "bafkreieku5z7kgyaovsudjukafcqvsmq44sjac3fr4gijea4tm6qofxftm",
          "QmZNsK4mZvec79of18WYydHU38HBLQpztR8a9wXH44SUth"}},
        {"p1048577",
         {"bafybeie2muxy6q2jmrhojh2uf7xpbta4pya7u5pvuiyg3crsmkvbv4canm",
          "bafybeigfdl5cgauwzyxzaqnaawmewdoyc23ckbsbxomw3hxxpows2lfxdq",
          "QmSGxWzbZmAxdBQFi5dpYvMHSKFRRHDi4eyNfEjfC9KCQp"}},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        for (int k = 0; k < 3; k++) {
            struct ia_import_profile p = profile(profiles3[k]);
            check_cid(&p, P(v[i].file), 0, v[i].want[k]);
        }
}

/* 31749 bytes in 1 KiB chunks, 3 links a node: 32 leaves, four levels of
 * parents with a lone child at the end of each. */
static void t_deep_tree(void) {
    tmp_setup();
    write_pattern(P("deep"), 31749);
    struct ia_import_profile p = profile("default");
    p.chunk_size = 1024;
    p.max_links = 3;
    check_cid(&p, P("deep"), 0, "bafybeierx467ccbt467khofa2eqinue6rwo7mx5bkfnis7imudkjbn34ji");
    p = profile("unixfs-v0-2015");
    p.chunk_size = 1024;
    p.max_links = 3;
    check_cid(&p, P("deep"), 0, "QmQFk71fxuDmMf1nL4LgxXe3zCszHUuggn6bLaKuui44wu");
}

/* Blocks as they come out: a running hash of (CID, bytes) and a count. */
struct trace {
    uint8_t acc[32];
    uint64_t n, bytes;
};
static int trace_put(void *u, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    struct trace *t = u;
    uint8_t buf[32 + IA_CID_BYTES_MAX];
    memcpy(buf, t->acc, 32);
    size_t n = ia_cid_to_bytes(cid, buf + 32, IA_CID_BYTES_MAX);
    struct ia_multihash mh;
    ia_mh_sha256(buf, 32 + n, &mh);
    memcpy(t->acc, mh.digest, 32);
    t->n++;
    t->bytes += len;
    return ia_cid_verify(cid, data, len);
}

static void t_parallel_same(void) {
    tmp_setup();
    write_pattern(P("f"), 3 * 1048576 + 12345);
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(4, &pool) == IA_OK);
    for (int k = 0; k < 3; k++) {
        struct ia_import_profile p = profile(profiles3[k]);
        if (k == 1) p.chunk_size = 65536, p.max_links = 7; /* more levels */
        struct trace t1 = {0}, t2 = {0};
        struct ia_import_opts o = {.profile = p, .put = trace_put, .put_user = &t1};
        char a[IA_CID_STR_MAX], b[IA_CID_STR_MAX];
        CHECK_EQ_INT(import_str(&o, P("f"), 0, a), IA_OK);
        o.put_user = &t2;
        o.pool = pool;
        CHECK_EQ_INT(import_str(&o, P("f"), 0, b), IA_OK);
        CHECK_EQ_STR(a, b);
        CHECK(t1.n == t2.n && t1.n > 1 && memcmp(t1.acc, t2.acc, 32) == 0);
    }
    ia_pool_destroy(pool);
}

static void make_tree(void) {
    mkdir_p(P("d"));
    mkdir_p(P("d/sub"));
    mkdir_p(P("d/sub/empty"));
    write_file(P("d/a"), "hello\n", 6);
    write_file(P("d/c"), "", 0);
    write_file(P("d/B"), "B\n", 2);
    write_pattern(P("d/sub/b"), 3000);
    write_file(P("d/.hidden"), "x", 1);
    write_file(P("d/sub/\xc3\xbc.txt"), "u\n", 2);
    write_file(P("d/sub/z.txt"), "z\n", 2);
}

struct entries {
    char list[1024];
};
static void on_entry(void *u, const char *path, const struct ia_cid *cid, uint64_t size) {
    (void)cid;
    struct entries *e = u;
    size_t n = strlen(e->list);
    snprintf(e->list + n, sizeof e->list - n, "%s=%llu ", path, (unsigned long long)size);
}

static void t_dir(void) {
    tmp_setup();
    make_tree();
    static const char *const want[3] = {
        "bafybeifw35igfakkawnro2jogz5ti26fhgly242sqnf77u6bais44x3sbq",
        "bafybeifw35igfakkawnro2jogz5ti26fhgly242sqnf77u6bais44x3sbq",
        "QmXLLmdyXPW71kWJUssRuMbXcMyqG5Zrhxq6Ukq9gY8oju"};
    static const char *const want_hidden[3] = {
        "bafybeiah7dddbrcuw7wg4ko77bybvqc3zs6aosnfhqqrsmwxslmpekhyb4",
        "bafybeiah7dddbrcuw7wg4ko77bybvqc3zs6aosnfhqqrsmwxslmpekhyb4",
        "QmUTnG6xqijoXAgQng4oPEur7keeC6hyjXi3pjX4kmqpek"};
    for (int k = 0; k < 3; k++) {
        struct ia_import_profile p = profile(profiles3[k]);
        check_cid(&p, P("d"), 1, want[k]);
        check_cid(&p, P("d/"), 1, want[k]);
        struct ia_import_opts o = {.profile = p, .hidden = 1};
        char got[IA_CID_STR_MAX];
        CHECK_EQ_INT(import_str(&o, P("d"), 1, got), IA_OK);
        CHECK_EQ_STR(got, want_hidden[k]);
    }
    /* What `ipfs add -r` prints: files in name order, each folder after it. */
    struct entries e = {{0}};
    struct ia_import_opts o = {
        .profile = profile("default"), .on_entry = on_entry, .entry_user = &e};
    char got[IA_CID_STR_MAX];
    CHECK_EQ_INT(import_str(&o, P("d/"), 1, got), IA_OK);
    CHECK_EQ_STR(e.list, "d/B=2 d/a=6 d/c=0 d/sub/b=3000 d/sub/empty=0 d/sub/z.txt=2 "
                         "d/sub/\xc3\xbc.txt=2 d/sub=3004 d=3012 ");
    /* A symlink is followed: to a file it is that file, to a folder that folder. */
    REQUIRE(symlink("d/sub/b", P("lf")) == 0);
    REQUIRE(symlink("d", P("ld")) == 0);
    struct ia_cid c1, c2;
    CHECK_EQ_INT(
        ia_import_path(&(struct ia_import_opts){.profile = o.profile}, P("d/sub/b"), 0, &c1),
        IA_OK);
    CHECK_EQ_INT(ia_import_path(&(struct ia_import_opts){.profile = o.profile}, P("lf"), 0, &c2),
                 IA_OK);
    CHECK(ia_cid_equal(&c1, &c2));
    /* Same content under another root name: the same CID (names live in the parent). */
    check_cid(&o.profile, P("ld"), 1, want[0]);
}

/* A folder whose reference size measure is exactly the 256 KiB limit (flat,
 * same CID as the reference), or one byte over (the reference shards it: we
 * must refuse). Names as /tmp/shard/gen.py made them for the vectors. */
static uint64_t vlen(uint64_t x) {
    uint8_t b[IA_VARINT_MAX];
    return ia_varint_encode(x, b);
}
static uint64_t entry_size(int kind, uint64_t nl) {
    uint64_t cid = kind == 1 ? 34 : 36;
    if (kind != 2) return nl + cid;
    uint64_t link = 1 + vlen(cid) + cid + 1 + vlen(nl) + nl + 1 + vlen(0);
    return 1 + vlen(link) + link;
}
static void make_boundary(const char *dir, int kind, int extra) {
    mkdir_p(dir);
    uint64_t total = kind == 2 ? 4 : 0;
    char name[300], path[800];
    int i = 0;
    for (; total + entry_size(kind, 200) <= 262144 - 60; i++) {
        snprintf(name, sizeof name, "%06d", i);
        memset(name + 6, 'x', 194);
        name[200] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, name);
        write_file(path, "", 0);
        total += entry_size(kind, 200);
    }
    uint64_t rem = 262144 - total + (uint64_t)extra;
    for (uint64_t nl = 6; nl < 256; nl++)
        if (entry_size(kind, nl) == rem) {
            snprintf(name, sizeof name, "z%05d", i);
            memset(name + 6, 'y', nl - 6);
            name[nl] = '\0';
            snprintf(path, sizeof path, "%s/%s", dir, name);
            write_file(path, "", 0);
            return;
        }
    abort();
}

static void t_shard_limit(void) {
    tmp_setup();
    static const char *const want[3] = {
        "bafybeic2pakkitk7yq5a3bzfffcjw3yl6ihzxq2xngu5kz627bpxezyb3y",
        "bafybeid453s7wacosw2m6o6w7juaijyroaprc5fsymhueenv3qbrmsjba4",
        "QmNgy3yKcD5uo9VEWdRXW8zyuXxykJCPLMSz3KESjQJ1Yp"};
    static const int kind[3] = {0, 2, 1};
    for (int k = 0; k < 3; k++) {
        char eq[64], gt[64];
        snprintf(eq, sizeof eq, "eq%d", k);
        snprintf(gt, sizeof gt, "gt%d", k);
        make_boundary(P(eq), kind[k], 0);
        make_boundary(P(gt), kind[k], 1);
        struct ia_import_profile p = profile(profiles3[k]);
        check_cid(&p, P(eq), 1, want[k]);
        struct ia_import_opts o = {.profile = p};
        struct ia_cid c;
        CHECK_EQ_INT(ia_import_path(&o, P(gt), 1, &c), IA_EUNSUPPORTED);
        CHECK(strstr(ia_error_msg(), "HAMT") != NULL);
        CHECK(strstr(ia_error_msg(), gt) != NULL);
    }
    /* The default profile's measure (names + CIDs) is smaller than the exact
     * one: the folder over the exact limit is still flat for it. */
    struct ia_import_profile p = profile("default");
    struct ia_import_opts o = {.profile = p};
    struct ia_cid c;
    CHECK_EQ_INT(ia_import_path(&o, P("gt1"), 1, &c), IA_OK);
}

/* Leaves of the v0 profile are encoded in place by the importer; they
 * must be the bytes the codec functions give. */
static int leaf_check_put(void *user, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    int *n_leaves = user;
    struct ia_pb_node node;
    if (ia_pb_node_decode(data, len, &node) != IA_OK) return IA_EFORMAT;
    int rc = ia_cid_verify(cid, data, len);
    if (rc == IA_OK && node.n_links == 0) {
        struct ia_unixfs u = {0};
        rc = ia_unixfs_decode(node.data, node.data_len, &u);
        uint8_t *ud = NULL, *pb = NULL;
        size_t ud_len = 0, pb_len = 0;
        if (rc == IA_OK) {
            struct ia_unixfs e = {.type = IA_UNIXFS_FILE,
                                  .data = u.data,
                                  .data_len = u.data_len,
                                  .has_data = 1,
                                  .filesize = u.data_len,
                                  .has_filesize = 1};
            rc = ia_unixfs_encode(&e, &ud, &ud_len);
        }
        if (rc == IA_OK) {
            struct ia_pb_node e = {.data = ud, .data_len = ud_len, .has_data = 1};
            rc = ia_pb_node_encode(&e, &pb, &pb_len);
        }
        if (rc == IA_OK && (pb_len != len || memcmp(pb, data, len) != 0)) rc = IA_ECORRUPT;
        ia_free(ud);
        ia_free(pb);
        ia_unixfs_free(&u);
        (*n_leaves)++;
    }
    ia_pb_node_free(&node);
    return rc;
}

static void t_v0_leaves(void) {
    tmp_setup();
    static const size_t chunks[] = {1, 127, 128, 200, 16383, 16384, 262144};
    write_pattern(P("f"), 262144 * 2 + 129);
    write_file(P("e"), "", 0);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct ia_import_profile p = profile("unixfs-v0-2015");
        p.chunk_size = chunks[i];
        p.max_links = 1000;
        int n = 0;
        struct ia_import_opts o = {.profile = p, .put = leaf_check_put, .put_user = &n};
        struct ia_cid c;
        if (chunks[i] < 128) {
            int fd = open(P("f"), O_RDONLY);
            uint8_t buf[400];
            REQUIRE(fd >= 0 && read(fd, buf, sizeof buf) == sizeof buf);
            close(fd);
            write_file(P("small"), buf, sizeof buf);
            CHECK_EQ_INT(ia_import_path(&o, P("small"), 0, &c), IA_OK);
        } else {
            CHECK_EQ_INT(ia_import_path(&o, P("f"), 0, &c), IA_OK);
        }
        CHECK(n > 1);
        n = 0;
        CHECK_EQ_INT(ia_import_path(&o, P("e"), 0, &c), IA_OK);
        CHECK_EQ_INT(n, 1);
    }
}

struct fail_put {
    int after, calls;
};
static int failing_put(void *u, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    (void)cid, (void)data, (void)len;
    struct fail_put *f = u;
    if (f->calls++ == f->after) return ia_error_set(IA_EIO, "disk on fire");
    return IA_OK;
}

static void t_put_failure(void) {
    tmp_setup();
    make_tree();
    write_pattern(P("d/sub/big"), 40000);
    struct ia_import_profile p = profile("default");
    p.chunk_size = 1024;
    p.max_links = 3;
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(3, &pool) == IA_OK);
    int n_ok = 0;
    for (int after = 0; after < 200; after++) {
        struct fail_put f = {after, 0};
        struct ia_import_opts o = {
            .profile = p, .put = failing_put, .put_user = &f, .pool = after % 2 ? pool : NULL};
        struct ia_cid c;
        int rc = ia_import_path(&o, P("d"), 1, &c);
        if (rc == IA_OK) {
            n_ok++;
            CHECK(f.calls <= after);
            break;
        }
        CHECK_EQ_INT(rc, IA_EIO);
        CHECK(strstr(ia_error_msg(), "disk on fire") != NULL);
        CHECK(strstr(ia_error_msg(), tmp) != NULL); /* names the file or folder */
        CHECK_EQ_INT(f.calls, after + 1);           /* stopped at once */
    }
    CHECK_EQ_INT(n_ok, 1);
    ia_pool_destroy(pool);
}

static void t_alloc_failure(void) {
    tmp_setup();
    make_tree();
    write_pattern(P("d/sub/big"), 40000);
    struct ia_import_profile p = profile("unixfs-v0-2015");
    p.chunk_size = 1024;
    p.max_links = 3;
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(2, &pool) == IA_OK);
    struct trace t = {0};
    struct ia_import_opts o = {.profile = p, .put = trace_put, .put_user = &t, .pool = pool};
    char want[IA_CID_STR_MAX], got[IA_CID_STR_MAX];
    REQUIRE(import_str(&o, P("d"), 1, want) == IA_OK);
    int done = 0;
    for (long n = 0; n < 100000 && !done; n++) {
        struct ia_cid c;
        ia_alloc_fail_after(n);
        int rc = ia_import_path(&o, P("d"), 1, &c);
        ia_alloc_fail_after(-1);
        if (rc == IA_OK) {
            ia_cid_format(&c, got);
            CHECK_EQ_STR(got, want);
            done = 1;
        } else if (rc != IA_ENOMEM) {
            fprintf(stderr, "    after %ld allocations: %s\n", n, ia_error_msg());
            CHECK_EQ_INT(rc, IA_ENOMEM);
            break;
        }
    }
    CHECK(done);
    ia_pool_destroy(pool);
}

/* Memory stays bounded: a 256 MiB (sparse) file moves the peak RSS by a
 * small fraction of its size. */
static void t_bounded_memory(void) {
    tmp_setup();
    int fd = open(P("sparse"), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0 && ftruncate(fd, 256 << 20) == 0);
    close(fd);
    struct rusage r0, r1;
    struct ia_pool *pool;
    REQUIRE(ia_pool_create(2, &pool) == IA_OK);
    getrusage(RUSAGE_SELF, &r0);
    struct trace t = {0};
    struct ia_import_opts o = {
        .profile = profile("default"), .put = trace_put, .put_user = &t, .pool = pool};
    char got[IA_CID_STR_MAX];
    CHECK_EQ_INT(import_str(&o, P("sparse"), 0, got), IA_OK);
    getrusage(RUSAGE_SELF, &r1);
    long grew_kib = r1.ru_maxrss - r0.ru_maxrss;
    fprintf(stderr, "    256 MiB import: peak RSS grew by %ld KiB\n", grew_kib);
    CHECK(grew_kib < 48 * 1024);
    CHECK(t.n == 1024 + 6 + 1); /* leaves, 6 parents, the root */
    ia_pool_destroy(pool);
}

/* Streaming: the first block comes out long before the input ends. */
struct writer {
    int fd;
    atomic_int finished;
};
static void *write_pipe(void *u) {
    struct writer *w = u;
    uint8_t buf[65536];
    for (int i = 0; i < 256; i++) { /* 16 MiB */
        pattern(buf, sizeof buf, (uint64_t)i * sizeof buf);
        if (write(w->fd, buf, sizeof buf) != (ssize_t)sizeof buf) break;
    }
    atomic_store(&w->finished, 1);
    close(w->fd);
    return NULL;
}
struct first_put {
    struct writer *w;
    int calls, writer_done_at_first;
};
static int first_put(void *u, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    (void)cid, (void)data, (void)len;
    struct first_put *f = u;
    if (f->calls++ == 0) f->writer_done_at_first = atomic_load(&f->w->finished);
    return IA_OK;
}

static void t_stream_fd(void) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    struct writer w = {fds[1], 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, write_pipe, &w) == 0);
    struct first_put f = {&w, 0, -1};
    struct ia_import_opts o = {.profile = profile("default"), .put = first_put, .put_user = &f};
    struct ia_cid c;
    uint64_t size = 0;
    CHECK_EQ_INT(ia_import_fd(&o, fds[0], &c, &size), IA_OK);
    pthread_join(th, NULL);
    close(fds[0]);
    CHECK_EQ_INT(size, 16 << 20);
    CHECK_EQ_INT(f.writer_done_at_first, 0);
    CHECK_EQ_INT(f.calls, 64 + 1);

    REQUIRE(pipe(fds) == 0);
    REQUIRE(write(fds[1], "hello\n", 6) == 6);
    close(fds[1]);
    o.put = NULL;
    CHECK_EQ_INT(ia_import_fd(&o, fds[0], &c, &size), IA_OK);
    close(fds[0]);
    char s[IA_CID_STR_MAX];
    ia_cid_format(&c, s);
    CHECK_EQ_STR(s, "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am");
    CHECK_EQ_INT(size, 6);

    /* A regular file is read from where its offset stands. */
    tmp_setup();
    write_pattern(P("whole"), 3 * 262144 + 5 + 1000);
    int fd = open(P("whole"), O_RDONLY);
    REQUIRE(fd >= 0);
    uint8_t skip[1000];
    REQUIRE(read(fd, skip, sizeof skip) == (ssize_t)sizeof skip);
    CHECK_EQ_INT(ia_import_fd(&o, fd, &c, &size), IA_OK);
    close(fd);
    CHECK_EQ_INT(size, 3 * 262144 + 5);
    struct ia_cid tail;
    {
        uint8_t *b = malloc(3 * 262144 + 5 + 1000);
        pattern(b, 3 * 262144 + 5 + 1000, 0);
        write_file(P("tail"), b + 1000, 3 * 262144 + 5);
        free(b);
    }
    CHECK_EQ_INT(ia_import_path(&o, P("tail"), 0, &tail), IA_OK);
    CHECK(ia_cid_equal(&c, &tail));
}

struct prog {
    uint64_t done, total;
    int calls;
};
static void on_progress(void *u, uint64_t done, uint64_t total) {
    struct prog *p = u;
    if (done < p->done) p->calls = -1000000; /* never goes back */
    p->done = done, p->total = total;
    p->calls++;
}

static void t_progress(void) {
    tmp_setup();
    make_tree();
    write_pattern(P("d/sub/big"), 3 * 262144 + 1);
    struct prog pr = {0};
    struct ia_import_opts o = {
        .profile = profile("default"), .progress = on_progress, .progress_user = &pr};
    char got[IA_CID_STR_MAX];
    CHECK_EQ_INT(import_str(&o, P("d"), 1, got), IA_OK);
    CHECK(pr.calls > 1);
    CHECK_EQ_INT(pr.total, 3012 + 3 * 262144 + 1);
    CHECK_EQ_INT(pr.done, pr.total);
}

static void t_refusals(void) {
    tmp_setup();
    make_tree();
    struct ia_import_opts o = {.profile = profile("default")};
    struct ia_cid c;
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 0, &c), IA_EINVAL);
    CHECK(strstr(ia_error_msg(), "-r") != NULL);
    CHECK_EQ_INT(ia_import_path(&o, P("nope"), 0, &c), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "nope") != NULL);

    REQUIRE(symlink("..", P("d/sub/up")) == 0); /* d/sub/up → d: a loop */
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 1, &c), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "loop") != NULL);
    REQUIRE(unlink(P("d/sub/up")) == 0);

    REQUIRE(symlink("missing", P("d/dangling")) == 0);
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 1, &c), IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "dangling") != NULL);
    REQUIRE(unlink(P("d/dangling")) == 0);

    REQUIRE(mkfifo(P("d/fifo"), 0644) == 0);
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 1, &c), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "not a regular file") != NULL);
    CHECK_EQ_INT(ia_import_path(&o, P("d/fifo"), 0, &c), IA_EUNSUPPORTED);
    REQUIRE(unlink(P("d/fifo")) == 0);

    write_file(P("d/bad\xff"), "", 0);
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 1, &c), IA_EUNSUPPORTED);
    CHECK(strstr(ia_error_msg(), "UTF-8") != NULL);
    REQUIRE(unlink(P("d/bad\xff")) == 0);
    o.hidden = 0;
    write_file(P("d/.bad\xff"), "", 0); /* skipped: hidden */
    CHECK_EQ_INT(ia_import_path(&o, P("d"), 1, &c), IA_OK);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmp[0] = '\0';
}

TEST_MAIN(T(t_profiles), T(t_known_files), T(t_deep_tree), T(t_parallel_same), T(t_dir),
          T(t_shard_limit), T(t_v0_leaves), T(t_put_failure), T(t_alloc_failure),
          T(t_bounded_memory), T(t_stream_fd), T(t_progress), T(t_refusals))
