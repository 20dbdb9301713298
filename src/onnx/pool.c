/* The pool behind a model or builder: chunks from ia_malloc, freed at once. */
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

#define CHUNK_DEFAULT (64 * 1024)

struct onnx_pool_chunk {
    struct onnx_pool_chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

void *onnx_pool_alloc(struct onnx_pool *p, size_t n) {
    size_t need;
    if (ia_add_size(n, 15, &need)) {
        ia_error_set(IA_ENOMEM, "allocation too large");
        return NULL;
    }
    need &= ~(size_t)15;
    if (need == 0) need = 16;
    struct onnx_pool_chunk *c = p->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > CHUNK_DEFAULT ? need : CHUNK_DEFAULT, total;
        if (ia_add_size(sizeof *c, cap, &total)) {
            ia_error_set(IA_ENOMEM, "allocation too large");
            return NULL;
        }
        struct onnx_pool_chunk *nc = ia_malloc(total);
        if (!nc) {
            ia_error_set(IA_ENOMEM, "out of memory");
            return NULL;
        }
        nc->cap = cap;
        nc->used = 0;
        if (c && need > CHUNK_DEFAULT) {
            /* A big block gets its own chunk behind the current one, so the
             * room left in the current chunk is not wasted. */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            p->head = nc;
        }
        c = nc;
    }
    void *r = c->data + c->used;
    c->used += need;
    memset(r, 0, n);
    return r;
}

void *onnx_pool_array(struct onnx_pool *p, size_t count, size_t size) {
    size_t n;
    if (ia_mul_size(count, size, &n)) {
        ia_error_set(IA_ENOMEM, "allocation too large");
        return NULL;
    }
    return onnx_pool_alloc(p, n);
}

char *onnx_pool_strdup(struct onnx_pool *p, const char *s) {
    size_t n = strlen(s) + 1;
    char *r = onnx_pool_alloc(p, n);
    if (r) memcpy(r, s, n);
    return r;
}

char *onnx_pool_printf(struct onnx_pool *p, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return onnx_pool_strdup(p, buf);
}

void onnx_pool_free(struct onnx_pool *p) {
    struct onnx_pool_chunk *c = p->head;
    while (c) {
        struct onnx_pool_chunk *n = c->next;
        ia_free(c);
        c = n;
    }
    p->head = NULL;
}

void onnx_sanitize(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) *s = '?';
}

int onnx_is_default_domain(const char *d) { return !d || !*d || !strcmp(d, "ai.onnx"); }

void onnx_fmt_shape(char *buf, size_t cap, const char *type_name, const int64_t *dims,
                    size_t rank) {
    size_t o = 0;
    int n = snprintf(buf, cap, "%s[", type_name);
    if (n < 0 || (size_t)n >= cap) return;
    o = (size_t)n;
    for (size_t i = 0; i < rank && o < cap; i++) {
        n = snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
        if (n < 0) return;
        o += (size_t)n;
    }
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static void *pb_alloc(void *ud, size_t n) {
    struct onnx_pb_alloc *pa = ud;
    void *r = ia_malloc(n ? n : 1);
    if (!r) pa->failed = 1;
    return r;
}

static void pb_free(void *ud, void *ptr) {
    (void)ud;
    ia_free(ptr);
}

void onnx_pb_alloc_init(struct onnx_pb_alloc *pa) {
    pa->a.alloc = pb_alloc;
    pa->a.free = pb_free;
    pa->a.allocator_data = pa;
    pa->failed = 0;
}
