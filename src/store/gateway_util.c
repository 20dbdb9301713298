/* The CID set and the request/listen parsers of the gateway.
 *
 * Requests: GET or HEAD /ipfs/<cid>[/] with the response type from the
 * `format` query parameter (raw|car, wins when present) or else from the
 * Accept header (RFC 9110 media ranges, comma separated, `;q=` weights;
 * application/vnd.ipld.car is acceptable only with no `version` or
 * version=1). `dag-scope` is all|entity|block. Content paths below the CID
 * are refused: we serve blocks and whole DAGs, not path resolution. */
#include "store/gateway_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ia/core.h"

/* ---- CID set ----------------------------------------------------------------- */

struct gw_cidslot {
    uint64_t hash; /* 0 marks an empty slot */
    uint8_t *key;  /* ia_malloc'd binary CID */
    size_t len;
};

static uint64_t key_hash(const uint8_t *k, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
    return h ? h : 1;
}

void gw_cidset_init(struct gw_cidset *set) { memset(set, 0, sizeof *set); }

void gw_cidset_free(struct gw_cidset *set) {
    for (size_t i = 0; i < set->cap; i++) ia_free(set->slots[i].key);
    ia_free(set->slots);
    memset(set, 0, sizeof *set);
}

static struct gw_cidslot *find_slot(struct gw_cidslot *slots, size_t cap, uint64_t h,
                                    const uint8_t *k, size_t n) {
    for (size_t i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        struct gw_cidslot *s = &slots[i];
        if (!s->hash) return s;
        if (s->hash == h && s->len == n && !memcmp(s->key, k, n)) return s;
    }
}

static int grow(struct gw_cidset *set) {
    size_t cap = set->cap ? set->cap * 2 : 64;
    if (cap < set->cap) return ia_error_set(IA_ENOMEM, "CID set too large");
    struct gw_cidslot *slots = ia_calloc(cap, sizeof *slots);
    if (!slots) return ia_error_set(IA_ENOMEM, "out of memory for a CID set");
    for (size_t i = 0; i < set->cap; i++) {
        struct gw_cidslot *o = &set->slots[i];
        if (o->hash) *find_slot(slots, cap, o->hash, o->key, o->len) = *o;
    }
    ia_free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return IA_OK;
}

int gw_cidset_add(struct gw_cidset *set, const struct ia_cid *cid) {
    uint8_t k[IA_CID_BYTES_MAX];
    size_t n = ia_cid_to_bytes(cid, k, sizeof k);
    if (!n) return ia_error_set(IA_EINTERNAL, "CID does not encode");
    if ((set->n + 1) * 4 > set->cap * 3) {
        int rc = grow(set);
        if (rc != IA_OK) return rc;
    }
    uint64_t h = key_hash(k, n);
    struct gw_cidslot *s = find_slot(set->slots, set->cap, h, k, n);
    if (s->hash) return 0;
    s->key = ia_malloc(n);
    if (!s->key) return ia_error_set(IA_ENOMEM, "out of memory for a CID set");
    memcpy(s->key, k, n);
    s->len = n;
    s->hash = h;
    set->n++;
    return 1;
}

int gw_cidset_has(const struct gw_cidset *set, const struct ia_cid *cid) {
    if (!set->cap) return 0;
    uint8_t k[IA_CID_BYTES_MAX];
    size_t n = ia_cid_to_bytes(cid, k, sizeof k);
    if (!n) return 0;
    return find_slot(set->slots, set->cap, key_hash(k, n), k, n)->hash != 0;
}

/* ---- Accept header ------------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static const char *trim_end(const char *p, const char *end) {
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    return end;
}

static int token_is(const char *p, const char *end, const char *word) {
    size_t n = strlen(word);
    return (size_t)(end - p) == n && !strncasecmp(p, word, n);
}

/* A quality value "0", "0.5", "1.000" in thousandths; -1 when malformed. */
static int parse_q(const char *p, const char *end) {
    if (p >= end || (*p != '0' && *p != '1')) return -1;
    int q = (*p - '0') * 1000;
    p++;
    if (p == end) return q;
    if (*p++ != '.') return -1;
    int scale = 100;
    for (int i = 0; p < end; i++, p++) {
        if (i >= 3 || *p < '0' || *p > '9') return -1;
        q += (*p - '0') * scale;
        scale /= 10;
    }
    return q > 1000 ? -1 : q;
}

/* The trustless type the client prefers, or GW_FORMAT_NONE. */
static int accept_pick(const char *accept) {
    int best = GW_FORMAT_NONE, best_q = 0;
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *tb = skip_ws(p, end), *te = trim_end(tb, semi ? semi : end);
        int q = 1000, version_ok = 1;
        for (const char *a = semi; a && a < end;) {
            const char *an = memchr(a + 1, ';', (size_t)(end - a - 1));
            const char *ab = skip_ws(a + 1, an ? an : end), *ae = trim_end(ab, an ? an : end);
            const char *eq = memchr(ab, '=', (size_t)(ae - ab));
            if (eq && token_is(ab, trim_end(ab, eq), "q"))
                q = parse_q(skip_ws(eq + 1, ae), ae);
            else if (eq && token_is(ab, trim_end(ab, eq), "version"))
                version_ok = token_is(skip_ws(eq + 1, ae), ae, "1");
            a = an;
        }
        int fmt = GW_FORMAT_NONE;
        if (token_is(tb, te, "application/vnd.ipld.raw"))
            fmt = GW_FORMAT_RAW;
        else if (token_is(tb, te, "application/vnd.ipld.car") && version_ok)
            fmt = GW_FORMAT_CAR;
        if (fmt != GW_FORMAT_NONE && q > best_q) {
            best = fmt;
            best_q = q;
        }
        p = *end ? end + 1 : end;
    }
    return best;
}

static int req_fail(struct gw_request *out, int status, const char *why) {
    out->why = why;
    return status;
}

int gw_parse_request(const char *method, const char *url, const char *format_q, const char *scope_q,
                     const char *accept, struct gw_request *out) {
    memset(out, 0, sizeof *out);
    if (!strcmp(method, "HEAD"))
        out->head = 1;
    else if (strcmp(method, "GET"))
        return req_fail(out, 405, "only GET and HEAD are served");
    if (strncmp(url, "/ipfs/", 6)) return req_fail(out, 404, "only /ipfs/<cid> is served");
    const char *c = url + 6;
    size_t n = strcspn(c, "/");
    if (c[n] == '/' && c[n + 1] != '\0')
        return req_fail(out, 400, "content paths are not served; request the CID of the entry");
    char text[IA_CID_STR_MAX];
    if (n == 0 || n >= sizeof text) return req_fail(out, 400, "invalid CID");
    memcpy(text, c, n);
    text[n] = '\0';
    if (ia_cid_parse(text, &out->cid) != IA_OK) {
        ia_error_clear();
        return req_fail(out, 400, "invalid CID");
    }
    if (format_q && *format_q) {
        if (!strcmp(format_q, "raw"))
            out->format = GW_FORMAT_RAW;
        else if (!strcmp(format_q, "car"))
            out->format = GW_FORMAT_CAR;
        else
            return req_fail(out, 400,
                            "unsupported format; this trustless gateway serves "
                            "format=raw and format=car");
    } else if (accept && *accept) {
        out->format = accept_pick(accept);
        if (out->format == GW_FORMAT_NONE)
            return req_fail(out, 406,
                            "not acceptable; this trustless gateway serves "
                            "application/vnd.ipld.raw and application/vnd.ipld.car");
    } else {
        return req_fail(out, 400,
                        "no response type; send Accept: application/vnd.ipld.raw "
                        "or application/vnd.ipld.car (or ?format=raw|car)");
    }
    if (scope_q && out->format == GW_FORMAT_CAR) {
        if (!strcmp(scope_q, "all"))
            out->scope = GW_SCOPE_ALL;
        else if (!strcmp(scope_q, "entity"))
            out->scope = GW_SCOPE_ENTITY;
        else if (!strcmp(scope_q, "block"))
            out->scope = GW_SCOPE_BLOCK;
        else
            return req_fail(out, 400, "dag-scope must be all, entity or block");
    }
    return 200;
}

/* ---- listen address --------------------------------------------------------------- */

int gw_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1] || strlen(colon + 1) > 5)
        return ia_error_set(IA_EINVAL, "listen address '%s': expected HOST:PORT", listen);
    unsigned long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return ia_error_set(IA_EINVAL, "listen address '%s': bad port", listen);
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port > 65535)
        return ia_error_set(IA_EINVAL, "listen address '%s': port above 65535", listen);
    char host[64];
    size_t hn = (size_t)(colon - listen);
    if (hn >= sizeof host)
        return ia_error_set(IA_EINVAL, "listen address '%s': host too long", listen);
    memcpy(host, listen, hn);
    host[hn] = '\0';
    if (host[0] == '[') {
        if (hn < 3 || host[hn - 1] != ']')
            return ia_error_set(IA_EINVAL, "listen address '%s': unclosed [", listen);
        host[hn - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return ia_error_set(IA_EINVAL, "listen address '%s': bad IPv6 address", listen);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof *a;
        return IA_OK;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return ia_error_set(IA_EINVAL, "listen address '%s': bad IPv4 address", listen);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *len = sizeof *a;
    return IA_OK;
}
