/* Models by CID: a verified working copy of a UnixFS file or folder under
 * home/cache/models/<CID>/, and the path of the one .onnx file in it.
 *
 * Layout of home/cache/models/<CID>/ (either, never both):
 *   model.onnx   the CID is a file
 *   model/       the CID is a folder: its entries, as `get` writes them
 * The copy is built in home/tmp (same filesystem, and the store's open
 * removes a dead process's leftovers there) and renamed into place. A
 * rename that finds the folder already there means another process made
 * it first: theirs is used.
 *
 * A copy found in place is re-checked before use (why: anything may have
 * written to it since, and a crash after the rename may have left files
 * whose data never reached the disk):
 *   1. the top level's names and sizes against the store's DAG, when the
 *      store has the root (reads only the top nodes: catches a truncated
 *      or added file without hashing anything);
 *   2. the UnixFS CID of the copy, recomputed with the importer in hash-only
 *      mode, for the profiles that can give a CID of that version;
 *   3. when no profile reproduces the CID (made by another importer), the
 *      copy is compared byte for byte with the store's verified DAG.
 * A copy that passes 2 or 3 is exactly the CID's content. One that fails
 * is renamed away (readers that already opened its files keep reading
 * them), removed, and made again from the store.
 *
 * Cost of the re-check, measured on a 100 MB model (100,000,000 bytes:
 * one file, or ext_ok.onnx beside a 100 MB weights.bin; default,
 * unixfs-v1-2025 and unixfs-v0-2015 profiles), Release build, a 2-core
 * Xeon @ 2.5 GHz shared with other jobs, warm page cache: 0.28-0.32 s,
 * one hashing pass (the chunk-size hint picks the right profile first).
 * Making the copy from the store took 0.30-0.45 s on the same machine:
 * the check costs about as much as a new copy, but writes nothing and
 * leaves files that other processes may be reading in place. A CID no
 * profile reproduces adds a byte-for-byte pass over the store's blocks.
 */
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIND_MAX_DEPTH 8
#define FIND_NAMES_CAP 512

static int pathf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < cap) return IA_OK;
    out[0] = '\0'; /* never leave a cut path for a caller to use or remove */
    return ia_error_set(IA_ERANGE, "path too long under %s", fmt);
}

static int mkdir_p(const char *dir) {
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return ia_error_set(IA_ERANGE, "%s: path too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ia_error_set(IA_EIO, "%s: cannot create: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return IA_OK;
}

/* ---- 1. the top level against the store ----------------------------------- */

struct top {
    const char *dir; /* the copy's folder (model/), or NULL for a file */
    const char *file;
    int bad, n;
};

static void top_entry(void *user, const struct ia_store_entry *e) {
    struct top *t = user;
    struct stat st;
    char p[PATH_MAX];
    t->n++;
    if (!t->dir) {
        if (stat(t->file, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->size)
            t->bad = 1;
        return;
    }
    if (pathf(p, sizeof p, "%s/%s", t->dir, e->name) != IA_OK || lstat(p, &st) != 0) {
        t->bad = 1;
        return;
    }
    if (e->is_dir ? !S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && (uint64_t)st.st_size != e->size)
        t->bad = 1;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* 1 when the top level matches (or the store cannot tell), 0 when not. */
static int top_matches(struct ia_store *s, const struct ia_cid *cid, const char *p, int is_dir) {
    if (!ia_store_has(s, cid)) return 1;
    struct top t = {is_dir ? p : NULL, p, 0, 0};
    if (ia_store_ls(s, cid, top_entry, &t) != IA_OK) return 1; /* steps 2-3 decide */
    if (is_dir && count_entries(p) != t.n) return 0;
    return !t.bad;
}

/* ---- 2. the CID of the copy ----------------------------------------------- */

/* The first chunk size of the first big file at or under cid (a file
 * root, or a folder's first entries), 0 when the store cannot tell: it
 * tells the profile that likely made the CID, so the copy is hashed once. */
static uint64_t chunk_hint(struct ia_store *s, const struct ia_cid *cid, int depth) {
    if (cid->codec != IA_CODEC_DAG_PB || !ia_store_has(s, cid)) return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t hint = 0;
    if (ia_store_get(s, cid, &buf, &len) != IA_OK) return 0;
    struct ia_pb_node pb;
    if (ia_pb_node_decode(buf, len, &pb) == IA_OK) {
        struct ia_unixfs fs;
        if (pb.has_data && ia_unixfs_decode(pb.data, pb.data_len, &fs) == IA_OK) {
            if (fs.type == IA_UNIXFS_FILE && fs.n_blocksizes) hint = fs.blocksizes[0];
            /* Small files are single raw leaves that every v1 profile makes
             * alike: only dag-pb entries can tell. */
            for (size_t i = 0;
                 fs.type == IA_UNIXFS_DIRECTORY && depth < 2 && !hint && i < pb.n_links && i < 16;
                 i++)
                hint = chunk_hint(s, &pb.links[i].cid, depth + 1);
            ia_unixfs_free(&fs);
        }
        ia_pb_node_free(&pb);
    }
    ia_free(buf);
    return hint;
}

/* 1 when some profile gives the copy the CID. */
static int cid_matches(struct ia_store *s, const struct ia_cid *cid, const char *p, int is_dir) {
    const char *names[2];
    int n = 0;
    if (cid->version == 0) {
        names[n++] = "unixfs-v0-2015";
    } else {
        int big = chunk_hint(s, cid, 0) == 1048576; /* unixfs-v1-2025's chunks */
        names[n++] = big ? "unixfs-v1-2025" : "default";
        names[n++] = big ? "default" : "unixfs-v1-2025";
    }
    struct ia_pool *pool = NULL;
    if (ia_pool_create(ia_cpu_count(), &pool) != IA_OK) pool = NULL; /* one thread will do */
    int match = 0;
    for (int i = 0; i < n && !match; i++) {
        struct ia_import_opts o = {.pool = pool, .hidden = 1};
        struct ia_cid got;
        if (ia_import_profile_get(names[i], &o.profile) != IA_OK) continue;
        if (ia_import_path(&o, p, is_dir, &got) == IA_OK) match = ia_cid_equal(&got, cid);
    }
    ia_pool_destroy(pool);
    return match;
}

/* ---- 3. byte for byte against the store ------------------------------------ */

struct cmp {
    int fd;
    uint8_t buf[65536];
};

static int cmp_bytes(void *user, const uint8_t *data, size_t len) {
    struct cmp *c = user;
    while (len) {
        size_t want = len < sizeof c->buf ? len : sizeof c->buf;
        ssize_t got = read(c->fd, c->buf, want);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0 || memcmp(c->buf, data, (size_t)got) != 0)
            return ia_error_set(IA_ECORRUPT, "the cached copy differs");
        data += got;
        len -= (size_t)got;
    }
    return IA_OK;
}

static int same_file(struct ia_store *s, const struct ia_cid *cid, const char *p) {
    struct cmp *c = ia_malloc(sizeof *c);
    if (!c) return 0;
    c->fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int same =
        c->fd >= 0 && ia_store_cat(s, cid, cmp_bytes, c) == IA_OK && read(c->fd, c->buf, 1) == 0;
    if (c->fd >= 0) close(c->fd);
    ia_free(c);
    return same;
}

struct kids {
    struct ia_store_entry *e; /* names ia_strdup'd */
    size_t n, cap;
    int failed;
};

static void kid(void *user, const struct ia_store_entry *e) {
    struct kids *k = user;
    if (k->failed) return;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        struct ia_store_entry *ne = ia_realloc(k->e, cap * sizeof *ne);
        if (!ne) {
            k->failed = 1;
            return;
        }
        k->e = ne, k->cap = cap;
    }
    k->e[k->n] = *e;
    k->e[k->n].name = ia_strdup(e->name);
    if (!k->e[k->n].name)
        k->failed = 1;
    else
        k->n++;
}

/* 1 when p is what the DAG under cid holds (is_dir: cid is a folder). */
static int same_tree(struct ia_store *s, const struct ia_cid *cid, const char *p, int is_dir,
                     int depth) {
    struct stat st;
    if (depth > IA_STORE_MAX_DEPTH || lstat(p, &st) != 0) return 0;
    if (!is_dir) return S_ISREG(st.st_mode) && same_file(s, cid, p);
    if (!S_ISDIR(st.st_mode)) return 0;
    struct kids k = {0};
    int same = ia_store_ls(s, cid, kid, &k) == IA_OK && !k.failed && count_entries(p) == (int)k.n;
    for (size_t i = 0; same && i < k.n; i++) {
        char child[PATH_MAX];
        same = pathf(child, sizeof child, "%s/%s", p, k.e[i].name) == IA_OK &&
               same_tree(s, &k.e[i].cid, child, k.e[i].is_dir, depth + 1);
    }
    for (size_t i = 0; i < k.n; i++) ia_free((void *)k.e[i].name);
    ia_free(k.e);
    return same;
}

/* ---- the copy ----------------------------------------------------------------- */

/* Where the copy's content is: dir/model.onnx (*is_dir 0) or dir/model/. */
static int copy_root(const char *dir, char *p, size_t cap, int *is_dir) {
    struct stat st;
    if (pathf(p, cap, "%s/model.onnx", dir) == IA_OK && lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        *is_dir = 0;
        return 1;
    }
    if (pathf(p, cap, "%s/model", dir) == IA_OK && lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        *is_dir = 1;
        return 1;
    }
    return 0;
}

static int copy_ok(struct ia_store *s, const struct ia_cid *cid, const char *dir) {
    char p[PATH_MAX], txt[IA_CID_STR_MAX];
    int is_dir;
    if (!copy_root(dir, p, sizeof p, &is_dir)) return 0;
    if (cid->codec == IA_CODEC_RAW && is_dir) return 0;
    double t0 = ia_time_now();
    int ok = top_matches(s, cid, p, is_dir);
    const char *how = "its top level differs from the store";
    if (ok) {
        ok = cid_matches(s, cid, p, is_dir);
        how = "its CID recomputed";
        if (!ok && ia_store_has(s, cid)) {
            ok = same_tree(s, cid, p, is_dir, 0);
            how = "compared byte for byte with the store";
        }
    }
    ia_cid_format(cid, txt);
    if (ok)
        IA_DEBUG("cache/models/%s: intact (%s) in %.3f s", txt, how, ia_time_now() - t0);
    else
        IA_WARN("cache/models/%s: the cached copy is damaged (%s); making it again from the store",
                txt, how);
    return ok;
}

/* Moves a bad copy out of the way (readers that opened its files keep
 * them), unless another process already replaced it. */
static int drop_copy(struct ia_store *s, const char *dir, const struct stat *checked) {
    struct stat now;
    char aside[PATH_MAX];
    if (lstat(dir, &now) != 0 || now.st_dev != checked->st_dev || now.st_ino != checked->st_ino)
        return IA_OK;
    if (!S_ISDIR(now.st_mode)) {
        if (unlink(dir) != 0 && errno != ENOENT)
            return ia_error_set(IA_EIO, "%s: cannot remove: %s", dir, strerror(errno));
        return IA_OK;
    }
    int rc = ia_store_tmp_mkdir(s, aside, sizeof aside);
    if (rc != IA_OK) return rc;
    /* rename onto an empty folder replaces it: the bad copy leaves in one step. */
    if (rename(dir, aside) != 0 && errno != ENOENT) {
        rc =
            ia_error_set(IA_EIO, "%s: cannot move the damaged copy away: %s", dir, strerror(errno));
        rmdir(aside);
        return rc;
    }
    ia_store_rm_tree(aside);
    return IA_OK;
}

static int make_copy(struct ia_store *s, const struct ia_cid *cid, const char *txt,
                     const char *dir) {
    char tmp[PATH_MAX], target[PATH_MAX], named[PATH_MAX];
    int rc = ia_store_tmp_mkdir(s, tmp, sizeof tmp);
    if (rc != IA_OK) return rc;
    rc = pathf(target, sizeof target, "%s/model", tmp);
    if (rc == IA_OK) rc = pathf(named, sizeof named, "%s/model.onnx", tmp);
    if (rc == IA_OK) {
        rc = ia_store_get_path(s, cid, target);
        if (rc != IA_OK) ia_error_wrap(rc, "%s: cannot copy it out of the store", txt);
    }
    struct stat st;
    if (rc == IA_OK && lstat(target, &st) == 0 && !S_ISDIR(st.st_mode) &&
        rename(target, named) != 0)
        rc = ia_error_set(IA_EIO, "%s: %s", named, strerror(errno));
    if (rc == IA_OK) chmod(tmp, 0755); /* tmp folders are private; the cache is not */
    if (rc == IA_OK && rename(tmp, dir) != 0) {
        int e = errno;
        if (!((e == EEXIST || e == ENOTEMPTY) && lstat(dir, &st) == 0))
            rc = ia_error_set(IA_EIO, "%s: cannot move the copy into place: %s", dir, strerror(e));
    }
    ia_store_rm_tree(tmp);
    return rc;
}

/* ---- the .onnx file in it ----------------------------------------------------- */

struct found {
    int n;
    char *path; /* the first one found */
    size_t cap;
    size_t base_len; /* names are listed relative to the copy's root */
    char names[FIND_NAMES_CAP];
    size_t names_len;
};

static int find_onnx(const char *dir, int depth, struct found *f) {
    DIR *d = opendir(dir);
    if (!d) return ia_error_set(IA_EIO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = IA_OK;
    while (rc == IA_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX];
        if (pathf(p, sizeof p, "%s/%s", dir, e->d_name) != IA_OK) continue;
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode) && depth < FIND_MAX_DEPTH) {
            rc = find_onnx(p, depth + 1, f);
        } else if (S_ISREG(st.st_mode) && len > 5 && !strcmp(e->d_name + len - 5, ".onnx")) {
            if (++f->n == 1 && pathf(f->path, f->cap, "%s", p) != IA_OK) rc = IA_ERANGE;
            if (f->names_len + 8 < sizeof f->names) {
                int k = snprintf(f->names + f->names_len, sizeof f->names - f->names_len, "%s%s",
                                 f->names_len ? ", " : "", p + f->base_len + 1);
                if (k > 0 && f->names_len + (size_t)k < sizeof f->names)
                    f->names_len += (size_t)k;
                else
                    snprintf(f->names + f->names_len, sizeof f->names - f->names_len, ", ...");
            }
        }
    }
    closedir(d);
    return rc;
}

static int pick_onnx(const char *txt, const char *dir, char *path, size_t cap) {
    char p[PATH_MAX];
    int is_dir;
    if (!copy_root(dir, p, sizeof p, &is_dir))
        return ia_error_set(IA_EIO, "%s: the cached copy vanished", dir);
    if (!is_dir) {
        if (strlen(p) >= cap) return ia_error_set(IA_ERANGE, "%s: path too long", p);
        memcpy(path, p, strlen(p) + 1);
        return IA_OK;
    }
    struct found f = {.path = path, .cap = cap, .base_len = strlen(p)};
    int rc = find_onnx(p, 0, &f);
    if (rc == IA_ERANGE) return ia_error_set(IA_ERANGE, "%s: path too long", p);
    if (rc != IA_OK) return rc;
    if (f.n == 0)
        return ia_error_set(IA_ENOTFOUND, "%s: the folder holds no .onnx file (see %s)", txt, p);
    if (f.n > 1)
        return ia_error_set(IA_EINVAL,
                            "%s: the folder holds %d .onnx files (%s); give the path of one, "
                            "under %s",
                            txt, f.n, f.names, p);
    return IA_OK;
}

int ia_store_model_path(struct ia_store *s, const struct ia_cid *cid, char *path, size_t cap) {
    char txt[IA_CID_STR_MAX], models[PATH_MAX], dir[PATH_MAX];
    if (cap) path[0] = '\0';
    ia_cid_format(cid, txt);
    int rc = pathf(models, sizeof models, "%s/cache/models", s->home);
    if (rc == IA_OK) rc = pathf(dir, sizeof dir, "%s/%s", models, txt);
    if (rc != IA_OK) return rc;
    struct stat st;
    /* Another process may replace a copy while we check it: check theirs too. */
    for (int tries = 0; tries < 3 && lstat(dir, &st) == 0; tries++) {
        if (S_ISDIR(st.st_mode) && copy_ok(s, cid, dir)) return pick_onnx(txt, dir, path, cap);
        rc = drop_copy(s, dir, &st);
        if (rc != IA_OK) return rc;
    }
    if (!ia_store_has(s, cid))
        return ia_error_set(IA_ENOTFOUND,
                            "%s is not in the store (in %s); bring it with `ipfs-accelerate "
                            "fetch %s --gateway URL`, or `ipfs-accelerate add` the file",
                            txt, s->home, txt);
    rc = mkdir_p(models);
    if (rc == IA_OK) rc = make_copy(s, cid, txt, dir);
    if (rc == IA_OK) rc = pick_onnx(txt, dir, path, cap);
    return rc;
}
