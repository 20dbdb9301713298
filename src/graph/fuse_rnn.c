/* LSTM with constant W -> FusedLSTM (src/kernels/cpu/rnn.c): the input
 * product of all steps runs on W packed here, once per session, instead of
 * packing W in every run, and the two biases (Wb + Rb) are summed here and
 * added as each piece of the product is finished. The node keeps its
 * inputs, attributes, opset and all its outputs (Y, Y_h, Y_c), so every
 * form of the op (directions, layouts, sequence_lens, initial states,
 * activations) computes exactly as LSTM does; only the input product's
 * source of W and the bias add change (float rounding of Wb + Rb aside),
 * and a big R is read from a packed copy on huge pages (add_huge_copy,
 * input 10).
 *
 * Memory: the node is swapped by ia_graph_swap_node_outs (fuse_node.c).
 * The packed W and summed B are `folded` data of new constant values,
 * owned by the graph. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "graph/fuse.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/rnn.h"

#define FLSTM_INPUTS 11

static int const_f32(const struct ia_graph *g, int v, int rank) {
    return ia_graph_is_const_f32(g, v) && g->values[v].t.rank == rank;
}

/* Packs W ([D, GH, I]) per direction into a new constant; *id -1 when this
 * machine has no packed path. */
static int add_packed_w(struct ia_graph *g, int w, int *id) {
    const struct ia_tensor *t = &g->values[w].t;
    int64_t D = t->dims[0], GH = t->dims[1], I = t->dims[2];
    size_t per = ia_rnn_packed_w_floats(I, GH);
    *id = -1;
    if (!per) return IA_OK;
    float *p = ia_calloc((size_t)D * per, sizeof(float));
    if (!p) return ia_error_set(IA_ENOMEM, "out of memory for a packed LSTM W");
    for (int64_t d = 0; d < D; d++) {
        const float *wd = (const float *)t->data + d * GH * I;
        if (ia_sgemm_pack_b(IA_SGEMM_AUTO, 1, I, GH, wd, I, p + (size_t)d * per) != IA_OK) {
            ia_free(p);
            ia_error_clear();
            return IA_OK;
        }
    }
    int64_t n = D * (int64_t)per;
    return ia_graph_add_const_f32(g, w, 1, &n, p, id);
}

/* Wb + Rb of B ([D, 2*GH]) into a new constant [D, GH]. */
static int add_bias_sum(struct ia_graph *g, int b, int *id) {
    const struct ia_tensor *t = &g->values[b].t;
    int64_t D = t->dims[0], GH = t->dims[1] / 2;
    float *p = ia_malloc((size_t)(D * GH) * sizeof(float));
    if (!p) return ia_error_set(IA_ENOMEM, "out of memory for an LSTM bias");
    const float *src = t->data;
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = 0; j < GH; j++)
            p[d * GH + j] = src[d * 2 * GH + j] + src[d * 2 * GH + GH + j];
    int64_t dims[2] = {D, GH};
    return ia_graph_add_const_f32(g, b, 2, dims, p, id);
}

/* R (read whole every time step) packed in the order the recurrence reads
 * it (ia_rnn_pack_r), in memory of its own on transparent huge pages: in
 * 4 KiB pages at scattered physical addresses, a 1 MiB R (hidden 256) maps
 * unevenly onto the sets of a 1 MiB L2, so part of it misses every step
 * even when a thread's share would fit; on one 2 MiB page it spreads
 * evenly, and one sequential stream per block needs no software
 * prefetches (2-layer LSTM workload, against R in place: 4-6% faster for
 * the huge pages, 3-4% for no prefetches, ~3% for the packing). Only for
 * an R of HUGE_MIN bytes or more (the page is 2 MiB resident), and only
 * when the pages are huge once touched: on small ones the recurrence needs
 * its prefetches and reads R in place. The copy starts on a 2 MiB boundary
 * inside an ia_malloc'd block (`folded`, freed by ia_graph_free); t.data
 * points at the copy. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_MIN ((uint64_t)256 << 10)
/* 1 when the mapping holding p is on huge pages throughout (its memory
 * touched): /proc/self/smaps counts all of it as AnonHugePages. 0 when
 * it is not, or that cannot be read (no /proc). The madvise'd range is a
 * mapping of its own (or one merged with another such copy). */
static int on_huge_pages(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[256];
    unsigned long lo = 0, hi = 0, a = (unsigned long)(uintptr_t)p, kb;
    int in_map = 0, yes = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long l, h;
        if (sscanf(line, "%lx-%lx ", &l, &h) == 2) { /* a mapping's first line */
            if (in_map) break;
            in_map = a >= l && a < h;
            lo = l, hi = h;
        } else if (in_map && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
            yes = kb * 1024 >= hi - lo;
            break;
        }
    }
    fclose(f);
    return yes;
}

static int add_huge_copy(struct ia_graph *g, int r, int *id) {
    const struct ia_tensor *t = &g->values[r].t;
    const int64_t D = t->dims[0], H = t->dims[2], G = t->dims[1] / (H ? H : 1);
    const size_t per = ia_rnn_packed_r_floats(G, H);
    const size_t bytes = (size_t)D * per * sizeof(float);
    const size_t span = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    const float *src = t->data;
    if (!per || G * H != t->dims[1]) return IA_OK;
    char *blk = ia_malloc(span + HUGE_PAGE);
    if (!blk) return ia_error_set(IA_ENOMEM, "out of memory for an LSTM R");
    char *al = (char *)(((uintptr_t)blk + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(al, span, MADV_HUGEPAGE); /* a hint: small pages if refused */
#endif
    for (int64_t d = 0; d < D; d++)
        ia_rnn_pack_r(G, H, src + d * G * H * H, (float *)(void *)al + (size_t)d * per);
    /* on small pages the recurrence needs its software prefetches: R as is */
    if (!on_huge_pages(al)) {
        ia_free(blk);
        return IA_OK;
    }
    int64_t n = D * (int64_t)per;
    int rc = ia_graph_add_const_f32(g, r, 1, &n, (float *)(void *)blk, id);
    if (rc == IA_OK) g->values[*id].t.data = al;
    return rc;
}

static int fuse_one(struct ia_graph *g, struct ia_graph_node *nd, const struct ia_op_def *op,
                    size_t *n_fused) {
    const char *dom = nd->src->domain;
    if (nd->folded || nd->n_implicit || (dom[0] && strcmp(dom, "ai.onnx")) ||
        strcmp(nd->src->op_type, "LSTM") || nd->n_in < 3 || nd->n_in > 8)
        return IA_OK;
    int w = nd->in[1], b = nd->n_in > 3 ? nd->in[3] : -1;
    if (w < 0 || !const_f32(g, w, 3)) return IA_OK;
    int in[FLSTM_INPUTS];
    for (size_t k = 0; k < FLSTM_INPUTS; k++) in[k] = k < nd->n_in ? nd->in[k] : -1;
    int rc = add_packed_w(g, w, &in[8]);
    if (rc || in[8] < 0) return rc;
    /* B must be [D, 2*GH] like W's [D, GH, I]: the op checks the rest */
    const struct ia_tensor *wt = &g->values[w].t;
    if (b >= 0 && const_f32(g, b, 2) && g->values[b].t.dims[0] == wt->dims[0] &&
        g->values[b].t.dims[1] == 2 * wt->dims[1] && (rc = add_bias_sum(g, b, &in[9])))
        return rc;
    int r = nd->in[2];
    if (r >= 0 && const_f32(g, r, 3) && g->values[r].t.nbytes >= HUGE_MIN &&
        (rc = add_huge_copy(g, r, &in[10])))
        return rc;
    /* the same outputs, attributes and opset: only the op and inputs change */
    const char *base = nd->src->name;
    for (size_t k = 0; !base[0] && k < nd->n_out; k++)
        if (nd->out[k] >= 0) base = g->values[nd->out[k]].name;
    if ((rc = ia_graph_swap_node_outs(g, nd, op, nd->opset, base, NULL, in, FLSTM_INPUTS, nd->out,
                                      nd->n_out, nd->src->attrs, nd->src->n_attrs)))
        return rc;
    (*n_fused)++;
    return IA_OK;
}

int ia_graph_fuse_rnn(struct ia_graph *g, size_t *n_fused) {
    const struct ia_op_def *op = ia_kernels_find("ai.ia.fused", "FusedLSTM", 1);
    if (!op) return IA_OK; /* a build without the fused kernels: leave the graph */
    int rc = IA_OK;
    for (size_t i = 0; rc == IA_OK && i < g->n_nodes; i++)
        rc = fuse_one(g, &g->nodes[i], op, n_fused);
    return rc;
}
