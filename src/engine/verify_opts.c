/* What `verify` needs from the engine: the kernel table and shape
 * inference over the declared input shapes (symbolic dims stay unknown, so
 * only shapes the model pins down are checked against each other). */
#include "ia/engine.h"

static int check_shapes(const struct ia_model *m) {
    struct ia_graph *g = NULL;
    int rc = ia_graph_build(m, &m->graph, 0, &g);
    if (rc == IA_OK) rc = ia_graph_resolve_ops(g);
    if (rc == IA_OK) {
        ia_graph_bind_declared(g);
        rc = ia_graph_infer(g);
    }
    ia_graph_free(g);
    return rc;
}

const struct ia_verify_opts *ia_engine_verify_opts(void) {
    static const struct ia_verify_opts opts = {
        .op_supported = ia_kernels_supported,
        .check_shapes = check_shapes,
    };
    return &opts;
}
