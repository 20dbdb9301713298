/*
 * dag-pb: the protobuf IPLD codec (https://ipld.io/specs/codecs/dag-pb/spec/).
 *
 *   message PBLink { optional bytes Hash = 1; optional string Name = 2;
 *                    optional uint64 Tsize = 3; }
 *   message PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }
 *
 * Canonical bytes put every Links entry first, then Data; inside a link the
 * fields come in the order 1, 2, 3. Decoding is strict as the spec asks:
 * only those fields with their wire types (Links/Data/Hash/Name length-
 * delimited, Tsize varint), Data at most once, link fields at most once and
 * in order, every link has a Hash that is a whole CID. The spec also says
 * to accept Data before the Links ("IPFS data exists in both forms"), as
 * current go-codec-dagpb does; Links split in two by Data are refused. A block is at most
 * IA_DAGPB_MAX_BLOCK bytes with at most IA_DAGPB_MAX_LINKS links; the link array is sized by a
 * first counting pass, so a hostile block can make us allocate at most that many links.
 *
 * The encoder writes what the node says: Data when has_data (even empty),
 * Name when has_name (even ""), Tsize when has_tsize, as @ipld/dag-pb and
 * go-codec-dagpb do. Link order is the caller's (UnixFS directories sort
 * by name).
 */
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

int ia_pb_next_field(const uint8_t *buf, size_t len, size_t *pos, const char *what,
                     struct ia_pb_field *f) {
    size_t start = *pos;
    uint64_t tag;
    size_t n = ia_pb_read_varint(buf + start, len - start, &tag);
    if (n == 0) return ia_error_set(IA_EFORMAT, "%s: bad field tag at byte %zu", what, start);
    size_t at = start + n;
    memset(f, 0, sizeof *f);
    f->num = tag >> 3;
    f->wire = (int)(tag & 7);
    if (f->num == 0) return ia_error_set(IA_EFORMAT, "%s: field number 0 at byte %zu", what, start);
    switch (f->wire) {
    case 0:
        n = ia_pb_read_varint(buf + at, len - at, &f->v);
        if (n == 0) return ia_error_set(IA_EFORMAT, "%s: bad varint at byte %zu", what, at);
        at += n;
        break;
    case 1:
    case 5: {
        size_t w = f->wire == 1 ? 8 : 4;
        if (len - at < w)
            return ia_error_set(IA_EFORMAT, "%s: truncated fixed field at byte %zu", what, at);
        for (size_t i = 0; i < w; i++) f->v |= (uint64_t)buf[at + i] << (8 * i);
        at += w;
        break;
    }
    case 2: {
        uint64_t l;
        n = ia_pb_read_varint(buf + at, len - at, &l);
        if (n == 0) return ia_error_set(IA_EFORMAT, "%s: bad length at byte %zu", what, at);
        at += n;
        if (l > len - at)
            return ia_error_set(IA_EFORMAT,
                                "%s: field %llu at byte %zu claims %llu bytes, %zu left", what,
                                (unsigned long long)f->num, start, (unsigned long long)l, len - at);
        f->p = buf + at;
        f->len = (size_t)l;
        at += (size_t)l;
        break;
    }
    default:
        return ia_error_set(IA_EFORMAT, "%s: unsupported wire type %d at byte %zu", what, f->wire,
                            start);
    }
    *pos = at;
    return IA_OK;
}

/* base: offset of the link's bytes in the block, for messages. */
static int decode_link(const uint8_t *buf, size_t len, size_t base, size_t index,
                       struct ia_pb_link *out) {
    char what[64];
    snprintf(what, sizeof what, "dag-pb link %zu", index);
    memset(out, 0, sizeof *out);
    uint64_t last = 0;
    int has_hash = 0;
    size_t pos = 0;
    while (pos < len) {
        struct ia_pb_field f;
        size_t at = pos;
        int rc = ia_pb_next_field(buf, len, &pos, what, &f);
        if (rc < 0) return ia_error_wrap(rc, "at block byte %zu", base);
        if (f.num <= last)
            return ia_error_set(IA_EFORMAT, "%s: field %llu out of order or repeated at byte %zu",
                                what, (unsigned long long)f.num, base + at);
        last = f.num;
        if (f.num == 1 && f.wire == 2) {
            int n = ia_cid_from_bytes(f.p, f.len, &out->cid);
            if (n < 0) return ia_error_wrap(n, "%s: bad Hash at byte %zu", what, base + at);
            if ((size_t)n != f.len)
                return ia_error_set(IA_EFORMAT, "%s: Hash has %zu bytes after the CID", what,
                                    f.len - (size_t)n);
            has_hash = 1;
        } else if (f.num == 2 && f.wire == 2) {
            out->name = f.p;
            out->name_len = f.len;
            out->has_name = 1;
        } else if (f.num == 3 && f.wire == 0) {
            out->tsize = f.v;
            out->has_tsize = 1;
        } else {
            return ia_error_set(IA_EFORMAT, "%s: unexpected field %llu (wire type %d) at byte %zu",
                                what, (unsigned long long)f.num, f.wire, base + at);
        }
    }
    if (!has_hash) return ia_error_set(IA_EFORMAT, "%s: missing Hash", what);
    return IA_OK;
}

/* Walks the node; with links == NULL only checks the outer structure and
 * counts links, else fills links[0 .. count). */
static int walk_node(const uint8_t *buf, size_t len, struct ia_pb_node *out,
                     struct ia_pb_link *links, size_t *count) {
    size_t pos = 0, nl = 0;
    int has_data = 0, links_closed = 0;
    while (pos < len) {
        struct ia_pb_field f;
        size_t at = pos;
        int rc = ia_pb_next_field(buf, len, &pos, "dag-pb", &f);
        if (rc < 0) return rc;
        if (f.num == 2 && f.wire == 2) {
            if (links_closed)
                return ia_error_set(IA_EFORMAT, "dag-pb: Links on both sides of Data at byte %zu",
                                    at);
            if (nl >= IA_DAGPB_MAX_LINKS)
                return ia_error_set(IA_ERANGE, "dag-pb: more than %d links", IA_DAGPB_MAX_LINKS);
            if (links) {
                rc = decode_link(f.p, f.len, (size_t)(f.p - buf), nl, &links[nl]);
                if (rc < 0) return rc;
            }
            nl++;
        } else if (f.num == 1 && f.wire == 2) {
            if (has_data) return ia_error_set(IA_EFORMAT, "dag-pb: duplicate Data at byte %zu", at);
            has_data = 1;
            links_closed = nl > 0;
            if (out) {
                out->data = f.p;
                out->data_len = f.len;
                out->has_data = 1;
            }
        } else {
            return ia_error_set(IA_EFORMAT,
                                "dag-pb: unexpected field %llu (wire type %d) at byte %zu",
                                (unsigned long long)f.num, f.wire, at);
        }
    }
    *count = nl;
    return IA_OK;
}

int ia_pb_node_decode(const uint8_t *buf, size_t len, struct ia_pb_node *out) {
    memset(out, 0, sizeof *out);
    if (len > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "dag-pb: block of %zu bytes exceeds the %u-byte limit", len,
                            IA_DAGPB_MAX_BLOCK);
    size_t n = 0;
    int rc = walk_node(buf, len, NULL, NULL, &n);
    if (rc < 0) return rc;
    struct ia_pb_link *links = NULL;
    if (n > 0) {
        links = ia_calloc(n, sizeof *links);
        if (!links) return ia_error_set(IA_ENOMEM, "dag-pb: out of memory for %zu links", n);
    }
    struct ia_pb_node node = {0};
    size_t n2 = 0;
    rc = walk_node(buf, len, &node, links, &n2);
    if (rc < 0) {
        ia_free(links);
        return rc;
    }
    IA_ASSERT(n2 == n);
    node.links = links;
    node.n_links = n;
    *out = node;
    return IA_OK;
}

void ia_pb_node_free(struct ia_pb_node *node) {
    if (!node) return;
    ia_free(node->links);
    node->links = NULL;
    node->n_links = 0;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v) { return p + ia_varint_encode(v, p); }

static uint8_t *put_bytes(uint8_t *p, uint8_t tag, const uint8_t *b, size_t n) {
    *p++ = tag;
    p = put_varint(p, n);
    if (n) memcpy(p, b, n);
    return p + n;
}

static size_t field_size(size_t n) { return 1 + ia_varint_size(n) + n; }

int ia_pb_node_encode(const struct ia_pb_node *node, uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (node->n_links > IA_DAGPB_MAX_LINKS)
        return ia_error_set(IA_ERANGE, "dag-pb: %zu links exceed the limit of %d", node->n_links,
                            IA_DAGPB_MAX_LINKS);
    if (node->has_data && node->data_len > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "dag-pb: %zu data bytes exceed the block limit",
                            node->data_len);
    /* First the size, so the buffer is allocated once; every term is
     * bounded (links by the count, names by the block limit). */
    uint64_t total = 0;
    for (size_t i = 0; i < node->n_links; i++) {
        const struct ia_pb_link *l = &node->links[i];
        uint8_t cb[IA_CID_BYTES_MAX];
        size_t cn = ia_cid_to_bytes(&l->cid, cb, sizeof cb);
        if (cn == 0) return ia_error_set(IA_EINVAL, "dag-pb: link %zu has an invalid CID", i);
        if (l->has_name && l->name_len > IA_DAGPB_MAX_BLOCK)
            return ia_error_set(IA_ERANGE, "dag-pb: link %zu name too long", i);
        size_t ls = field_size(cn) + (l->has_name ? field_size(l->name_len) : 0) +
                    (l->has_tsize ? 1 + ia_varint_size(l->tsize) : 0);
        total += field_size(ls);
        if (total > IA_DAGPB_MAX_BLOCK) break;
    }
    if (node->has_data) total += field_size(node->data_len);
    if (total > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "dag-pb: encoded node exceeds the %u-byte block limit",
                            IA_DAGPB_MAX_BLOCK);
    uint8_t *buf = ia_malloc(total ? (size_t)total : 1);
    if (!buf) return ia_error_set(IA_ENOMEM, "dag-pb: out of memory encoding a node");
    uint8_t *p = buf;
    for (size_t i = 0; i < node->n_links; i++) {
        const struct ia_pb_link *l = &node->links[i];
        uint8_t cb[IA_CID_BYTES_MAX];
        size_t cn = ia_cid_to_bytes(&l->cid, cb, sizeof cb);
        size_t ls = field_size(cn) + (l->has_name ? field_size(l->name_len) : 0) +
                    (l->has_tsize ? 1 + ia_varint_size(l->tsize) : 0);
        *p++ = 0x12; /* field 2, wire type 2 */
        p = put_varint(p, ls);
        p = put_bytes(p, 0x0a, cb, cn);
        if (l->has_name) p = put_bytes(p, 0x12, l->name, l->name_len);
        if (l->has_tsize) {
            *p++ = 0x18; /* field 3, varint */
            p = put_varint(p, l->tsize);
        }
    }
    if (node->has_data) p = put_bytes(p, 0x0a, node->data, node->data_len);
    IA_ASSERT((uint64_t)(p - buf) == total);
    *out = buf;
    *out_len = (size_t)total;
    return IA_OK;
}

int ia_block_links(const struct ia_cid *cid, const uint8_t *data, size_t len, struct ia_cid **links,
                   size_t *n) {
    *links = NULL;
    *n = 0;
    if (cid->codec == IA_CODEC_RAW) return IA_OK;
    if (cid->codec != IA_CODEC_DAG_PB)
        return ia_error_set(IA_EUNSUPPORTED, "cannot read links of a %s (0x%llx) block",
                            ia_codec_name(cid->codec), (unsigned long long)cid->codec);
    struct ia_pb_node node;
    int rc = ia_pb_node_decode(data, len, &node);
    if (rc < 0) return rc;
    if (node.n_links > 0) {
        struct ia_cid *out = ia_calloc(node.n_links, sizeof *out);
        if (!out) {
            ia_pb_node_free(&node);
            return ia_error_set(IA_ENOMEM, "out of memory for %zu links", node.n_links);
        }
        for (size_t i = 0; i < node.n_links; i++) out[i] = node.links[i].cid;
        *links = out;
        *n = node.n_links;
    }
    ia_pb_node_free(&node);
    return IA_OK;
}
