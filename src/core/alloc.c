/* The one allocator everything goes through, with failure injection so
 * tests can prove every allocation failure is handled. */
#include "ia/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1; /* <0: injection off */
static atomic_uint_least64_t n_allocs;

void ia_alloc_fail_after(long n) { atomic_store(&fail_countdown, n); }

uint64_t ia_alloc_count(void) { return atomic_load(&n_allocs); }

/* Returns 1 when this allocation must fail. */
static int inject_failure(void) {
    long c = atomic_load(&fail_countdown);
    while (c >= 0) {
        if (c == 0) return 1;
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) return 0;
    }
    return 0;
}

void *ia_malloc(size_t n) {
    if (inject_failure()) return NULL;
    atomic_fetch_add(&n_allocs, 1);
    return malloc(n ? n : 1);
}

void *ia_calloc(size_t count, size_t size) {
    size_t total;
    if (ia_mul_size(count, size, &total)) return NULL;
    if (inject_failure()) return NULL;
    atomic_fetch_add(&n_allocs, 1);
    return calloc(total ? total : 1, 1);
}

void *ia_realloc(void *p, size_t n) {
    if (inject_failure()) return NULL;
    atomic_fetch_add(&n_allocs, 1);
    return realloc(p, n ? n : 1);
}

void ia_free(void *p) { free(p); }

char *ia_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = ia_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
