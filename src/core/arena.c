/* Bump allocator: per-graph and per-request memory freed in one call. */
#include "ia/core.h"

int ia_arena_init(struct ia_arena *a, size_t cap) {
    a->used = a->high_water = 0;
    a->cap = cap;
    a->base = ia_malloc(cap);
    if (!a->base) {
        a->cap = 0;
        return ia_error_set(IA_ENOMEM, "arena: cannot allocate %zu bytes", cap);
    }
    return IA_OK;
}

void ia_arena_free(struct ia_arena *a) {
    ia_free(a->base);
    a->base = NULL;
    a->cap = a->used = 0;
}

void *ia_arena_alloc(struct ia_arena *a, size_t n, size_t align) {
    IA_ASSERT(align && (align & (align - 1)) == 0);
    /* Align the address, not the offset: base itself is only malloc-aligned. */
    uintptr_t start = (uintptr_t)a->base + a->used;
    uintptr_t aligned = (start + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t pad = aligned - start, need, end;
    if (ia_add_size(pad, n, &need) || ia_add_size(a->used, need, &end) || end > a->cap) {
        ia_error_set(IA_ENOMEM, "arena: %zu bytes requested, %zu of %zu free", n,
                     a->cap - a->used, a->cap);
        return NULL;
    }
    a->used = end;
    if (end > a->high_water) a->high_water = end;
    return (void *)aligned;
}

void ia_arena_reset(struct ia_arena *a) { a->used = 0; }
