/* Verified fetch from trustless HTTP gateways (libcurl).
 *
 * Nothing a gateway sends is trusted: a block is stored only after it
 * hashes to a CID we already trust, and we trust a CID only when it is the
 * requested root or a link inside a block that verified. So a gateway can
 * withhold data or waste our time, never make us store a wrong or an
 * unrelated block.
 *
 * 1. CAR: when the root is missing, GET {gw}/ipfs/{root}?format=car
 *    (dag-scope=all) is spooled to an unlinked temp file under home/tmp
 *    (capped), then read back. Each section whose CID is the root or a link
 *    of a block already accepted is verified and stored; sections that come
 *    before their parent are picked up by another pass over the file (at
 *    most CAR_PASSES), anything else is dropped. A truncated CAR (dropped
 *    connection, cap, timeout) still yields the blocks before the cut.
 * 2. Walk: from the root, depth first, `parallel` workers (this thread plus
 *    parallel-1 others, each with its own curl handle) take CIDs off a
 *    shared stack: a held block is read for its links (raw leaves are not
 *    even read), a missing one is fetched as ?format=raw from the first
 *    usable gateway, with retries and backoff, and verified before it is
 *    stored. A gateway that lies (hash mismatch) or fails all its retries is
 *    dropped for the rest of the fetch.
 * 3. Pin the root (which checks the whole DAG is present).
 *
 * Locking: f->mu guards the walk state, the stats and the gateway flags;
 * f->store_mu serialises calls into the store, whose header promises no
 * thread safety. Messages are per thread, so a worker copies its failure
 * into f->err and the calling thread re-raises it. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ia/store.h"
#include "store/gateway_internal.h"

#define DEFAULT_TIMEOUT_S 60.0
#define DEFAULT_RETRIES 3
#define DEFAULT_PARALLEL 4
#define MAX_PARALLEL 64
#define DEFAULT_CAR_MAX (64ull << 30)
#define CAR_PASSES 8          /* passes over a CAR whose blocks come out of order */
#define CAR_TIMEOUT_FACTOR 30 /* a whole CAR may take this many timeouts */
#define LOW_SPEED_BYTES 1024  /* a CAR slower than this for timeout_s is stalled */
#define BACKOFF_FIRST_S 0.25
#define BACKOFF_MAX_S 8.0
#define MSG_CAP 1024

enum outcome {
    OUT_OK,
    OUT_NOTFOUND,  /* 404/410: this gateway lacks it */
    OUT_REFUSED,   /* other 4xx, no CAR support, too big: no point retrying */
    OUT_TRANSIENT, /* network, timeout, 5xx, 429: retry */
    OUT_MISMATCH,  /* bytes do not hash to the CID */
    OUT_STOPPED    /* another worker failed */
};

struct gateway {
    char *url;          /* base, no trailing '/' (ia_malloc'd) */
    int dropped;        /* lied or failed all its retries: skipped from then on */
    int drop_rc;        /* IA_ECORRUPT, IA_ETIMEOUT or IA_ENET: why */
    char last[MSG_CAP]; /* why, in words */
};

struct fetch {
    struct ia_store *s;
    struct ia_cid root;
    char root_text[IA_CID_STR_MAX];
    struct gateway *gws;
    size_t n_gws;
    double timeout_s;
    int retries;
    int parallel;
    uint64_t car_max;
    ia_progress_fn progress;
    void *progress_user;
    struct ia_fetch_stats *stats_out;

    pthread_mutex_t mu;
    pthread_mutex_t store_mu;
    pthread_cond_t cv;
    atomic_int stop;
    struct ia_fetch_stats st;
    struct gw_cidset got;  /* stored from the network by this fetch */
    struct gw_cidset seen; /* walk: queued or done */
    struct ia_cid *stack;  /* (cap_stack) walk: CIDs to visit, top last */
    size_t n_stack, cap_stack;
    int in_flight;
    uint64_t visited;
    int rc;
    char err[2 * MSG_CAP];
};

struct worker {
    struct fetch *f;
    CURL *h;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- small helpers ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static void report_progress(struct fetch *f, uint64_t done, uint64_t known) {
    if (f->stats_out) *f->stats_out = f->st;
    if (f->progress) f->progress(f->progress_user, done, known);
}

/* Records the calling thread's message as the fetch's failure (first wins)
 * and stops the other workers. Call with f->mu held. */
static void fail_locked(struct fetch *f, int rc) {
    if (f->rc == IA_OK) {
        f->rc = rc;
        snprintf(f->err, sizeof f->err, "%s", ia_error_msg());
    }
    atomic_store(&f->stop, 1);
    pthread_cond_broadcast(&f->cv);
}

static void sleep_s(struct fetch *f, double s) {
    /* In slices, so a stop cuts a backoff short. */
    for (double left = s; left > 0 && !atomic_load(&f->stop); left -= 0.05) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Before retry `attempt` (1, 2, ...): 0.25 s, doubling, at most 8 s. */
static void backoff(struct fetch *f, int attempt) {
    double b = BACKOFF_FIRST_S;
    for (int i = 1; i < attempt && b < BACKOFF_MAX_S; i++) b *= 2;
    sleep_s(f, b < BACKOFF_MAX_S ? b : BACKOFF_MAX_S);
}

static int store_has(struct fetch *f, const struct ia_cid *cid) {
    pthread_mutex_lock(&f->store_mu);
    int has = ia_store_has(f->s, cid);
    pthread_mutex_unlock(&f->store_mu);
    return has;
}

/* Stores a verified block; counts it unless it was already there. */
static int store_block(struct fetch *f, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    pthread_mutex_lock(&f->store_mu);
    int had = ia_store_has(f->s, cid);
    int rc = had ? IA_OK : ia_store_put(f->s, cid, data, len);
    pthread_mutex_unlock(&f->store_mu);
    if (rc != IA_OK || had) return rc;
    pthread_mutex_lock(&f->mu);
    rc = gw_cidset_add(&f->got, cid) < 0 ? IA_ENOMEM : IA_OK;
    f->st.blocks_fetched++;
    f->st.bytes_fetched += len;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/* ---- one HTTP request ------------------------------------------------------------ */

struct sink {
    FILE *file; /* spool mode (CAR) */
    uint64_t file_max;
    uint8_t *buf; /* memory mode (raw block): (cap) bytes, len used */
    size_t len, cap, max;
    uint64_t received;
    int over;     /* the body exceeded its cap */
    int io_errno; /* writing the spool file failed */
};

static size_t sink_write(char *p, size_t size, size_t n, void *user) {
    struct sink *k = user;
    size_t bytes = size * n; /* size is always 1 for body data */
    k->received += bytes;
    if (k->file) {
        if (k->received > k->file_max) {
            k->over = 1;
            return 0;
        }
        if (fwrite(p, 1, bytes, k->file) != bytes) {
            k->io_errno = errno ? errno : EIO;
            return 0;
        }
        return bytes;
    }
    if (bytes > k->max - k->len) {
        k->over = 1;
        return 0;
    }
    if (k->len + bytes > k->cap) {
        size_t cap = k->cap ? k->cap : 64 * 1024;
        while (cap < k->len + bytes) cap *= 2;
        if (cap > k->max) cap = k->max;
        uint8_t *b = ia_realloc(k->buf, cap);
        if (!b) {
            k->io_errno = ENOMEM;
            return 0;
        }
        k->buf = b;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, p, bytes);
    k->len += bytes;
    return bytes;
}

static int xfer_check(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((struct fetch *)user)->stop); /* non-zero aborts */
}

/* GETs cid from gateway g as a CAR or a raw block into k. On anything but
 * OUT_OK, why says what happened, naming the gateway and the CID. */
static int http_get(struct worker *w, struct gateway *g, const struct ia_cid *cid, int car,
                    struct sink *k, char *why, size_t why_cap, int *timed_out) {
    struct fetch *f = w->f;
    char text[IA_CID_STR_MAX], url[4096];
    ia_cid_format(cid, text);
    snprintf(url, sizeof url, "%s/ipfs/%s?format=%s", g->url, text,
             car ? "car&dag-scope=all" : "raw");
    const char *what = car ? " (CAR)" : "";
    struct curl_slist *hdr = curl_slist_append(
        NULL, car ? "Accept: application/vnd.ipld.car; version=1; order=dfs; dups=n"
                  : "Accept: application/vnd.ipld.raw");
    if (!hdr) {
        snprintf(why, why_cap, "out of memory");
        return OUT_REFUSED;
    }
    CURL *h = w->h;
    curl_easy_reset(h);
    long timeout_ms = (long)(f->timeout_s * 1000.0);
    if (timeout_ms < 1) timeout_ms = 1;
    long stall_s = (long)(f->timeout_s + 0.999);
    if (stall_s < 1) stall_s = 1;
    w->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ipfs-accelerate/" IA_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (car) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms * CAR_TIMEOUT_FACTOR);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_check);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, f);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, w->errbuf);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    pthread_mutex_lock(&f->mu);
    f->st.requests++;
    f->st.bytes_received += k->received;
    pthread_mutex_unlock(&f->mu);
    *timed_out = 0;

    if (atomic_load(&f->stop)) {
        snprintf(why, why_cap, "stopped");
        return OUT_STOPPED;
    }
    if (status >= 300 || (cc == CURLE_OK && status != 200)) {
        snprintf(why, why_cap, "gateway %s: HTTP %ld for %s%s", g->url, status, text, what);
        if (status == 404 || status == 410) return OUT_NOTFOUND;
        if (status == 408 || status == 429 || status >= 500) return OUT_TRANSIENT;
        return OUT_REFUSED;
    }
    if (cc == CURLE_OK) {
        if (car) {
            char *ct = NULL;
            curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
            if (!ct || strncasecmp(ct, "application/vnd.ipld.car", 24)) {
                snprintf(why, why_cap, "gateway %s: answered a CAR request for %s with %s", g->url,
                         text, ct ? ct : "no Content-Type");
                return OUT_REFUSED;
            }
        }
        return OUT_OK;
    }
    if (k->over) {
        snprintf(why, why_cap, "gateway %s: response for %s%s larger than %llu bytes", g->url, text,
                 what, (unsigned long long)(k->file ? k->file_max : k->max));
        return OUT_REFUSED;
    }
    if (k->io_errno) {
        snprintf(why, why_cap, "gateway %s: %s%s: cannot keep the response: %s", g->url, text, what,
                 strerror(k->io_errno));
        return OUT_REFUSED;
    }
    *timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    char detail[CURL_ERROR_SIZE + 64];
    if (cc == CURLE_OPERATION_TIMEDOUT && strstr(w->errbuf, "too slow"))
        snprintf(detail, sizeof detail, "stalled (under %d bytes/s for %ld s)", LOW_SPEED_BYTES,
                 stall_s);
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(detail, sizeof detail, "timed out after %g s",
                 (double)(car ? timeout_ms * CAR_TIMEOUT_FACTOR : timeout_ms) / 1000.0);
    else
        snprintf(detail, sizeof detail, "%s", w->errbuf[0] ? w->errbuf : curl_easy_strerror(cc));
    snprintf(why, why_cap, "gateway %s: %s for %s%s", g->url, detail, text, what);
    return OUT_TRANSIENT;
}

static int gateway_usable(struct fetch *f, struct gateway *g) {
    pthread_mutex_lock(&f->mu);
    int ok = !g->dropped;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

static void gateway_drop(struct fetch *f, struct gateway *g, int rc, const char *why) {
    pthread_mutex_lock(&f->mu);
    if (!g->dropped) {
        g->dropped = 1;
        g->drop_rc = rc;
        snprintf(g->last, sizeof g->last, "%s", why);
    }
    pthread_mutex_unlock(&f->mu);
}

static void append(char *buf, size_t cap, const char *msg) {
    size_t n = strlen(buf);
    if (n && n + 2 < cap) {
        strcpy(buf + n, "; ");
        n += 2;
    }
    snprintf(buf + n, cap - n, "%s", msg);
}

static void tried(char *why, size_t cap, int retries) {
    size_t n = strlen(why);
    if (retries > 0 && n < cap) snprintf(why + n, cap - n, " after %d tries", retries + 1);
}

/* Ends the attempts on g with outcome `out`: counts the tries into why and,
 * when g sent bad data or kept failing, drops it for the rest of the fetch. */
static void gateway_done(struct fetch *f, struct gateway *g, int out, int timed_out, char *why,
                         size_t cap) {
    if (out == OUT_TRANSIENT) tried(why, cap, f->retries);
    if (out == OUT_MISMATCH || out == OUT_TRANSIENT)
        gateway_drop(f, g,
                     out == OUT_MISMATCH ? IA_ECORRUPT
                     : timed_out         ? IA_ETIMEOUT
                                         : IA_ENET,
                     why);
}

/* ---- phase 2: one raw block ------------------------------------------------------ */

/* Fetches and verifies one block, trying every usable gateway in order.
 * *data is ia_malloc'd. */
static int fetch_raw(struct worker *w, const struct ia_cid *cid, uint8_t **data, size_t *len) {
    struct fetch *f = w->f;
    char reasons[2 * MSG_CAP] = "", why[MSG_CAP];
    int all_404 = 1, any_mismatch = 0, any_timeout = 0;
    for (size_t gi = 0; gi < f->n_gws; gi++) {
        struct gateway *g = &f->gws[gi];
        if (!gateway_usable(f, g)) {
            pthread_mutex_lock(&f->mu);
            append(reasons, sizeof reasons, g->last);
            if (g->drop_rc == IA_ECORRUPT) any_mismatch = 1;
            if (g->drop_rc == IA_ETIMEOUT) any_timeout = 1;
            pthread_mutex_unlock(&f->mu);
            all_404 = 0;
            continue;
        }
        int out = OUT_TRANSIENT, timed_out = 0;
        for (int attempt = 0; attempt <= f->retries; attempt++) {
            if (attempt) backoff(f, attempt);
            struct sink k = {.max = IA_DAGPB_MAX_BLOCK};
            out = http_get(w, g, cid, 0, &k, why, sizeof why, &timed_out);
            if (out == OUT_OK) {
                int rc = ia_cid_verify(cid, k.buf, k.len);
                if (rc == IA_OK) {
                    *data = k.buf ? k.buf : ia_malloc(1);
                    *len = k.len;
                    if (!*data) return ia_error_set(IA_ENOMEM, "out of memory");
                    return IA_OK;
                }
                char text[IA_CID_STR_MAX];
                ia_cid_format(cid, text);
                snprintf(why, sizeof why, "block %s from %s: %s", text, g->url,
                         rc == IA_ECORRUPT ? "hash mismatch" : ia_error_msg());
                out = rc == IA_ECORRUPT ? OUT_MISMATCH : OUT_REFUSED;
            }
            ia_free(k.buf);
            if (out == OUT_STOPPED) return ia_error_set(IA_ECANCELED, "stopped");
            if (out != OUT_TRANSIENT) break;
        }
        gateway_done(f, g, out, timed_out, why, sizeof why);
        append(reasons, sizeof reasons, why);
        if (out != OUT_NOTFOUND) all_404 = 0;
        if (out == OUT_MISMATCH) any_mismatch = 1;
        if (out == OUT_TRANSIENT && timed_out) any_timeout = 1;
    }
    int rc = any_mismatch  ? IA_ECORRUPT
             : all_404     ? IA_ENOTFOUND
             : any_timeout ? IA_ETIMEOUT
                           : IA_ENET;
    return ia_error_set(rc, "%s", reasons);
}

/* ---- phase 1: the DAG as one CAR ------------------------------------------------------ */

/* Reads a spooled CAR and stores what is verified and reachable from the
 * root. Returns IA_OK, or IA_ECORRUPT (why says which block) when a
 * section claimed a trusted CID with other bytes. A malformed or truncated
 * CAR is not an error here: the walk fetches what it lacked. */
static int car_import(struct fetch *f, struct gateway *g, FILE *file, char *why, size_t why_cap) {
    struct gw_cidset trusted, done;
    gw_cidset_init(&trusted);
    gw_cidset_init(&done);
    int rc = gw_cidset_add(&trusted, &f->root) < 0 ? IA_ENOMEM : IA_OK;
    for (int pass = 0; rc == IA_OK && pass < CAR_PASSES; pass++) {
        struct ia_car_reader *r = NULL;
        if (fseek(file, 0, SEEK_SET) || ia_car_reader_open(file, g->url, &r) != IA_OK) break;
        uint64_t deferred = 0, accepted = 0;
        struct ia_cid cid;
        const uint8_t *data;
        size_t len;
        while (rc == IA_OK && !atomic_load(&f->stop) &&
               ia_car_reader_next(r, &cid, &data, &len) == 1) {
            if (gw_cidset_has(&done, &cid)) continue;
            if (!gw_cidset_has(&trusted, &cid)) {
                deferred++;
                continue;
            }
            if (ia_cid_verify(&cid, data, len) != IA_OK) {
                char text[IA_CID_STR_MAX];
                ia_cid_format(&cid, text);
                snprintf(why, why_cap, "block %s from %s: hash mismatch", text, g->url);
                rc = IA_ECORRUPT;
                break;
            }
            struct ia_cid *links = NULL;
            size_t n_links = 0;
            /* A block we cannot read links from is still stored; the walk
             * reports the codec when it gets there. */
            if (ia_block_links(&cid, data, len, &links, &n_links) != IA_OK) n_links = 0;
            for (size_t i = 0; rc == IA_OK && i < n_links; i++)
                if (gw_cidset_add(&trusted, &links[i]) < 0) rc = IA_ENOMEM;
            ia_free(links);
            if (rc == IA_OK) rc = gw_cidset_add(&done, &cid) < 0 ? IA_ENOMEM : IA_OK;
            if (rc == IA_OK) rc = store_block(f, &cid, data, len);
            accepted++;
            pthread_mutex_lock(&f->mu);
            report_progress(f, done.n, trusted.n);
            pthread_mutex_unlock(&f->mu);
        }
        ia_car_reader_close(r);
        ia_error_clear();
        if (!deferred || !accepted) break;
    }
    gw_cidset_free(&trusted);
    gw_cidset_free(&done);
    if (rc != IA_OK && rc != IA_ECORRUPT) return ia_error_set(rc, "storing blocks from a CAR");
    return rc;
}

static FILE *spool_open(struct fetch *f) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tmp", ia_store_home(f->s));
    if (mkdir(path, 0700) && errno != EEXIST) return NULL;
    snprintf(path, sizeof path, "%s/tmp/fetch-XXXXXX", ia_store_home(f->s));
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path); /* gone from the folder at once: a killed fetch leaves nothing */
    FILE *file = fdopen(fd, "w+b");
    if (!file) close(fd);
    return file;
}

/* Tries each usable gateway for the whole DAG until one gives us the root.
 * Failures here only mark gateways; the walk decides whether the fetch
 * fails. */
static int car_phase(struct worker *w) {
    struct fetch *f = w->f;
    char why[MSG_CAP];
    for (size_t gi = 0; gi < f->n_gws && !atomic_load(&f->stop); gi++) {
        struct gateway *g = &f->gws[gi];
        if (!gateway_usable(f, g)) continue;
        int out = OUT_TRANSIENT, timed_out = 0;
        for (int attempt = 0; attempt <= f->retries; attempt++) {
            if (attempt) backoff(f, attempt);
            FILE *file = spool_open(f);
            if (!file)
                return ia_error_set(IA_EIO, "%s/tmp: cannot create a temp file: %s",
                                    ia_store_home(f->s), strerror(errno));
            struct sink k = {.file = file, .file_max = f->car_max};
            out = http_get(w, g, &f->root, 1, &k, why, sizeof why, &timed_out);
            long status = 0;
            curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
            int rc = IA_OK;
            if (status == 200 && (out == OUT_OK || out == OUT_TRANSIENT || k.over)) {
                char iwhy[MSG_CAP];
                rc = fflush(file) ? IA_EIO : car_import(f, g, file, iwhy, sizeof iwhy);
                if (rc == IA_ECORRUPT) {
                    snprintf(why, sizeof why, "%s", iwhy);
                    out = OUT_MISMATCH;
                    rc = IA_OK;
                }
            }
            fclose(file);
            if (rc != IA_OK) return rc;
            if (out == OUT_STOPPED) return IA_OK;
            if (out != OUT_MISMATCH && store_has(f, &f->root)) return IA_OK;
            if (out != OUT_TRANSIENT) break;
        }
        gateway_done(f, g, out, timed_out, why, sizeof why);
    }
    return IA_OK;
}

/* ---- phase 2: the walk ------------------------------------------------------------ */

static int push_locked(struct fetch *f, const struct ia_cid *cid) {
    int added = gw_cidset_add(&f->seen, cid);
    if (added <= 0) return added < 0 ? IA_ENOMEM : IA_OK;
    if (f->n_stack == f->cap_stack) {
        size_t cap = f->cap_stack ? f->cap_stack * 2 : 256;
        struct ia_cid *s = ia_realloc(f->stack, cap * sizeof *s);
        if (!s) return ia_error_set(IA_ENOMEM, "out of memory for the walk");
        f->stack = s;
        f->cap_stack = cap;
    }
    f->stack[f->n_stack++] = *cid;
    return IA_OK;
}

/* A block of the walk: its links, from the store or from a gateway. */
static int visit(struct worker *w, const struct ia_cid *cid, struct ia_cid **links, size_t *n) {
    struct fetch *f = w->f;
    *links = NULL;
    *n = 0;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = IA_ENOTFOUND;
    if (store_has(f, cid)) {
        pthread_mutex_lock(&f->mu);
        if (!gw_cidset_has(&f->got, cid)) f->st.blocks_held++;
        pthread_mutex_unlock(&f->mu);
        if (cid->codec == IA_CODEC_RAW) return IA_OK; /* no links to read */
        pthread_mutex_lock(&f->store_mu);
        rc = ia_store_get(f->s, cid, &data, &len);
        if (rc == IA_ECORRUPT) {
            /* A rotten local copy: drop it and fetch a good one. */
            rc = ia_store_delete(f->s, &cid->mh) == IA_OK ? IA_ENOTFOUND : IA_ECORRUPT;
            pthread_mutex_lock(&f->mu);
            f->st.blocks_held--;
            pthread_mutex_unlock(&f->mu);
        }
        pthread_mutex_unlock(&f->store_mu);
        if (rc != IA_OK && rc != IA_ENOTFOUND) return rc;
    }
    if (rc == IA_ENOTFOUND) {
        rc = fetch_raw(w, cid, &data, &len);
        if (rc == IA_OK) rc = store_block(f, cid, data, len);
    }
    if (rc == IA_OK) rc = ia_block_links(cid, data, len, links, n);
    ia_free(data);
    return rc;
}

static void *walk(void *arg) {
    struct worker *w = arg;
    struct fetch *f = w->f;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!atomic_load(&f->stop) && !f->n_stack && f->in_flight)
            pthread_cond_wait(&f->cv, &f->mu);
        if (atomic_load(&f->stop) || (!f->n_stack && !f->in_flight)) break;
        struct ia_cid cid = f->stack[--f->n_stack];
        f->in_flight++;
        pthread_mutex_unlock(&f->mu);
        struct ia_cid *links = NULL;
        size_t n = 0;
        int rc = visit(w, &cid, &links, &n);
        pthread_mutex_lock(&f->mu);
        f->in_flight--;
        /* Reversed, so the first link is visited first. */
        for (size_t i = n; rc == IA_OK && i-- > 0;) rc = push_locked(f, &links[i]);
        ia_free(links);
        if (rc != IA_OK) {
            if (rc != IA_ECANCELED) fail_locked(f, rc);
            pthread_cond_broadcast(&f->cv);
            continue;
        }
        f->visited++;
        report_progress(f, f->visited, f->seen.n);
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- setup ------------------------------------------------------------------------- */

static int check_gateways(struct fetch *f, const struct ia_fetch_opts *o) {
    if (!o->gateways || !o->n_gateways)
        return ia_error_set(IA_EINVAL, "fetch %s: no gateway given", f->root_text);
    if (o->n_gateways > 64) return ia_error_set(IA_EINVAL, "fetch: more than 64 gateways");
    f->gws = ia_calloc(o->n_gateways, sizeof *f->gws);
    if (!f->gws) return ia_error_set(IA_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_gateways; i++) {
        const char *u = o->gateways[i];
        if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
            return ia_error_set(IA_EINVAL, "gateway '%s': not an http:// or https:// URL",
                                u ? u : "(null)");
        size_t n = strlen(u);
        if (n > 2000) return ia_error_set(IA_EINVAL, "gateway URL longer than 2000 bytes");
        while (n > 8 && u[n - 1] == '/') n--;
        f->gws[f->n_gws].url = ia_malloc(n + 1);
        if (!f->gws[f->n_gws].url) return ia_error_set(IA_ENOMEM, "out of memory");
        memcpy(f->gws[f->n_gws].url, u, n);
        f->gws[f->n_gws].url[n] = '\0';
        f->n_gws++;
    }
    return IA_OK;
}

int ia_store_fetch(struct ia_store *s, const struct ia_cid *root, const struct ia_fetch_opts *o) {
    if (!s || !root || !o) return ia_error_set(IA_EINVAL, "fetch: missing argument");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return ia_error_set(IA_EINTERNAL, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    struct fetch *f = ia_calloc(1, sizeof *f);
    if (!f) return ia_error_set(IA_ENOMEM, "out of memory");
    f->s = s;
    f->root = *root;
    ia_cid_format(root, f->root_text);
    f->timeout_s = o->timeout_s > 0 ? o->timeout_s : DEFAULT_TIMEOUT_S;
    f->retries = o->retries < 0 ? 0 : o->retries ? o->retries : DEFAULT_RETRIES;
    if (f->retries > 20) f->retries = 20;
    f->parallel = o->parallel <= 0 ? DEFAULT_PARALLEL : o->parallel;
    if (f->parallel > MAX_PARALLEL) f->parallel = MAX_PARALLEL;
    f->car_max = o->car_max_bytes ? o->car_max_bytes : DEFAULT_CAR_MAX;
    f->progress = o->progress;
    f->progress_user = o->progress_user;
    f->stats_out = o->stats;
    gw_cidset_init(&f->got);
    gw_cidset_init(&f->seen);
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_init(&f->store_mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    struct worker *ws = ia_calloc((size_t)f->parallel, sizeof *ws);
    pthread_t *tids = ia_calloc((size_t)f->parallel, sizeof *tids);
    int n_threads = 0;
    int rc = ws && tids ? IA_OK : ia_error_set(IA_ENOMEM, "out of memory");
    if (rc == IA_OK) rc = check_gateways(f, o);
    for (int i = 0; rc == IA_OK && i < f->parallel; i++) {
        ws[i].f = f;
        ws[i].h = curl_easy_init();
        if (!ws[i].h) rc = ia_error_set(IA_ENOMEM, "curl_easy_init failed");
    }
    if (rc == IA_OK && !store_has(f, root)) rc = car_phase(&ws[0]);
    if (rc == IA_OK) {
        pthread_mutex_lock(&f->mu);
        rc = push_locked(f, root);
        pthread_mutex_unlock(&f->mu);
    }
    if (rc == IA_OK) {
        for (int i = 1; i < f->parallel; i++) {
            if (pthread_create(&tids[i], NULL, walk, &ws[i])) break;
            n_threads = i;
        }
        walk(&ws[0]);
        for (int i = 1; i <= n_threads; i++) pthread_join(tids[i], NULL);
        rc = f->rc;
        if (rc != IA_OK) ia_error_set(rc, "%s", f->err);
    }
    if (rc == IA_OK) {
        rc = ia_store_pin_add(s, root);
        if (rc != IA_OK) ia_error_wrap(rc, "pinning %s", f->root_text);
    }
    if (o->stats) *o->stats = f->st;
    for (int i = 0; ws && i < f->parallel; i++)
        if (ws[i].h) curl_easy_cleanup(ws[i].h);
    for (size_t i = 0; i < f->n_gws; i++) ia_free(f->gws[i].url);
    ia_free(f->gws);
    ia_free(ws);
    ia_free(tids);
    ia_free(f->stack);
    gw_cidset_free(&f->got);
    gw_cidset_free(&f->seen);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->store_mu);
    pthread_mutex_destroy(&f->mu);
    ia_free(f);
    return rc;
}
