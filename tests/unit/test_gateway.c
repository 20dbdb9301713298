/* The trustless gateway: server and client in one process, on 127.0.0.1
 * port 0, moving a multi-block DAG between stores in temp homes. */
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ia/store.h"
#include "store/gateway_internal.h"
#include "store/store_internal.h"

#define FILE_BYTES (23 * 1024 + 17) /* 1 KiB chunks, 4 links: a 3-level DAG */

static char g_tmp[256]; /* scratch folder for the whole run */
static uint8_t g_data[FILE_BYTES];
static struct ia_store *g_src; /* the store the server serves */
static struct ia_gateway_server *g_srv;
static struct ia_cid g_root;
static uint64_t g_n_blocks;
static char g_url[64];

static int count_block(void *user, const struct ia_multihash *mh, uint64_t size) {
    (void)mh, (void)size;
    (*(uint64_t *)user)++;
    return IA_OK;
}

static uint64_t n_blocks(struct ia_store *s) {
    uint64_t n = 0;
    ia_store_foreach(s, count_block, &n);
    return n;
}

static struct ia_store *new_store(const char *name) {
    char home[512];
    snprintf(home, sizeof home, "%s/%s", g_tmp, name);
    struct ia_store *s = NULL;
    if (ia_store_open(home, &s) != IA_OK) {
        fprintf(stderr, "open %s: %s\n", home, ia_error_msg());
        return NULL;
    }
    return s;
}

static int import_file(struct ia_store *s, struct ia_cid *root) {
    char path[512];
    snprintf(path, sizeof path, "%s/model.bin", g_tmp);
    struct ia_import_opts o = {0};
    if (ia_import_profile_get("default", &o.profile) != IA_OK) return -1;
    o.profile.chunk_size = 1024;
    o.profile.max_links = 4;
    o.put = ia_store_put_cb;
    o.put_user = s;
    return ia_import_path(&o, path, 0, root);
}

static int setup(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ia_test_gateway_XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    srand(7);
    for (size_t i = 0; i < sizeof g_data; i++) g_data[i] = (uint8_t)(rand() >> 7);
    char path[512];
    snprintf(path, sizeof path, "%s/model.bin", g_tmp);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(g_data, 1, sizeof g_data, f) != sizeof g_data || fclose(f)) return -1;
    if (!(g_src = new_store("src"))) return -1;
    if (import_file(g_src, &g_root) != IA_OK) {
        fprintf(stderr, "import: %s\n", ia_error_msg());
        return -1;
    }
    g_n_blocks = n_blocks(g_src);
    if (ia_gateway_start(g_src, "127.0.0.1:0", &g_srv) != IA_OK) {
        fprintf(stderr, "gateway: %s\n", ia_error_msg());
        return -1;
    }
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d", ia_gateway_port(g_srv));
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

struct membuf {
    uint8_t *p;
    size_t n;
};

static int collect(void *user, const uint8_t *data, size_t len) {
    struct membuf *b = user;
    uint8_t *p = realloc(b->p, b->n + len + 1);
    if (!p) return IA_ENOMEM;
    memcpy(p + b->n, data, len);
    b->p = p;
    b->n += len;
    return IA_OK;
}

static int same_file(struct ia_store *s) {
    struct membuf b = {0};
    int rc = ia_store_cat(s, &g_root, collect, &b);
    int same = rc == IA_OK && b.n == sizeof g_data && !memcmp(b.p, g_data, b.n);
    free(b.p);
    return same;
}

static size_t curl_collect(char *p, size_t size, size_t n, void *user) {
    struct membuf *b = user;
    return collect(b, (const uint8_t *)p, size * n) == IA_OK ? size * n : 0;
}

/* One request; returns the status, body in *body (caller frees), the
 * Content-Type in ct. */
static long http(const char *method, const char *path, const char *accept, struct membuf *body,
                 char *ct, size_t ct_cap) {
    char url[1024];
    snprintf(url, sizeof url, "%s%s", g_url, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char a[256];
    /* "Accept:" alone stops curl sending its default of any type. */
    snprintf(a, sizeof a, "Accept:%s%s", accept ? " " : "", accept ? accept : "");
    hdr = curl_slist_append(hdr, a);
    memset(body, 0, sizeof *body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    long status = -1;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (ct) {
        char *t = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &t);
        snprintf(ct, ct_cap, "%s", t ? t : "");
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return status;
}

struct progress_seen {
    uint64_t calls, done, total;
};

static void on_progress(void *user, uint64_t done, uint64_t total) {
    struct progress_seen *p = user;
    p->calls++;
    p->done = done;
    p->total = total;
}

static int fetch(struct ia_store *s, const struct ia_cid *root, const char *const *gws, size_t n,
                 struct ia_fetch_stats *st, struct progress_seen *ps) {
    struct ia_fetch_opts o = {0};
    o.gateways = gws;
    o.n_gateways = n;
    o.timeout_s = 5;
    o.retries = 1;
    o.parallel = 3;
    o.stats = st;
    o.progress = ps ? on_progress : NULL;
    o.progress_user = ps;
    return ia_store_fetch(s, root, &o);
}

struct copy_ctx {
    struct ia_store *dst;
    uint64_t i, copied;
    int every; /* copy when i % every == 0 */
    int skip_root;
};

/* Copies some of g_src's blocks; the CID's codec does not matter to the
 * store, which keys blocks by multihash. */
static int copy_some(void *user, const struct ia_multihash *mh, uint64_t size) {
    (void)size;
    struct copy_ctx *c = user;
    if (c->i++ % (uint64_t)c->every) return IA_OK;
    if (c->skip_root && mh->size == g_root.mh.size &&
        !memcmp(mh->digest, g_root.mh.digest, mh->size))
        return IA_OK;
    struct ia_cid cid = {.version = 1, .codec = IA_CODEC_RAW, .mh = *mh};
    uint8_t *data;
    size_t len;
    if (ia_store_get(g_src, &cid, &data, &len) != IA_OK) return IA_EIO;
    int rc = ia_store_put(c->dst, &cid, data, len);
    ia_free(data);
    if (rc == IA_OK) c->copied++;
    return rc;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_setup(void) {
    CHECK(g_srv != NULL);
    CHECK(g_n_blocks >= 10);
}

static void test_fetch_whole_dag(void) {
    struct ia_store *s = new_store("whole");
    REQUIRE(s);
    const char *gws[] = {g_url};
    struct ia_fetch_stats st;
    struct progress_seen ps = {0};
    int rc = fetch(s, &g_root, gws, 1, &st, &ps);
    if (rc != IA_OK) fprintf(stderr, "fetch: %s\n", ia_error_msg());
    CHECK_EQ_INT(rc, IA_OK);
    CHECK_EQ_INT(st.blocks_fetched, g_n_blocks);
    CHECK_EQ_INT(st.blocks_held, 0);
    CHECK_EQ_INT(st.requests, 1); /* one CAR, nothing per block */
    CHECK(st.bytes_received >= st.bytes_fetched && st.bytes_fetched > sizeof g_data);
    CHECK(ps.calls > 0);
    CHECK_EQ_INT(ps.done, g_n_blocks);
    CHECK_EQ_INT(ps.total, g_n_blocks);
    CHECK(same_file(s));
    struct ia_verify_counts vc;
    CHECK_EQ_INT(ia_store_verify_blocks(s, &g_root, NULL, NULL, &vc), IA_OK);
    /* Again: everything is held, nothing is asked for. */
    rc = fetch(s, &g_root, gws, 1, &st, NULL);
    CHECK_EQ_INT(rc, IA_OK);
    CHECK_EQ_INT(st.requests, 0);
    CHECK_EQ_INT(st.blocks_held, g_n_blocks);
    CHECK_EQ_INT(st.blocks_fetched, 0);
    ia_store_close(s);
}

static void test_resume_root_held(void) {
    struct ia_store *s = new_store("resume1");
    REQUIRE(s);
    struct copy_ctx c = {.dst = s, .every = 2};
    REQUIRE(ia_store_foreach(g_src, copy_some, &c) == IA_OK);
    if (!ia_store_has(s, &g_root)) {
        uint8_t *d;
        size_t n;
        REQUIRE(ia_store_get(g_src, &g_root, &d, &n) == IA_OK);
        REQUIRE(ia_store_put(s, &g_root, d, n) == IA_OK);
        ia_free(d);
        c.copied++;
    }
    REQUIRE(c.copied > 2 && c.copied < g_n_blocks);
    const char *gws[] = {g_url};
    struct ia_fetch_stats st;
    int rc = fetch(s, &g_root, gws, 1, &st, NULL);
    CHECK_EQ_INT(rc, IA_OK);
    /* Root held: no CAR, one raw request per missing block. */
    CHECK_EQ_INT(st.blocks_fetched, g_n_blocks - c.copied);
    CHECK_EQ_INT(st.blocks_held, c.copied);
    CHECK_EQ_INT(st.requests, g_n_blocks - c.copied);
    CHECK(same_file(s));
    ia_store_close(s);
}

static void test_resume_root_missing(void) {
    struct ia_store *s = new_store("resume2");
    REQUIRE(s);
    struct copy_ctx c = {.dst = s, .every = 2, .skip_root = 1};
    REQUIRE(ia_store_foreach(g_src, copy_some, &c) == IA_OK);
    REQUIRE(!ia_store_has(s, &g_root) && c.copied > 2);
    const char *gws[] = {g_url};
    struct ia_fetch_stats st;
    int rc = fetch(s, &g_root, gws, 1, &st, NULL);
    CHECK_EQ_INT(rc, IA_OK);
    CHECK_EQ_INT(st.requests, 1);
    CHECK_EQ_INT(st.blocks_fetched, g_n_blocks - c.copied);
    CHECK_EQ_INT(st.blocks_held, c.copied);
    CHECK(same_file(s));
    ia_store_close(s);
}

static void test_partial_car(void) {
    /* A CAR cut at 3000 bytes: the blocks before the cut are kept, the
     * rest come one by one. */
    struct ia_store *s = new_store("partial");
    REQUIRE(s);
    const char *gws[] = {g_url};
    struct ia_fetch_stats st;
    struct ia_fetch_opts o = {.gateways = gws,
                              .n_gateways = 1,
                              .timeout_s = 5,
                              .retries = 1,
                              .car_max_bytes = 3000,
                              .stats = &st};
    int rc = ia_store_fetch(s, &g_root, &o);
    if (rc != IA_OK) fprintf(stderr, "fetch: %s\n", ia_error_msg());
    CHECK_EQ_INT(rc, IA_OK);
    CHECK_EQ_INT(st.blocks_fetched, g_n_blocks);
    CHECK(st.requests > 1 && st.requests < 1 + g_n_blocks);
    CHECK(same_file(s));
    ia_store_close(s);
}

static void test_missing_root(void) {
    struct ia_store *s = new_store("missing");
    REQUIRE(s);
    struct ia_cid nope;
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"not served", 10, &nope);
    const char *gws[] = {g_url};
    struct ia_fetch_stats st;
    int rc = fetch(s, &nope, gws, 1, &st, NULL);
    CHECK_EQ_INT(rc, IA_ENOTFOUND);
    CHECK(strstr(ia_error_msg(), "HTTP 404 for bafk") != NULL);
    CHECK(strstr(ia_error_msg(), g_url) != NULL);
    CHECK_EQ_INT(n_blocks(s), 0);
    ia_store_close(s);
}

static void test_fallover(void) {
    struct ia_store *s = new_store("fallover");
    REQUIRE(s);
    /* Port 1 on loopback refuses at once; the next gateway serves. */
    const char *gws[] = {"http://127.0.0.1:1", g_url};
    struct ia_fetch_stats st;
    int rc = fetch(s, &g_root, gws, 2, &st, NULL);
    if (rc != IA_OK) fprintf(stderr, "fetch: %s\n", ia_error_msg());
    CHECK_EQ_INT(rc, IA_OK);
    CHECK(same_file(s));
    const char *bad[] = {"http://127.0.0.1:1"};
    struct ia_store *s2 = new_store("fallover2");
    REQUIRE(s2);
    rc = fetch(s2, &g_root, bad, 1, &st, NULL);
    CHECK(rc == IA_ENET);
    CHECK(strstr(ia_error_msg(), "gateway http://127.0.0.1:1") != NULL);
    CHECK_EQ_INT(n_blocks(s2), 0);
    const char *ftp[] = {"ftp://127.0.0.1/"};
    CHECK_EQ_INT(fetch(s2, &g_root, ftp, 1, &st, NULL), IA_EINVAL);
    CHECK_EQ_INT(fetch(s2, &g_root, NULL, 0, &st, NULL), IA_EINVAL);
    ia_store_close(s2);
    ia_store_close(s);
}

static void test_server_http(void) {
    char root[IA_CID_STR_MAX], path[512], ct[128];
    ia_cid_format(&g_root, root);
    struct membuf b;
    snprintf(path, sizeof path, "/ipfs/%s?format=raw", root);
    CHECK_EQ_INT(http("GET", path, NULL, &b, ct, sizeof ct), 200);
    CHECK_EQ_STR(ct, "application/vnd.ipld.raw");
    CHECK(ia_cid_verify(&g_root, b.p, b.n) == IA_OK);
    free(b.p);
    snprintf(path, sizeof path, "/ipfs/%s", root);
    CHECK_EQ_INT(http("GET", path, "application/vnd.ipld.raw", &b, NULL, 0), 200);
    CHECK(ia_cid_verify(&g_root, b.p, b.n) == IA_OK);
    free(b.p);
    CHECK_EQ_INT(http("HEAD", path, "application/vnd.ipld.raw", &b, NULL, 0), 200);
    CHECK_EQ_INT(b.n, 0);
    free(b.p);
    CHECK_EQ_INT(http("GET", path, NULL, &b, NULL, 0), 400); /* no trustless type */
    free(b.p);
    CHECK_EQ_INT(http("GET", path, "text/html", &b, NULL, 0), 406);
    free(b.p);
    CHECK_EQ_INT(http("GET", path, "*/*", &b, NULL, 0), 406);
    free(b.p);
    CHECK_EQ_INT(http("POST", path, "application/vnd.ipld.raw", &b, NULL, 0), 405);
    free(b.p);
    CHECK_EQ_INT(http("GET", "/ipfs/notacid?format=raw", NULL, &b, NULL, 0), 400);
    free(b.p);
    CHECK_EQ_INT(http("GET", "/ipns/example.com?format=raw", NULL, &b, NULL, 0), 404);
    free(b.p);
    snprintf(path, sizeof path, "/ipfs/%s/a/b?format=car", root);
    CHECK_EQ_INT(http("GET", path, NULL, &b, NULL, 0), 400);
    free(b.p);
    snprintf(path, sizeof path, "/ipfs/%s?format=car&dag-scope=nope", root);
    CHECK_EQ_INT(http("GET", path, NULL, &b, NULL, 0), 400);
    free(b.p);
    /* dag-scope=block: a CAR of the root alone. */
    snprintf(path, sizeof path, "/ipfs/%s?format=car&dag-scope=block", root);
    CHECK_EQ_INT(http("GET", path, NULL, &b, ct, sizeof ct), 200);
    CHECK(!strncmp(ct, "application/vnd.ipld.car; version=1", 35));
    struct ia_car_reader *r;
    REQUIRE(ia_car_reader_open_mem(b.p, b.n, &r) == IA_OK);
    struct ia_cid cid;
    const uint8_t *d;
    size_t n;
    CHECK_EQ_INT(ia_car_reader_next(r, &cid, &d, &n), 1);
    CHECK(ia_cid_equal(&cid, &g_root));
    CHECK_EQ_INT(ia_car_reader_next(r, &cid, &d, &n), 0);
    ia_car_reader_close(r);
    free(b.p);
    /* The whole DAG: every block once, root first, all verify. */
    snprintf(path, sizeof path, "/ipfs/%s", root);
    CHECK_EQ_INT(http("GET", path, "application/vnd.ipld.car;version=1", &b, NULL, 0), 200);
    REQUIRE(ia_car_reader_open_mem(b.p, b.n, &r) == IA_OK);
    uint64_t count = 0;
    while (ia_car_reader_next(r, &cid, &d, &n) == 1) {
        if (!count) CHECK(ia_cid_equal(&cid, &g_root));
        CHECK(ia_cid_verify(&cid, d, n) == IA_OK);
        count++;
    }
    CHECK_EQ_INT(count, g_n_blocks);
    ia_car_reader_close(r);
    free(b.p);
    /* A block the store lacks. */
    struct ia_cid nope;
    char t[IA_CID_STR_MAX];
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"nope", 4, &nope);
    ia_cid_format(&nope, t);
    snprintf(path, sizeof path, "/ipfs/%s?format=car", t);
    CHECK_EQ_INT(http("GET", path, NULL, &b, NULL, 0), 404);
    free(b.p);
}

static void test_corrupt_block_not_served(void) {
    /* A second store with the same DAG, one leaf damaged on disk. */
    struct ia_store *s = new_store("corrupt_src");
    REQUIRE(s);
    struct ia_cid root;
    REQUIRE(import_file(s, &root) == IA_OK);
    uint8_t *d;
    size_t n;
    REQUIRE(ia_store_get(s, &root, &d, &n) == IA_OK);
    struct ia_cid *links;
    size_t n_links;
    REQUIRE(ia_block_links(&root, d, n, &links, &n_links) == IA_OK && n_links > 0);
    ia_free(d);
    struct ia_cid victim = links[n_links - 1];
    ia_free(links);
    char path[4096];
    REQUIRE(ia_store_block_path(s, &victim.mh, path, sizeof path, NULL, 0) == IA_OK);
    int fd = open(path, O_RDWR);
    REQUIRE(fd >= 0);
    char byte = 0;
    CHECK(pread(fd, &byte, 1, 3) == 1);
    byte ^= 0x40;
    CHECK(pwrite(fd, &byte, 1, 3) == 1);
    close(fd);

    struct ia_gateway_server *srv;
    REQUIRE(ia_gateway_start(s, "127.0.0.1:0", &srv) == IA_OK);
    char url[64], text[IA_CID_STR_MAX], req[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ia_gateway_port(srv));
    ia_cid_format(&victim, text);
    snprintf(req, sizeof req, "%s/ipfs/%s?format=raw", url, text);
    CURL *h = curl_easy_init();
    struct membuf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, req);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    long status = 0;
    CHECK(curl_easy_perform(h) == CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    CHECK_EQ_INT(status, 500);
    curl_easy_cleanup(h);
    free(b.p);

    /* A fetch from it alone fails and stores nothing unverified; with a
     * good gateway second it completes. */
    struct ia_store *dst = new_store("corrupt_dst");
    REQUIRE(dst);
    const char *one[] = {url};
    struct ia_fetch_stats st;
    CHECK(fetch(dst, &root, one, 1, &st, NULL) != IA_OK);
    CHECK(!ia_store_has(dst, &victim));
    struct ia_verify_counts vc;
    ia_store_verify_blocks(dst, NULL, NULL, NULL, &vc);
    CHECK_EQ_INT(vc.corrupt, 0);
    const char *two[] = {url, g_url};
    int rc = fetch(dst, &root, two, 2, &st, NULL);
    if (rc != IA_OK) fprintf(stderr, "fetch: %s\n", ia_error_msg());
    CHECK_EQ_INT(rc, IA_OK);
    CHECK(same_file(dst));
    ia_gateway_stop(srv);
    ia_store_close(dst);
    ia_store_close(s);
}

static void test_parse_request(void) {
    struct gw_request q;
    const char *v1 = "/ipfs/bafkqaaa";
    CHECK_EQ_INT(gw_parse_request("GET", v1, "raw", NULL, NULL, &q), 200);
    CHECK_EQ_INT(q.format, GW_FORMAT_RAW);
    CHECK_EQ_INT(gw_parse_request("HEAD", "/ipfs/bafkqaaa/", NULL, NULL,
                                  "text/html, application/vnd.ipld.car;q=0.5, "
                                  "application/vnd.ipld.raw;q=0.9",
                                  &q),
                 200);
    CHECK_EQ_INT(q.format, GW_FORMAT_RAW);
    CHECK(q.head);
    CHECK_EQ_INT(gw_parse_request("GET", v1, NULL, "block", "application/vnd.ipld.car", &q), 200);
    CHECK_EQ_INT(q.format, GW_FORMAT_CAR);
    CHECK_EQ_INT(q.scope, GW_SCOPE_BLOCK);
    CHECK_EQ_INT(gw_parse_request("GET", v1, NULL, NULL, "application/vnd.ipld.car;version=2", &q),
                 406);
    CHECK_EQ_INT(gw_parse_request("GET", v1, NULL, NULL, "application/vnd.ipld.raw;q=0", &q), 406);
    CHECK_EQ_INT(gw_parse_request("GET", v1, "tar", NULL, NULL, &q), 400);
    CHECK_EQ_INT(gw_parse_request("PUT", v1, "raw", NULL, NULL, &q), 405);
    CHECK_EQ_INT(gw_parse_request("GET", "/ipfs/", "raw", NULL, NULL, &q), 400);
    CHECK_EQ_INT(gw_parse_request("GET", "/", "raw", NULL, NULL, &q), 404);

    struct sockaddr_storage ss;
    socklen_t len;
    CHECK_EQ_INT(gw_parse_listen("127.0.0.1:0", &ss, &len), IA_OK);
    CHECK_EQ_INT(gw_parse_listen("[::1]:8080", &ss, &len), IA_OK);
    CHECK_EQ_INT(gw_parse_listen("localhost:80", &ss, &len), IA_OK);
    CHECK_EQ_INT(gw_parse_listen("127.0.0.1", &ss, &len), IA_EINVAL);
    CHECK_EQ_INT(gw_parse_listen("127.0.0.1:65536", &ss, &len), IA_EINVAL);
    CHECK_EQ_INT(gw_parse_listen("example.com:80", &ss, &len), IA_EINVAL);
    CHECK_EQ_INT(gw_parse_listen(":80", &ss, &len), IA_EINVAL);
    CHECK_EQ_INT(gw_parse_listen("[::1:80", &ss, &len), IA_EINVAL);
    CHECK_EQ_INT(ia_gateway_start(g_src, "10.0.0.1:x", &(struct ia_gateway_server *){NULL}),
                 IA_EINVAL);
}

static void test_teardown(void) {
    ia_gateway_stop(g_srv);
    ia_store_close(g_src);
    ia_store_rm_tree(g_tmp);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (setup() != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    static const struct check_test tests[] = {
        T(test_setup),
        T(test_parse_request),
        T(test_server_http),
        T(test_fetch_whole_dag),
        T(test_resume_root_held),
        T(test_resume_root_missing),
        T(test_partial_car),
        T(test_missing_root),
        T(test_fallover),
        T(test_corrupt_block_not_served),
        T(test_teardown),
    };
    int rc = check_run_all(tests, sizeof tests / sizeof tests[0]);
    curl_global_cleanup();
    return rc;
}
