/* A set of multihashes and the depth-first DAG walk that pins, gc,
 * verify-blocks and CAR export share. */
#include "store_internal.h"

#include <string.h>

/* ---- multihash set ------------------------------------------------------- */

void ia_mh_set_init(struct ia_mh_set *s) { memset(s, 0, sizeof *s); }

void ia_mh_set_free(struct ia_mh_set *s) {
    ia_free(s->slots);
    memset(s, 0, sizeof *s);
}

static uint64_t key_hash(const struct ia_mh_key *k) {
    /* FNV-1a over the whole key: identity digests are not random. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k->len; i++) h = (h ^ k->b[i]) * 1099511628211ull;
    return h;
}

static size_t find_slot(const struct ia_mh_key *slots, size_t cap, const struct ia_mh_key *k) {
    size_t i = (size_t)key_hash(k) & (cap - 1);
    while (slots[i].len && (slots[i].len != k->len || memcmp(slots[i].b, k->b, k->len) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(struct ia_mh_set *s) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    struct ia_mh_key *slots = ia_calloc(cap, sizeof *slots);
    if (!slots) return ia_error_set(IA_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].len) slots[find_slot(slots, cap, &s->slots[i])] = s->slots[i];
    ia_free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return IA_OK;
}

int ia_mh_set_add(struct ia_mh_set *s, const struct ia_multihash *mh) {
    if ((s->n + 1) * 2 > s->cap) {
        int rc = grow(s);
        if (rc != IA_OK) return rc;
    }
    struct ia_mh_key k;
    ia_mh_key_of(mh, &k);
    size_t i = find_slot(s->slots, s->cap, &k);
    if (s->slots[i].len) return 0;
    s->slots[i] = k;
    s->n++;
    return 1;
}

int ia_mh_set_add_cid(struct ia_mh_set *s, const struct ia_cid *cid) {
    if ((s->n + 1) * 2 > s->cap) {
        int rc = grow(s);
        if (rc != IA_OK) return rc;
    }
    struct ia_mh_key k;
    memset(&k, 0, sizeof k);
    /* v0 is dag-pb, so v0 and v1 dag-pb CIDs of one block share a key. */
    size_t n = ia_varint_encode(cid->codec, k.b);
    n += ia_mh_to_bytes(&cid->mh, k.b + n, sizeof k.b - n);
    k.len = (uint8_t)n;
    size_t i = find_slot(s->slots, s->cap, &k);
    if (s->slots[i].len) return 0;
    s->slots[i] = k;
    s->n++;
    return 1;
}

static int set_has_cid(const struct ia_mh_set *s, const struct ia_cid *cid) {
    if (!s->cap) return 0;
    struct ia_mh_key k;
    memset(&k, 0, sizeof k);
    size_t n = ia_varint_encode(cid->codec, k.b);
    n += ia_mh_to_bytes(&cid->mh, k.b + n, sizeof k.b - n);
    k.len = (uint8_t)n;
    return s->slots[find_slot(s->slots, s->cap, &k)].len != 0;
}

int ia_mh_set_has(const struct ia_mh_set *s, const struct ia_multihash *mh) {
    if (!s->cap) return 0;
    struct ia_mh_key k;
    ia_mh_key_of(mh, &k);
    return s->slots[find_slot(s->slots, s->cap, &k)].len != 0;
}

/* ---- walk ---------------------------------------------------------------- */

struct frame {
    struct ia_cid cid;
    int depth;
};

struct stack {
    struct frame *f;
    size_t n, cap;
};

/* Blocks are marked when popped so the order is a true depth-first
 * preorder; a hostile node can link one child thousands of times, so the
 * pending stack is bounded (real DAGs need depth × links, a few thousand). */
#define MAX_PENDING (1u << 20)

static int push(struct stack *st, const struct ia_cid *cid, int depth) {
    if (st->n >= MAX_PENDING)
        return ia_error_set(IA_ERANGE, "DAG too wide: more than %u links pending", MAX_PENDING);
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        struct frame *f = ia_realloc(st->f, cap * sizeof *f);
        if (!f) return ia_error_set(IA_ENOMEM, "out of memory");
        st->f = f;
        st->cap = cap;
    }
    st->f[st->n].cid = *cid;
    st->f[st->n].depth = depth;
    st->n++;
    return IA_OK;
}

int ia_store_walk(struct ia_store *s, const struct ia_cid *root, int need_leaves,
                  struct ia_mh_set *seen, ia_dag_visit_fn visit, void *user) {
    struct ia_mh_set own;
    if (!seen) {
        ia_mh_set_init(&own);
        seen = &own;
    }
    struct stack st = {0};
    int rc = push(&st, root, 0);
    while (rc == IA_OK && st.n) {
        struct frame fr = st.f[--st.n];
        int added = ia_mh_set_add_cid(seen, &fr.cid);
        if (added < 0) {
            rc = added;
            break;
        }
        if (!added) continue;
        char str[IA_CID_STR_MAX];
        if (fr.depth > IA_STORE_MAX_DEPTH) {
            ia_cid_format(&fr.cid, str);
            rc =
                ia_error_set(IA_ECORRUPT, "%s: DAG deeper than %d levels", str, IA_STORE_MAX_DEPTH);
            break;
        }
        if (fr.cid.codec == IA_CODEC_RAW && !need_leaves) {
            int present = ia_store_has(s, &fr.cid);
            if (!present) {
                ia_cid_format(&fr.cid, str);
                ia_error_set(IA_ENOTFOUND, "block %s not found in the store", str);
            }
            rc = visit(user, &fr.cid, present ? IA_OK : IA_ENOTFOUND, NULL, 0);
            continue;
        }
        uint8_t *data;
        size_t len;
        int grc = ia_store_get(s, &fr.cid, &data, &len);
        if (grc == IA_ENOTFOUND || grc == IA_ECORRUPT) {
            rc = visit(user, &fr.cid, grc, NULL, 0);
            continue;
        }
        if (grc != IA_OK) {
            rc = grc;
            break;
        }
        struct ia_cid *links = NULL;
        size_t n = 0;
        int lrc = ia_block_links(&fr.cid, data, len, &links, &n);
        if (lrc == IA_ENOMEM) {
            rc = lrc;
        } else if (lrc != IA_OK) {
            /* Hashes right but does not parse: as bad as a corrupt block. */
            ia_cid_format(&fr.cid, str);
            ia_error_wrap(IA_ECORRUPT, "block %s", str);
            rc = visit(user, &fr.cid, IA_ECORRUPT, NULL, 0);
        } else {
            rc = visit(user, &fr.cid, IA_OK, data, len);
        }
        /* Reverse order so the first link is visited first. */
        for (size_t i = n; rc == IA_OK && i > 0; i--)
            if (!set_has_cid(seen, &links[i - 1])) rc = push(&st, &links[i - 1], fr.depth + 1);
        ia_free(links);
        ia_free(data);
    }
    ia_free(st.f);
    if (seen == &own) ia_mh_set_free(&own);
    return rc;
}
