/* Persistent thread pool for parallel-for jobs.
 *
 * Workers sleep on `wake` until the job generation changes, then grab task
 * indices from an atomic counter until none remain. The caller works too,
 * then waits on `done` until every worker has left the job. One mutex
 * guards generation, job fields and the active-worker count. */
#include "ia/core.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

struct ia_pool {
    int n_threads; /* including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation; /* bumped for each job; guarded by mu */
    int active;          /* workers still inside the current job */
    int stopping;
    /* current job */
    ia_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    atomic_int_fast64_t next;
};

int ia_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void run_tasks(struct ia_pool *p, int thread_index) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_tasks) break;
        p->fn(p->ctx, i, thread_index);
    }
}

struct worker_arg {
    struct ia_pool *pool;
    int index;
};

static void *worker_main(void *arg) {
    struct ia_pool *p = ((struct worker_arg *)arg)->pool;
    int index = ((struct worker_arg *)arg)->index;
    ia_free(arg);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stopping) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, index);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int ia_pool_create(int n_threads, struct ia_pool **out) {
    *out = NULL;
    if (n_threads <= 0) n_threads = ia_cpu_count();
    if (n_threads > 1024) return ia_error_set(IA_ERANGE, "thread pool: %d threads is too many", n_threads);
    struct ia_pool *p = ia_calloc(1, sizeof *p);
    if (!p) return ia_error_set(IA_ENOMEM, "thread pool: out of memory");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->workers = ia_calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            p->n_threads = 1; /* no worker started: destroy must join none */
            goto fail_nomem;
        }
    }
    for (int i = 1; i < n_threads; i++) {
        struct worker_arg *wa = ia_malloc(sizeof *wa);
        if (!wa) {
            p->n_threads = i;
            goto fail_nomem;
        }
        wa->pool = p;
        wa->index = i;
        if (pthread_create(&p->workers[i - 1], NULL, worker_main, wa) != 0) {
            ia_free(wa);
            p->n_threads = i;
            ia_pool_destroy(p);
            return ia_error_set(IA_EIO, "thread pool: cannot start thread %d", i);
        }
    }
    *out = p;
    return IA_OK;
fail_nomem:
    ia_pool_destroy(p);
    return ia_error_set(IA_ENOMEM, "thread pool: out of memory");
}

void ia_pool_destroy(struct ia_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->workers[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    ia_free(p->workers);
    ia_free(p);
}

int ia_pool_size(const struct ia_pool *p) { return p ? p->n_threads : 1; }

void ia_pool_run(struct ia_pool *p, int64_t n_tasks, ia_task_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
    if (!p || p->n_threads == 1 || n_tasks == 1) {
        for (int64_t i = 0; i < n_tasks; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->active = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_tasks(p, 0);

    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
