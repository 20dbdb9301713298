/* What rnn.c (attributes, shapes, the generic recurrence) and rnn_fast.c
 * (the vectorised, threaded recurrence for the common forms) share.
 * Private to src/kernels/cpu. Shapes and layouts: see rnn.c's header. */
#ifndef IA_KERNELS_RNN_INTERNAL_H
#define IA_KERNELS_RNN_INTERNAL_H

#include <stdint.h>

#include "ia/kernels.h"

enum rnn_kind { RNN_SIMPLE, RNN_GRU, RNN_LSTM };

enum act_kind {
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_AFFINE,
    ACT_LEAKYRELU,
    ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH,
    ACT_HARDSIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS,
};

struct act {
    enum act_kind k;
    float alpha, beta;
};

struct rnn_cfg {
    enum rnn_kind kind;
    int gates;      /* G */
    int n_acts;     /* activations per direction: 1, 2 or 3 */
    int dirs;       /* 1 or 2 */
    int reverse[2]; /* per direction */
    int layout;
    int64_t seq, batch, in, hid;
    int has_clip;
    float clip;
    int input_forget;        /* LSTM */
    int linear_before_reset; /* GRU */
    struct act acts[2][3];
};

static inline int64_t rnn_x_row(const struct rnn_cfg *c, int64_t t, int64_t b) {
    return c->layout ? b * c->seq + t : t * c->batch + b;
}

static inline int64_t rnn_y_off(const struct rnn_cfg *c, int64_t t, int d, int64_t b) {
    return (c->layout ? (b * c->seq + t) * c->dirs + d : (t * c->dirs + d) * c->batch + b) * c->hid;
}

/* The time index that step s of direction d visits for a sequence of length len. */
static inline int64_t rnn_step_time(const struct rnn_cfg *c, int d, int64_t len, int64_t s) {
    return c->reverse[d] ? len - 1 - s : s;
}

/* ---- the fast recurrence (rnn_fast.c) ------------------------------------------------ */

/* 1 when every direction uses the default activations (LSTM Sigmoid/Tanh/
 * Tanh, GRU Sigmoid/Tanh, RNN Tanh); clip, linear_before_reset,
 * peepholes, input_forget, sequence_lens, layouts and directions all are.
 * Everything else runs the generic loop in rnn.c. */
int rnn_fast_supported(const struct rnn_cfg *c);

/* What one direction's recurrence reads and writes. */
struct rnn_fast_dir {
    int d;               /* direction index (Y's dirs axis, reverse or not) */
    const int64_t *lens; /* (batch) steps per batch entry, <= seq */
    int64_t max_len;     /* max of lens */
    const float *R;      /* (G*H, H) this direction's recurrent weights */
    const float *Rp;     /* or NULL: R's full blocks packed by ia_rnn_pack_r, on huge
                          * pages (FusedLSTM's input 10), read instead of R there */
    const float *xw;     /* (seq*batch, G*H): X·W^T + folded biases, X's row order */
    const float *rbh;    /* GRU: (H) Rbh, kept inside r·(...); NULL: zero */
    const float *P;      /* LSTM: (3H) peepholes i, o, f; NULL: none */
    float *h[2];         /* (batch, H) each: h[0] holds initial_h; steps ping-pong */
    float *c;            /* LSTM: (batch, H) cell state, initial_c in, final out */
    float *Y;            /* (Y's shape) or NULL */
    float *work;         /* GRU without linear_before_reset: (2, batch, H): z, r ⊙ h */
};

/* Runs every step of one direction; the final h is h[max_len % 2]. Rows past
 * a batch entry's length keep their state and leave Y alone. */
void rnn_fast_run(const struct rnn_cfg *c, const struct rnn_fast_dir *dir, struct ia_pool *pool);

#endif
