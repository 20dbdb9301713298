/* Helpers shared by the cid codec files (not part of the public API). */
#ifndef IA_CID_CODEC_INTERNAL_H
#define IA_CID_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Protobuf varints are not the multiformats kind: up to 10 bytes and not
 * required to be minimal. Returns bytes consumed (> 0) or 0 when the
 * varint is truncated or does not fit in 64 bits. */
size_t ia_pb_read_varint(const uint8_t *buf, size_t len, uint64_t *v);
/* One protobuf field. For wire type 0 (varint), 1 (fixed64) and 5
 * (fixed32) `v` holds the value; for wire type 2 `p`/`len` point at the
 * bytes inside the buffer. */
struct ia_pb_field {
    uint64_t num;
    int wire;
    uint64_t v;
    const uint8_t *p;
    size_t len;
};
/* Reads the field at buf[*pos] and advances *pos. Groups (wire types 3, 4)
 * and wire types 6, 7 are refused. Returns IA_OK or IA_EFORMAT with a
 * message prefixed by `what` and naming the byte offset. */
int ia_pb_next_field(const uint8_t *buf, size_t len, size_t *pos, const char *what,
                     struct ia_pb_field *f);
/* Bytes ia_varint_encode would write for v. */
size_t ia_varint_size(uint64_t v);

/* Decodes a multibase string without its prefix ('b'/'B' base32,
 * 'z' base58btc, 'f'/'F' base16) into out. Returns bytes written or a
 * negative code with the message set. */
int ia_multibase_decode(char prefix, const char *in, size_t len, uint8_t *out, size_t cap);

/* CAR header (dag-cbor) helpers, in cbor.c. */
struct ia_cid;
/* Encodes {"roots": [...], "version": 1} into a new ia_malloc'd buffer. */
int ia_car_header_encode(const struct ia_cid *roots, size_t n_roots, uint8_t **out,
                         size_t *out_len);
/* Decodes a header into roots (capacity IA_CAR_MAX_ROOTS). `name` is used
 * in messages. */
int ia_car_header_decode(const uint8_t *buf, size_t len, const char *name, struct ia_cid *roots,
                         size_t *n_roots);

#endif
