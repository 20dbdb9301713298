/*
 * The UnixFS importer for files: fixed-size chunker and balanced DAG, block
 * for block the same as ipfs-unixfs-importer 17 (and so kubo) builds.
 *
 * What the reference does, and we copy:
 * - chunks: every chunk_size bytes of the stream; the last may be shorter;
 *   an empty file is one empty chunk, a file of exactly k chunks has no
 *   empty (k+1)th one.
 * - leaves: with raw_leaves the chunk itself as a CIDv1 raw block; else a
 *   dag-pb node whose Data is UnixFS {Type=File, Data=chunk, filesize=len}
 *   (Data omitted when empty), CID of the profile's version.
 * - a file of one chunk is that leaf (reduceSingleLeafToSelf).
 * - otherwise leaves are grouped max_links at a time under parents, the
 *   parents again, until one node is left (layout/balanced.ts). A parent is
 *   dag-pb with links {Hash, Name "", Tsize} and Data UnixFS {Type=File,
 *   filesize=sum, blocksizes=[file bytes of each child]}; Tsize is the
 *   child's encoded bytes plus its own links' Tsizes. Parents get the
 *   profile's CID version (v1 dag-pb in the v1 profiles).
 *
 * Streaming: chunks are read a batch at a time and hashed in parallel on
 * opts->pool (for regular files the pool threads read them too, with
 * pread), then handed to opts->put in order. The tree is built one
 * level at a time: each level keeps at most max_links pending children, so
 * memory is the batch plus depth × max_links links.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cid/codec_internal.h"
#include "cid/importer_internal.h"
#include "ia/cid.h"

/* v0 leaves are encoded around the chunk in its buffer: room for the
 * PBNode/UnixFS header in front (tag, varint(≤ 10), 08 02, tag, varint)
 * and the filesize field behind (tag, varint). */
#define LEAF_HEAD 32
#define LEAF_TAIL 16
/* A batch never holds more than this many bytes of chunks. */
#define BATCH_MAX_BYTES (64u << 20)
/* Levels of the tree: max_links ≥ 2, so 64 levels cover 2^64 chunks. */
#define MAX_LEVELS 64

static const struct ia_import_profile profiles[] = {
    {"default", 1, 1, 262144, 174, 0},
    {"unixfs-v1-2025", 1, 1, 1048576, 1024, 1},
    {"unixfs-v0-2015", 0, 0, 262144, 174, 0},
};

int ia_import_profile_get(const char *name, struct ia_import_profile *out) {
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (name && !strcmp(name, profiles[i].name)) {
            *out = profiles[i];
            return IA_OK;
        }
    return ia_error_set(IA_ENOTFOUND,
                        "unknown profile '%s' (valid: default, unixfs-v1-2025, unixfs-v0-2015)",
                        name ? name : "(null)");
}

static int check_profile(const struct ia_import_profile *p) {
    if (p->cid_version != 0 && p->cid_version != 1)
        return ia_error_set(IA_EINVAL, "import profile: CID version %d (want 0 or 1)",
                            p->cid_version);
    if (p->cid_version == 0 && p->raw_leaves)
        return ia_error_set(IA_EINVAL, "import profile: raw leaves need CIDv1");
    if (p->chunk_size == 0 || p->chunk_size > IA_DAGPB_MAX_BLOCK - LEAF_HEAD - LEAF_TAIL)
        return ia_error_set(IA_EINVAL, "import profile: chunk size %zu (want 1..%u)", p->chunk_size,
                            IA_DAGPB_MAX_BLOCK - LEAF_HEAD - LEAF_TAIL);
    if (p->max_links < 2 || p->max_links > 8192)
        return ia_error_set(IA_EINVAL, "import profile: %d links per node (want 2..8192)",
                            p->max_links);
    return IA_OK;
}

/* ---- batches of chunks ------------------------------------------------- */

struct imp_slot {
    uint8_t *buf;         /* LEAF_HEAD + chunk_size + LEAF_TAIL */
    size_t len;           /* chunk bytes at buf + LEAF_HEAD */
    const uint8_t *block; /* the leaf block inside buf */
    size_t block_len;
    struct ia_cid cid;
    int err; /* errno of a failed pread */
};

struct imp_batch {
    const struct ia_import_profile *p;
    size_t n_slots;
    struct imp_slot *slots;
    /* Regular files are read by the tasks themselves (pread at off + i ×
     * chunk_size), so copying from the page cache runs on every thread
     * too; pipes are read in order by the calling thread. */
    int use_pread;
    int fd;
    uint64_t off;
};

static void batch_free(struct imp_batch *b) {
    if (!b) return;
    for (size_t i = 0; b->slots && i < b->n_slots; i++) ia_free(b->slots[i].buf);
    ia_free(b->slots);
    ia_free(b);
}

static int batch_new(const struct ia_import_opts *o, struct imp_batch **out) {
    const struct ia_import_profile *p = &o->profile;
    /* Each batch ends in a barrier, and a thread the scheduler holds up
     * delays it by one chunk at most (tasks are handed out one at a time):
     * 16 chunks a thread keep that small, but never more than one
     * parent's worth (max_links) or BATCH_MAX_BYTES. Buffers are only
     * touched as far as a file needs them. */
    size_t threads = o->pool ? (size_t)ia_pool_size(o->pool) : 1;
    size_t n = threads > 1 ? threads * 16 : 1;
    if (n > (size_t)p->max_links) n = (size_t)p->max_links;
    if (n * p->chunk_size > BATCH_MAX_BYTES) n = BATCH_MAX_BYTES / p->chunk_size;
    if (n == 0) n = 1;
    struct imp_batch *b = ia_calloc(1, sizeof *b);
    if (!b) return ia_error_set(IA_ENOMEM, "import: out of memory");
    b->p = p;
    b->slots = ia_calloc(n, sizeof *b->slots);
    if (!b->slots) {
        ia_free(b);
        return ia_error_set(IA_ENOMEM, "import: out of memory");
    }
    b->n_slots = n;
    for (size_t i = 0; i < n; i++) {
        b->slots[i].buf = ia_malloc(LEAF_HEAD + p->chunk_size + LEAF_TAIL);
        if (!b->slots[i].buf) {
            batch_free(b);
            return ia_error_set(IA_ENOMEM, "import: out of memory for %zu-byte chunks",
                                p->chunk_size);
        }
    }
    *out = b;
    return IA_OK;
}

void imp_ctx_free(struct imp_ctx *c) {
    batch_free(c->batch);
    c->batch = NULL;
}

/* Reads until `cap` bytes or EOF; returns the count or -1 (errno set).
 * off < 0: read() at the current position, else pread() at off. */
static ssize_t read_full(int fd, uint8_t *buf, size_t cap, off_t off) {
    size_t got = 0;
    while (got < cap) {
        ssize_t r = off < 0 ? read(fd, buf + got, cap - got)
                            : pread(fd, buf + got, cap - got, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static uint8_t *put_varint_back(uint8_t *end, uint64_t v) {
    uint8_t tmp[IA_VARINT_MAX];
    size_t n = ia_varint_encode(v, tmp);
    memcpy(end - n, tmp, n);
    return end - n;
}

/* Builds the leaf block of a slot in place and hashes it. Runs on pool
 * threads: touches only its own slot, allocates nothing. */
static void leaf_task(void *ctx, int64_t i, int thread_index) {
    (void)thread_index;
    struct imp_batch *b = ctx;
    struct imp_slot *s = &b->slots[i];
    uint8_t *chunk = s->buf + LEAF_HEAD;
    if (b->use_pread) {
        off_t off = (off_t)(b->off + (uint64_t)i * b->p->chunk_size);
        ssize_t got = read_full(b->fd, chunk, b->p->chunk_size, off);
        s->err = got < 0 ? errno : 0;
        s->len = got < 0 ? 0 : (size_t)got;
    }
    if (b->p->raw_leaves) {
        s->block = chunk;
        s->block_len = s->len;
        ia_cid_of(1, IA_CODEC_RAW, chunk, s->len, &s->cid);
        return;
    }
    /* PBNode{Data(1): UnixFS{Type(1)=File, Data(2)=chunk, filesize(3)=len}}:
     * the same bytes ia_unixfs_encode + ia_pb_node_encode give (a unit test
     * holds them equal) without copying the chunk. */
    uint64_t len = s->len;
    uint8_t *tail = chunk + len;
    *tail = 0x18;
    size_t tail_len = 1 + ia_varint_encode(len, tail + 1);
    uint64_t ulen = 2 + tail_len + (len ? 1 + ia_varint_size(len) + len : 0);
    uint8_t *h = chunk;
    if (len) {
        h = put_varint_back(h, len);
        *--h = 0x12;
    }
    *--h = 0x02;
    *--h = 0x08;
    h = put_varint_back(h, ulen);
    *--h = 0x0a;
    s->block = h;
    s->block_len = (size_t)(tail + tail_len - h);
    ia_cid_of((uint8_t)b->p->cid_version, IA_CODEC_DAG_PB, s->block, s->block_len, &s->cid);
}

/* ---- the balanced tree -------------------------------------------------- */

struct tree {
    struct imp_ctx *c;
    const char *name;
    int max_links;
    int n_levels;
    struct imp_result *level[MAX_LEVELS]; /* max_links pending children each */
    size_t count[MAX_LEVELS];
    struct ia_pb_link *links; /* scratch for one parent */
    uint64_t *sizes;
};

static void tree_free(struct tree *t) {
    for (int k = 0; k < MAX_LEVELS; k++) ia_free(t->level[k]);
    ia_free(t->links);
    ia_free(t->sizes);
}

int imp_put_pb(struct imp_ctx *c, const uint8_t *block, size_t len, struct ia_cid *cid) {
    const struct ia_import_opts *o = c->o;
    ia_cid_of((uint8_t)o->profile.cid_version, IA_CODEC_DAG_PB, block, len, cid);
    return o->put ? o->put(o->put_user, cid, block, len) : IA_OK;
}

/* A parent over level k's pending children. */
static int make_parent(struct tree *t, int k, struct imp_result *out) {
    const struct imp_result *ch = t->level[k];
    size_t n = t->count[k];
    uint64_t fsize = 0, tsize = 0;
    for (size_t i = 0; i < n; i++) {
        t->links[i] = (struct ia_pb_link){.cid = ch[i].cid,
                                          .name = (const uint8_t *)"",
                                          .name_len = 0,
                                          .has_name = 1,
                                          .tsize = ch[i].tsize,
                                          .has_tsize = 1};
        t->sizes[i] = ch[i].fsize;
        fsize += ch[i].fsize;
        tsize += ch[i].tsize;
    }
    struct ia_unixfs u = {.type = IA_UNIXFS_FILE,
                          .filesize = fsize,
                          .has_filesize = 1,
                          .blocksizes = t->sizes,
                          .n_blocksizes = n};
    uint8_t *data = NULL, *block = NULL;
    size_t data_len = 0, block_len = 0;
    int rc = ia_unixfs_encode(&u, &data, &data_len);
    if (rc == IA_OK) {
        struct ia_pb_node node = {
            .links = t->links, .n_links = n, .data = data, .data_len = data_len, .has_data = 1};
        rc = ia_pb_node_encode(&node, &block, &block_len);
    }
    if (rc == IA_OK) rc = imp_put_pb(t->c, block, block_len, &out->cid);
    ia_free(data);
    ia_free(block);
    if (rc != IA_OK) return ia_error_wrap(rc, "%s", t->name);
    out->fsize = fsize;
    out->tsize = tsize + block_len;
    return IA_OK;
}

static int level_alloc(struct tree *t, int k) {
    if (k >= MAX_LEVELS) return ia_error_set(IA_EINTERNAL, "%s: tree too deep", t->name);
    if (t->level[k]) return IA_OK;
    t->level[k] = ia_malloc((size_t)t->max_links * sizeof *t->level[k]);
    if (!t->level[k]) return ia_error_set(IA_ENOMEM, "%s: out of memory", t->name);
    t->count[k] = 0;
    if (k + 1 > t->n_levels) t->n_levels = k + 1;
    return IA_OK;
}

/* Appends r to level k; a full level first becomes a parent on level k+1,
 * which is what batching max_links at a time does in the reference. */
static int tree_push(struct tree *t, int k, const struct imp_result *r) {
    int rc = level_alloc(t, k);
    if (rc != IA_OK) return rc;
    if (t->count[k] == (size_t)t->max_links) {
        struct imp_result parent;
        rc = make_parent(t, k, &parent);
        if (rc == IA_OK) rc = tree_push(t, k + 1, &parent);
        if (rc != IA_OK) return rc;
        t->count[k] = 0;
    }
    t->level[k][t->count[k]++] = *r;
    return IA_OK;
}

static int tree_finish(struct tree *t, struct imp_result *root) {
    for (int k = 0; k < t->n_levels; k++) {
        int top = (k == t->n_levels - 1);
        if (top && t->count[k] == 1) {
            /* At level 0 this is the single-chunk file: the leaf is the root. */
            *root = t->level[k][0];
            return IA_OK;
        }
        if (t->count[k] == 0) continue;
        struct imp_result parent;
        int rc = make_parent(t, k, &parent);
        if (rc == IA_OK) rc = tree_push(t, k + 1, &parent);
        if (rc != IA_OK) return rc;
        t->count[k] = 0;
    }
    return ia_error_set(IA_EINTERNAL, "%s: empty tree", t->name);
}

/* ---- a file ---------------------------------------------------------------- */

int imp_file(struct imp_ctx *c, int fd, const char *name, struct imp_result *out) {
    const struct ia_import_opts *o = c->o;
    const struct ia_import_profile *p = &o->profile;
    int rc = IA_OK;
    if (!c->batch && (rc = batch_new(o, &c->batch)) != IA_OK) return rc;
    struct imp_batch *b = c->batch;
    struct tree t = {.c = c, .name = name, .max_links = p->max_links};
    t.links = ia_malloc((size_t)p->max_links * sizeof *t.links);
    t.sizes = ia_malloc((size_t)p->max_links * sizeof *t.sizes);
    if (!t.links || !t.sizes) rc = ia_error_set(IA_ENOMEM, "%s: out of memory", name);
    uint64_t n_chunks = 0, size = 0;
    int eof = 0;
    struct stat st;
    off_t start = lseek(fd, 0, SEEK_CUR);
    b->use_pread = start >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    b->fd = fd;
    if (b->use_pread) size = (uint64_t)st.st_size;
    while (rc == IA_OK && !eof) {
        size_t n = 0;
        if (b->use_pread) {
            /* As many chunks as the size says are left (one to see EOF). */
            b->off = (uint64_t)start + n_chunks * p->chunk_size;
            uint64_t left = size > b->off ? size - b->off : 0;
            uint64_t want = (left + p->chunk_size - 1) / p->chunk_size;
            n = want == 0 ? 1 : want < b->n_slots ? (size_t)want : b->n_slots;
            ia_pool_run(o->pool, (int64_t)n, leaf_task, b);
            for (size_t i = 0; i < n; i++) {
                struct imp_slot *s = &b->slots[i];
                if (s->err) {
                    rc = ia_error_set(IA_EIO, "%s: read: %s", name, strerror(s->err));
                    break;
                }
                /* Only an empty file has an empty chunk. */
                if (s->len == 0 && n_chunks + i > 0) {
                    n = i, eof = 1;
                    break;
                }
                if (s->len < p->chunk_size) {
                    n = i + 1, eof = 1;
                    break;
                }
            }
        } else {
            while (n < b->n_slots && !eof) {
                ssize_t got = read_full(fd, b->slots[n].buf + LEAF_HEAD, p->chunk_size, -1);
                if (got < 0) {
                    rc = ia_error_set(IA_EIO, "%s: read: %s", name, strerror(errno));
                    break;
                }
                if ((size_t)got < p->chunk_size) eof = 1;
                if (got == 0 && n_chunks + n > 0) break;
                b->slots[n++].len = (size_t)got;
            }
            if (rc == IA_OK) ia_pool_run(o->pool, (int64_t)n, leaf_task, b);
        }
        if (rc != IA_OK || n == 0) break;
        for (size_t i = 0; i < n && rc == IA_OK; i++) {
            struct imp_slot *s = &b->slots[i];
            if (o->put) {
                rc = o->put(o->put_user, &s->cid, s->block, s->block_len);
                if (rc != IA_OK) {
                    rc = ia_error_wrap(rc, "%s", name);
                    break;
                }
            }
            struct imp_result leaf = {.cid = s->cid, .tsize = s->block_len, .fsize = s->len};
            rc = tree_push(&t, 0, &leaf);
            c->done += s->len;
        }
        n_chunks += n;
        if (rc == IA_OK && o->progress) o->progress(o->progress_user, c->done, c->total);
    }
    if (rc == IA_OK) rc = tree_finish(&t, out);
    tree_free(&t);
    return rc;
}

int ia_import_fd(const struct ia_import_opts *opts, int fd, struct ia_cid *root, uint64_t *size) {
    int rc = check_profile(&opts->profile);
    if (rc != IA_OK) return rc;
    struct imp_ctx c = {.o = opts};
    struct stat st;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pos >= 0 && st.st_size >= pos)
        c.total = (uint64_t)(st.st_size - pos);
    struct imp_result r;
    rc = imp_file(&c, fd, "<stdin>", &r);
    imp_ctx_free(&c);
    if (rc != IA_OK) return rc;
    *root = r.cid;
    if (size) *size = r.fsize;
    return IA_OK;
}

/* The name `ipfs add` prints for the root argument: its last component. */
static char *display_name(const char *path) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/') start--;
    char *name = NULL;
    if (len - start == 0 || (len - start == 1 && path[start] == '.') ||
        (len - start == 2 && path[start] == '.' && path[start + 1] == '.')) {
        /* ".", "..", "/": name it after where it resolves to. */
        char *real = realpath(path, NULL);
        if (real) {
            const char *slash = strrchr(real, '/');
            name = ia_strdup(slash && slash[1] ? slash + 1 : real);
            free(real);
        }
    } else {
        name = ia_malloc(len - start + 1);
        if (name) {
            memcpy(name, path + start, len - start);
            name[len - start] = '\0';
        }
    }
    if (!name) ia_error_set(IA_ENOMEM, "%s: out of memory", path);
    return name;
}

/* Opens a regular file for import; refuses anything else by name. */
static int open_regular(const char *path, int *fd_out, uint64_t *size) {
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ia_error_set(errno == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ia_error_set(IA_EUNSUPPORTED, "%s: not a regular file or folder", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    *size = (uint64_t)st.st_size;
    return IA_OK;
}

int imp_file_path(struct imp_ctx *c, const char *fs_path, const char *display,
                  struct imp_result *out) {
    int fd = -1;
    uint64_t size = 0;
    int rc = open_regular(fs_path, &fd, &size);
    if (rc != IA_OK) return rc;
    rc = imp_file(c, fd, fs_path, out);
    close(fd);
    if (rc == IA_OK && c->o->on_entry)
        c->o->on_entry(c->o->entry_user, display, &out->cid, out->fsize);
    return rc;
}

int ia_import_path(const struct ia_import_opts *opts, const char *path, int recursive,
                   struct ia_cid *root) {
    int rc = check_profile(&opts->profile);
    if (rc != IA_OK) return rc;
    struct stat st;
    if (stat(path, &st) != 0)
        return ia_error_set(errno == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path,
                            strerror(errno));
    if (S_ISDIR(st.st_mode) && !recursive)
        return ia_error_set(IA_EINVAL, "%s is a folder (add it with -r)", path);
    char *display = display_name(path);
    if (!display) return IA_ENOMEM;
    struct imp_ctx c = {.o = opts};
    struct imp_result r;
    if (S_ISDIR(st.st_mode)) {
        if (opts->progress) c.total = imp_dir_bytes(opts, path);
        rc = imp_dir(&c, path, display, &r);
    } else {
        c.total = (uint64_t)st.st_size;
        rc = imp_file_path(&c, path, display, &r);
    }
    imp_ctx_free(&c);
    ia_free(display);
    if (rc == IA_OK) *root = r.cid;
    return rc;
}
