/*
 * The UnixFS importer for folders, as ipfs-unixfs-importer 17 builds them
 * when handed every file of a tree (`ipfs add -r DIR`; the root is DIR's own
 * node, not a wrapping one).
 *
 * A folder is a dag-pb node with Data UnixFS {Type=Directory} and one link
 * per entry {Hash, Name, Tsize}, sorted by the name's bytes; Tsize is the
 * entry's encoded DAG size, and the folder's own is its block plus those.
 * An empty folder is the same node with no links.
 *
 * The reference turns a folder into a HAMT shard when its estimated node
 * size exceeds shardSplitThresholdBytes (256 KiB). The estimate counts only
 * the entries that already have a CID when they are added: files and empty
 * folders, not folders that have contents (those get their CID later):
 *   links-bytes (default, unixfs-v0-2015): sum of name bytes + CID bytes;
 *   block-bytes (unixfs-v1-2025): 4 (Data) + each link's encoded size.
 * We apply the same test and refuse such a folder: a flat node would get a
 * CID the reference never gives.
 *
 * Names: the reference handles names as JS strings, so a name that is not
 * valid UTF-8 cannot round-trip: refused. Names starting with '.' are
 * skipped unless opts->hidden, like `ipfs add -r` without -H. Symlinks are
 * followed; a link back to a folder being walked is an error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cid/codec_internal.h"
#include "cid/importer_internal.h"
#include "ia/cid.h"

struct ancestor {
    dev_t dev;
    ino_t ino;
    const struct ancestor *up;
};

struct child {
    char *name;
    size_t name_len;
    struct imp_result r;
    int counts; /* has a CID when the reference adds it (see above) */
};

static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

static int cmp_name(const void *a, const void *b) {
    /* strcmp compares as unsigned char: the byte order dag-pb sorts by. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) ia_free(names[i]);
    ia_free(names);
}

/* The folder's entry names, sorted, hidden ones dropped unless asked for.
 * *names is ia_malloc'd, each name too. */
static int list_dir(const char *path, int hidden, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    char **v = NULL;
    size_t len = 0, cap = 0;
    int rc = IA_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        if (nm[0] == '.' && !hidden) continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = ia_realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = ia_error_set(IA_ENOMEM, "%s: out of memory", path);
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (!(v[len] = ia_strdup(nm))) {
            rc = ia_error_set(IA_ENOMEM, "%s: out of memory", path);
            break;
        }
        len++;
    }
    closedir(d);
    if (rc != IA_OK) {
        free_names(v, len);
        return rc;
    }
    if (len) qsort(v, len, sizeof *v, cmp_name);
    *names = v;
    *n = len;
    return IA_OK;
}

/* "a" + "/" + "b" in a new ia_malloc'd string. */
static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *s = ia_malloc(la + (size_t)slash + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (slash) s[la] = '/';
    memcpy(s + la + (size_t)slash, b, lb + 1);
    return s;
}

static int stat_entry(const char *path, struct stat *st) {
    if (stat(path, st) == 0) return IA_OK;
    int e = errno;
    struct stat lst;
    if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        return ia_error_set(IA_ENOTFOUND, "%s: dangling symlink (points to nothing)", path);
    return ia_error_set(e == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path, strerror(e));
}

static int is_ancestor(const struct ancestor *a, const struct stat *st) {
    for (; a; a = a->up)
        if (a->dev == st->st_dev && a->ino == st->st_ino) return 1;
    return 0;
}

static size_t varint_len(uint64_t v) { return ia_varint_size(v); }

/* The reference's estimate of the folder's node size (see the top). */
static uint64_t estimate_size(const struct ia_import_profile *p, const struct child *ch, size_t n) {
    uint64_t size = p->dir_size_exact ? 4 : 0;
    for (size_t i = 0; i < n; i++) {
        if (!ch[i].counts) continue;
        uint8_t cb[IA_CID_BYTES_MAX];
        uint64_t cid_len = ia_cid_to_bytes(&ch[i].r.cid, cb, sizeof cb);
        uint64_t nl = ch[i].name_len;
        if (!p->dir_size_exact) {
            size += nl + cid_len;
        } else {
            uint64_t link = 1 + varint_len(cid_len) + cid_len + 1 + varint_len(nl) + nl + 1 +
                            varint_len(ch[i].r.tsize);
            size += 1 + varint_len(link) + link;
        }
    }
    return size;
}

static int dir_node(struct imp_ctx *c, const char *path, const struct child *ch, size_t n,
                    struct imp_result *out) {
    uint64_t est = estimate_size(&c->o->profile, ch, n);
    if (est > IMP_SHARD_THRESHOLD)
        return ia_error_set(IA_EUNSUPPORTED,
                            "%s: folder too large for one node (%zu entries, %llu bytes by the "
                            "reference's measure > %u): the reference importer would make it a "
                            "HAMT shard, which is not supported; split the folder",
                            path, n, (unsigned long long)est, IMP_SHARD_THRESHOLD);
    struct ia_pb_link *links = n ? ia_calloc(n, sizeof *links) : NULL;
    if (n && !links) return ia_error_set(IA_ENOMEM, "%s: out of memory", path);
    uint64_t tsize = 0, fsize = 0;
    for (size_t i = 0; i < n; i++) {
        links[i] = (struct ia_pb_link){.cid = ch[i].r.cid,
                                       .name = (const uint8_t *)ch[i].name,
                                       .name_len = ch[i].name_len,
                                       .has_name = 1,
                                       .tsize = ch[i].r.tsize,
                                       .has_tsize = 1};
        tsize += ch[i].r.tsize;
        fsize += ch[i].r.fsize;
    }
    struct ia_unixfs u = {.type = IA_UNIXFS_DIRECTORY};
    uint8_t *data = NULL, *block = NULL;
    size_t data_len = 0, block_len = 0;
    int rc = ia_unixfs_encode(&u, &data, &data_len);
    if (rc == IA_OK) {
        struct ia_pb_node node = {
            .links = links, .n_links = n, .data = data, .data_len = data_len, .has_data = 1};
        rc = ia_pb_node_encode(&node, &block, &block_len);
    }
    if (rc == IA_OK) rc = imp_put_pb(c, block, block_len, &out->cid);
    ia_free(links);
    ia_free(data);
    ia_free(block);
    if (rc != IA_OK) return ia_error_wrap(rc, "%s", path);
    out->tsize = tsize + block_len;
    out->fsize = fsize;
    return IA_OK;
}

static int walk(struct imp_ctx *c, const char *path, const char *display, const struct ancestor *up,
                struct imp_result *out, int *empty) {
    char **names;
    size_t n;
    int rc = list_dir(path, c->o->hidden, &names, &n);
    if (rc != IA_OK) return rc;
    struct child *ch = n ? ia_calloc(n, sizeof *ch) : NULL;
    if (n && !ch) rc = ia_error_set(IA_ENOMEM, "%s: out of memory", path);
    size_t done = 0;
    for (; rc == IA_OK && done < n; done++) {
        struct child *x = &ch[done];
        x->name = names[done];
        x->name_len = strlen(x->name);
        char *fs = join(path, x->name), *disp = join(display, x->name);
        struct stat st;
        if (!fs || !disp) {
            rc = ia_error_set(IA_ENOMEM, "%s: out of memory", path);
        } else if (!valid_utf8((const unsigned char *)x->name, x->name_len)) {
            rc = ia_error_set(IA_EUNSUPPORTED, "%s: name is not valid UTF-8", fs);
        } else if ((rc = stat_entry(fs, &st)) != IA_OK) {
        } else if (S_ISDIR(st.st_mode)) {
            if (is_ancestor(up, &st)) {
                rc = ia_error_set(IA_EUNSUPPORTED, "%s: symlink loop (links to a folder above it)",
                                  fs);
            } else {
                struct ancestor me = {st.st_dev, st.st_ino, up};
                rc = walk(c, fs, disp, &me, &x->r, &x->counts);
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = imp_file_path(c, fs, disp, &x->r);
            x->counts = 1;
        } else {
            rc = ia_error_set(IA_EUNSUPPORTED, "%s: not a regular file or folder", fs);
        }
        ia_free(fs);
        ia_free(disp);
    }
    if (rc == IA_OK) rc = dir_node(c, path, ch, n, out);
    if (rc == IA_OK && c->o->on_entry)
        c->o->on_entry(c->o->entry_user, display, &out->cid, out->fsize);
    if (rc == IA_OK) *empty = (n == 0);
    ia_free(ch);
    free_names(names, n);
    return rc;
}

int imp_dir(struct imp_ctx *c, const char *fs_path, const char *display, struct imp_result *out) {
    struct stat st;
    int rc = stat_entry(fs_path, &st);
    if (rc != IA_OK) return rc;
    struct ancestor root = {st.st_dev, st.st_ino, NULL};
    int empty;
    return walk(c, fs_path, display, &root, out, &empty);
}

static uint64_t bytes_below(const struct ia_import_opts *o, const char *path,
                            const struct ancestor *up) {
    char **names;
    size_t n;
    if (list_dir(path, o->hidden, &names, &n) != IA_OK) return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        char *fs = join(path, names[i]);
        struct stat st;
        if (fs && stat(fs, &st) == 0) {
            if (S_ISREG(st.st_mode)) {
                sum += (uint64_t)st.st_size;
            } else if (S_ISDIR(st.st_mode) && !is_ancestor(up, &st)) {
                struct ancestor me = {st.st_dev, st.st_ino, up};
                sum += bytes_below(o, fs, &me);
            }
        }
        ia_free(fs);
    }
    free_names(names, n);
    return sum;
}

uint64_t imp_dir_bytes(const struct ia_import_opts *o, const char *fs_path) {
    struct stat st;
    if (stat(fs_path, &st) != 0) return 0;
    struct ancestor root = {st.st_dev, st.st_ino, NULL};
    uint64_t sum = bytes_below(o, fs_path, &root);
    ia_error_clear();
    return sum;
}
