/*
 * cid: content identifiers and the IPFS data formats, compatible with the
 * IPFS reference implementations byte for byte.
 *
 * - unsigned varints, multihash (sha2-256 via OpenSSL, identity), multibase
 *   (base32 lower 'b', base58btc 'z' and bare for CIDv0, base16 'f' on input)
 * - CIDv0 / CIDv1 with the raw and dag-pb codecs
 * - dag-pb (PBNode/PBLink) and UnixFS (the Data message) codecs
 * - the importer: fixed-size chunker, balanced DAG, directories, and the
 *   three profiles of DESIGN.md, writing blocks through a callback
 * - CAR v1 reading and writing
 *
 * Parsers never trust their input: every length is checked in 64-bit
 * arithmetic, decoded structures point into the caller's buffer (no copy)
 * unless a function says it allocates.
 */
#ifndef IA_CID_H
#define IA_CID_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ia/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- varint (unsigned LEB128, at most 9 bytes as multiformats require) -- */

#define IA_VARINT_MAX 10
/* Writes v to out, returns the number of bytes (1..10). */
size_t ia_varint_encode(uint64_t v, uint8_t out[IA_VARINT_MAX]);
/* Returns bytes consumed (> 0), or IA_EFORMAT for a truncated, overlong or
 * non-minimal encoding. */
int ia_varint_decode(const uint8_t *buf, size_t len, uint64_t *v);

/* ---- multihash ---------------------------------------------------------- */

enum { IA_MH_IDENTITY = 0x00, IA_MH_SHA2_256 = 0x12 };
/* Identity multihashes inline their data; we accept up to this much. */
#define IA_MH_MAX_DIGEST 128

struct ia_multihash {
    uint64_t code;
    uint32_t size; /* digest bytes */
    uint8_t digest[IA_MH_MAX_DIGEST];
};

/* sha2-256 of data (OpenSSL). */
void ia_mh_sha256(const uint8_t *data, size_t len, struct ia_multihash *out);
/* Serialised multihash: varint code, varint size, digest. Returns length. */
size_t ia_mh_to_bytes(const struct ia_multihash *mh, uint8_t *out, size_t cap);
/* Returns bytes consumed, or IA_EFORMAT / IA_EUNSUPPORTED (unknown hash). */
int ia_mh_from_bytes(const uint8_t *buf, size_t len, struct ia_multihash *out);

/* ---- multibase ---------------------------------------------------------- */

/* Encoders return the string length (excluding NUL) or IA_ERANGE when cap is
 * too small. Decoders return bytes written or IA_EFORMAT / IA_ERANGE. */
int ia_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap); /* lower, no pad */
int ia_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap);
int ia_base58btc_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int ia_base58btc_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* ---- CID ----------------------------------------------------------------- */

enum { IA_CODEC_RAW = 0x55, IA_CODEC_DAG_PB = 0x70, IA_CODEC_DAG_CBOR = 0x71 };

struct ia_cid {
    uint8_t version; /* 0 or 1 */
    uint64_t codec;  /* IA_CODEC_*; v0 is always dag-pb */
    struct ia_multihash mh;
};

#define IA_CID_BYTES_MAX (2 * IA_VARINT_MAX + IA_VARINT_MAX * 2 + IA_MH_MAX_DIGEST)
#define IA_CID_STR_MAX 256

/* Binary form (v0: the bare multihash). Returns bytes consumed, or a
 * negative code: IA_EFORMAT, IA_EUNSUPPORTED (unknown codec or hash). */
int ia_cid_from_bytes(const uint8_t *buf, size_t len, struct ia_cid *out);
size_t ia_cid_to_bytes(const struct ia_cid *cid, uint8_t *out, size_t cap);
/* Text form: "Qm..." (v0), or multibase 'b' (base32), 'z' (base58btc),
 * 'f' (base16) for v1. The whole string must be consumed. */
int ia_cid_parse(const char *str, struct ia_cid *out);
/* v0 → base58btc, v1 → base32 lower with 'b'. Returns IA_OK. */
int ia_cid_format(const struct ia_cid *cid, char out[IA_CID_STR_MAX]);
int ia_cid_equal(const struct ia_cid *a, const struct ia_cid *b);
/* A sha2-256 CID of data. version 0 requires codec dag-pb. */
void ia_cid_of(uint8_t version, uint64_t codec, const uint8_t *data, size_t len,
               struct ia_cid *out);
/* IA_OK when data hashes to cid's multihash, else IA_ECORRUPT (message
 * names the CID); IA_EUNSUPPORTED for a hash we cannot compute. */
int ia_cid_verify(const struct ia_cid *cid, const uint8_t *data, size_t len);
const char *ia_codec_name(uint64_t codec); /* "raw", "dag-pb", "dag-cbor" or "unknown" */

/* ---- dag-pb --------------------------------------------------------------- */

/* Limits that keep hostile nodes from exhausting memory. */
#define IA_DAGPB_MAX_BLOCK (4u << 20) /* bytes */
#define IA_DAGPB_MAX_LINKS 65536

struct ia_pb_link {
    struct ia_cid cid;
    const uint8_t *name; /* points into the decoded buffer; not NUL-terminated */
    size_t name_len;
    int has_name;
    uint64_t tsize;
    int has_tsize;
};

struct ia_pb_node {
    struct ia_pb_link *links; /* allocated by decode; free with ia_pb_node_free */
    size_t n_links;
    const uint8_t *data; /* points into the decoded buffer */
    size_t data_len;
    int has_data;
};

/* Strict dag-pb decoding (no unknown fields or duplicates, link fields in
 * order; Data may precede the Links, as the spec asks decoders to accept).
 * On success *out owns only the links array. */
int ia_pb_node_decode(const uint8_t *buf, size_t len, struct ia_pb_node *out);
void ia_pb_node_free(struct ia_pb_node *node);
/* Canonical encoding (Links then Data) into a new ia_malloc'd buffer
 * (caller frees). Writes Data when has_data (even empty), a link's Name
 * when has_name (even "") and Tsize when has_tsize. Links are written in
 * the order given: sorting directory entries by name is the caller's. */
int ia_pb_node_encode(const struct ia_pb_node *node, uint8_t **out, size_t *out_len);

/* ---- UnixFS ---------------------------------------------------------------- */

enum ia_unixfs_type {
    IA_UNIXFS_RAW = 0,
    IA_UNIXFS_DIRECTORY = 1,
    IA_UNIXFS_FILE = 2,
    IA_UNIXFS_METADATA = 3,
    IA_UNIXFS_SYMLINK = 4,
    IA_UNIXFS_HAMT_SHARD = 5
};

struct ia_unixfs {
    int type; /* enum ia_unixfs_type */
    const uint8_t *data; /* into the decoded buffer */
    size_t data_len;
    int has_data;
    uint64_t filesize;
    int has_filesize;
    uint64_t *blocksizes; /* allocated by decode; free with ia_unixfs_free */
    size_t n_blocksizes;
    uint64_t hash_type, fanout;
    int has_hash_type, has_fanout;
    uint32_t mode;
    int has_mode;
};

int ia_unixfs_decode(const uint8_t *buf, size_t len, struct ia_unixfs *out);
void ia_unixfs_free(struct ia_unixfs *u);
/* Field for field as ipfs-unixfs marshal(): Type always, Data only when
 * has_data and data_len > 0, filesize when has_filesize (the JS writes it
 * for every non-directory, 0 included), blocksizes unpacked, then hashType,
 * fanout, mode when has_*. Caller frees *out with ia_free. */
int ia_unixfs_encode(const struct ia_unixfs *u, uint8_t **out, size_t *out_len);

/* The CIDs a block links to (raw: none; dag-pb: its links). *links is
 * ia_malloc'd (caller frees; NULL when n is 0). */
int ia_block_links(const struct ia_cid *cid, const uint8_t *data, size_t len,
                   struct ia_cid **links, size_t *n);

/* ---- importer ---------------------------------------------------------------- */

struct ia_import_profile {
    const char *name; /* "default", "unixfs-v1-2025", "unixfs-v0-2015" */
    int cid_version;  /* 0 or 1 */
    int raw_leaves;   /* leaves as raw blocks (else UnixFS file nodes) */
    size_t chunk_size;
    int max_links;    /* children per node in the balanced DAG */
    /* How a folder's node size is measured against the 256 KiB limit above
     * which the reference importer shards it (we refuse such folders):
     * 0: bytes of link names + CIDs ("links-bytes", default and v0-2015),
     * 1: exact encoded node bytes ("block-bytes", unixfs-v1-2025). */
    int dir_size_exact;
};

/* Looks up a profile by name; IA_ENOTFOUND names the valid ones. */
int ia_import_profile_get(const char *name, struct ia_import_profile *out);

/* Receives each block once it is hashed; return non-IA_OK to abort. */
typedef int (*ia_block_put_fn)(void *user, const struct ia_cid *cid, const uint8_t *data,
                               size_t len);
/* Called for every file and directory added, files first and each folder
 * after its contents, with the path as `ipfs add` prints it (the root
 * argument's base name, then the path below it) and the file bytes under
 * it. Not called by ia_import_fd. */
typedef void (*ia_import_entry_fn)(void *user, const char *path, const struct ia_cid *cid,
                                   uint64_t size);

struct ia_import_opts {
    struct ia_import_profile profile;
    ia_block_put_fn put; /* NULL: hash only (--only-hash) */
    void *put_user;
    ia_import_entry_fn on_entry; /* optional */
    void *entry_user;
    struct ia_pool *pool; /* parallel chunk hashing; NULL: this thread only */
    ia_progress_fn progress; /* bytes read / total bytes */
    void *progress_user;
    int hidden; /* recursive adds include names starting with '.' (ipfs add -H) */
};

/* Imports a file, or with `recursive` a folder, streaming: memory stays
 * bounded by chunk_size × max_links whatever the size. Symlinks are
 * followed (a loop or a dangling link is an error); other special files
 * are refused. Folders the reference importer would turn into a HAMT shard
 * fail with IA_EUNSUPPORTED rather than get a CID that differs from it. */
int ia_import_path(const struct ia_import_opts *opts, const char *path, int recursive,
                   struct ia_cid *root);
/* Imports bytes read from fd until EOF (for stdin). */
int ia_import_fd(const struct ia_import_opts *opts, int fd, struct ia_cid *root,
                 uint64_t *size);

/* ---- CAR v1 ------------------------------------------------------------------ */
/* Layout: varint(header length) | dag-cbor {"roots": [CID...], "version": 1}
 * then sections: varint(length) | CID bytes | block bytes. */

#define IA_CAR_MAX_SECTION (IA_DAGPB_MAX_BLOCK + IA_CID_BYTES_MAX)
#define IA_CAR_MAX_ROOTS 64

struct ia_car_reader;

/* Reads from a stream (not closed by the reader) or from memory. */
int ia_car_reader_open(FILE *f, const char *name_for_errors, struct ia_car_reader **out);
int ia_car_reader_open_mem(const uint8_t *buf, size_t len, struct ia_car_reader **out);
void ia_car_reader_close(struct ia_car_reader *r);
size_t ia_car_reader_n_roots(const struct ia_car_reader *r);
const struct ia_cid *ia_car_reader_root(const struct ia_car_reader *r, size_t i);
/* Next block: returns 1 with *cid, *data, *len set (data valid until the
 * next call), 0 at a clean end, negative on a truncated or malformed
 * section. Does not verify hashes: the caller does (ia_cid_verify). */
int ia_car_reader_next(struct ia_car_reader *r, struct ia_cid *cid, const uint8_t **data,
                       size_t *len);

struct ia_car_writer;
int ia_car_writer_open(FILE *f, const struct ia_cid *roots, size_t n_roots,
                       struct ia_car_writer **out);
int ia_car_writer_put(struct ia_car_writer *w, const struct ia_cid *cid, const uint8_t *data,
                      size_t len);
/* Flushes; returns the first write error if any. Does not close f. */
int ia_car_writer_close(struct ia_car_writer *w);

#ifdef __cplusplus
}
#endif
#endif
