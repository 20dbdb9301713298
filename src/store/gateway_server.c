/* The trustless gateway server: GET/HEAD /ipfs/<cid> answered from the
 * store with a verified raw block (application/vnd.ipld.raw) or a CAR v1
 * stream of the DAG (application/vnd.ipld.car; version=1; order=dfs;
 * dups=n), following the IPFS Trustless Gateway spec. No deserialized
 * UnixFS: a request without a trustless response type gets 400/406.
 *
 * libmicrohttpd runs one internal polling thread; every callback runs on it,
 * so the store is only ever touched from that thread. A CAR is streamed one
 * block at a time (depth-first, root first): memory stays at one block plus
 * the traversal stack and the set of CIDs sent. Every block is read through
 * ia_store_get, which re-hashes it, so a corrupt block is never sent: before
 * the status line it becomes a 500, mid-stream the connection is cut (the
 * client sees an incomplete CAR, as the spec prescribes). */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "ia/store.h"
#include "store/gateway_internal.h"

struct ia_gateway_server {
    struct ia_store *store;
    struct MHD_Daemon *daemon;
    int port;
};

/* ---- responses ------------------------------------------------------------------- */

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned status, const char *why) {
    char body[512];
    int n = snprintf(body, sizeof body, "%s\n", why);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        (size_t)n < sizeof body ? (size_t)n : sizeof body - 1, body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void add_headers(struct MHD_Response *r, const char *cid_text, const struct gw_request *q) {
    static const char *const scopes[] = {"all", "entity", "block"};
    char v[IA_CID_STR_MAX + 64];
    int car = q->format == GW_FORMAT_CAR;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            car ? "application/vnd.ipld.car; version=1; order=dfs; dups=n"
                                : "application/vnd.ipld.raw");
    snprintf(v, sizeof v, "attachment; filename=\"%s.%s\"", cid_text, car ? "car" : "bin");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, v);
    if (car)
        snprintf(v, sizeof v, "\"%s.car.%s.dfs.n\"", cid_text, scopes[q->scope]);
    else
        snprintf(v, sizeof v, "\"%s.raw\"", cid_text);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, v);
    snprintf(v, sizeof v, "/ipfs/%s", cid_text);
    MHD_add_response_header(r, "X-Ipfs-Path", v);
    MHD_add_response_header(r, "X-Ipfs-Roots", cid_text);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            "public, max-age=29030400, immutable");
}

/* A block by CID: identity CIDs carry their bytes inline; others come from
 * the store, re-verified. *data is ia_malloc'd. */
static int load_block(struct ia_store *s, const struct ia_cid *cid, uint8_t **data, size_t *len) {
    if (cid->mh.code == IA_MH_IDENTITY) {
        *len = cid->mh.size;
        *data = ia_malloc(*len ? *len : 1);
        if (!*data) return ia_error_set(IA_ENOMEM, "out of memory");
        memcpy(*data, cid->mh.digest, *len);
        return IA_OK;
    }
    return ia_store_get(s, cid, data, len);
}

static enum MHD_Result queue_load_error(struct MHD_Connection *c, const char *cid_text, int rc) {
    if (rc == IA_ENOTFOUND) return queue_text(c, MHD_HTTP_NOT_FOUND, "block not found");
    IA_WARN("gateway: %s: %s", cid_text, ia_error_msg());
    return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      rc == IA_ECORRUPT ? "block failed verification in the store; not served"
                                        : "store error");
}

static void free_block(void *p) { ia_free(p); }

static enum MHD_Result serve_raw(struct ia_gateway_server *g, struct MHD_Connection *c,
                                 const struct gw_request *q, const char *cid_text) {
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = load_block(g->store, &q->cid, &data, &len);
    if (rc != IA_OK) return queue_load_error(c, cid_text, rc);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_block);
    if (!r) {
        ia_free(data);
        return MHD_NO;
    }
    add_headers(r, cid_text, q);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- CAR streaming ------------------------------------------------------------------ */

struct car_stream {
    struct ia_store *store;
    FILE *sink;              /* fopencookie stream appending to buf */
    struct ia_car_writer *w; /* writes header and sections into sink */
    uint8_t *buf;            /* (cap) bytes produced, not yet sent: [off, len) */
    size_t len, cap, off;
    struct ia_cid *stack; /* (stack_cap) CIDs still to send, top last */
    size_t n_stack, stack_cap;
    struct gw_cidset sent;
    int scope;
    int finished;
    char root_text[IA_CID_STR_MAX];
};

static ssize_t sink_write(void *cookie, const char *data, size_t n) {
    struct car_stream *st = cookie;
    size_t need;
    if (ia_add_size(st->len, n, &need)) return -1;
    if (need > st->cap) {
        size_t cap = st->cap ? st->cap : 64 * 1024;
        while (cap < need) cap *= 2;
        uint8_t *b = ia_realloc(st->buf, cap);
        if (!b) return -1;
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, n);
    st->len = need;
    return (ssize_t)n;
}

static int push(struct car_stream *st, const struct ia_cid *cid) {
    if (st->n_stack == st->stack_cap) {
        size_t cap = st->stack_cap ? st->stack_cap * 2 : 64;
        struct ia_cid *s = ia_realloc(st->stack, cap * sizeof *s);
        if (!s) return ia_error_set(IA_ENOMEM, "out of memory");
        st->stack = s;
        st->stack_cap = cap;
    }
    st->stack[st->n_stack++] = *cid;
    return IA_OK;
}

/* Appends the next unsent block of the walk to buf, or finishes. */
static int next_section(struct car_stream *st) {
    struct ia_cid cid;
    do {
        if (!st->n_stack) {
            st->finished = 1;
            int rc = ia_car_writer_close(st->w);
            st->w = NULL;
            return rc;
        }
        cid = st->stack[--st->n_stack];
    } while (gw_cidset_has(&st->sent, &cid));
    uint8_t *data = NULL;
    size_t len = 0;
    struct ia_cid *links = NULL;
    size_t n_links = 0;
    int rc = load_block(st->store, &cid, &data, &len);
    if (rc == IA_OK) rc = gw_cidset_add(&st->sent, &cid) < 0 ? IA_ENOMEM : IA_OK;
    if (rc == IA_OK) rc = ia_car_writer_put(st->w, &cid, data, len);
    if (rc == IA_OK && fflush(st->sink)) rc = ia_error_set(IA_ENOMEM, "CAR buffer");
    if (rc == IA_OK && st->scope != GW_SCOPE_BLOCK)
        rc = ia_block_links(&cid, data, len, &links, &n_links);
    /* Reverse order on the stack so links go out first to last. */
    for (size_t i = n_links; rc == IA_OK && i-- > 0;)
        if (!gw_cidset_has(&st->sent, &links[i])) rc = push(st, &links[i]);
    ia_free(links);
    ia_free(data);
    if (rc != IA_OK) {
        char t[IA_CID_STR_MAX];
        ia_cid_format(&cid, t);
        IA_WARN("gateway: CAR of %s cut short at block %s: %s", st->root_text, t, ia_error_msg());
    }
    return rc;
}

static ssize_t car_read(void *cls, uint64_t pos, char *out, size_t max) {
    (void)pos;
    struct car_stream *st = cls;
    while (st->off == st->len) {
        st->off = st->len = 0;
        if (st->finished) return MHD_CONTENT_READER_END_OF_STREAM;
        if (next_section(st) != IA_OK) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = st->len - st->off < max ? st->len - st->off : max;
    memcpy(out, st->buf + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void car_free(void *cls) {
    struct car_stream *st = cls;
    if (!st) return;
    if (st->w) ia_car_writer_close(st->w);
    if (st->sink) fclose(st->sink);
    gw_cidset_free(&st->sent);
    ia_free(st->stack);
    ia_free(st->buf);
    ia_free(st);
}

static enum MHD_Result serve_car(struct ia_gateway_server *g, struct MHD_Connection *c,
                                 const struct gw_request *q, const char *cid_text) {
    /* The root is read (and verified) before the status goes out, so a
     * missing or corrupt root is a 404/500 rather than a broken stream. */
    uint8_t *root = NULL;
    size_t root_len = 0;
    int rc = load_block(g->store, &q->cid, &root, &root_len);
    ia_free(root);
    if (rc != IA_OK) return queue_load_error(c, cid_text, rc);
    struct MHD_Response *r;
    if (q->head) {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        struct car_stream *st = ia_calloc(1, sizeof *st);
        if (!st) return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        st->store = g->store;
        st->scope = q->scope;
        snprintf(st->root_text, sizeof st->root_text, "%s", cid_text);
        gw_cidset_init(&st->sent);
        static const cookie_io_functions_t io = {.write = sink_write};
        st->sink = fopencookie(st, "w", io);
        rc = st->sink ? IA_OK : ia_error_set(IA_ENOMEM, "fopencookie failed");
        if (rc == IA_OK) rc = setvbuf(st->sink, NULL, _IONBF, 0) ? IA_EIO : IA_OK;
        if (rc == IA_OK) rc = ia_car_writer_open(st->sink, &q->cid, 1, &st->w);
        if (rc == IA_OK && fflush(st->sink)) rc = ia_error_set(IA_EIO, "CAR header");
        if (rc == IA_OK) rc = push(st, &q->cid);
        if (rc != IA_OK) {
            IA_WARN("gateway: CAR of %s: %s", cid_text, ia_error_msg());
            car_free(st);
            return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the CAR");
        }
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, car_read, st, car_free);
        if (!r) {
            car_free(st);
            return MHD_NO;
        }
    }
    if (!r) return MHD_NO;
    add_headers(r, cid_text, q);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    (void)version;
    (void)upload;
    static int first_call_marker;
    struct ia_gateway_server *g = cls;
    if (!*con_cls) { /* headers only so far; answer once any body is drained */
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct gw_request q;
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    const char *scope = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dag-scope");
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    int status = gw_parse_request(method, url, format, scope, accept, &q);
    if (status != 200) return queue_text(c, (unsigned)status, q.why);
    char cid_text[IA_CID_STR_MAX];
    ia_cid_format(&q.cid, cid_text);
    if (q.format == GW_FORMAT_RAW) return serve_raw(g, c, &q, cid_text);
    return serve_car(g, c, &q, cid_text);
}

int ia_gateway_start(struct ia_store *s, const char *listen, struct ia_gateway_server **out) {
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t ss_len;
    int rc = gw_parse_listen(listen ? listen : "127.0.0.1:8080", &ss, &ss_len);
    if (rc != IA_OK) return rc;
    struct ia_gateway_server *g = ia_calloc(1, sizeof *g);
    if (!g) return ia_error_set(IA_ENOMEM, "out of memory");
    g->store = s;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    errno = 0;
    g->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, g, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!g->daemon) {
        int e = errno;
        ia_free(g);
        return ia_error_set(IA_EIO, "cannot listen on %s: %s", listen ? listen : "127.0.0.1:8080",
                            e ? strerror(e) : "libmicrohttpd refused to start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT);
    g->port = info ? info->port : 0;
    *out = g;
    return IA_OK;
}

int ia_gateway_port(const struct ia_gateway_server *g) { return g ? g->port : 0; }

void ia_gateway_stop(struct ia_gateway_server *g) {
    if (!g) return;
    MHD_stop_daemon(g->daemon);
    ia_free(g);
}
