/* The on-disk blockstore: one file per block under home/blocks, named by
 * its multihash the way kubo's flatfs names them (base32 upper, no padding;
 * shard folder = the next-to-last two characters).
 *
 * Writes are atomic: the bytes go to a temp file under home/tmp (same
 * filesystem as blocks/, so rename() is atomic), are fsync'd, renamed into
 * place and the shard folder is fsync'd. A killed writer leaves at most a
 * temp file, which the next ia_store_open removes once its writer (named in
 * the temp file's name) is gone. Reads re-hash every block. Identity CIDs
 * never touch the disk: their data is their digest. */
#include "store_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A writer that has been gone this long surely left garbage, even if its
 * pid has been reused by another process since. */
#define STALE_TMP_AGE_S (24 * 3600)
#define FOREIGN_TMP_AGE_S 3600

/* ---- small file helpers -------------------------------------------------- */

static int errno_status(int e) {
    if (e == ENOSPC || e == EDQUOT) return IA_ENOSPC;
    if (e == ENOENT) return IA_ENOTFOUND;
    if (e == ENOMEM) return IA_ENOMEM;
    return IA_EIO;
}

int ia_store_write_all(int fd, const uint8_t *data, size_t len, const char *what) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            if (errno_status(e) == IA_ENOSPC)
                return ia_error_set(IA_ENOSPC, "%s: disk full (%s)", what, strerror(e));
            return ia_error_set(IA_EIO, "%s: write failed: %s", what, strerror(e));
        }
        off += (size_t)n;
    }
    return IA_OK;
}

int ia_store_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ia_error_set(IA_EIO, "%s: %s", dir, strerror(errno));
    int rc = IA_OK;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = ia_error_set(errno_status(errno), "%s: fsync: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(p);
    else
        unlink(p);
    return 0;
}

void ia_store_rm_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_dir(const char *path) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return IA_OK;
    return ia_error_set(errno_status(errno), "cannot create %s: %s", path, strerror(errno));
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = ia_malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* ---- temp files ----------------------------------------------------------- */

static unsigned tmp_counter(void) {
    static _Atomic unsigned n;
    return n++;
}

static int tmp_name(struct ia_store *s, char *path, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(path, cap, "%s/%ld.%lx%lx.%u", s->tmp, (long)getpid(), (long)ts.tv_sec,
                     (long)ts.tv_nsec, tmp_counter());
    if (n < 0 || (size_t)n >= cap) return ia_error_set(IA_ERANGE, "%s: path too long", s->tmp);
    return IA_OK;
}

int ia_store_tmp_create(struct ia_store *s, char *path, size_t cap, int *fd) {
    for (int tries = 0; tries < 8; tries++) {
        int rc = tmp_name(s, path, cap);
        if (rc != IA_OK) return rc;
        *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (*fd >= 0) return IA_OK;
        if (errno != EEXIST)
            return ia_error_set(errno_status(errno), "%s: %s%s", path, strerror(errno),
                                errno == ENOSPC ? " (disk full)" : "");
    }
    return ia_error_set(IA_EIO, "%s: cannot create a temp file", s->tmp);
}

int ia_store_tmp_mkdir(struct ia_store *s, char *path, size_t cap) {
    for (int tries = 0; tries < 8; tries++) {
        int rc = tmp_name(s, path, cap);
        if (rc != IA_OK) return rc;
        if (mkdir(path, 0700) == 0) return IA_OK;
        if (errno != EEXIST)
            return ia_error_set(errno_status(errno), "%s: %s", path, strerror(errno));
    }
    return ia_error_set(IA_EIO, "%s: cannot create a temp folder", s->tmp);
}

/* Removes temp entries whose writer is gone: our names start with the
 * writer's pid ("<pid>.<time>.<n>"); a live pid keeps its files unless they
 * are very old. */
static void clean_tmp(struct ia_store *s) {
    DIR *d = opendir(s->tmp);
    if (!d) return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", s->tmp, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        int ours = end != e->d_name && *end == '.' && pid > 0;
        /* Names of another form (another module's spool files) carry no
         * pid, so only age can tell they were abandoned. */
        int dead = ours ? (kill((pid_t)pid, 0) != 0 && errno == ESRCH) ||
                              now - st.st_mtime > STALE_TMP_AGE_S
                        : now - st.st_mtime > FOREIGN_TMP_AGE_S;
        if (dead) ia_store_rm_tree(path);
    }
    closedir(d);
}

/* ---- open / close ------------------------------------------------------- */

int ia_store_open(const char *home, struct ia_store **out) {
    *out = NULL;
    char *def = NULL;
    if (!home || !*home) home = getenv("IA_HOME");
    if (!home || !*home) {
        const char *h = getenv("HOME");
        if (!h || !*h) return ia_error_set(IA_EINVAL, "neither IA_HOME nor HOME is set");
        def = join(h, ".ipfs-accelerate");
        if (!def) return ia_error_set(IA_ENOMEM, "out of memory");
        home = def;
    }
    struct ia_store *s = ia_calloc(1, sizeof *s);
    int rc = s ? IA_OK : ia_error_set(IA_ENOMEM, "out of memory");
    if (rc == IA_OK) {
        s->home = ia_strdup(home);
        s->blocks = join(home, "blocks");
        s->pins = join(home, "pins");
        s->tmp = join(home, "tmp");
        if (!s->home || !s->blocks || !s->pins || !s->tmp)
            rc = ia_error_set(IA_ENOMEM, "out of memory");
    }
    ia_free(def);
    if (rc == IA_OK) rc = make_dir(s->home);
    if (rc == IA_OK) rc = make_dir(s->blocks);
    if (rc == IA_OK) rc = make_dir(s->pins);
    if (rc == IA_OK) rc = make_dir(s->tmp);
    if (rc != IA_OK) {
        ia_store_close(s);
        return rc;
    }
    clean_tmp(s);
    *out = s;
    return IA_OK;
}

void ia_store_close(struct ia_store *s) {
    if (!s) return;
    ia_free(s->home);
    ia_free(s->blocks);
    ia_free(s->pins);
    ia_free(s->tmp);
    ia_free(s);
}

const char *ia_store_home(const struct ia_store *s) { return s->home; }

/* ---- names ---------------------------------------------------------------- */

void ia_mh_key_of(const struct ia_multihash *mh, struct ia_mh_key *k) {
    memset(k, 0, sizeof *k);
    k->len = (uint8_t)ia_mh_to_bytes(mh, k->b, sizeof k->b);
}

int ia_store_block_path(const struct ia_store *s, const struct ia_multihash *mh, char *path,
                        size_t cap, char *dir_out, size_t dir_cap) {
    struct ia_mh_key k;
    ia_mh_key_of(mh, &k);
    char b32[2 * IA_MH_KEY_MAX];
    int n = ia_base32_encode(k.b, k.len, b32, sizeof b32);
    if (n < 3) return ia_error_set(IA_EINTERNAL, "cannot name a block");
    for (int i = 0; i < n; i++) b32[i] = (char)toupper((unsigned char)b32[i]);
    const char *shard = b32 + n - 3;
    int m = snprintf(path, cap, "%s/%.2s/%s", s->blocks, shard, b32);
    if (m < 0 || (size_t)m >= cap) return ia_error_set(IA_ERANGE, "block path too long");
    if (dir_out) {
        m = snprintf(dir_out, dir_cap, "%s/%.2s", s->blocks, shard);
        if (m < 0 || (size_t)m >= dir_cap) return ia_error_set(IA_ERANGE, "block path too long");
    }
    return IA_OK;
}

static int supported_hash(const struct ia_cid *cid) {
    if (cid->mh.code == IA_MH_SHA2_256 || cid->mh.code == IA_MH_IDENTITY) return IA_OK;
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    return ia_error_set(IA_EUNSUPPORTED, "%s: unsupported hash function 0x%llx", str,
                        (unsigned long long)cid->mh.code);
}

/* ---- blocks --------------------------------------------------------------- */

int ia_store_put(struct ia_store *s, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    int rc = supported_hash(cid);
    if (rc != IA_OK) return rc;
    if (len > IA_STORE_MAX_BLOCK) {
        char str[IA_CID_STR_MAX];
        ia_cid_format(cid, str);
        return ia_error_set(IA_ERANGE, "%s: block of %zu bytes is over the %u byte limit", str, len,
                            (unsigned)IA_STORE_MAX_BLOCK);
    }
    rc = ia_cid_verify(cid, data, len);
    if (rc != IA_OK) return rc;
    if (cid->mh.code == IA_MH_IDENTITY) return IA_OK;

    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
    rc = ia_store_block_path(s, &cid->mh, path, sizeof path, dir, sizeof dir);
    if (rc != IA_OK) return rc;
    struct stat st;
    /* Same size is taken as present (verify-blocks finds rot); a different
     * size is a damaged copy that this verified write repairs. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == len) return IA_OK;

    int fd;
    rc = ia_store_tmp_create(s, tmp, sizeof tmp, &fd);
    if (rc != IA_OK) return rc;
    rc = ia_store_write_all(fd, data, len, "writing a block");
    if (rc == IA_OK && fsync(fd) != 0)
        rc = ia_error_set(errno_status(errno), "writing a block: fsync: %s%s", strerror(errno),
                          errno_status(errno) == IA_ENOSPC ? " (disk full)" : "");
    if (close(fd) != 0 && rc == IA_OK)
        rc = ia_error_set(errno_status(errno), "writing a block: close: %s%s", strerror(errno),
                          errno_status(errno) == IA_ENOSPC ? " (disk full)" : "");
    if (rc == IA_OK) {
        rc = make_dir(dir);
        if (rc == IA_OK && rename(tmp, path) != 0)
            rc = ia_error_set(errno_status(errno), "%s: rename: %s", path, strerror(errno));
    }
    if (rc != IA_OK) {
        unlink(tmp);
        return rc;
    }
    return ia_store_fsync_dir(dir);
}

int ia_store_put_cb(void *store, const struct ia_cid *cid, const uint8_t *data, size_t len) {
    return ia_store_put(store, cid, data, len);
}

int ia_store_has(struct ia_store *s, const struct ia_cid *cid) {
    if (cid->mh.code == IA_MH_IDENTITY) return 1;
    char path[PATH_MAX];
    if (ia_store_block_path(s, &cid->mh, path, sizeof path, NULL, 0) != IA_OK) return 0;
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int ia_store_read_raw(struct ia_store *s, const struct ia_multihash *mh, uint8_t **data,
                      size_t *len) {
    *data = NULL;
    *len = 0;
    if (mh->code == IA_MH_IDENTITY) {
        uint8_t *p = ia_malloc(mh->size);
        if (!p) return ia_error_set(IA_ENOMEM, "out of memory");
        memcpy(p, mh->digest, mh->size);
        *data = p;
        *len = mh->size;
        return IA_OK;
    }
    char path[PATH_MAX];
    int rc = ia_store_block_path(s, mh, path, sizeof path, NULL, 0);
    if (rc != IA_OK) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return ia_error_set(IA_ENOTFOUND, "%s: no such block", path);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ia_error_set(IA_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > IA_STORE_MAX_BLOCK) {
        close(fd);
        return ia_error_set(IA_ECORRUPT, "%s: %llu bytes, larger than any block", path,
                            (unsigned long long)st.st_size);
    }
    size_t n = (size_t)st.st_size, off = 0;
    uint8_t *p = ia_malloc(n);
    if (!p) {
        close(fd);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    while (off < n) {
        ssize_t r = read(fd, p + off, n - off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        off += (size_t)r;
    }
    close(fd);
    if (off != n) {
        ia_free(p);
        return ia_error_set(IA_EIO, "%s: short read", path);
    }
    *data = p;
    *len = n;
    return IA_OK;
}

int ia_store_get(struct ia_store *s, const struct ia_cid *cid, uint8_t **data, size_t *len) {
    *data = NULL;
    *len = 0;
    int rc = supported_hash(cid);
    if (rc != IA_OK) return rc;
    char str[IA_CID_STR_MAX];
    uint8_t *p;
    size_t n;
    rc = ia_store_read_raw(s, &cid->mh, &p, &n);
    if (rc == IA_ENOTFOUND) {
        ia_cid_format(cid, str);
        return ia_error_set(IA_ENOTFOUND, "block %s not found in the store", str);
    }
    if (rc != IA_OK) return rc;
    rc = ia_cid_verify(cid, p, n);
    if (rc != IA_OK) {
        ia_free(p);
        ia_cid_format(cid, str);
        return ia_error_set(IA_ECORRUPT, "block %s is corrupt: its bytes do not match its hash",
                            str);
    }
    *data = p;
    *len = n;
    return IA_OK;
}

int ia_store_delete(struct ia_store *s, const struct ia_multihash *mh) {
    if (mh->code == IA_MH_IDENTITY) return IA_OK;
    char path[PATH_MAX];
    int rc = ia_store_block_path(s, mh, path, sizeof path, NULL, 0);
    if (rc != IA_OK) return rc;
    if (unlink(path) != 0) {
        if (errno == ENOENT) return ia_error_set(IA_ENOTFOUND, "%s: no such block", path);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    return IA_OK;
}

/* A shard entry names a block when it decodes to a multihash whose
 * canonical name is exactly this entry in this shard; anything else (temp
 * files from other tools, editor leftovers) is not ours to report. */
static int name_to_mh(const char *shard, const char *name, struct ia_multihash *mh) {
    size_t n = strlen(name);
    if (n < 3 || n > 2 * IA_MH_KEY_MAX) return 0;
    if (name[n - 3] != shard[0] || name[n - 2] != shard[1]) return 0;
    char lower[2 * IA_MH_KEY_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        if (!isupper((unsigned char)name[i]) && !isdigit((unsigned char)name[i])) return 0;
        lower[i] = (char)tolower((unsigned char)name[i]);
    }
    uint8_t buf[IA_MH_KEY_MAX];
    int m = ia_base32_decode(lower, n, buf, sizeof buf);
    if (m <= 0) return 0;
    int used = ia_mh_from_bytes(buf, (size_t)m, mh);
    if (used != m) return 0;
    char again[2 * IA_MH_KEY_MAX + 1];
    int k = ia_base32_encode(buf, (size_t)m, again, sizeof again);
    return k == (int)n && memcmp(again, lower, n) == 0;
}

int ia_store_foreach(struct ia_store *s, ia_store_block_fn fn, void *user) {
    DIR *top = opendir(s->blocks);
    if (!top) return ia_error_set(IA_EIO, "%s: %s", s->blocks, strerror(errno));
    int rc = IA_OK;
    struct dirent *e;
    while (rc == IA_OK && (e = readdir(top))) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.') continue;
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/%s", s->blocks, e->d_name) >= (int)sizeof dir) continue;
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *f;
        while (rc == IA_OK && (f = readdir(d))) {
            struct ia_multihash mh;
            if (!name_to_mh(e->d_name, f->d_name, &mh)) continue;
            struct stat st;
            if (fstatat(dirfd(d), f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                continue;
            rc = fn(user, &mh, (uint64_t)st.st_size);
        }
        closedir(d);
    }
    closedir(top);
    return rc;
}
