/* fake_gateway --home DIR --mode MODE [--lifetime S]: a trustless gateway
 * on 127.0.0.1 (a free port, printed as "port N") that serves the store in
 * DIR and misbehaves as MODE says:
 *   ok           honest (raw and CAR)
 *   nocar        406 for CARs, honest raw blocks
 *   wrong-bytes  raw leaves (codec raw) with one byte flipped, in raw
 *                responses and inside CARs (their CIDs unchanged)
 *   extra        honest, but CARs also carry blocks that are not in the DAG
 *   hang         status and headers, then no body until the client leaves
 *   hang-raw     406 for CARs, and raw blocks hang as above
 *   drop         the first half of the body, then the connection is cut
 *   500          HTTP 500 for everything
 * It exits on SIGINT/SIGTERM or after --lifetime seconds (default 300), so
 * a test that dies cannot leave it behind for long. Test helper only. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ia/store.h"
#include "store/gateway_internal.h"

#define HANG_MAX_S 60

static struct ia_store *store;
static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *mode = "ok";
static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static int is(const char *m) { return !strcmp(mode, m); }

static int get_block(const struct ia_cid *cid, uint8_t **data, size_t *len) {
    pthread_mutex_lock(&store_mu);
    int rc = ia_store_get(store, cid, data, len);
    pthread_mutex_unlock(&store_mu);
    if (rc == IA_OK && is("wrong-bytes") && cid->codec == IA_CODEC_RAW && *len)
        (*data)[*len / 2] ^= 0x01;
    return rc;
}

static int put_extra(struct ia_car_writer *w, const char *text) {
    struct ia_cid cid;
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)text, strlen(text), &cid);
    return ia_car_writer_put(w, &cid, (const uint8_t *)text, strlen(text));
}

/* The DAG under root as a CAR in memory, depth first; *out is malloc'd. */
static int build_car(const struct ia_cid *root, char **out, size_t *out_len) {
    FILE *f = open_memstream(out, out_len);
    if (!f) return IA_ENOMEM;
    struct ia_car_writer *w;
    int rc = ia_car_writer_open(f, root, 1, &w);
    if (rc != IA_OK) {
        fclose(f);
        return rc;
    }
    if (is("extra")) rc = put_extra(w, "an unrelated block before the root");
    struct gw_cidset seen;
    gw_cidset_init(&seen);
    size_t n = 0, cap = 1024;
    struct ia_cid *stack = malloc(cap * sizeof *stack);
    if (!stack)
        rc = IA_ENOMEM;
    else
        stack[n++] = *root;
    while (rc == IA_OK && n) {
        struct ia_cid cid = stack[--n];
        if (gw_cidset_add(&seen, &cid) != 1) continue;
        uint8_t *data;
        size_t len;
        struct ia_cid *links = NULL;
        size_t n_links = 0;
        rc = get_block(&cid, &data, &len);
        if (rc != IA_OK) break;
        rc = ia_car_writer_put(w, &cid, data, len);
        if (rc == IA_OK && cid.codec != IA_CODEC_RAW)
            rc = ia_block_links(&cid, data, len, &links, &n_links);
        for (size_t i = n_links; rc == IA_OK && i-- > 0;) {
            if (n == cap) {
                struct ia_cid *s = realloc(stack, 2 * cap * sizeof *s);
                if (!s) {
                    rc = IA_ENOMEM;
                    break;
                }
                stack = s;
                cap *= 2;
            }
            stack[n++] = links[i];
        }
        ia_free(links);
        ia_free(data);
    }
    if (rc == IA_OK && is("extra")) rc = put_extra(w, "an unrelated block after the DAG");
    free(stack);
    gw_cidset_free(&seen);
    int rc2 = ia_car_writer_close(w);
    fclose(f);
    return rc != IA_OK ? rc : rc2;
}

struct body {
    char *p;
    size_t len;
};

static ssize_t hang_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)cls, (void)pos, (void)buf, (void)max;
    for (int i = 0; i < HANG_MAX_S * 10 && !stopping; i++) usleep(100 * 1000);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static ssize_t half_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct body *b = cls;
    size_t half = b->len / 2;
    if (pos >= half) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = half - pos < max ? half - pos : max;
    memcpy(buf, b->p + pos, n);
    return (ssize_t)n;
}

static void body_free(void *cls) {
    struct body *b = cls;
    free(b->p);
    free(b);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    (void)cls, (void)version, (void)upload, (void)upload_size;
    static int marker;
    if (!*con_cls) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (is("500")) return reply(c, 500, "broken on purpose\n");
    struct gw_request q;
    int status = gw_parse_request(
        method, url, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format"), NULL,
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT), &q);
    if (status != 200) return reply(c, (unsigned)status, "bad request\n");
    int car = q.format == GW_FORMAT_CAR;
    if (car && (is("nocar") || is("hang-raw"))) return reply(c, 406, "no CARs here\n");
    struct body *b = calloc(1, sizeof *b);
    if (!b) return MHD_NO;
    int rc;
    if (car) {
        rc = build_car(&q.cid, &b->p, &b->len);
    } else {
        uint8_t *data;
        rc = get_block(&q.cid, &data, &b->len);
        if (rc == IA_OK) {
            b->p = malloc(b->len + 1);
            if (b->p) memcpy(b->p, data, b->len);
            ia_free(data);
        }
    }
    if (rc != IA_OK) {
        body_free(b);
        return reply(c, rc == IA_ENOTFOUND ? 404 : 500, "not here\n");
    }
    struct MHD_Response *r;
    if (is("hang") || is("hang-raw")) {
        body_free(b);
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, hang_read, NULL, NULL);
    } else if (is("drop")) {
        r = MHD_create_response_from_callback(b->len, 4096, half_read, b, body_free);
    } else {
        r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_COPY);
        body_free(b);
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            car ? "application/vnd.ipld.car; version=1"
                                : "application/vnd.ipld.raw");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv) {
    const char *home = NULL;
    int lifetime = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--home"))
            home = argv[i + 1];
        else if (!strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else if (!strcmp(argv[i], "--lifetime"))
            lifetime = atoi(argv[i + 1]);
    }
    static const char *const modes[] = {"ok",   "nocar",    "wrong-bytes", "extra",
                                        "hang", "hang-raw", "drop",        "500"};
    int known = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) known |= is(modes[i]);
    if (!home || !known || lifetime <= 0) {
        fprintf(stderr, "usage: fake_gateway --home DIR --mode ok|nocar|wrong-bytes|extra|hang|"
                        "hang-raw|drop|500 [--lifetime S]\n");
        return 2;
    }
    if (ia_store_open(home, &store) != IA_OK) {
        fprintf(stderr, "fake_gateway: %s\n", ia_error_msg());
        return 1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_gateway: cannot listen\n");
        return 1;
    }
    printf("port %u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    for (long i = 0; i < (long)lifetime * 10 && !stopping; i++) usleep(100 * 1000);
    stopping = 1;
    MHD_stop_daemon(d);
    ia_store_close(store);
    return 0;
}
