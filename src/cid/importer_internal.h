/* Shared by the importer's files (importer.c: files and the balanced DAG;
 * import_dir.c: folders). Not part of the public API. */
#ifndef IA_CID_IMPORTER_INTERNAL_H
#define IA_CID_IMPORTER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ia/cid.h"

/* The reference importer (ipfs-unixfs-importer 17, shardSplitThresholdBytes)
 * turns a directory into a HAMT shard when its estimated node size goes
 * above this; we refuse such directories instead of building a shard. */
#define IMP_SHARD_THRESHOLD 262144u

/* One imported entry: what its parent's PBLink needs. */
struct imp_result {
    struct ia_cid cid;
    uint64_t tsize; /* encoded bytes of the whole DAG under cid (PBLink Tsize) */
    uint64_t fsize; /* file bytes under cid (UnixFS blocksizes / progress) */
};

/* State of one ia_import_path / ia_import_fd call. */
struct imp_ctx {
    const struct ia_import_opts *o;
    uint64_t done, total;    /* progress: bytes read / expected */
    struct imp_batch *batch; /* chunk buffers, allocated on the first file */
};

/* Imports one file's bytes from fd; `name` is used in messages. */
int imp_file(struct imp_ctx *c, int fd, const char *name, struct imp_result *out);
void imp_ctx_free(struct imp_ctx *c);

/* Imports the regular file at fs_path and reports it to on_entry. */
int imp_file_path(struct imp_ctx *c, const char *fs_path, const char *display,
                  struct imp_result *out);

/* Hashes a dag-pb block with the profile's CID version and hands it to
 * opts->put. */
int imp_put_pb(struct imp_ctx *c, const uint8_t *block, size_t len, struct ia_cid *cid);

/* Imports the folder at fs_path; `display` is its path as printed
 * (on_entry). */
int imp_dir(struct imp_ctx *c, const char *fs_path, const char *display, struct imp_result *out);
/* Sum of the sizes of the files imp_dir would import (for progress). */
uint64_t imp_dir_bytes(const struct ia_import_opts *o, const char *fs_path);

#endif
