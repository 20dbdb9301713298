/* Reading UnixFS out of the store: cat (stream a file), get (write a file
 * or a directory tree), ls (list a directory).
 *
 * A UnixFS file is a raw block, or a dag-pb node whose Data is a UnixFS
 * File (or Raw) message: inline bytes first, then one link per child with
 * blocksizes[i] = the bytes child i holds, and filesize = inline bytes +
 * sum(blocksizes). Before any byte of a node is emitted its block has been
 * verified against its CID and its sizes checked against what its parent
 * said, so a lying DAG fails before it can emit a wrong byte. Inline bytes
 * are emitted before the children are read, so memory stays bounded by the
 * link arrays along one root-to-leaf path.
 *
 * Directory entries come from the dag-pb link names; get refuses names
 * that could leave out_path ("", ".", "..", anything with '/' or NUL). */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A balanced DAG of 174 links per node is 8 levels deep for a petabyte. */
#define FILE_MAX_DEPTH 64
#define SIZE_UNKNOWN UINT64_MAX

static int corrupt(const struct ia_cid *cid, const char *why) {
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    return ia_error_set(IA_ECORRUPT, "%s: %s", str, why);
}

/* A fetched and decoded dag-pb UnixFS node. Owns buf, links, blocksizes. */
struct node {
    uint8_t *buf;
    size_t len;
    struct ia_pb_node pb;
    struct ia_unixfs fs;
    int decoded;
};

static void node_free(struct node *n) {
    if (n->decoded) {
        ia_unixfs_free(&n->fs);
        ia_pb_node_free(&n->pb);
    }
    ia_free(n->buf);
    memset(n, 0, sizeof *n);
}

/* Fetches cid; for dag-pb also decodes the node and its UnixFS data. */
static int node_load(struct ia_store *s, const struct ia_cid *cid, struct node *n) {
    memset(n, 0, sizeof *n);
    int rc = ia_store_get(s, cid, &n->buf, &n->len);
    if (rc != IA_OK || cid->codec == IA_CODEC_RAW) return rc;
    if (cid->codec != IA_CODEC_DAG_PB) {
        char str[IA_CID_STR_MAX];
        ia_cid_format(cid, str);
        node_free(n);
        return ia_error_set(IA_EUNSUPPORTED, "%s: codec %s is not UnixFS", str,
                            ia_codec_name(cid->codec));
    }
    rc = ia_pb_node_decode(n->buf, n->len, &n->pb);
    if (rc == IA_OK) {
        if (!n->pb.has_data) {
            ia_pb_node_free(&n->pb);
            node_free(n);
            return corrupt(cid, "dag-pb node without UnixFS data");
        }
        rc = ia_unixfs_decode(n->pb.data, n->pb.data_len, &n->fs);
        if (rc != IA_OK) ia_pb_node_free(&n->pb);
    }
    if (rc != IA_OK) {
        node_free(n);
        if (rc == IA_ENOMEM) return rc;
        char str[IA_CID_STR_MAX];
        ia_cid_format(cid, str);
        return ia_error_wrap(IA_ECORRUPT, "%s: not a valid UnixFS node", str);
    }
    n->decoded = 1;
    return IA_OK;
}

static int is_file_type(int t) { return t == IA_UNIXFS_FILE || t == IA_UNIXFS_RAW; }

/* The byte count a File node declares, after checking its parts agree. */
static int file_size(const struct ia_cid *cid, const struct node *n, uint64_t *size) {
    if (n->pb.n_links != n->fs.n_blocksizes)
        return corrupt(cid, "UnixFS blocksizes do not match the node's links");
    uint64_t total = n->fs.data_len;
    for (size_t i = 0; i < n->fs.n_blocksizes; i++)
        if (__builtin_add_overflow(total, n->fs.blocksizes[i], &total))
            return corrupt(cid, "UnixFS blocksizes overflow");
    if (n->fs.has_filesize && n->fs.filesize != total)
        return corrupt(cid, "UnixFS filesize does not match its data and blocksizes");
    *size = total;
    return IA_OK;
}

/* ---- cat ------------------------------------------------------------------ */

struct cat {
    struct ia_store *s;
    ia_store_write_fn fn;
    void *user;
};

static int type_error(const struct ia_cid *cid, int type) {
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    if (type == IA_UNIXFS_DIRECTORY || type == IA_UNIXFS_HAMT_SHARD)
        return ia_error_set(IA_EINVAL, "%s is a directory", str);
    if (type == IA_UNIXFS_SYMLINK) return ia_error_set(IA_EINVAL, "%s is a symlink", str);
    return ia_error_set(IA_EUNSUPPORTED, "%s: UnixFS type %d is not a file", str, type);
}

static int cat_node(struct cat *c, const struct ia_cid *cid, uint64_t expect, int depth) {
    if (depth > FILE_MAX_DEPTH) return corrupt(cid, "file DAG too deep");
    struct node n;
    int rc = node_load(c->s, cid, &n);
    if (rc != IA_OK) return rc;
    if (cid->codec == IA_CODEC_RAW) {
        if (expect != SIZE_UNKNOWN && n.len != expect)
            rc = corrupt(cid, "block size differs from its parent's blocksizes");
        if (rc == IA_OK && n.len) rc = c->fn(c->user, n.buf, n.len);
        node_free(&n);
        return rc;
    }
    uint64_t size = 0;
    if (!is_file_type(n.fs.type))
        rc = depth == 0 ? type_error(cid, n.fs.type) : corrupt(cid, "file DAG holds a non-file");
    if (rc == IA_OK) rc = file_size(cid, &n, &size);
    if (rc == IA_OK && expect != SIZE_UNKNOWN && size != expect)
        rc = corrupt(cid, "file size differs from its parent's blocksizes");
    if (rc == IA_OK && n.fs.data_len) rc = c->fn(c->user, n.fs.data, n.fs.data_len);
    /* The block is no longer needed: only the links and sizes are. */
    ia_free(n.buf);
    n.buf = NULL;
    for (size_t i = 0; rc == IA_OK && i < n.pb.n_links; i++)
        rc = cat_node(c, &n.pb.links[i].cid, n.fs.blocksizes[i], depth + 1);
    node_free(&n);
    return rc;
}

int ia_store_cat(struct ia_store *s, const struct ia_cid *cid, ia_store_write_fn fn, void *user) {
    struct cat c = {s, fn, user};
    return cat_node(&c, cid, SIZE_UNKNOWN, 0);
}

/* ---- get ------------------------------------------------------------------ */

struct fd_out {
    int fd;
    const char *path;
};

static int write_fd(void *user, const uint8_t *data, size_t len) {
    struct fd_out *o = user;
    int rc = ia_store_write_all(o->fd, data, len, o->path);
    return rc;
}

static int get_file(struct ia_store *s, const struct ia_cid *cid, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return ia_error_set(errno == EEXIST ? IA_EEXIST : IA_EIO, "%s: %s", path, strerror(errno));
    struct fd_out o = {fd, path};
    struct cat c = {s, write_fd, &o};
    int rc = cat_node(&c, cid, SIZE_UNKNOWN, 0);
    if (close(fd) != 0 && rc == IA_OK)
        rc = ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(errno));
    return rc;
}

static int safe_name(const uint8_t *name, size_t len) {
    if (len == 0 || len > NAME_MAX) return 0;
    if (memchr(name, '/', len) || memchr(name, '\0', len)) return 0;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return 0;
    return 1;
}

static int get_node(struct ia_store *s, const struct ia_cid *cid, const char *path, int depth) {
    if (depth > IA_STORE_MAX_DEPTH) return corrupt(cid, "directory tree too deep");
    if (cid->codec == IA_CODEC_RAW) return get_file(s, cid, path);
    struct node n;
    int rc = node_load(s, cid, &n);
    if (rc != IA_OK) return rc;
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    if (is_file_type(n.fs.type)) {
        node_free(&n);
        return get_file(s, cid, path);
    }
    if (n.fs.type == IA_UNIXFS_SYMLINK) {
        char target[PATH_MAX];
        if (n.fs.data_len == 0 || n.fs.data_len >= sizeof target ||
            memchr(n.fs.data, '\0', n.fs.data_len))
            rc = corrupt(cid, "bad symlink target");
        if (rc == IA_OK) {
            memcpy(target, n.fs.data, n.fs.data_len);
            target[n.fs.data_len] = '\0';
            if (symlink(target, path) != 0)
                rc = ia_error_set(errno == EEXIST ? IA_EEXIST : IA_EIO, "%s: %s", path,
                                  strerror(errno));
        }
        node_free(&n);
        return rc;
    }
    if (n.fs.type == IA_UNIXFS_HAMT_SHARD) {
        node_free(&n);
        return ia_error_set(IA_EUNSUPPORTED, "%s: HAMT-sharded directories are not supported", str);
    }
    if (n.fs.type != IA_UNIXFS_DIRECTORY) {
        node_free(&n);
        return type_error(cid, n.fs.type);
    }
    if (mkdir(path, 0755) != 0)
        rc = ia_error_set(errno == EEXIST ? IA_ECORRUPT : IA_EIO, "%s: %s%s", path, strerror(errno),
                          errno == EEXIST ? " (duplicate directory entry)" : "");
    for (size_t i = 0; rc == IA_OK && i < n.pb.n_links; i++) {
        const struct ia_pb_link *l = &n.pb.links[i];
        if (!safe_name(l->name, l->name_len)) {
            rc = ia_error_set(IA_ECORRUPT,
                              "%s: directory entry %zu has an unsafe name (empty, '.', '..', "
                              "or containing '/' or NUL)",
                              str, i);
            break;
        }
        char child[PATH_MAX];
        int m =
            snprintf(child, sizeof child, "%s/%.*s", path, (int)l->name_len, (const char *)l->name);
        if (m < 0 || (size_t)m >= sizeof child) {
            rc = ia_error_set(IA_ERANGE, "%s: path too long", path);
            break;
        }
        rc = get_node(s, &l->cid, child, depth + 1);
        if (rc == IA_EEXIST)
            rc = ia_error_set(IA_ECORRUPT, "%s: duplicate directory entry '%.*s'", str,
                              (int)l->name_len, (const char *)l->name);
    }
    node_free(&n);
    return rc;
}

int ia_store_get_path(struct ia_store *s, const struct ia_cid *cid, const char *out_path) {
    struct stat st;
    if (lstat(out_path, &st) == 0) return ia_error_set(IA_EEXIST, "%s already exists", out_path);
    int rc = get_node(s, cid, out_path, 0);
    /* Never leave half a tree that looks like the whole one. */
    if (rc != IA_OK) ia_store_rm_tree(out_path);
    return rc;
}

/* ---- ls ------------------------------------------------------------------- */

static int entry_of(struct ia_store *s, const struct ia_cid *cid, struct ia_store_entry *e,
                    uint64_t tsize) {
    e->cid = *cid;
    e->is_dir = 0;
    e->size = 0;
    struct node n;
    int rc = node_load(s, cid, &n);
    if (rc != IA_OK) return rc;
    if (cid->codec == IA_CODEC_RAW) {
        e->size = n.len;
    } else if (is_file_type(n.fs.type)) {
        rc = file_size(cid, &n, &e->size);
    } else if (n.fs.type == IA_UNIXFS_DIRECTORY || n.fs.type == IA_UNIXFS_HAMT_SHARD) {
        e->is_dir = 1;
        e->size = tsize;
    } else {
        e->size = n.fs.data_len;
    }
    node_free(&n);
    return rc;
}

int ia_store_ls(struct ia_store *s, const struct ia_cid *cid, ia_store_entry_fn fn, void *user) {
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    struct node n;
    int rc = node_load(s, cid, &n);
    if (rc != IA_OK) return rc;
    if (cid->codec == IA_CODEC_RAW || n.fs.type != IA_UNIXFS_DIRECTORY) {
        int hamt = cid->codec != IA_CODEC_RAW && n.fs.type == IA_UNIXFS_HAMT_SHARD;
        node_free(&n);
        if (hamt)
            return ia_error_set(IA_EUNSUPPORTED, "%s: HAMT-sharded directories are not supported",
                                str);
        struct ia_store_entry e;
        rc = entry_of(s, cid, &e, 0);
        e.name = str;
        if (rc == IA_OK) fn(user, &e);
        return rc;
    }
    for (size_t i = 0; rc == IA_OK && i < n.pb.n_links; i++) {
        const struct ia_pb_link *l = &n.pb.links[i];
        char name[NAME_MAX + 1];
        if (!safe_name(l->name, l->name_len)) {
            rc = ia_error_set(IA_ECORRUPT, "%s: directory entry %zu has an unsafe name", str, i);
            break;
        }
        memcpy(name, l->name, l->name_len);
        name[l->name_len] = '\0';
        struct ia_store_entry e;
        rc = entry_of(s, &l->cid, &e, l->has_tsize ? l->tsize : 0);
        e.name = name;
        if (rc == IA_OK) fn(user, &e);
    }
    node_free(&n);
    return rc;
}
