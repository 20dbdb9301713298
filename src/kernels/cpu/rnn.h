/* RNN, GRU and LSTM kernels (rnn.c): the entry point tests use to compare
 * the fast recurrence (rnn_fast.c) with the generic one. Private to
 * src/kernels/cpu and the unit tests. */
#ifndef IA_KERNELS_RNN_H
#define IA_KERNELS_RNN_H

#include <stddef.h>
#include <stdint.h>

#include "ia/kernels.h"

/* The op's compute (by ctx->node->op_type: "LSTM", "GRU", else RNN) with
 * the fast recurrence allowed where it applies (allow_fast = 1, what the
 * op table runs) or never (0: the generic loop, the reference). */
int ia_rnn_compute_path(struct ia_op_ctx *ctx, int allow_fast);

/* Floats of one direction's slice of FusedLSTM's packed W (input 8) for
 * `in` inputs and gh = 4 * hidden_size outputs: W^T packed by
 * ia_sgemm_pack_b(IA_SGEMM_AUTO, transB = 1, ...), padded to 16 floats;
 * 0 when this machine has no packed GEMM path. */
size_t ia_rnn_packed_w_floats(int64_t in, int64_t gh);

/* One direction's R ([G*H, H]) in the order the AVX-512 recurrence reads
 * it (rnn_fast.c): ia_rnn_packed_r_floats(G, H) floats at dst. */
size_t ia_rnn_packed_r_floats(int64_t G, int64_t H);
void ia_rnn_pack_r(int64_t G, int64_t H, const float *R, float *dst);

#endif
