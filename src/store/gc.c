/* Garbage collection (mark from pins, sweep with foreach) and
 * verify-blocks (re-hash every block, or every block of one DAG).
 *
 * gc must never delete a block reachable from a pin. When a pinned DAG has
 * a corrupt or missing dag-pb node, the blocks under it cannot be known, so
 * gc refuses to sweep at all rather than guess. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- gc ---------------------------------------------------------------- */

struct pin_list {
    struct ia_cid *cids;
    size_t n, cap;
    int rc;
};

static void collect_pin(void *user, const struct ia_cid *cid) {
    struct pin_list *p = user;
    if (p->rc != IA_OK) return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct ia_cid *c = ia_realloc(p->cids, cap * sizeof *c);
        if (!c) {
            p->rc = ia_error_set(IA_ENOMEM, "out of memory");
            return;
        }
        p->cids = c;
        p->cap = cap;
    }
    p->cids[p->n++] = *cid;
}

struct mark {
    struct ia_mh_set live;
    const struct ia_cid *pin;
};

static int mark_visit(void *user, const struct ia_cid *cid, int rc, const uint8_t *data,
                      size_t len) {
    (void)data;
    (void)len;
    struct mark *m = user;
    char pin[IA_CID_STR_MAX], str[IA_CID_STR_MAX];
    if (rc == IA_ENOTFOUND && cid->codec == IA_CODEC_RAW) return IA_OK; /* nothing below it */
    if (rc != IA_OK) {
        ia_cid_format(m->pin, pin);
        ia_cid_format(cid, str);
        return ia_error_set(rc,
                            "gc refused: block %s of pinned DAG %s is %s, so the blocks "
                            "under it cannot be known (restore it or unpin %s)",
                            str, pin, rc == IA_ENOTFOUND ? "missing" : "corrupt", pin);
    }
    int added = ia_mh_set_add(&m->live, &cid->mh);
    return added < 0 ? added : IA_OK;
}

struct sweep {
    struct ia_store *s;
    const struct ia_mh_set *live;
    uint64_t removed, bytes;
};

static int sweep_block(void *user, const struct ia_multihash *mh, uint64_t size) {
    struct sweep *w = user;
    if (ia_mh_set_has(w->live, mh)) return IA_OK;
    int rc = ia_store_delete(w->s, mh);
    if (rc == IA_ENOTFOUND) return IA_OK; /* someone else removed it */
    if (rc != IA_OK) return rc;
    w->removed++;
    w->bytes += size;
    return IA_OK;
}

int ia_store_gc(struct ia_store *s, uint64_t *blocks_removed, uint64_t *bytes_freed) {
    if (blocks_removed) *blocks_removed = 0;
    if (bytes_freed) *bytes_freed = 0;
    struct pin_list pins = {0};
    int rc = ia_store_pin_list(s, collect_pin, &pins);
    if (rc == IA_OK) rc = pins.rc;
    struct mark m;
    ia_mh_set_init(&m.live);
    struct ia_mh_set seen;
    ia_mh_set_init(&seen);
    for (size_t i = 0; rc == IA_OK && i < pins.n; i++) {
        m.pin = &pins.cids[i];
        rc = ia_store_walk(s, &pins.cids[i], 0, &seen, mark_visit, &m);
    }
    struct sweep w = {s, &m.live, 0, 0};
    if (rc == IA_OK) rc = ia_store_foreach(s, sweep_block, &w);
    if (blocks_removed) *blocks_removed = w.removed;
    if (bytes_freed) *bytes_freed = w.bytes;
    ia_mh_set_free(&seen);
    ia_mh_set_free(&m.live);
    ia_free(pins.cids);
    return rc;
}

/* ---- verify-blocks ------------------------------------------------------ */

struct verify {
    struct ia_store *s;
    ia_store_bad_fn on_bad;
    void *user;
    struct ia_verify_counts c;
};

static void report(struct verify *v, const struct ia_multihash *mh, const char *why) {
    if (v->on_bad) v->on_bad(v->user, mh, why);
}

static int verify_stored(void *user, const struct ia_multihash *mh, uint64_t size) {
    (void)size;
    struct verify *v = user;
    uint8_t *data;
    size_t len;
    int rc = ia_store_read_raw(v->s, mh, &data, &len);
    if (rc == IA_ENOTFOUND) return IA_OK; /* removed while we looked */
    if (rc == IA_ENOMEM) return rc;
    v->c.checked++;
    if (rc == IA_OK) {
        /* The codec does not enter the hash, so any will do. */
        struct ia_cid cid = {.version = 1, .codec = IA_CODEC_RAW, .mh = *mh};
        rc = ia_cid_verify(&cid, data, len);
        ia_free(data);
    }
    if (rc == IA_OK) return IA_OK;
    v->c.corrupt++;
    /* The file name gives only the multihash; its raw CIDv1 names it. */
    struct ia_cid cid = {.version = 1, .codec = IA_CODEC_RAW, .mh = *mh};
    char str[IA_CID_STR_MAX], why[1024];
    ia_cid_format(&cid, str);
    snprintf(why, sizeof why, "block %s is %s", str,
             rc == IA_EUNSUPPORTED ? "hashed with an unsupported function"
             : rc == IA_ECORRUPT   ? "corrupt: its bytes do not match its hash"
                                   : "unreadable");
    report(v, mh, why);
    return IA_OK;
}

static int verify_visit(void *user, const struct ia_cid *cid, int rc, const uint8_t *data,
                        size_t len) {
    (void)data;
    (void)len;
    struct verify *v = user;
    if (rc == IA_ENOTFOUND) {
        char str[IA_CID_STR_MAX], why[IA_CID_STR_MAX + 64];
        ia_cid_format(cid, str);
        snprintf(why, sizeof why, "block %s is missing", str);
        v->c.missing++;
        report(v, &cid->mh, why);
        return IA_OK;
    }
    v->c.checked++;
    if (rc == IA_ECORRUPT) {
        v->c.corrupt++;
        report(v, &cid->mh, ia_error_msg());
    }
    return rc == IA_ECORRUPT ? IA_OK : rc;
}

int ia_store_verify_blocks(struct ia_store *s, const struct ia_cid *root, ia_store_bad_fn on_bad,
                           void *user, struct ia_verify_counts *counts) {
    struct verify v = {s, on_bad, user, {0, 0, 0}};
    int rc = root ? ia_store_walk(s, root, 1, NULL, verify_visit, &v)
                  : ia_store_foreach(s, verify_stored, &v);
    if (counts) *counts = v.c;
    if (rc != IA_OK) return rc;
    if (v.c.corrupt || v.c.missing)
        return ia_error_set(IA_ECORRUPT, "%llu of %llu blocks corrupt, %llu missing",
                            (unsigned long long)v.c.corrupt, (unsigned long long)v.c.checked,
                            (unsigned long long)v.c.missing);
    return IA_OK;
}
