/*
 * UnixFS: the Data message carried in a dag-pb node's Data field.
 *
 *   message Data { required DataType Type = 1; optional bytes Data = 2;
 *                  optional uint64 filesize = 3; repeated uint64 blocksizes = 4;
 *                  optional uint64 hashType = 5; optional uint64 fanout = 6;
 *                  optional uint32 mode = 7; optional UnixTime mtime = 8; }
 *   DataType: Raw 0, Directory 1, File 2, Metadata 3, Symlink 4, HAMTShard 5
 *
 * Decoding is protobuf-lenient as the reference implementations are: any
 * field order, last value wins, unknown fields skipped, blocksizes packed
 * or not; but Type is required and must be a known type, and mtime is
 * checked only for being well-formed bytes. Input is at most
 * IA_DAGPB_MAX_BLOCK bytes; blocksizes are counted before allocating.
 *
 * Encoding follows ipfs-unixfs `marshal()` byte for byte: fields in number
 * order, Type always, Data only when has_data and non-empty, filesize when
 * has_filesize (the JS code writes it for every non-directory, 0 included,
 * as data length + sum(blocksizes): the caller sets it so), each blocksize
 * as its own unpacked field, then hashType, fanout, mode when has_*.
 */
#include <string.h>

#include "cid/codec_internal.h"
#include "ia/cid.h"

static int walk(const uint8_t *buf, size_t len, struct ia_unixfs *u, size_t *n_bs) {
    size_t pos = 0, nb = 0;
    int has_type = 0;
    while (pos < len) {
        struct ia_pb_field f;
        size_t at = pos;
        int rc = ia_pb_next_field(buf, len, &pos, "UnixFS", &f);
        if (rc < 0) return rc;
        int bad_wire = 0;
        switch (f.num) {
        case 1:
            if (f.wire != 0) {
                bad_wire = 1;
                break;
            }
            if (f.v > IA_UNIXFS_HAMT_SHARD)
                return ia_error_set(IA_EFORMAT, "UnixFS: unknown node type %llu",
                                    (unsigned long long)f.v);
            u->type = (int)f.v;
            has_type = 1;
            break;
        case 2:
            if (f.wire != 2) {
                bad_wire = 1;
                break;
            }
            u->data = f.p;
            u->data_len = f.len;
            u->has_data = 1;
            break;
        case 3:
            if (f.wire != 0) {
                bad_wire = 1;
                break;
            }
            u->filesize = f.v;
            u->has_filesize = 1;
            break;
        case 4:
            if (f.wire == 0) {
                if (u->blocksizes) u->blocksizes[nb] = f.v;
                nb++;
            } else if (f.wire == 2) {
                size_t p = 0;
                while (p < f.len) {
                    uint64_t v;
                    size_t n = ia_pb_read_varint(f.p + p, f.len - p, &v);
                    if (n == 0)
                        return ia_error_set(IA_EFORMAT, "UnixFS: bad packed blocksizes at byte %zu",
                                            (size_t)(f.p - buf) + p);
                    if (u->blocksizes) u->blocksizes[nb] = v;
                    nb++;
                    p += n;
                }
            } else {
                bad_wire = 1;
            }
            break;
        case 5:
            if (f.wire != 0) {
                bad_wire = 1;
                break;
            }
            u->hash_type = f.v;
            u->has_hash_type = 1;
            break;
        case 6:
            if (f.wire != 0) {
                bad_wire = 1;
                break;
            }
            u->fanout = f.v;
            u->has_fanout = 1;
            break;
        case 7:
            if (f.wire != 0) {
                bad_wire = 1;
                break;
            }
            /* protobuf uint32 semantics: the low 32 bits. */
            u->mode = (uint32_t)f.v;
            u->has_mode = 1;
            break;
        case 8:
            if (f.wire != 2) bad_wire = 1;
            break;
        default:
            break; /* unknown fields are skipped, as protobuf readers do */
        }
        if (bad_wire)
            return ia_error_set(IA_EFORMAT, "UnixFS: field %llu has wire type %d at byte %zu",
                                (unsigned long long)f.num, f.wire, at);
    }
    if (!has_type) return ia_error_set(IA_EFORMAT, "UnixFS: missing Type");
    *n_bs = nb;
    return IA_OK;
}

int ia_unixfs_decode(const uint8_t *buf, size_t len, struct ia_unixfs *out) {
    memset(out, 0, sizeof *out);
    if (len > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "UnixFS: %zu bytes exceed the %u-byte limit", len,
                            IA_DAGPB_MAX_BLOCK);
    struct ia_unixfs u = {0};
    size_t n = 0;
    int rc = walk(buf, len, &u, &n);
    if (rc < 0) return rc;
    if (n > 0) {
        /* At most one per input byte, so bounded by the block limit. */
        memset(&u, 0, sizeof u);
        u.blocksizes = ia_calloc(n, sizeof *u.blocksizes);
        if (!u.blocksizes)
            return ia_error_set(IA_ENOMEM, "UnixFS: out of memory for %zu blocksizes", n);
        size_t n2 = 0;
        rc = walk(buf, len, &u, &n2);
        if (rc < 0) {
            ia_free(u.blocksizes);
            return rc;
        }
        IA_ASSERT(n2 == n);
        u.n_blocksizes = n;
    }
    *out = u;
    return IA_OK;
}

void ia_unixfs_free(struct ia_unixfs *u) {
    if (!u) return;
    ia_free(u->blocksizes);
    u->blocksizes = NULL;
    u->n_blocksizes = 0;
}

static size_t varint_field(uint64_t v) { return 1 + ia_varint_size(v); }

static uint8_t *put_varint_field(uint8_t *p, uint8_t tag, uint64_t v) {
    *p++ = tag;
    return p + ia_varint_encode(v, p);
}

int ia_unixfs_encode(const struct ia_unixfs *u, uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (u->type < IA_UNIXFS_RAW || u->type > IA_UNIXFS_HAMT_SHARD)
        return ia_error_set(IA_EINVAL, "UnixFS: invalid type %d", u->type);
    int with_data = u->has_data && u->data_len > 0;
    if (with_data && u->data_len > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "UnixFS: %zu data bytes exceed the block limit",
                            u->data_len);
    if (u->n_blocksizes > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "UnixFS: %zu blocksizes exceed the block limit",
                            u->n_blocksizes);
    uint64_t total = varint_field((uint64_t)u->type);
    if (with_data) total += 1 + ia_varint_size(u->data_len) + u->data_len;
    if (u->has_filesize) total += varint_field(u->filesize);
    for (size_t i = 0; i < u->n_blocksizes; i++) total += varint_field(u->blocksizes[i]);
    if (u->has_hash_type) total += varint_field(u->hash_type);
    if (u->has_fanout) total += varint_field(u->fanout);
    if (u->has_mode) total += varint_field(u->mode);
    if (total > IA_DAGPB_MAX_BLOCK)
        return ia_error_set(IA_ERANGE, "UnixFS: encoded message exceeds the %u-byte block limit",
                            IA_DAGPB_MAX_BLOCK);
    uint8_t *buf = ia_malloc((size_t)total);
    if (!buf) return ia_error_set(IA_ENOMEM, "UnixFS: out of memory encoding a node");
    uint8_t *p = put_varint_field(buf, 0x08, (uint64_t)u->type);
    if (with_data) {
        *p++ = 0x12;
        p += ia_varint_encode(u->data_len, p);
        memcpy(p, u->data, u->data_len);
        p += u->data_len;
    }
    if (u->has_filesize) p = put_varint_field(p, 0x18, u->filesize);
    for (size_t i = 0; i < u->n_blocksizes; i++) p = put_varint_field(p, 0x20, u->blocksizes[i]);
    if (u->has_hash_type) p = put_varint_field(p, 0x28, u->hash_type);
    if (u->has_fanout) p = put_varint_field(p, 0x30, u->fanout);
    if (u->has_mode) p = put_varint_field(p, 0x38, u->mode);
    IA_ASSERT((uint64_t)(p - buf) == total);
    *out = buf;
    *out_len = (size_t)total;
    return IA_OK;
}
