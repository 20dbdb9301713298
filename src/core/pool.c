/* Persistent thread pool for parallel-for jobs.
 *
 * Workers wait for the job generation to change (a short spin, then
 * sleeping on `wake`), then claim task indices until none remain. The
 * caller works too, then waits (spin, then `done`) until every task has
 * finished -- not until every worker has looked at the job: on a busy
 * machine a worker may not be scheduled for milliseconds, and a job whose
 * tasks are all done must not wait for it.
 *
 * So that a worker that wakes late can never run a task of a newer job
 * with an older job's function, `next` holds the generation in its top 24
 * bits and the next task index below; a claim is a compare-and-swap that
 * fails once the generation moved on.
 *
 * Publishing a job takes no lock: its fields go in slot (generation & 1)
 * before the generation is bumped, and `mu` is taken only to wake workers
 * that went to sleep. (Taking `mu` for every job made a worker that saw the
 * new generation while spinning block on the caller's lock and wait for a
 * futex wake-up: 2-4% of a two-thread ViT run, perf record.) A slot is
 * rewritten only two generations on, when `next` already carries a newer
 * tag, so a worker that reads a half-rewritten slot can claim nothing. */
#include "ia/core.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#define GEN_SHIFT 40
#define IDX_MASK ((UINT64_C(1) << GEN_SHIFT) - 1)
#define GEN_MASK ((UINT64_C(1) << (64 - GEN_SHIFT)) - 1)
/* How long a thread spins (pause) before it sleeps: a worker waiting for
 * the next job, the caller waiting for the last task. An inference runs
 * ~180 jobs (ViT-base); with a 56 us spin nearly every one ended in a
 * sleep and a futex wake (~3 futex calls a job, perf stat), each costing
 * a wake-up latency on the critical path. Two milliseconds covers the
 * gaps between the jobs of one inference and the uneven ends of GEMM
 * jobs; a pool left idle longer sleeps. */
#define SPIN_SECONDS 2e-3

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin budget of one wait: `while (!ready && spin_on(&s))` pauses until
 * ready or until SPIN_SECONDS have passed (the clock is read every 64
 * pauses). */
struct spin {
    unsigned i;
    double t0;
};

static int spin_on(struct spin *s) {
    if ((s->i++ & 63) == 0) {
        double t = ia_time_now();
        if (s->i == 1)
            s->t0 = t;
        else if (t - s->t0 > SPIN_SECONDS)
            return 0;
    }
    cpu_relax();
    return 1;
}

struct pool_job {
    _Atomic(ia_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int_fast64_t n_tasks;
};

struct ia_pool {
    int n_threads; /* including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_uint_fast64_t generation; /* bumped for each job */
    atomic_int sleepers;             /* workers in (or entering) wait on `wake` */
    int stopping;                    /* guarded by mu */
    int waiting;                     /* the caller sleeps on `done`; guarded by mu */
    struct pool_job jobs[2];         /* job g is in jobs[g & 1] */
    atomic_uint_fast64_t next;       /* (generation << GEN_SHIFT) | next index */
    atomic_int_fast64_t n_done;      /* tasks of the current job finished */
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

/* Claims and runs tasks of job generation `gen` (n tasks) until none are
 * left or the generation moved on. */
static void run_tasks(struct ia_pool *p, uint64_t gen, ia_task_fn fn, void *ctx, int64_t n,
                      int thread_index) {
    uint64_t tag = (gen & GEN_MASK) << GEN_SHIFT;
    uint64_t v = atomic_load(&p->next);
    for (;;) {
        if ((v & ~IDX_MASK) != tag || (int64_t)(v & IDX_MASK) >= n) return;
        if (!atomic_compare_exchange_weak(&p->next, &v, v + 1)) continue; /* v reloaded */
        fn(ctx, (int64_t)(v & IDX_MASK), thread_index);
        if (atomic_fetch_add(&p->n_done, 1) + 1 == n) {
            pthread_mutex_lock(&p->mu);
            if (p->waiting) pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
        v = atomic_load(&p->next);
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
    for (;;) {
        struct spin sp = {0, 0};
        while (atomic_load(&p->generation) == seen && spin_on(&sp)) continue;
        if (atomic_load(&p->generation) == seen) {
            /* sleepers is raised before the generation is read again and
             * the caller bumps the generation before reading sleepers
             * (both seq_cst): one of the two sees the other */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (!p->stopping && atomic_load(&p->generation) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            int stop = p->stopping;
            pthread_mutex_unlock(&p->mu);
            if (stop) break;
        }
        seen = atomic_load(&p->generation);
        const struct pool_job *jb = &p->jobs[seen & 1];
        run_tasks(p, seen, atomic_load(&jb->fn), atomic_load(&jb->ctx), atomic_load(&jb->n_tasks),
                  index);
    }
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
    if (!p || p->n_threads == 1 || n_tasks == 1 || (uint64_t)n_tasks > IDX_MASK) {
        for (int64_t i = 0; i < n_tasks; i++) fn(ctx, i, 0);
        return;
    }
    uint64_t gen = atomic_load(&p->generation) + 1;
    struct pool_job *jb = &p->jobs[gen & 1];
    atomic_store(&jb->fn, fn);
    atomic_store(&jb->ctx, ctx);
    atomic_store(&jb->n_tasks, n_tasks);
    atomic_store(&p->n_done, 0);
    atomic_store(&p->next, (gen & GEN_MASK) << GEN_SHIFT);
    atomic_store(&p->generation, gen);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }

    run_tasks(p, gen, fn, ctx, n_tasks, 0);

    struct spin sp = {0, 0};
    while (atomic_load(&p->n_done) < n_tasks && spin_on(&sp)) continue;
    if (atomic_load(&p->n_done) < n_tasks) {
        pthread_mutex_lock(&p->mu);
        p->waiting = 1;
        while (atomic_load(&p->n_done) < n_tasks) pthread_cond_wait(&p->done, &p->mu);
        p->waiting = 0;
        pthread_mutex_unlock(&p->mu);
    }
}
