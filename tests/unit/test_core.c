/* core: arena, thread pool, allocator failure injection, status strings,
 * error messages. Run under ASan+UBSan in CI, so "no leak, no over-read"
 * is part of every check here. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "ia/core.h"

/* ---- arena ------------------------------------------------------------- */

static int in_arena(const struct ia_arena *a, const void *p, size_t n) {
    uintptr_t b = (uintptr_t)a->base, q = (uintptr_t)p;
    return q >= b && q + n <= b + a->cap;
}

static void test_arena_alignment(void) {
    struct ia_arena a;
    REQUIRE(ia_arena_init(&a, 1 << 16) == IA_OK);
    for (size_t align = 1; align <= 4096; align *= 2) {
        /* an odd-sized allocation first, so the next one needs padding */
        uint8_t *odd = ia_arena_alloc(&a, 3, 1);
        REQUIRE(odd != NULL);
        uint8_t *p = ia_arena_alloc(&a, 24, align);
        REQUIRE(p != NULL);
        CHECK((uintptr_t)p % align == 0);
        CHECK(in_arena(&a, p, 24));
        CHECK(p > odd);      /* bump order, no overlap with the previous block */
        memset(p, 0xAB, 24); /* ASan: the whole block is ours */
        CHECK(a.used <= a.cap);
    }
    ia_arena_free(&a);
    CHECK(a.base == NULL && a.cap == 0 && a.used == 0);
    ia_arena_free(&a); /* twice is harmless */
}

static void test_arena_exact_fit_and_overflow(void) {
    struct ia_arena a;
    REQUIRE(ia_arena_init(&a, 100) == IA_OK);
    uint8_t *p = ia_arena_alloc(&a, 100, 1);
    REQUIRE(p == a.base);
    memset(p, 1, 100);
    CHECK_EQ_INT(a.used, 100);
    ia_error_clear();
    CHECK(ia_arena_alloc(&a, 1, 1) == NULL);
    CHECK(strstr(ia_error_msg(), "arena") != NULL);
    CHECK(ia_arena_alloc(&a, 0, 1) != NULL); /* zero bytes still fit at the end */
    CHECK_EQ_INT(a.used, 100);

    ia_arena_reset(&a);
    CHECK(ia_arena_alloc(&a, 60, 1) != NULL);
    /* requests whose size arithmetic would wrap must fail, not succeed small */
    static const size_t aligns[] = {1, 2, 16, 64, 4096};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        CHECK(ia_arena_alloc(&a, SIZE_MAX, aligns[i]) == NULL);
        CHECK(ia_arena_alloc(&a, SIZE_MAX - 59, aligns[i]) == NULL);
        CHECK(ia_arena_alloc(&a, SIZE_MAX - 200, aligns[i]) == NULL);
        CHECK(ia_arena_alloc(&a, 41, aligns[i]) == NULL);
    }
    CHECK_EQ_INT(a.used, 60);                 /* failures leave the arena as it was */
    CHECK(ia_arena_alloc(&a, 40, 1) != NULL); /* and the exact rest still fits */
    CHECK_EQ_INT(a.used, 100);
    ia_arena_free(&a);
}

static void test_arena_reset_high_water(void) {
    struct ia_arena a;
    REQUIRE(ia_arena_init(&a, 4096) == IA_OK);
    CHECK_EQ_INT(a.high_water, 0);
    void *first = ia_arena_alloc(&a, 1000, 1);
    CHECK(ia_arena_alloc(&a, 500, 1) != NULL);
    CHECK_EQ_INT(a.high_water, 1500);
    ia_arena_reset(&a);
    CHECK_EQ_INT(a.used, 0);
    CHECK_EQ_INT(a.high_water, 1500);          /* reset keeps the peak */
    CHECK(ia_arena_alloc(&a, 10, 1) == first); /* memory is reused */
    CHECK_EQ_INT(a.high_water, 1500);
    CHECK(ia_arena_alloc(&a, 3000, 1) != NULL);
    CHECK_EQ_INT(a.high_water, 3010);
    ia_arena_free(&a);
}

static void test_arena_init_fails_cleanly(void) {
    struct ia_arena a;
    ia_alloc_fail_after(0);
    int rc = ia_arena_init(&a, 1024);
    ia_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, IA_ENOMEM);
    CHECK(a.base == NULL && a.cap == 0);
    ia_arena_free(&a);
}

/* ---- thread pool ------------------------------------------------------- */

struct count_job {
    atomic_int *hits; /* (n_tasks): times each task ran */
    atomic_int bad_thread;
    int pool_size;
};

static void count_task(void *ctx, int64_t task, int thread_index) {
    struct count_job *j = ctx;
    atomic_fetch_add(&j->hits[task], 1);
    if (thread_index < 0 || thread_index >= j->pool_size) atomic_fetch_add(&j->bad_thread, 1);
}

/* Runs n_tasks on `pool` and returns how many tasks did not run exactly
 * once (or -1 when the bookkeeping could not be allocated). */
static int64_t run_and_count(struct ia_pool *pool, int64_t n_tasks) {
    struct count_job j = {.pool_size = ia_pool_size(pool)};
    j.hits = calloc(n_tasks > 0 ? (size_t)n_tasks : 1, sizeof *j.hits);
    if (!j.hits) return -1;
    atomic_init(&j.bad_thread, 0);
    ia_pool_run(pool, n_tasks, count_task, &j);
    int64_t wrong = 0;
    for (int64_t i = 0; i < n_tasks; i++) wrong += atomic_load(&j.hits[i]) != 1;
    wrong += atomic_load(&j.bad_thread);
    free(j.hits);
    return wrong;
}

static void test_pool_each_task_once(void) {
    static const int threads[] = {1, 2, 3, 8};
    static const int64_t sizes[] = {0, 1, 2, 7, 1000, 1 << 20};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        struct ia_pool *p;
        REQUIRE(ia_pool_create(threads[t], &p) == IA_OK);
        CHECK_EQ_INT(ia_pool_size(p), threads[t]);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            CHECK_EQ_INT(run_and_count(p, sizes[s]), 0);
        ia_pool_destroy(p);
    }
    CHECK_EQ_INT(run_and_count(NULL, 100), 0); /* no pool: runs on the caller */
    ia_pool_run(NULL, -5, count_task, NULL);   /* negative count: nothing to do */
}

static void test_pool_sizes(void) {
    struct ia_pool *p;
    REQUIRE(ia_pool_create(0, &p) == IA_OK);
    CHECK_EQ_INT(ia_pool_size(p), ia_cpu_count());
    ia_pool_destroy(p);
    CHECK(ia_cpu_count() >= 1);
    CHECK_EQ_INT(ia_pool_create(100000, &p), IA_ERANGE);
    CHECK(p == NULL);
    ia_pool_destroy(NULL);
}

/* Many small jobs back to back: each job's workers must see exactly that
 * job, never a stale one. */
static void test_pool_many_small_jobs(void) {
    struct ia_pool *p;
    REQUIRE(ia_pool_create(4, &p) == IA_OK);
    int64_t wrong = 0;
    for (int i = 0; i < 2000; i++) wrong += run_and_count(p, 1 + i % 9);
    CHECK_EQ_INT(wrong, 0);
    ia_pool_destroy(p);
}

/* Two tasks that each wait for the other to start: they can finish only
 * on two threads at once, so a worker that sleeps through a job (a lost
 * wake-up) fails the test instead of leaving the caller to do it all. */
struct meet_job {
    atomic_int arrived, met;
};

static void meet_task(void *ctx, int64_t task, int thread_index) {
    (void)task, (void)thread_index;
    struct meet_job *j = ctx;
    atomic_fetch_add(&j->arrived, 1);
    double t0 = ia_time_now();
    while (atomic_load(&j->arrived) < 2 && ia_time_now() - t0 < 2.0) continue;
    if (atomic_load(&j->arrived) >= 2) atomic_fetch_add(&j->met, 1);
}

/* Jobs after the workers went to sleep (idle longer than their spin) and
 * right after one another (workers still spinning). */
static void test_pool_wakes_sleepers(void) {
    struct ia_pool *p;
    REQUIRE(ia_pool_create(2, &p) == IA_OK);
    for (int i = 0; i < 20; i++) {
        if (i % 2) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        struct meet_job j;
        atomic_init(&j.arrived, 0);
        atomic_init(&j.met, 0);
        ia_pool_run(p, 2, meet_task, &j);
        CHECK_EQ_INT(atomic_load(&j.met), 2);
    }
    ia_pool_destroy(p);
}

struct driver_arg {
    int n_threads;
    int64_t wrong;
    int create_rc;
};

static void *drive_pool(void *arg) {
    struct driver_arg *d = arg;
    struct ia_pool *p;
    d->create_rc = ia_pool_create(d->n_threads, &p);
    if (d->create_rc != IA_OK) return NULL;
    for (int i = 0; i < 300; i++) d->wrong += run_and_count(p, 1 + (i * 37) % 500);
    ia_pool_destroy(p);
    return NULL;
}

/* Several pools busy at once from different threads (more threads than
 * cores, so workers are preempted mid-job). */
static void test_pool_contention(void) {
    enum { N = 4 };
    pthread_t th[N];
    struct driver_arg d[N];
    for (int i = 0; i < N; i++) {
        d[i] = (struct driver_arg){.n_threads = 2 + i};
        REQUIRE(pthread_create(&th[i], NULL, drive_pool, &d[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(d[i].create_rc, IA_OK);
        CHECK_EQ_INT(d[i].wrong, 0);
    }
}

/* ---- allocator failure injection -------------------------------------- */

static void test_alloc_injection(void) {
    ia_alloc_fail_after(0);
    void *m = ia_malloc(16), *c = ia_calloc(4, 4), *r = ia_realloc(NULL, 16);
    char *s = ia_strdup("x");
    ia_alloc_fail_after(-1);
    CHECK(m == NULL && c == NULL && r == NULL && s == NULL);

    ia_alloc_fail_after(2);
    void *a = ia_malloc(8), *b = ia_malloc(8), *x = ia_malloc(8);
    ia_alloc_fail_after(-1);
    CHECK(a != NULL && b != NULL && x == NULL);
    ia_free(a);
    ia_free(b);

    uint64_t before = ia_alloc_count();
    void *ok = ia_malloc(0); /* zero bytes: a real, freeable pointer */
    CHECK(ok != NULL);
    CHECK(ia_alloc_count() == before + 1);
    ia_free(ok);
    CHECK(ia_calloc(SIZE_MAX / 2, 3) == NULL); /* count*size overflow */
    ia_free(NULL);

    size_t out;
    CHECK(ia_mul_size(SIZE_MAX, 2, &out) == -1);
    CHECK(ia_add_size(SIZE_MAX, 1, &out) == -1);
    CHECK(ia_mul_size(1000, 1000, &out) == 0 && out == 1000000);
}

/* Fails the 1st, 2nd, ... allocation inside ia_pool_create until it
 * succeeds: every failure must be IA_ENOMEM, leave *out NULL and leak
 * nothing (ASan's leak check at exit), and no started thread may be left. */
static void test_pool_create_injection(void) {
    int failures = 0, succeeded = 0;
    for (long n = 0; n < 100 && !succeeded; n++) {
        struct ia_pool *p = (struct ia_pool *)&failures; /* must be overwritten */
        ia_alloc_fail_after(n);
        int rc = ia_pool_create(4, &p);
        ia_alloc_fail_after(-1);
        if (rc == IA_OK) {
            succeeded = 1;
            CHECK_EQ_INT(run_and_count(p, 100), 0);
            ia_pool_destroy(p);
        } else {
            failures++;
            CHECK_EQ_INT(rc, IA_ENOMEM);
            CHECK(p == NULL);
            CHECK(strstr(ia_error_msg(), "memory") != NULL);
        }
    }
    CHECK(succeeded);
    CHECK(failures >= 2); /* the pool and its worker table at least */
}

/* ---- status strings and error messages -------------------------------- */

static void test_status_strings(void) {
    for (int rc = IA_STATUS_MIN; rc <= 0; rc++) {
        const char *s = ia_status_str(rc);
        REQUIRE(s != NULL);
        CHECK(s[0] != '\0');
        CHECK(strstr(s, "unknown") == NULL);
        for (int other = IA_STATUS_MIN; other < rc; other++)
            CHECK(strcmp(s, ia_status_str(other)) != 0);
    }
    CHECK_EQ_STR(ia_status_str(IA_OK), "ok");
    CHECK_EQ_STR(ia_status_str(IA_ENOMEM), "out of memory");
    static const int bad[] = {1, 42, IA_STATUS_MIN - 1, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_STR(ia_status_str(bad[i]), "unknown status");
}

static void test_error_messages(void) {
    ia_error_clear();
    CHECK_EQ_STR(ia_error_msg(), "ok");
    CHECK_EQ_INT(ia_error_set(IA_EFORMAT, "%s: bad header at %d", "m.onnx", 12), IA_EFORMAT);
    CHECK_EQ_STR(ia_error_msg(), "m.onnx: bad header at 12");
    CHECK_EQ_INT(ia_error_wrap(IA_EIO, "loading %s", "model"), IA_EIO);
    CHECK_EQ_STR(ia_error_msg(), "loading model: m.onnx: bad header at 12");
    CHECK_EQ_INT(ia_error_wrap(IA_EIO, "bench"), IA_EIO);
    CHECK_EQ_STR(ia_error_msg(), "bench: loading model: m.onnx: bad header at 12");

    /* Wrapping when nothing was set wraps the status name. */
    ia_error_clear();
    ia_error_wrap(IA_ENOTFOUND, "pin rm");
    CHECK_EQ_STR(ia_error_msg(), "pin rm: ok");

    /* Too long: truncated, terminated, the start kept. */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ia_error_set(IA_EINVAL, "%s", big);
    size_t n = strlen(ia_error_msg());
    CHECK(n > 100 && n < sizeof big - 1);
    char prefix[800];
    memset(prefix, 'p', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    ia_error_wrap(IA_EINVAL, "%s", prefix);
    const char *m = ia_error_msg();
    CHECK(strlen(m) <= n);
    CHECK(m[0] == 'p' && strchr(m, ':') != NULL);
    ia_error_clear();
}

static void *other_thread(void *arg) {
    const char **seen = arg;
    *seen = ia_error_msg(); /* this thread's own, untouched buffer */
    return NULL;
}

static void test_error_per_thread(void) {
    ia_error_set(IA_EIO, "main thread message");
    const char *seen = NULL;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, other_thread, &seen) == 0);
    pthread_join(t, NULL);
    CHECK_EQ_STR(seen, "ok");
    CHECK_EQ_STR(ia_error_msg(), "main thread message");
    ia_error_clear();
}

TEST_MAIN(T(test_arena_alignment), T(test_arena_exact_fit_and_overflow),
          T(test_arena_reset_high_water), T(test_arena_init_fails_cleanly),
          T(test_pool_each_task_once), T(test_pool_sizes), T(test_pool_many_small_jobs), T(test_pool_wakes_sleepers),
          T(test_pool_contention), T(test_alloc_injection), T(test_pool_create_injection),
          T(test_status_strings), T(test_error_messages), T(test_error_per_thread))
