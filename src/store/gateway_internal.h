/* Private helpers shared by the gateway client (fetch.c) and server
 * (gateway_server.c): a set of CIDs, and the pure parsers for gateway
 * requests and listen addresses (pure so the fuzz target can drive them). */
#ifndef IA_STORE_GATEWAY_INTERNAL_H
#define IA_STORE_GATEWAY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ia/cid.h"

/* ---- a set of CIDs, keyed by their binary form --------------------------- */

struct gw_cidset {
    struct gw_cidslot *slots; /* open addressing, cap is a power of two */
    size_t cap, n;
};

void gw_cidset_init(struct gw_cidset *set);
void gw_cidset_free(struct gw_cidset *set);
/* 1 when added, 0 when already present, IA_ENOMEM. */
int gw_cidset_add(struct gw_cidset *set, const struct ia_cid *cid);
int gw_cidset_has(const struct gw_cidset *set, const struct ia_cid *cid);

/* ---- requests --------------------------------------------------------------- */

enum gw_format { GW_FORMAT_NONE = 0, GW_FORMAT_RAW, GW_FORMAT_CAR };
enum gw_scope { GW_SCOPE_ALL = 0, GW_SCOPE_ENTITY, GW_SCOPE_BLOCK };

struct gw_request {
    struct ia_cid cid;
    int format;      /* enum gw_format */
    int scope;       /* enum gw_scope (CAR only) */
    int head;        /* a HEAD request: headers only */
    const char *why; /* static text for an error status */
};

/* Decides what a request asks for. Any argument but method and url may be
 * NULL (absent). Returns the HTTP status to answer with: 200 with *out
 * filled, or 400/404/405/406 with out->why set. Never allocates. */
int gw_parse_request(const char *method, const char *url, const char *format_q, const char *scope_q,
                     const char *accept, struct gw_request *out);

/* "A.B.C.D:PORT", "[v6]:PORT" or "localhost:PORT" → a socket address.
 * IA_EINVAL (message names the text) when it is none of these. */
int gw_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len);

#endif
