/* The CPU backend: host memory and the kernels' compute functions, with the
 * session's thread pool handed to each kernel. */
#include <stdint.h>
#include <string.h>

#include "ia/engine.h"

struct cpu_state {
    struct ia_pool *pool;
};

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
    ia_pool_destroy(c->pool);
    ia_free(c);
}

/* 64-byte aligned: the block's start is stored just before the pointer. */
static void *cpu_alloc(void *state, size_t bytes) {
    (void)state;
    size_t total;
    if (ia_add_size(bytes, 64 + sizeof(void *), &total)) {
        ia_error_set(IA_ENOMEM, "allocation of %zu bytes is too large", bytes);
        return NULL;
    }
    uint8_t *raw = ia_malloc(total);
    if (!raw) {
        ia_error_set(IA_ENOMEM, "out of memory for %zu bytes", bytes);
        return NULL;
    }
    uintptr_t p = ((uintptr_t)raw + sizeof(void *) + 63) & ~(uintptr_t)63;
    memcpy((void *)(p - sizeof(void *)), &raw, sizeof raw);
    return (void *)p;
}

static void cpu_free(void *state, void *p) {
    (void)state;
    if (!p) return;
    void *raw;
    memcpy(&raw, (uint8_t *)p - sizeof(void *), sizeof raw);
    ia_free(raw);
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
