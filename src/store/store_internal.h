/* Private to the blockstore half of src/store: the store handle, block
 * paths, the multihash set used by DAG walks, and the walker shared by
 * pins, gc, verify-blocks and CAR export. */
#ifndef IA_STORE_INTERNAL_H
#define IA_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ia/store.h"

/* Larger than any block the importer makes (1 MiB chunks) and than dag-pb
 * allows; a file bigger than this under blocks/ cannot be a block we
 * wrote, so it is reported as corrupt without being read. */
#define IA_STORE_MAX_BLOCK IA_DAGPB_MAX_BLOCK

/* Deepest DAG we walk: balanced DAGs of 174 links reach petabytes at a
 * depth of 7, and directory trees deeper than this are hostile. */
#define IA_STORE_MAX_DEPTH 256

struct ia_store {
    char *home;   /* ia_malloc'd */
    char *blocks; /* home/blocks */
    char *pins;   /* home/pins */
    char *tmp;    /* home/tmp: same filesystem, so rename() is atomic */
};

/* Serialised multihash as the key of the store; a fixed-size buffer so the
 * set below needs no per-entry allocation. */
#define IA_MH_KEY_MAX (2 * IA_VARINT_MAX + IA_MH_MAX_DIGEST)
struct ia_mh_key {
    uint8_t len;
    uint8_t b[IA_VARINT_MAX + IA_MH_KEY_MAX];
};
void ia_mh_key_of(const struct ia_multihash *mh, struct ia_mh_key *k);

/* Open-addressing hash set of multihashes (hash: the first bytes of the
 * digest, which sha2-256 spreads evenly; identity keys rehash bytes). */
struct ia_mh_set {
    struct ia_mh_key *slots; /* len 0 = empty */
    size_t cap, n;
};
void ia_mh_set_init(struct ia_mh_set *s);
void ia_mh_set_free(struct ia_mh_set *s);
/* Returns 1 when added, 0 when already there, IA_ENOMEM. */
int ia_mh_set_add(struct ia_mh_set *s, const struct ia_multihash *mh);
int ia_mh_set_has(const struct ia_mh_set *s, const struct ia_multihash *mh);
/* The same keyed by codec and multihash (a set holds one kind of key):
 * the walk needs it because one multihash may be linked both as raw and as
 * dag-pb, and only the dag-pb reading has links. */
int ia_mh_set_add_cid(struct ia_mh_set *s, const struct ia_cid *cid);

/* blocks/XX/B32 for a multihash: buf must hold PATH_MAX. dir_out (may be
 * NULL) receives blocks/XX. Returns IA_OK or IA_ERANGE. */
int ia_store_block_path(const struct ia_store *s, const struct ia_multihash *mh, char *path,
                        size_t cap, char *dir_out, size_t dir_cap);
/* Reads a block file without verifying (verify-blocks and gc want to tell
 * missing from corrupt themselves). IA_ENOTFOUND when absent. */
int ia_store_read_raw(struct ia_store *s, const struct ia_multihash *mh, uint8_t **data,
                      size_t *len);
/* Creates a private temp file under tmp/ (name records our pid so a later
 * open can tell a dead writer's leftovers from a live one's). */
int ia_store_tmp_create(struct ia_store *s, char *path, size_t cap, int *fd);
int ia_store_tmp_mkdir(struct ia_store *s, char *path, size_t cap);
/* Writes all of data to fd; maps ENOSPC/EDQUOT to IA_ENOSPC. */
int ia_store_write_all(int fd, const uint8_t *data, size_t len, const char *what);
int ia_store_fsync_dir(const char *dir);
/* Removes a path and everything under it (no symlinks followed). */
void ia_store_rm_tree(const char *path);

/* Depth-first walk of the DAG under root, each block once (seen: the CIDs
 * already walked, shared across walks by gc; NULL for a private one),
 * parents before
 * children, children in link order. visit is called with the block's
 * verified bytes (NULL/0 with rc IA_ENOTFOUND or IA_ECORRUPT when it is
 * missing or bad; returning IA_OK then skips that subtree). Returning
 * anything else stops the walk with that code. When need_leaves is 0, raw
 * blocks are only checked for presence and visit gets data NULL, rc IA_OK. */
typedef int (*ia_dag_visit_fn)(void *user, const struct ia_cid *cid, int rc, const uint8_t *data,
                               size_t len);
int ia_store_walk(struct ia_store *s, const struct ia_cid *root, int need_leaves,
                  struct ia_mh_set *seen, ia_dag_visit_fn visit, void *user);

#endif
