/* The recurrence of RNN, GRU and LSTM with their default activations: the
 * part of a recurrent layer that cannot be batched over time, so it runs
 * once per step and is bound by reading R.
 *
 * Hidden units go in blocks of 16. For each block, each gate g's 16
 * pre-activations are dot products of h with 16 consecutive rows of R
 * (rows g*H + 16b .. +16, contiguous in k), read in place: 16 vector
 * accumulators, then one transposing reduction into a vector of 16 sums, so
 * R needs no repacking per run and is read front to back. FusedLSTM
 * (src/graph/fuse_rnn.c) packs R once per session instead, on huge pages,
 * in the exact order these loads read it (ia_rnn_pack_r). The gate math
 * runs on those vectors while they are in registers. For H = 256, G = 4, R
 * is 1 MiB, one core's L2: with two threads each takes half of the blocks
 * (its "part") for the whole run, so its 512 KiB of R stays in its own L2
 * across steps. Steps alternate the block order within a part, so the
 * blocks a step touches last (still cached) are the next step's first.
 *
 * Threads: one pool job runs the whole recurrence; there is no pool wake-up
 * per step. Work goes in phases (one per time step; two for a GRU without
 * linear_before_reset, whose h-gate product needs all of r ⊙ h first), each
 * a set of blocks; a thread claims the blocks of its own part, then any left
 * in other parts (so a thread the OS has not scheduled yet never stalls the
 * others: its part is done by whoever is there), then waits until every
 * block of the phase is done. Waiting is only ever for blocks some thread
 * has claimed and is running, so nothing can deadlock. Counters are
 * per-part, on their own cache lines, and count across phases: part p's
 * phase q owns claim numbers [q*n_p, (q+1)*n_p).
 *
 * The products use AVX-512 FMAs where the CPU has them and a plain C loop
 * (cloned for AVX2) elsewhere; the gate math uses fused_math.h's sigmoid
 * and tanh (relative error under 1e-6 against libm). */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "fused_math.h"
#include "gemm.h"
#include "rnn.h"
#include "rnn_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define BLK 16
#define MAX_PARTS 16
/* Below this many multiply-adds per step a second thread's hand-offs cost
 * more than its share of the product. */
#define MIN_MACS_PER_PART 4096

int rnn_fast_supported(const struct rnn_cfg *c) {
    if (c->hid <= 0) return 0;
    for (int d = 0; d < c->dirs; d++) {
        const struct act *a = c->acts[d];
        int ok = c->kind == RNN_SIMPLE ? a[0].k == ACT_TANH
                 : c->kind == RNN_GRU
                     ? a[0].k == ACT_SIGMOID && a[1].k == ACT_TANH
                     : a[0].k == ACT_SIGMOID && a[1].k == ACT_TANH && a[2].k == ACT_TANH;
        if (!ok) return 0;
    }
    return 1;
}

static int64_t n_blocks(int64_t H) { return (H + BLK - 1) / BLK; }

/* ---- the per-block product: acc[g*16 + l] = dot(h, R row g*H + u0 + l) ------------- */

#ifdef HAVE_X86
/* 16 rows dotted with h over K: acc[l]. Rows in place (packed = 0): row l
 * at r + l*ldr, with software prefetches of the rows that come next
 * (`next`, pf = 1). Packed (ia_rnn_pack_r, ldr = K rounded up to 16): the
 * block is read front to back, one stream the hardware prefetchers follow
 * alone (it is on huge pages, rnn_fast_dir.Rp), so no software prefetches
 * (pf = 0), which would only take load slots. */
__attribute__((target("avx512f,fma"))) static inline __attribute__((always_inline)) void
dot16_body(int64_t K, const float *h, const float *r, int64_t ldr, const float *next, float *acc,
           const int pf, const int packed) {
    __m512 a[16];
    /* two passes of 8 rows: 16 row pointers would not fit in registers */
    for (int half = 0; half < 2; half++) {
        const float *rh = r + half * 8 * ldr;
        /* each pass asks for the next pass's rows, line for line */
        const char *pfp = (const char *)(half ? next : r + 8 * ldr);
        __m512 s[8];
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) s[l] = _mm512_setzero_ps();
        int64_t k = 0;
        for (; k + 16 <= K; k += 16) {
            __m512 hv = _mm512_loadu_ps(h + k);
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) {
                if (pf) _mm_prefetch(pfp + (l * ldr + k) * (int64_t)sizeof(float), _MM_HINT_T0);
                s[l] = _mm512_fmadd_ps(
                    _mm512_loadu_ps(packed ? rh + k * 8 + l * 16 : rh + l * ldr + k), hv, s[l]);
            }
        }
        if (k < K) {
            __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);
            __m512 hv = _mm512_maskz_loadu_ps(m, h + k);
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++)
                s[l] = _mm512_fmadd_ps(
                    _mm512_maskz_loadu_ps(m, packed ? rh + k * 8 + l * 16 : rh + l * ldr + k), hv,
                    s[l]);
        }
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) a[half * 8 + l] = s[l];
    }
    /* Transposing reduction: each level halves the vectors and doubles the
     * rows per vector. 256-bit halves: lanes 0-7 row i, 8-15 row i+8. */
    __m512 x[8], y[4], z[2];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[i], a[i + 8], 0x44),
                             _mm512_shuffle_f32x4(a[i], a[i + 8], 0xee));
        /* 128-bit lanes: rows i, i+8, i+4, i+12 */
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        y[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[i], x[i + 4], 0x88),
                             _mm512_shuffle_f32x4(x[i], x[i + 4], 0xdd));
        /* pairs within 128-bit lanes: y[i]'s row, then y[i+2]'s */
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
        z[i] = _mm512_add_ps(_mm512_shuffle_ps(y[i], y[i + 2], 0x44),
                             _mm512_shuffle_ps(y[i], y[i + 2], 0xee));
    /* one sum per lane, rows in the order 0,2,1,3, 8,10,9,11, 4,6,5,7, 12,14,13,15 */
    __m512 s =
        _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xdd));
    const __m512i order = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
    _mm512_storeu_ps(acc, _mm512_permutexvar_ps(order, s));
}

__attribute__((target("avx512f,fma"))) static void dot16_avx512(int64_t K, const float *h,
                                                                const float *r, int64_t ldr,
                                                                const float *next, float *acc) {
    dot16_body(K, h, r, ldr, next, acc, 1, 0);
}

/* The same over a block packed by ia_rnn_pack_r (kp: K rounded up to 16). */
__attribute__((target("avx512f,fma"))) static void
dot16_avx512_packed(int64_t K, const float *h, const float *rp, int64_t kp, float *acc) {
    dot16_body(K, h, rp, kp, rp, acc, 0, 1);
}
#endif

/* The reference form of the same products, for n <= 16 rows; cloned so AVX2
 * machines get 8-wide loops (this file is built for baseline x86-64). */
__attribute__((target_clones("arch=haswell", "default"))) static void
dot_rows_plain(int64_t n, int64_t K, const float *h, const float *r, int64_t ldr, float *acc) {
    for (int64_t l = 0; l < BLK; l++) {
        float sum = 0.0f;
        if (l < n)
            for (int64_t k = 0; k < K; k++) sum += h[k] * r[l * ldr + k];
        acc[l] = sum;
    }
}

/* ---- gate math on one block of 16 units (cloned: AVX-512, AVX2, baseline) ----------- */

#define LD(v, p) memcpy(&(v), (p), sizeof(v16f))
#define ST(p, v) memcpy((p), &(v), sizeof(v16f))

static inline __attribute__((always_inline)) void v_clip(v16f *x, float clip) {
    if (clip <= 0.0f) return;
    v16f v = *x, zero = {0};
    v = VSEL(v < -clip, zero - clip, v);
    *x = VSEL(v > clip, zero + clip, v);
}

/* x[g], peep[0..3) (i, o, f; NULL: none), c and h: 16 floats each. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
lstm_gates(const float *acc, const float *const *x, const float *const *peep, float clip,
           int input_forget, float *c, float *h) {
    v16f gi, go, gf, gc, t, cv;
    LD(gi, acc), LD(go, acc + BLK), LD(gf, acc + 2 * BLK), LD(gc, acc + 3 * BLK);
    LD(t, x[0]), gi += t;
    LD(t, x[1]), go += t;
    LD(t, x[2]), gf += t;
    LD(t, x[3]), gc += t;
    LD(cv, c);
    if (peep) {
        LD(t, peep[0]), gi += t * cv;
        LD(t, peep[2]), gf += t * cv;
    }
    v_clip(&gi, clip), v_clip(&gf, clip), v_clip(&gc, clip);
    v_sigmoid(&gi);
    if (input_forget)
        gf = 1.0f - gi;
    else
        v_sigmoid(&gf);
    v_tanh(&gc);
    cv = gf * cv + gi * gc;
    if (peep) LD(t, peep[1]), go += t * cv;
    v_clip(&go, clip);
    v_sigmoid(&go);
    ST(c, cv);
    v_tanh(&cv);
    cv *= go;
    ST(h, cv);
}

/* GRU, linear_before_reset: hh = tanh(xh + r * (h_prev·Rh^T + Rbh)). */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
gru_gates(const float *acc, const float *const *x, const float *rbh, float clip, const float *hprev,
          float *h) {
    v16f z, r, hh, t, hp;
    LD(z, acc), LD(r, acc + BLK), LD(hh, acc + 2 * BLK);
    LD(t, x[0]), z += t;
    LD(t, x[1]), r += t;
    v_clip(&z, clip), v_clip(&r, clip);
    v_sigmoid(&z), v_sigmoid(&r);
    LD(t, rbh), hh += t;
    LD(t, x[2]), hh = t + r * hh;
    v_clip(&hh, clip);
    v_tanh(&hh);
    LD(hp, hprev);
    hh = (1.0f - z) * hh + z * hp;
    ST(h, hh);
}

/* GRU without linear_before_reset, first half of a step: z and r ⊙ h_prev. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
gru0_zr(const float *acc, const float *const *x, float clip, const float *hprev, float *z_out,
        float *rh_out) {
    v16f z, r, t;
    LD(z, acc), LD(r, acc + BLK);
    LD(t, x[0]), z += t;
    LD(t, x[1]), r += t;
    v_clip(&z, clip), v_clip(&r, clip);
    v_sigmoid(&z), v_sigmoid(&r);
    ST(z_out, z);
    LD(t, hprev), r *= t;
    ST(rh_out, r);
}

/* ... second half: hh = tanh(xh + (r ⊙ h_prev)·Rh^T), h = (1 - z) hh + z h_prev. */
__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
gru0_h(const float *acc, const float *xh, float clip, const float *z, const float *hprev,
       float *h) {
    v16f hh, t, zv, hp;
    LD(hh, acc), LD(t, xh), hh += t;
    v_clip(&hh, clip);
    v_tanh(&hh);
    LD(zv, z), LD(hp, hprev);
    hh = (1.0f - zv) * hh + zv * hp;
    ST(h, hh);
}

__attribute__((target_clones("avx512f", "arch=haswell", "default"))) static void
rnn_gates(const float *acc, const float *x, float clip, float *h) {
    v16f a, t;
    LD(a, acc), LD(t, x), a += t;
    v_clip(&a, clip);
    v_tanh(&a);
    ST(h, a);
}

/* ---- one block of units, every batch row -------------------------------------------- */

/* Separate lines: the owner's claims stay in its own cache while the other
 * threads poll `done`, which each thread bumps once per part per phase. */
struct part_ctr {
    _Alignas(64) atomic_int_fast64_t claimed; /* claim numbers handed out, all phases */
    _Alignas(64) atomic_int_fast64_t done;    /* blocks finished, all phases */
};

struct step_job {
    const struct rnn_cfg *c;
    const struct rnn_fast_dir *dir;
    int two_phase; /* GRU without linear_before_reset: r ⊙ h must be whole first */
    int64_t n_blk, n_phases;
    int n_parts;
    int avx512;
    int max_pending; /* blocks whose gate math may wait (run_part); 0: none */
    struct part_ctr parts[MAX_PARTS];
};

/* Part p's blocks are [part_start(p), part_start(p + 1)); n_parts <= n_blk,
 * so none is empty. */
static int64_t part_start(const struct step_job *j, int p) {
    return (int64_t)p * j->n_blk / j->n_parts;
}
static int64_t part_size(const struct step_job *j, int p) {
    return part_start(j, p + 1) - part_start(j, p);
}

/* Copies n (<= 16) floats into a zero-padded 16-float buffer. */
static const float *pad16(float *buf, const float *src, int64_t n) {
    if (n == BLK) return src;
    memset(buf, 0, BLK * sizeof *buf);
    if (src) memcpy(buf, src, (size_t)n * sizeof *buf);
    return buf;
}

/* acc[(g - g0)*16 + l] = dot(v, R row g*H + 16*blk + l) for g0 <= g < g1;
 * next_blk (-1: none) is the block whose rows of gate g0 come next. */
static void block_dots(const struct step_job *j, const float *v, int64_t g0, int64_t g1,
                       int64_t blk, int64_t next_blk, float *acc) {
    const int64_t H = j->c->hid, u0 = blk * BLK, n = H - u0 < BLK ? H - u0 : BLK;
    const float *R = j->dir->R;
    for (int64_t g = g0; g < g1; g++) {
        const float *r = R + (g * H + u0) * H;
        float *a = acc + (g - g0) * BLK;
#ifdef HAVE_X86
        if (j->avx512 && n == BLK && j->dir->Rp) {
            const int64_t kp = (H + 15) / 16 * 16;
            dot16_avx512_packed(H, v, j->dir->Rp + (blk * j->c->gates + g) * BLK * kp, kp, a);
            continue;
        }
        if (j->avx512 && n == BLK) {
            /* prefetch the next gate's rows, after the last the next block's */
            const float *next = g + 1 < g1      ? r + H * H
                                : next_blk >= 0 ? R + (g0 * H + next_blk * BLK) * H
                                                : r;
            dot16_avx512(H, v, r, H, next, a);
            continue;
        }
#endif
        dot_rows_plain(n, H, v, r, H, a);
    }
}

/* GRU without linear_before_reset: sub 0 of step s computes block blk's z
 * and r ⊙ h_prev (into dir->work), sub 1 its new h from the whole r ⊙ h_prev. */
static void gru0_block(const struct step_job *j, int64_t s, int sub, int64_t blk,
                       int64_t next_blk) {
    const struct rnn_cfg *c = j->c;
    const struct rnn_fast_dir *dr = j->dir;
    const int64_t H = c->hid, GH = 3 * H, N = c->batch, u0 = blk * BLK;
    const int64_t n = H - u0 < BLK ? H - u0 : BLK;
    const float clip = c->has_clip ? c->clip : 0.0f;
    const float *hp = dr->h[s & 1];
    float *hn = dr->h[(s + 1) & 1];
    float acc[2 * BLK], pads[4][BLK], zo[BLK], rho[BLK], hout[BLK];
    for (int64_t b = 0; b < N; b++) {
        if (s >= dr->lens[b]) {
            if (sub) memcpy(hn + b * H + u0, hp + b * H + u0, (size_t)n * sizeof *hn);
            continue;
        }
        int64_t t = rnn_step_time(c, dr->d, dr->lens[b], s);
        const float *xw = dr->xw + rnn_x_row(c, t, b) * GH + u0;
        const float *hprev = pad16(pads[0], hp + b * H + u0, n);
        float *z = dr->work + b * H + u0, *rh = dr->work + (N + b) * H + u0;
        int64_t nb = b + 1 < N ? blk : next_blk;
        if (sub == 0) {
            block_dots(j, hp + b * H, 0, 2, blk, nb, acc);
            const float *x[2] = {pad16(pads[1], xw, n), pad16(pads[2], xw + H, n)};
            gru0_zr(acc, x, clip, hprev, zo, rho);
            memcpy(z, zo, (size_t)n * sizeof *z);
            memcpy(rh, rho, (size_t)n * sizeof *rh);
        } else {
            block_dots(j, dr->work + (N + b) * H, 2, 3, blk, nb, acc);
            gru0_h(acc, pad16(pads[1], xw + 2 * H, n), clip, pad16(pads[2], z, n), hprev, hout);
            memcpy(hn + b * H + u0, hout, (size_t)n * sizeof *hn);
            if (dr->Y) memcpy(dr->Y + rnn_y_off(c, t, dr->d, b) + u0, hout, (size_t)n * sizeof *hn);
        }
    }
}

/* The products of block blk of step s for batch row b: acc (G*16 floats);
 * nothing for a row past its length. next_blk: see block_dots. */
static void step_dots(const struct step_job *j, int64_t s, int64_t blk, int64_t b, int64_t next_blk,
                      float *acc) {
    const struct rnn_cfg *c = j->c;
    const struct rnn_fast_dir *dr = j->dir;
    const int64_t H = c->hid, G = c->gates;
    if (s >= dr->lens[b]) return;
    /* The gates' share of xw was written before the recurrence and has
     * likely left L2 since (R fills it): ask for it while the products run. */
    int64_t t = rnn_step_time(c, dr->d, dr->lens[b], s);
    const float *xw = dr->xw + rnn_x_row(c, t, b) * G * H + blk * BLK;
    for (int64_t g = 0; g < G; g++) __builtin_prefetch(xw + g * H);
    block_dots(j, dr->h[s & 1] + b * H, 0, G, blk, next_blk, acc);
}

/* The gate math of block blk of step s for batch row b, from step_dots' acc:
 * the new h (and c), Y; a row past its length keeps its h. */
static void step_gates(const struct step_job *j, int64_t s, int64_t blk, int64_t b,
                       const float *acc) {
    const struct rnn_cfg *c = j->c;
    const struct rnn_fast_dir *dr = j->dir;
    const int64_t H = c->hid, G = c->gates, GH = G * H, u0 = blk * BLK;
    const int64_t n = H - u0 < BLK ? H - u0 : BLK;
    const float clip = c->has_clip ? c->clip : 0.0f;
    const float *hp = dr->h[s & 1];
    float *hn = dr->h[(s + 1) & 1];
    float hout[BLK], cbuf[BLK], pads[8][BLK], zero[BLK] = {0};
    if (s >= dr->lens[b]) {
        memcpy(hn + b * H + u0, hp + b * H + u0, (size_t)n * sizeof *hn);
        return;
    }
    int64_t t = rnn_step_time(c, dr->d, dr->lens[b], s);
    const float *xw = dr->xw + rnn_x_row(c, t, b) * GH + u0;
    const float *x[4];
    for (int64_t g = 0; g < G; g++) x[g] = pad16(pads[g], xw + g * H, n);
    float *h = n == BLK ? hn + b * H + u0 : hout;
    if (c->kind == RNN_LSTM) {
        const float *peep[3];
        if (dr->P)
            for (int q = 0; q < 3; q++) peep[q] = pad16(pads[4 + q], dr->P + q * H + u0, n);
        float *cs = dr->c + b * H + u0, *cv = cs;
        if (n < BLK) {
            memset(cbuf, 0, sizeof cbuf);
            memcpy(cbuf, cs, (size_t)n * sizeof *cs);
            cv = cbuf;
        }
        lstm_gates(acc, x, dr->P ? peep : NULL, clip, c->input_forget, cv, h);
        if (cv != cs) memcpy(cs, cv, (size_t)n * sizeof *cs);
    } else if (c->kind == RNN_GRU) {
        const float *rbh = dr->rbh ? pad16(pads[4], dr->rbh + u0, n) : zero;
        const float *hprev = pad16(pads[5], hp + b * H + u0, n);
        gru_gates(acc, x, rbh, clip, hprev, h);
    } else {
        rnn_gates(acc, x[0], clip, h);
    }
    if (h == hout) memcpy(hn + b * H + u0, hout, (size_t)n * sizeof *hn);
    if (dr->Y)
        memcpy(dr->Y + rnn_y_off(c, t, dr->d, b) + u0, hn + b * H + u0, (size_t)n * sizeof *hn);
}

/* The gate math is a long dependent chain per block; run back to back for
 * several blocks, the chains overlap. Blocks wait for their gates while
 * their products take at most this many floats (run_part's stack): */
#define PENDING_FLOATS 2048
#define MAX_PENDING 8

/* Runs n pending blocks' gate math; batch row b of pending block i has its
 * products at acc + (i*batch + b)*G*16. */
static void flush_gates(const struct step_job *j, int64_t s, const int64_t *blks, int n,
                        const float *acc) {
    const int64_t N = j->c->batch, GB = j->c->gates * BLK;
    for (int i = 0; i < n; i++)
        for (int64_t b = 0; b < N; b++) step_gates(j, s, blks[i], b, acc + (i * N + b) * GB);
}

/* ---- the phase loop ------------------------------------------------------------------ */

static int64_t current_phase(struct step_job *j) {
    int64_t q = INT64_MAX;
    for (int p = 0; p < j->n_parts; p++) {
        int64_t qp = atomic_load(&j->parts[p].done) / part_size(j, p);
        q = qp < q ? qp : q;
    }
    return q;
}

static void wait_phase(struct step_job *j, int64_t q) {
    for (int p = 0; p < j->n_parts; p++) {
        int64_t want = (q + 1) * part_size(j, p);
        for (int spins = 0; atomic_load(&j->parts[p].done) < want; spins++) {
#ifdef HAVE_X86
            _mm_pause();
#endif
            /* the other thread may have lost its core (a busy machine) */
            if (spins > 2000) sched_yield();
        }
    }
}

/* Claims and runs the unclaimed blocks of part p in phase q. The gate
 * math of up to max_pending blocks waits until their products are done
 * (flush_gates); `done` counts blocks whose gates are done. */
static void run_part(struct step_job *j, int p, int64_t q) {
    const int64_t np = part_size(j, p), first = part_start(j, p), end = (q + 1) * np;
    const int64_t N = j->c->batch, GB = j->c->gates * BLK;
    struct part_ctr *pc = &j->parts[p];
    float acc[PENDING_FLOATS];
    int64_t pend[MAX_PENDING];
    int n_pend = 0;
    int64_t v = atomic_load(&pc->claimed), ran = 0;
    while (v < end) {
        if (!atomic_compare_exchange_weak(&pc->claimed, &v, v + 1)) continue;
        int64_t i = v - q * np, nb = i + 1 < np ? first + (q & 1 ? np - 2 - i : i + 1) : -1;
        int64_t blk = first + (q & 1 ? np - 1 - i : i);
        if (j->two_phase) {
            gru0_block(j, q >> 1, (int)(q & 1), blk, nb);
        } else if (j->max_pending > 0) {
            for (int64_t b = 0; b < N; b++)
                step_dots(j, q, blk, b, b + 1 < N ? blk : nb, acc + (n_pend * N + b) * GB);
            pend[n_pend++] = blk;
            if (n_pend == j->max_pending) flush_gates(j, q, pend, n_pend, acc), n_pend = 0;
        } else {
            /* a batch too big for acc: one row at a time */
            for (int64_t b = 0; b < N; b++) {
                step_dots(j, q, blk, b, b + 1 < N ? blk : nb, acc);
                step_gates(j, q, blk, b, acc);
            }
        }
        ran++;
        v = atomic_load(&pc->claimed);
    }
    if (n_pend) flush_gates(j, q, pend, n_pend, acc);
    if (ran) atomic_fetch_add(&pc->done, ran);
}

static void phase_task(void *vj, int64_t task, int thread) {
    (void)thread;
    struct step_job *j = vj;
    for (;;) {
        int64_t q = current_phase(j);
        if (q >= j->n_phases) return;
        for (int i = 0; i < j->n_parts; i++) run_part(j, (int)((task + i) % j->n_parts), q);
        wait_phase(j, q);
    }
}

void rnn_fast_run(const struct rnn_cfg *c, const struct rnn_fast_dir *dir, struct ia_pool *pool) {
    struct step_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.dir = dir;
    j.n_blk = n_blocks(c->hid);
    j.two_phase = c->kind == RNN_GRU && !c->linear_before_reset;
    j.n_phases = dir->max_len << j.two_phase;
    j.avx512 = ia_sgemm_path_available(IA_SGEMM_AVX512);
    j.max_pending = (int)(PENDING_FLOATS / (c->batch * c->gates * BLK));
    if (j.max_pending > MAX_PENDING) j.max_pending = MAX_PENDING;
    int64_t macs = c->batch * c->gates * c->hid * c->hid;
    int64_t parts = pool ? ia_pool_size(pool) : 1;
    if (parts > j.n_blk) parts = j.n_blk;
    if (parts > MAX_PARTS) parts = MAX_PARTS;
    while (parts > 1 && macs / parts < MIN_MACS_PER_PART) parts--;
    j.n_parts = (int)parts;
    for (int p = 0; p < j.n_parts; p++) {
        atomic_init(&j.parts[p].claimed, 0);
        atomic_init(&j.parts[p].done, 0);
    }
    if (j.n_parts > 1)
        ia_pool_run(pool, j.n_parts, phase_task, &j);
    else
        phase_task(&j, 0, 0);
}

/* Full blocks only (a tail block reads R in place). Block b, gate g:
 * 16 rows x kp at ((b*G + g)*16)*kp, as two halves of 8 rows, each half
 * k-chunk by k-chunk: 16 floats of row 0, of row 1, ... of row 7. */
size_t ia_rnn_packed_r_floats(int64_t G, int64_t H) {
    return (size_t)((H / BLK) * G * BLK * ((H + 15) / 16 * 16));
}

void ia_rnn_pack_r(int64_t G, int64_t H, const float *R, float *dst) {
    const int64_t kp = (H + 15) / 16 * 16;
    for (int64_t blk = 0; blk < H / BLK; blk++)
        for (int64_t g = 0; g < G; g++)
            for (int64_t half = 0; half < 2; half++) {
                float *d = dst + ((blk * G + g) * BLK + half * 8) * kp;
                for (int64_t k = 0; k < kp; k += 16)
                    for (int64_t l = 0; l < 8; l++)
                        for (int64_t e = 0; e < 16; e++) {
                            const int64_t row = g * H + blk * BLK + half * 8 + l;
                            d[k * 8 + l * 16 + e] = k + e < H ? R[row * H + k + e] : 0.0f;
                        }
            }
}
