/*
 * store: the on-disk blockstore under $IA_HOME, pins, garbage collection,
 * verified reads, CAR import/export, and the trustless HTTP gateway (client
 * and server) that moves blocks between stores.
 *
 * Layout of $IA_HOME (default ~/.ipfs-accelerate, created on demand):
 *   blocks/<XX>/<B32>   one file per block; B32 is the base32 (upper, no
 *                       padding) multihash, XX its next-to-last two chars
 *                       (kubo's flatfs next-to-last/2 sharding)
 *   pins/<CID>          an empty file per recursive pin
 * Blocks are written atomically (temp file, fsync, rename), so a killed
 * writer never leaves a half-written block visible. Every read re-hashes
 * the block and fails with IA_ECORRUPT rather than return unverified bytes.
 */
#ifndef IA_STORE_H
#define IA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ia/cid.h"
#include "ia/core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ia_store;

/* home NULL → $IA_HOME, else ~/.ipfs-accelerate. Creates the folders. */
int ia_store_open(const char *home, struct ia_store **out);
void ia_store_close(struct ia_store *s);
const char *ia_store_home(const struct ia_store *s);

/* ---- blocks ------------------------------------------------------------- */

/* Verifies data against cid, then stores it (no-op if already present). */
int ia_store_put(struct ia_store *s, const struct ia_cid *cid, const uint8_t *data, size_t len);
/* 1 if present, 0 if not. */
int ia_store_has(struct ia_store *s, const struct ia_cid *cid);
/* Reads and re-verifies a block; *data is ia_malloc'd (caller frees).
 * IA_ENOTFOUND if absent, IA_ECORRUPT (naming the CID) on a hash mismatch. */
int ia_store_get(struct ia_store *s, const struct ia_cid *cid, uint8_t **data, size_t *len);
int ia_store_delete(struct ia_store *s, const struct ia_multihash *mh);
/* Calls fn for every stored block; stop early by returning non-IA_OK. */
typedef int (*ia_store_block_fn)(void *user, const struct ia_multihash *mh, uint64_t size);
int ia_store_foreach(struct ia_store *s, ia_store_block_fn fn, void *user);

/* The ia_block_put_fn for the importer and for CAR/gateway imports:
 * user is the struct ia_store. */
int ia_store_put_cb(void *store, const struct ia_cid *cid, const uint8_t *data, size_t len);

/* ---- pins and gc ------------------------------------------------------- */

/* Recursive pin; every block of the DAG must already be present
 * (IA_ENOTFOUND names the first missing one). */
int ia_store_pin_add(struct ia_store *s, const struct ia_cid *root);
int ia_store_pin_rm(struct ia_store *s, const struct ia_cid *root);
typedef void (*ia_store_cid_fn)(void *user, const struct ia_cid *cid);
int ia_store_pin_list(struct ia_store *s, ia_store_cid_fn fn, void *user);
/* Removes every block not reachable from a pin. */
int ia_store_gc(struct ia_store *s, uint64_t *blocks_removed, uint64_t *bytes_freed);

/* Re-hashes every stored block; calls on_corrupt for each bad one.
 * Returns IA_OK when all are good, IA_ECORRUPT otherwise. With root
 * non-NULL only that DAG is checked (missing blocks are reported too). */
struct ia_verify_counts {
    uint64_t checked, corrupt, missing;
};
typedef void (*ia_store_bad_fn)(void *user, const struct ia_multihash *mh, const char *why);
int ia_store_verify_blocks(struct ia_store *s, const struct ia_cid *root, ia_store_bad_fn on_bad,
                           void *user, struct ia_verify_counts *counts);

/* ---- reading UnixFS ------------------------------------------------------ */

/* Streams the bytes of a UnixFS file (raw or dag-pb DAG) to fn, verifying
 * every block before any of its bytes are passed on. */
typedef int (*ia_store_write_fn)(void *user, const uint8_t *data, size_t len);
int ia_store_cat(struct ia_store *s, const struct ia_cid *cid, ia_store_write_fn fn, void *user);
/* Writes a file or a whole directory tree to out_path (must not exist). */
int ia_store_get_path(struct ia_store *s, const struct ia_cid *cid, const char *out_path);
/* Lists a directory's entries (or the file itself). */
struct ia_store_entry {
    const char *name; /* NUL-terminated, valid during the callback */
    struct ia_cid cid;
    uint64_t size;    /* file size for files, Tsize for directories */
    int is_dir;
};
typedef void (*ia_store_entry_fn)(void *user, const struct ia_store_entry *e);
int ia_store_ls(struct ia_store *s, const struct ia_cid *cid, ia_store_entry_fn fn, void *user);

/* ---- CAR ------------------------------------------------------------------- */

/* Writes the DAG under root (depth-first, root first) as CAR v1. */
int ia_store_car_export(struct ia_store *s, const struct ia_cid *root, const char *path);
/* Imports a CAR only if every block verifies, no section is truncated and
 * every root is present (in the CAR or the store): on any failure nothing
 * is stored. Roots are pinned. *roots is ia_malloc'd (caller frees). */
int ia_store_car_import(struct ia_store *s, const char *path, struct ia_cid **roots,
                        size_t *n_roots);

/* ---- trustless HTTP gateway ------------------------------------------------ */

struct ia_fetch_opts {
    const char *const *gateways; /* base URLs, tried in order on failure */
    size_t n_gateways;
    double timeout_s;   /* per request, 0 → 60 */
    int retries;        /* per gateway, 0 → 3, with exponential backoff */
    int parallel;       /* concurrent subtree fetches, 0 → 4 */
    ia_progress_fn progress; /* blocks fetched / blocks known */
    void *progress_user;
};
/* Fetches the DAG under root from trustless gateways (application/vnd.ipld.car,
 * falling back to per-block application/vnd.ipld.raw), verifying every block.
 * Blocks already held are not fetched again. The root is pinned. */
int ia_store_fetch(struct ia_store *s, const struct ia_cid *root, const struct ia_fetch_opts *o);

struct ia_gateway_server;
/* Serves GET /ipfs/<cid> (?format=car|raw or the Accept header) from the
 * store on listen ("127.0.0.1:PORT"; PORT 0 picks a free one). */
int ia_gateway_start(struct ia_store *s, const char *listen, struct ia_gateway_server **out);
int ia_gateway_port(const struct ia_gateway_server *g);
void ia_gateway_stop(struct ia_gateway_server *g);

#ifdef __cplusplus
}
#endif
#endif
