/*
 * core: what every module uses and nothing else provides.
 *
 * - status codes: every fallible function returns int (IA_OK or a negative
 *   IA_E* code); results come back through out-parameters.
 * - error messages: the failing call records a one-line message for the
 *   calling thread (ia_error_set); the caller reads it with ia_error_msg().
 *   Library code never prints an error itself.
 * - allocator: all heap memory goes through ia_malloc & co. so tests can
 *   make the Nth allocation fail (ia_alloc_fail_after).
 * - arena: bump allocation for per-graph and per-request memory, one free.
 * - thread pool: a persistent pool that runs parallel-for jobs.
 * - logging and a progress bar for the CLI (stderr, TTY-aware).
 */
#ifndef IA_CORE_H
#define IA_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IA_VERSION_STRING "0.1.0"

/* ---- status codes ------------------------------------------------------ */

enum ia_status {
    IA_OK = 0,
    IA_ENOMEM = -1,       /* allocation failed */
    IA_EINVAL = -2,       /* bad argument from the caller */
    IA_EIO = -3,          /* read/write/OS call failed */
    IA_ENOTFOUND = -4,    /* file, block, name or key not present */
    IA_ECORRUPT = -5,     /* data does not match its hash or checksum */
    IA_EFORMAT = -6,      /* malformed input (parse error) */
    IA_EUNSUPPORTED = -7, /* valid but not supported by this build */
    IA_ERANGE = -8,       /* value or size out of the allowed range */
    IA_EEXIST = -9,       /* already exists */
    IA_ENOSPC = -10,      /* disk full */
    IA_ENET = -11,        /* network error */
    IA_ETIMEOUT = -12,    /* timed out */
    IA_ECANCELED = -13,   /* stopped on request */
    IA_EINTERNAL = -14,   /* a bug: an invariant did not hold */
    IA_EAGAIN = -15,      /* needs a value that is not known yet (shape inference) */
    IA_STATUS_MIN = -15
};

/* Static, never NULL: a short name for a status code ("out of memory"). */
const char *ia_status_str(int rc);

/* ---- error messages (per thread) --------------------------------------- */

/* Records a printf-style message for this thread and returns rc, so callers
 * write `return ia_error_set(IA_EFORMAT, "%s: bad header", path);`. */
int ia_error_set(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ia_error_setv(int rc, const char *fmt, va_list ap);
/* Prefixes the current message with "prefix: " (adds context going up). */
int ia_error_wrap(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last message set on this thread, or ia_status_str(last rc) if none.
 * Valid until the next ia_error_* call on this thread. */
const char *ia_error_msg(void);
void ia_error_clear(void);

/* ---- allocator --------------------------------------------------------- */

void *ia_malloc(size_t n);
void *ia_calloc(size_t count, size_t size); /* checks count*size overflow */
void *ia_realloc(void *p, size_t n);
void ia_free(void *p);
char *ia_strdup(const char *s); /* caller frees with ia_free */
/* Failure injection for tests: after `n` more successful allocations every
 * allocation fails; n < 0 turns injection off. Counts all threads. */
void ia_alloc_fail_after(long n);
/* Number of allocations made since start (for tests). */
uint64_t ia_alloc_count(void);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
static inline int ia_mul_size(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int ia_add_size(size_t a, size_t b, size_t *out) {
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

/* ---- arena ------------------------------------------------------------- */

/* A fixed-capacity bump allocator over one ia_malloc'd block. Pointers it
 * returns stay valid until ia_arena_reset or ia_arena_free. */
struct ia_arena {
    uint8_t *base;
    size_t cap;
    size_t used;
    size_t high_water; /* the most bytes ever in use */
};

int ia_arena_init(struct ia_arena *a, size_t cap);
void ia_arena_free(struct ia_arena *a);
/* `align` must be a power of two; returns NULL (and sets IA_ENOMEM) when the
 * request does not fit. Memory is not zeroed. */
void *ia_arena_alloc(struct ia_arena *a, size_t n, size_t align);
void ia_arena_reset(struct ia_arena *a);

/* ---- thread pool ------------------------------------------------------- */

/* A persistent pool of worker threads for parallel-for jobs. The calling
 * thread takes part in every job, so a pool of n threads starts n-1
 * workers. One job runs at a time per pool; ia_pool_run is not reentrant
 * for the same pool (a task must not call ia_pool_run on its own pool). */
struct ia_pool;

/* n_threads <= 0 means "all logical CPUs". */
int ia_pool_create(int n_threads, struct ia_pool **out);
void ia_pool_destroy(struct ia_pool *p);
int ia_pool_size(const struct ia_pool *p);
/* Runs fn(ctx, i, thread_index) for i in [0, n_tasks), spread over the
 * pool's threads, and returns when all have finished. thread_index is in
 * [0, ia_pool_size). Tasks are handed out dynamically (atomic counter). */
typedef void (*ia_task_fn)(void *ctx, int64_t task, int thread_index);
void ia_pool_run(struct ia_pool *p, int64_t n_tasks, ia_task_fn fn, void *ctx);
/* Logical CPUs usable by this process (sched affinity), at least 1. */
int ia_cpu_count(void);

/* ---- logging ----------------------------------------------------------- */

enum ia_log_level { IA_LOG_ERROR = 0, IA_LOG_WARN, IA_LOG_INFO, IA_LOG_DEBUG };

/* Default is WARN, or IA_LOG=error|warn|info|debug from the environment. */
void ia_log_set_level(enum ia_log_level level);
enum ia_log_level ia_log_get_level(void);
void ia_log_init_from_env(void);
void ia_log(enum ia_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define IA_DEBUG(...) ia_log(IA_LOG_DEBUG, __VA_ARGS__)
#define IA_INFO(...) ia_log(IA_LOG_INFO, __VA_ARGS__)
#define IA_WARN(...) ia_log(IA_LOG_WARN, __VA_ARGS__)

/* ---- progress ---------------------------------------------------------- */

/* Library functions that do long work take a callback; the CLI passes
 * ia_progress_update with a struct ia_progress as the user data. */
typedef void (*ia_progress_fn)(void *user, uint64_t done, uint64_t total);

struct ia_progress {
    const char *label;
    int enabled;        /* drawn only on a TTY and when not quiet */
    int is_bytes;       /* units: bytes (rate in MiB/s) or items */
    double start_s;
    double last_draw_s;
    uint64_t done, total;
};

/* Hidden when stderr is not a TTY or when `quiet` is set. */
void ia_progress_start(struct ia_progress *p, const char *label, int is_bytes,
                       int quiet);
void ia_progress_update(void *progress, uint64_t done, uint64_t total);
void ia_progress_finish(struct ia_progress *p);

/* ---- misc -------------------------------------------------------------- */

/* Monotonic clock in seconds. */
double ia_time_now(void);

/* Abort with file:line on a broken invariant (a bug, never bad input). */
#define IA_ASSERT(cond)                                                     \
    do {                                                                    \
        if (!(cond)) ia_assert_fail(#cond, __FILE__, __LINE__);             \
    } while (0)
_Noreturn void ia_assert_fail(const char *expr, const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif
