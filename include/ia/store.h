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

/* Verifies data against cid, then stores it (no-op if already present).
 * sha2-256 and identity only (IA_EUNSUPPORTED otherwise); blocks over
 * IA_DAGPB_MAX_BLOCK are refused (IA_ERANGE); a full disk is IA_ENOSPC
 * ("disk full") with nothing left behind. Identity blocks are not written:
 * their data is their digest. Safe to call from several threads. */
int ia_store_put(struct ia_store *s, const struct ia_cid *cid, const uint8_t *data, size_t len);
/* 1 if present, 0 if not (presence only; identity CIDs are always present). */
int ia_store_has(struct ia_store *s, const struct ia_cid *cid);
/* Reads and re-verifies a block; *data is ia_malloc'd (caller frees).
 * IA_ENOTFOUND if absent, IA_ECORRUPT (naming the CID) on a hash mismatch. */
int ia_store_get(struct ia_store *s, const struct ia_cid *cid, uint8_t **data, size_t *len);
int ia_store_delete(struct ia_store *s, const struct ia_multihash *mh);
/* Calls fn for every stored block; stop early by returning non-IA_OK (that
 * code is returned). fn may delete the block it is given. */
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
/* Removes every block not reachable from a pin. When a pinned DAG has a
 * corrupt (IA_ECORRUPT) or missing (IA_ENOTFOUND) dag-pb node, the blocks
 * under it are unknown, so nothing is removed and the message names the
 * block and the pin. Not safe against a concurrent add: its blocks are
 * unpinned until the add ends. */
int ia_store_gc(struct ia_store *s, uint64_t *blocks_removed, uint64_t *bytes_freed);

/* Re-hashes every stored block; calls on_bad for each bad one, with `why`
 * a one-line message naming the block ("block <CID> is corrupt: ...";
 * without a root, blocks are named by their multihash as a raw CIDv1).
 * Returns IA_OK when all are good, IA_ECORRUPT otherwise. With root
 * non-NULL only that DAG is checked (missing blocks are reported too; a
 * block that hashes right but does not parse counts as corrupt). */
struct ia_verify_counts {
    uint64_t checked, corrupt, missing;
};
typedef void (*ia_store_bad_fn)(void *user, const struct ia_multihash *mh, const char *why);
int ia_store_verify_blocks(struct ia_store *s, const struct ia_cid *root, ia_store_bad_fn on_bad,
                           void *user, struct ia_verify_counts *counts);

/* ---- reading UnixFS ------------------------------------------------------ */

/* Streams the bytes of a UnixFS file (raw or dag-pb DAG) to fn, verifying
 * every block, and the sizes its parent declared for it, before any of its
 * bytes are passed on (IA_ECORRUPT). A directory or symlink is IA_EINVAL
 * ("<CID> is a directory"); fn's own error code is returned as is. */
typedef int (*ia_store_write_fn)(void *user, const uint8_t *data, size_t len);
int ia_store_cat(struct ia_store *s, const struct ia_cid *cid, ia_store_write_fn fn, void *user);
/* Writes a file or a whole directory tree to out_path (must not exist:
 * IA_EEXIST). Entry names that could leave out_path ("", ".", "..", or with
 * '/' or NUL) and duplicate names are IA_ECORRUPT; on any failure what was
 * written is removed. HAMT-sharded directories are IA_EUNSUPPORTED. */
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

/* Writes the DAG under root (depth-first, root first, each block once,
 * identity blocks left out) as CAR v1, verifying every block; on failure
 * path is removed. */
int ia_store_car_export(struct ia_store *s, const struct ia_cid *root, const char *path);
/* Imports a CAR only if every block verifies, no section is truncated and
 * every root is present (in the CAR or the store): on any failure nothing
 * is stored. Roots are pinned. *roots is ia_malloc'd (caller frees). */
int ia_store_car_import(struct ia_store *s, const char *path, struct ia_cid **roots,
                        size_t *n_roots);

/* ---- trustless HTTP gateway ------------------------------------------------ */

/* What a fetch did (filled on failure too, as far as it got). */
struct ia_fetch_stats {
    uint64_t blocks_fetched; /* verified and stored from the network */
    uint64_t blocks_held;    /* blocks of the DAG already in the store */
    uint64_t bytes_fetched;  /* bytes of the blocks fetched */
    uint64_t bytes_received; /* HTTP body bytes, including any discarded */
    uint64_t requests;       /* HTTP requests made */
};

struct ia_fetch_opts {
    const char *const *gateways; /* base URLs (http:// or https://), tried in order */
    size_t n_gateways;
    /* Seconds: connecting, a whole raw-block request, and the longest stall
     * (under 1 KiB/s) of a CAR stream; a CAR as a whole gets 30 times
     * this. 0 → 60. */
    double timeout_s;
    int retries;        /* per gateway, 0 → 3, negative → none; exponential backoff */
    int parallel;       /* concurrent block fetches, 0 → 4, at most 64 */
    ia_progress_fn progress; /* blocks present / blocks known (from any thread,
                                one call at a time) */
    void *progress_user;
    uint64_t car_max_bytes;       /* cap on one CAR response spooled to home/tmp, 0 → 64 GiB */
    struct ia_fetch_stats *stats; /* optional out; updated before each progress call */
};
/* Fetches the DAG under root from trustless gateways, verifying every block:
 * when the root is missing, first the whole DAG as one CAR
 * (application/vnd.ipld.car, spooled to home/tmp; only blocks that verify
 * and are reachable from root are kept, so a partial CAR still counts),
 * then every block still missing as application/vnd.ipld.raw, `parallel`
 * at a time. Blocks already held are not fetched again. A gateway that
 * sends bytes that do not match, or fails `retries` times in a row, is
 * dropped for the rest of the fetch and the next one is used. On success
 * the whole DAG is present and the root is pinned; on failure the message
 * names the gateway, the CID and what went wrong (IA_ENOTFOUND when every
 * gateway answered 404, IA_ECORRUPT after a hash mismatch, IA_ETIMEOUT,
 * IA_ENET), and only verified blocks were stored. */
int ia_store_fetch(struct ia_store *s, const struct ia_cid *root, const struct ia_fetch_opts *o);

struct ia_gateway_server;
/* Serves GET and HEAD /ipfs/<cid> (?format=car|raw, else the Accept header;
 * CARs honour dag-scope=block, entity and all are the whole DAG) from the
 * store on listen ("127.0.0.1:PORT", "[::1]:PORT"; NULL → 127.0.0.1:8080;
 * PORT 0 picks a free one), on a thread of its own until stopped. The store
 * must stay open, and is only used from that thread, until
 * ia_gateway_stop. Corrupt blocks are never sent (500, logged). */
int ia_gateway_start(struct ia_store *s, const char *listen, struct ia_gateway_server **out);
/* The port actually bound. */
int ia_gateway_port(const struct ia_gateway_server *g);
/* Closes the listener and every connection, then frees g (NULL is fine). */
void ia_gateway_stop(struct ia_gateway_server *g);

/* ---- models by CID ---------------------------------------------------------- */

/* The ONNX file a CID names, as a local path for loaders that read files
 * (run, verify, bench). The UnixFS file or folder is copied out of the
 * store once into home/cache/models/<CID>/ (a file as model.onnx, a folder
 * as model/ with its files, so external data beside the .onnx resolves),
 * built in home/tmp and renamed into place: two processes at once, or a
 * killed one, never leave half a copy where the next one looks.
 *
 * The cached copy is a working copy made from verified blocks, and is
 * checked again each time it is reused: the UnixFS CID of the copy is
 * recomputed (hash only) with the profile(s) that can give the CID
 * (unixfs-v0-2015 for CIDv0, default then unixfs-v1-2025 for CIDv1; the
 * store's chunk size picks the order), after a quick check of the top
 * level's names and sizes against the store's DAG. A CID no profile
 * reproduces is compared byte for byte with the store's (verified) DAG.
 * A copy that fails is removed and made again from the store, so a copy
 * that verifies is used even when the store has lost or spoiled a block
 * of the DAG since (verify-blocks reports that); without a usable copy, a
 * missing or corrupt block fails the call, naming the block. Cost of the
 * re-check: one read and sha2-256 pass over the model, measured at
 * 0.28-0.32 s for 100 MB (Release, 2 shared cores, warm page cache; about
 * what a new copy costs, without the writes). A damaged copy is reported
 * with IA_WARN. Removing cache/models is always safe.
 *
 * Writes the path of the one .onnx file (names starting with '.' are
 * ignored) into path. Errors: IA_ENOTFOUND when the CID is not in the
 * store (the message suggests `fetch` or `add`) or holds no .onnx file;
 * IA_EINVAL when it holds several (the message names them and the folder);
 * IA_ERANGE when cap is too small. Directories that are HAMT shards are
 * IA_EUNSUPPORTED, as for ia_store_get_path. */
int ia_store_model_path(struct ia_store *s, const struct ia_cid *cid, char *path, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
