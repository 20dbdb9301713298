/* CAR v1 export (the DAG under a root, depth-first, root first, each block
 * once) and all-or-nothing import.
 *
 * Import runs in two passes so a bad CAR changes nothing:
 *   1. read every section, verify each block against its CID and write it
 *      (fsync'd) into a private staging folder under home/tmp; a truncated
 *      or malformed section, a bad block, or a root found neither in the
 *      CAR nor in the store stops here and the staging folder is removed;
 *   2. rename the staged blocks the store lacks into blocks/ (same
 *      filesystem: each rename is atomic), then pin the roots (which checks
 *      every DAG is complete). A failure here moves back out exactly what
 *      this import moved in and drops the pins it added.
 * A crash mid-import leaves only the staging folder (removed by the next
 * ia_store_open) or verified blocks in blocks/ (harmless: unpinned, gc
 * collects them). */
#include "store_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- export -------------------------------------------------------------- */

static int export_visit(void *user, const struct ia_cid *cid, int rc, const uint8_t *data,
                        size_t len) {
    if (rc != IA_OK) return rc; /* the walk has named the block */
    /* Identity blocks live in their CIDs; CAR readers do not need them. */
    if (cid->mh.code == IA_MH_IDENTITY) return IA_OK;
    return ia_car_writer_put(user, cid, data, len);
}

int ia_store_car_export(struct ia_store *s, const struct ia_cid *root, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    struct ia_car_writer *w = NULL;
    int rc = ia_car_writer_open(f, root, 1, &w);
    if (rc == IA_OK) rc = ia_store_walk(s, root, 1, NULL, export_visit, w);
    if (w) {
        int crc = ia_car_writer_close(w);
        if (rc == IA_OK) rc = crc;
    }
    if (fclose(f) != 0 && rc == IA_OK)
        rc = ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s%s", path, strerror(errno),
                          errno == ENOSPC ? " (disk full)" : "");
    if (rc != IA_OK) unlink(path);
    return rc;
}

/* ---- import -------------------------------------------------------------- */

struct mh_list {
    struct ia_multihash *v;
    size_t n, cap;
};

static int list_add(struct mh_list *l, const struct ia_multihash *mh) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct ia_multihash *v = ia_realloc(l->v, cap * sizeof *v);
        if (!v) return ia_error_set(IA_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *mh;
    return IA_OK;
}

/* The staged copy of a block: stage/<block file name>. */
static int staged_path(struct ia_store *s, const char *stage, const struct ia_multihash *mh,
                       char *path, size_t cap) {
    char full[PATH_MAX];
    int rc = ia_store_block_path(s, mh, full, sizeof full, NULL, 0);
    if (rc != IA_OK) return rc;
    const char *base = strrchr(full, '/') + 1;
    int n = snprintf(path, cap, "%s/%s", stage, base);
    if (n < 0 || (size_t)n >= cap) return ia_error_set(IA_ERANGE, "staging path too long");
    return IA_OK;
}

static int stage_block(struct ia_store *s, const char *stage, const struct ia_cid *cid,
                       const uint8_t *data, size_t len) {
    char path[PATH_MAX];
    int rc = staged_path(s, stage, &cid->mh, path, sizeof path);
    if (rc != IA_OK) return rc;
    FILE *f = fopen(path, "wbx");
    if (!f) {
        if (errno == ENOSPC) return ia_error_set(IA_ENOSPC, "%s: disk full", path);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    int fd = fileno(f);
    rc = ia_store_write_all(fd, data, len, "staging a CAR block");
    if (rc == IA_OK && fsync(fd) != 0)
        rc = ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: fsync: %s", path,
                          strerror(errno));
    if (fclose(f) != 0 && rc == IA_OK)
        rc = ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(errno));
    return rc;
}

/* Pass 1: everything that can be checked without touching blocks/. */
static int read_and_stage(struct ia_store *s, const char *path, const char *stage,
                          struct mh_list *staged, struct ia_cid **roots_out, size_t *n_roots) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return ia_error_set(errno == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path,
                            strerror(errno));
    struct ia_car_reader *r = NULL;
    struct ia_mh_set seen;
    ia_mh_set_init(&seen);
    struct ia_cid *roots = NULL;
    size_t nr = 0;
    int rc = ia_car_reader_open(f, path, &r);
    if (rc == IA_OK) {
        nr = ia_car_reader_n_roots(r);
        roots = ia_calloc(nr ? nr : 1, sizeof *roots);
        if (!roots) rc = ia_error_set(IA_ENOMEM, "out of memory");
        for (size_t i = 0; rc == IA_OK && i < nr; i++) roots[i] = *ia_car_reader_root(r, i);
    }
    uint64_t section = 0;
    while (rc == IA_OK) {
        struct ia_cid cid;
        const uint8_t *data;
        size_t len;
        int got = ia_car_reader_next(r, &cid, &data, &len);
        if (got == 0) break;
        if (got < 0) {
            rc = got;
            break;
        }
        section++;
        char str[IA_CID_STR_MAX];
        ia_cid_format(&cid, str);
        if (cid.mh.code != IA_MH_SHA2_256 && cid.mh.code != IA_MH_IDENTITY) {
            rc =
                ia_error_set(IA_EUNSUPPORTED, "%s: block %s: unsupported hash function", path, str);
            break;
        }
        if (len > IA_STORE_MAX_BLOCK) {
            rc = ia_error_set(IA_ERANGE, "%s: block %s is %zu bytes, over the limit", path, str,
                              len);
            break;
        }
        rc = ia_cid_verify(&cid, data, len);
        if (rc != IA_OK) {
            rc = ia_error_set(IA_ECORRUPT, "%s: block %s (section %llu) does not match its CID",
                              path, str, (unsigned long long)section);
            break;
        }
        if (cid.mh.code == IA_MH_IDENTITY) continue;
        int added = ia_mh_set_add(&seen, &cid.mh);
        if (added < 0) rc = added;
        if (added == 1) {
            rc = stage_block(s, stage, &cid, data, len);
            if (rc == IA_OK) rc = list_add(staged, &cid.mh);
        }
    }
    for (size_t i = 0; rc == IA_OK && i < nr; i++) {
        if (ia_mh_set_has(&seen, &roots[i].mh) || ia_store_has(s, &roots[i])) continue;
        char str[IA_CID_STR_MAX];
        ia_cid_format(&roots[i], str);
        rc = ia_error_set(IA_ENOTFOUND, "%s: root %s is neither in the CAR nor in the store", path,
                          str);
    }
    if (r) ia_car_reader_close(r);
    fclose(f);
    ia_mh_set_free(&seen);
    if (rc != IA_OK) {
        ia_free(roots);
        return rc;
    }
    *roots_out = roots;
    *n_roots = nr;
    return IA_OK;
}

/* Pass 2a: moves staged blocks the store lacks into blocks/; records each
 * one moved so a later failure can take it back out. */
static int move_in(struct ia_store *s, const char *stage, const struct mh_list *staged,
                   struct mh_list *moved) {
    for (size_t i = 0; i < staged->n; i++) {
        const struct ia_multihash *mh = &staged->v[i];
        char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];
        int rc = staged_path(s, stage, mh, from, sizeof from);
        if (rc == IA_OK) rc = ia_store_block_path(s, mh, to, sizeof to, dir, sizeof dir);
        if (rc != IA_OK) return rc;
        struct stat st;
        if (stat(to, &st) == 0) continue; /* already held */
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", dir,
                                strerror(errno));
        /* Recorded first: undoing a rename that did not happen is harmless. */
        rc = list_add(moved, mh);
        if (rc != IA_OK) return rc;
        if (rename(from, to) != 0) {
            moved->n--;
            return ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", to,
                                strerror(errno));
        }
        rc = ia_store_fsync_dir(dir);
        if (rc != IA_OK) return rc;
    }
    return IA_OK;
}

static int is_pinned(struct ia_store *s, const struct ia_cid *cid) {
    struct ia_cid v1 = *cid;
    v1.version = 1;
    char str[IA_CID_STR_MAX], path[PATH_MAX];
    ia_cid_format(&v1, str);
    snprintf(path, sizeof path, "%s/%s", s->pins, str);
    struct stat st;
    return stat(path, &st) == 0;
}

int ia_store_car_import(struct ia_store *s, const char *path, struct ia_cid **roots,
                        size_t *n_roots) {
    *roots = NULL;
    *n_roots = 0;
    char stage[PATH_MAX];
    int rc = ia_store_tmp_mkdir(s, stage, sizeof stage);
    if (rc != IA_OK) return rc;
    struct mh_list staged = {0}, moved = {0};
    struct ia_cid *rs = NULL;
    size_t nr = 0, n_pinned = 0;
    int *was_pinned = NULL;
    rc = read_and_stage(s, path, stage, &staged, &rs, &nr);
    if (rc == IA_OK) {
        was_pinned = ia_calloc(nr ? nr : 1, sizeof *was_pinned);
        if (!was_pinned) rc = ia_error_set(IA_ENOMEM, "out of memory");
        for (size_t i = 0; rc == IA_OK && i < nr; i++) was_pinned[i] = is_pinned(s, &rs[i]);
    }
    if (rc == IA_OK) rc = move_in(s, stage, &staged, &moved);
    for (; rc == IA_OK && n_pinned < nr; n_pinned++) {
        rc = ia_store_pin_add(s, &rs[n_pinned]);
        if (rc != IA_OK) rc = ia_error_wrap(rc, "%s", path);
    }
    if (rc != IA_OK) {
        /* Keep the message of the failure, not of the clean-up. */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ia_error_msg());
        for (size_t i = 0; i < n_pinned && i < nr; i++)
            if (!was_pinned[i]) ia_store_pin_rm(s, &rs[i]);
        for (size_t i = 0; i < moved.n; i++) ia_store_delete(s, &moved.v[i]);
        ia_error_set(rc, "%s", msg);
        ia_free(rs);
        rs = NULL;
        nr = 0;
    }
    ia_store_rm_tree(stage);
    ia_free(was_pinned);
    ia_free(staged.v);
    ia_free(moved.v);
    *roots = rs;
    *n_roots = nr;
    return rc;
}
