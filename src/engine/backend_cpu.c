/* The CPU backend: host memory and the kernels' compute functions, with the
 * session's thread pool handed to each kernel. */
#include <stdint.h>
#include <string.h>

#include "ia/engine.h"

/* Blocks the engine gave back, kept for reuse so that runs after the first
 * (same shapes) allocate nothing: per-run buffers and kernel scratch come
 * back in the same sizes every run. A session runs one call at a time and
 * the engine allocates from its own thread only, so no lock. */
#define CPU_CACHE_BLOCKS 64

struct cpu_block {
    void *p;
    size_t bytes;
};

struct cpu_state {
    struct ia_pool *pool;
    struct cpu_block cache[CPU_CACHE_BLOCKS];
    size_t n_cache;
};

static void raw_free(void *p);

static int cpu_create(int threads, void **state) {
    *state = NULL;
    struct cpu_state *c = ia_calloc(1, sizeof *c);
    if (!c) return ia_error_set(IA_ENOMEM, "out of memory");
    int rc = ia_pool_create(threads, &c->pool);
    if (rc) {
        ia_free(c);
        return rc;
    }
    *state = c;
    return IA_OK;
}

static void cpu_destroy(void *state) {
    struct cpu_state *c = state;
    if (!c) return;
    for (size_t i = 0; i < c->n_cache; i++) raw_free(c->cache[i].p);
    ia_pool_destroy(c->pool);
    ia_free(c);
}

/* 64-byte aligned: the block's start and size are stored just before the
 * pointer. */
static void *raw_alloc(size_t bytes) {
    size_t total;
    if (ia_add_size(bytes, 64 + 2 * sizeof(void *), &total)) {
        ia_error_set(IA_ENOMEM, "allocation of %zu bytes is too large", bytes);
        return NULL;
    }
    uint8_t *raw = ia_malloc(total);
    if (!raw) {
        ia_error_set(IA_ENOMEM, "out of memory for %zu bytes", bytes);
        return NULL;
    }
    uintptr_t p = ((uintptr_t)raw + 2 * sizeof(void *) + 63) & ~(uintptr_t)63;
    memcpy((void *)(p - sizeof(void *)), &raw, sizeof raw);
    return (void *)p;
}

static void raw_free(void *p) {
    if (!p) return;
    void *raw;
    memcpy(&raw, (uint8_t *)p - sizeof(void *), sizeof raw);
    ia_free(raw);
}

/* The smallest cached block that fits without wasting more than half of
 * itself, else a new one. */
static void *cpu_alloc(void *state, size_t bytes) {
    struct cpu_state *c = state;
    size_t best = CPU_CACHE_BLOCKS;
    for (size_t i = 0; c && i < c->n_cache; i++) {
        size_t b = c->cache[i].bytes;
        if (b >= bytes && b / 2 <= bytes && (best == CPU_CACHE_BLOCKS || b < c->cache[best].bytes))
            best = i;
    }
    if (best < CPU_CACHE_BLOCKS) {
        void *p = c->cache[best].p;
        c->cache[best] = c->cache[--c->n_cache];
        return p;
    }
    void *p = raw_alloc(bytes);
    if (p) memcpy((uint8_t *)p - 2 * sizeof(void *), &bytes, sizeof bytes);
    return p;
}

static void cpu_free(void *state, void *p) {
    struct cpu_state *c = state;
    if (!p) return;
    if (!c) {
        raw_free(p);
        return;
    }
    size_t bytes;
    memcpy(&bytes, (uint8_t *)p - 2 * sizeof(void *), sizeof bytes);
    if (c->n_cache == CPU_CACHE_BLOCKS) { /* full: drop the smallest */
        size_t s = 0;
        for (size_t i = 1; i < c->n_cache; i++)
            if (c->cache[i].bytes < c->cache[s].bytes) s = i;
        if (c->cache[s].bytes >= bytes) {
            raw_free(p);
            return;
        }
        raw_free(c->cache[s].p);
        c->cache[s] = c->cache[--c->n_cache];
    }
    c->cache[c->n_cache++] = (struct cpu_block){p, bytes};
}

static int cpu_run_node(void *state, const struct ia_op_def *op, struct ia_op_ctx *ctx) {
    struct cpu_state *c = state;
    ctx->pool = ia_pool_size(c->pool) > 1 ? c->pool : NULL;
    return op->compute(ctx);
}

static int cpu_n_threads(void *state) {
    struct cpu_state *c = state;
    return ia_pool_size(c->pool);
}

static const struct ia_backend cpu_backend = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .run_node = cpu_run_node,
    .n_threads = cpu_n_threads,
};

const struct ia_backend *ia_backend_find(const char *name) {
    if (!name || !strcmp(name, "cpu")) return &cpu_backend;
    return NULL;
}
