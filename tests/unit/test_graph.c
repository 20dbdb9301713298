/* Graph IR and passes: ids and zero-copy initializers, topological sort and
 * cycles, outer-scope names, shape inference (known, symbolic, dynamic),
 * constant folding, and the memory plan's reuse without overlap (views
 * sharing their input's slot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ia/engine.h"
#include "ia/graph.h"
#include "ia/onnx.h"

/* ---- model building helpers ------------------------------------------------ */

struct mb {
    struct ia_onnx_builder *b;
};

static struct mb mb_new(void) {
    struct mb m;
    if (ia_onnx_builder_create(&m.b) != IA_OK) abort();
    ia_onnx_builder_set_info(m.b, "g", "test_graph", "1", 0);
    ia_onnx_builder_add_opset(m.b, "", 17);
    return m;
}

static void mb_io(struct mb *m, int is_input, const char *name, enum ia_dtype dt, int rank,
                  const int64_t *dims, const char *const *params) {
    struct ia_onnx_dim d[8];
    for (int i = 0; i < rank; i++) {
        d[i].value = params && params[i] ? -1 : dims[i];
        d[i].param = params ? params[i] : NULL;
    }
    int rc = is_input ? ia_onnx_builder_add_input(m->b, name, dt, rank, d)
                      : ia_onnx_builder_add_output(m->b, name, dt, rank, d);
    if (rc) abort();
}

static void mb_node(struct mb *m, const char *op, const char *name, size_t n_in,
                    const char *const *in, size_t n_out, const char *const *out) {
    struct ia_onnx_node n = {.name = name,
                             .op_type = op,
                             .domain = "",
                             .n_inputs = n_in,
                             .inputs = in,
                             .n_outputs = n_out,
                             .outputs = out};
    if (ia_onnx_builder_add_node(m->b, &n) != IA_OK) abort();
}

static struct ia_model *mb_load(struct mb *m) {
    uint8_t *buf;
    size_t len;
    if (ia_onnx_builder_serialize(m->b, &buf, &len) != IA_OK) abort();
    ia_onnx_builder_destroy(m->b);
    struct ia_model *model = NULL;
    int rc = ia_onnx_load_memory(buf, len, NULL, 0, &model);
    ia_free(buf);
    if (rc) {
        fprintf(stderr, "load: %s\n", ia_error_msg());
        abort();
    }
    return model;
}

#define A(...) ((const char *const[]){__VA_ARGS__})

/* x[4] -> Neg -> a -> Relu -> y, listed in the given order. */
static struct ia_model *chain_model(int reversed) {
    struct mb m = mb_new();
    int64_t d4 = 4;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d4, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d4, NULL);
    if (reversed) {
        mb_node(&m, "Relu", "second", 1, A("a"), 1, A("y"));
        mb_node(&m, "Neg", "first", 1, A("x"), 1, A("a"));
    } else {
        mb_node(&m, "Neg", "first", 1, A("x"), 1, A("a"));
        mb_node(&m, "Relu", "second", 1, A("a"), 1, A("y"));
    }
    return mb_load(&m);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_build_ids_and_initializers(void) {
    struct mb m = mb_new();
    int64_t d2 = 2;
    float w[2] = {1, 2};
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    ia_onnx_builder_add_initializer(m.b, "w", IA_DTYPE_FLOAT32, 1, &d2, w, sizeof w);
    mb_node(&m, "Add", "add", 2, A("x", "w"), 1, A("y"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    CHECK_EQ_INT(g->n_values, 3);
    CHECK_EQ_INT(g->n_inputs, 1);
    CHECK_EQ_INT(g->n_outputs, 1);
    int wid = ia_graph_find(g, "w");
    REQUIRE(wid >= 0);
    CHECK(g->values[wid].kind == IA_VALUE_INITIALIZER);
    CHECK(g->values[wid].is_const);
    /* zero copy: the model's bytes */
    CHECK(g->values[wid].t.data == model->graph.initializers[0].data);
    CHECK_EQ_INT(g->nodes[0].in[1], wid);
    CHECK_EQ_INT(g->values[ia_graph_find(g, "y")].producer, 0);
    CHECK(g->values[ia_graph_find(g, "y")].is_output);
    CHECK_EQ_INT(ia_graph_find(g, "nope"), -1);
    CHECK(ia_graph_resolve_ops(g) == IA_OK);
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_topological_sort(void) {
    struct ia_model *model = chain_model(1);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    CHECK_EQ_STR(g->nodes[0].src->name, "first");
    CHECK_EQ_STR(g->nodes[1].src->name, "second");
    CHECK_EQ_INT(g->values[ia_graph_find(g, "a")].producer, 0);
    CHECK_EQ_INT(g->values[ia_graph_find(g, "a")].last_use, 1);
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_cycle_and_undefined(void) {
    struct mb m = mb_new();
    int64_t d2 = 2;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_io(&m, 0, "c", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_node(&m, "Add", "add_a", 2, A("x", "c"), 1, A("a"));
    mb_node(&m, "Relu", "relu_c", 1, A("a"), 1, A("c"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g = NULL;
    CHECK(ia_graph_build(model, &model->graph, 0, &g) == IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "cycle") != NULL);
    CHECK(strstr(ia_error_msg(), "add_a") || strstr(ia_error_msg(), "relu_c"));
    CHECK(g == NULL);
    ia_model_free(model);

    m = mb_new();
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_node(&m, "Add", "add", 2, A("x", "ghost"), 1, A("y"));
    model = mb_load(&m);
    CHECK(ia_graph_build(model, &model->graph, 0, &g) == IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "'ghost' is not defined") != NULL);
    /* As a subgraph, the same name is an outer-scope value. */
    REQUIRE(ia_graph_build(model, &model->graph, 1, &g) == IA_OK);
    CHECK_EQ_INT(g->n_outer, 1);
    CHECK_EQ_STR(g->values[g->outer[0]].name, "ghost");
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_missing_ops_listed(void) {
    struct mb m = mb_new();
    int64_t d2 = 2;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d2, NULL);
    mb_node(&m, "NoSuchOpA", "n1", 1, A("x"), 1, A("a"));
    mb_node(&m, "NoSuchOpA", "n2", 1, A("a"), 1, A("b"));
    mb_node(&m, "NoSuchOpB", "n3", 1, A("b"), 1, A("y"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    CHECK(ia_graph_resolve_ops(g) == IA_EUNSUPPORTED);
    CHECK_EQ_STR(ia_error_msg(), "unsupported ops: NoSuchOpA (opset 17), NoSuchOpB (opset 17)");
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_free_names_of_subgraphs(void) {
    const char *src = getenv("IA_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/models/if_model.onnx", src ? src : "..");
    struct ia_model *model;
    REQUIRE(ia_onnx_load(path, &model) == IA_OK);
    const struct ia_onnx_node *n = &model->graph.nodes[0];
    const struct ia_onnx_attr *then_b = NULL;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, "then_branch")) then_b = &n->attrs[i];
    REQUIRE(then_b && then_b->g);
    const char **names;
    size_t cnt;
    REQUIRE(ia_graph_free_names(then_b->g, &names, &cnt) == IA_OK);
    CHECK_EQ_INT(cnt, 1);
    if (cnt) CHECK_EQ_STR(names[0], "x");
    ia_free(names);
    /* The If node lists x as an implicit input, so x lives until it ran. */
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    CHECK(g->nodes[0].has_subgraph);
    CHECK_EQ_INT(g->nodes[0].n_implicit, 1);
    CHECK_EQ_INT(g->nodes[0].implicit[0], ia_graph_find(g, "x"));
    CHECK_EQ_INT(g->values[ia_graph_find(g, "x")].last_use, 0);
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_infer_known_symbolic_dynamic(void) {
    struct mb m = mb_new();
    int64_t dims[2] = {2, 3}, d2 = 2;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 2, dims, A("N", NULL));
    mb_io(&m, 1, "sh", IA_DTYPE_INT64, 1, &d2, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, dims, A("M"));
    mb_io(&m, 0, "z", IA_DTYPE_FLOAT32, 2, dims, A("P", "Q"));
    mb_node(&m, "Relu", "r", 1, A("x"), 1, A("a"));
    mb_node(&m, "Shape", "s", 1, A("a"), 1, A("shp"));
    mb_node(&m, "Reshape", "rs", 2, A("a", "shp"), 1, A("b"));
    mb_node(&m, "Size", "sz", 1, A("b"), 1, A("n"));
    mb_node(&m, "Reshape", "flat", 2, A("b", "n"), 1, A("y"));
    mb_node(&m, "Reshape", "dyn", 2, A("a", "sh"), 1, A("z"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    REQUIRE(ia_graph_resolve_ops(g) == IA_OK);
    /* Symbolic N: nothing downstream of x is known. */
    ia_graph_bind_declared(g);
    REQUIRE(ia_graph_infer(g) == IA_OK);
    CHECK(!g->values[ia_graph_find(g, "a")].shape_known);
    CHECK(g->values[ia_graph_find(g, "sh")].shape_known);
    /* Bound to [2,3]: the Shape -> Reshape -> Size -> Reshape chain is
     * computed from shapes; Reshape by the input 'sh' needs its value. */
    struct ia_graph_value *x = &g->values[ia_graph_find(g, "x")];
    REQUIRE(ia_tensor_set_shape(&x->t, IA_DTYPE_FLOAT32, 2, dims) == IA_OK);
    x->shape_known = 1;
    REQUIRE(ia_graph_infer(g) == IA_OK);
    const struct ia_graph_value *a = &g->values[ia_graph_find(g, "a")];
    CHECK(a->shape_known);
    CHECK_EQ_INT(a->t.rank, 2);
    CHECK_EQ_INT(a->t.dims[1], 3);
    CHECK(a->t.data == NULL);
    const struct ia_graph_value *shp = &g->values[ia_graph_find(g, "shp")];
    CHECK(shp->shape_known);
    REQUIRE(shp->t.data != NULL);
    CHECK(((const int64_t *)shp->t.data)[1] == 3);
    CHECK(!g->nodes[2].dynamic);
    const struct ia_graph_value *y = &g->values[ia_graph_find(g, "y")];
    CHECK(y->shape_known);
    CHECK_EQ_INT(y->t.rank, 1);
    CHECK_EQ_INT(y->t.dims[0], 6);
    CHECK(g->nodes[5].dynamic);
    CHECK(!g->values[ia_graph_find(g, "z")].shape_known);
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_constant_folding(void) {
    struct mb m = mb_new();
    int64_t d3 = 3;
    float w[3] = {1, 2, 3}, v[3] = {10, 20, 30};
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d3, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d3, NULL);
    ia_onnx_builder_add_initializer(m.b, "w", IA_DTYPE_FLOAT32, 1, &d3, w, sizeof w);
    ia_onnx_builder_add_initializer(m.b, "v", IA_DTYPE_FLOAT32, 1, &d3, v, sizeof v);
    mb_node(&m, "Add", "fold_me", 2, A("w", "v"), 1, A("wv"));
    mb_node(&m, "Neg", "fold_me_too", 1, A("wv"), 1, A("nwv"));
    mb_node(&m, "Add", "keep", 2, A("x", "nwv"), 1, A("y"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    REQUIRE(ia_graph_resolve_ops(g) == IA_OK);
    ia_graph_bind_declared(g);
    REQUIRE(ia_graph_infer(g) == IA_OK);
    REQUIRE(ia_graph_fold(g) == IA_OK);
    CHECK_EQ_INT(g->n_folded, 2);
    CHECK(g->nodes[0].folded && g->nodes[1].folded && !g->nodes[2].folded);
    const struct ia_graph_value *nwv = &g->values[ia_graph_find(g, "nwv")];
    CHECK(nwv->is_const);
    REQUIRE(nwv->t.data);
    const float *f = nwv->t.data;
    CHECK(f[0] == -11 && f[1] == -22 && f[2] == -33);
    /* wv's only reader was folded: it is no longer live at run time. */
    CHECK_EQ_INT(g->values[ia_graph_find(g, "wv")].last_use, -1);
    ia_graph_free(g);
    ia_model_free(model);
}

static void test_memory_plan(void) {
    /* A chain of 8 unary ops on [256] floats, plus a value read at the end. */
    struct mb m = mb_new();
    int64_t d = 256;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d, NULL);
    const char *names[] = {"x", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"};
    for (int i = 0; i < 8; i++)
        mb_node(&m, i % 2 ? "Relu" : "Neg", names[i + 1], 1, &names[i], 1, &names[i + 1]);
    mb_node(&m, "Add", "last", 2, A("v8", "v1"), 1, A("y"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    REQUIRE(ia_graph_resolve_ops(g) == IA_OK);
    ia_graph_bind_declared(g);
    REQUIRE(ia_graph_infer(g) == IA_OK);
    REQUIRE(ia_graph_plan(g) == IA_OK);
    uint64_t sum = 0;
    int planned = 0;
    for (size_t i = 0; i < g->n_values; i++) {
        const struct ia_graph_value *a = &g->values[i];
        if (a->offset < 0) continue;
        planned++;
        sum += a->plan_bytes;
        CHECK(a->offset % IA_GRAPH_PLAN_ALIGN == 0);
        CHECK((uint64_t)a->offset + a->plan_bytes <= g->arena_bytes);
        int a_end = a->last_use > a->producer ? a->last_use : a->producer;
        for (size_t j = i + 1; j < g->n_values; j++) {
            const struct ia_graph_value *b = &g->values[j];
            if (b->offset < 0) continue;
            int b_end = b->last_use > b->producer ? b->last_use : b->producer;
            int live_together = a->producer <= b_end && b->producer <= a_end;
            int mem_overlap = a->offset < b->offset + (int64_t)b->plan_bytes &&
                              b->offset < a->offset + (int64_t)a->plan_bytes;
            CHECK(!(live_together && mem_overlap));
        }
    }
    CHECK_EQ_INT(planned, 9); /* v1..v8 and y; x is the caller's */
    /* v1 lives to the end, two more are live at any time: 3 buffers. */
    CHECK_EQ_INT(g->arena_bytes, 3 * 1024);
    CHECK(g->arena_bytes < sum);
    ia_graph_free(g);
    ia_model_free(model);
}

/* A Reshape (or other view op) whose input dies there shares the input's
 * slot, so its copy is skipped; one whose input is read later does not.
 * The session's results stay right, on the first run and on the planned
 * second one. */
static void test_memory_plan_views(void) {
    struct mb m = mb_new();
    int64_t d = 256, sq[2] = {16, 16}, two = 2, one = 1;
    mb_io(&m, 1, "x", IA_DTYPE_FLOAT32, 1, &d, NULL);
    mb_io(&m, 0, "y", IA_DTYPE_FLOAT32, 1, &d, NULL);
    ia_onnx_builder_add_initializer(m.b, "sq", IA_DTYPE_INT64, 1, &two, sq, sizeof sq);
    ia_onnx_builder_add_initializer(m.b, "flat", IA_DTYPE_INT64, 1, &one, &d, sizeof d);
    mb_node(&m, "Neg", "n1", 1, A("x"), 1, A("v1"));
    mb_node(&m, "Reshape", "s1", 2, A("v1", "sq"), 1, A("r1"));  /* v1 dies: shares */
    mb_node(&m, "Relu", "u2", 1, A("r1"), 1, A("v2"));
    mb_node(&m, "Reshape", "s2", 2, A("v2", "flat"), 1, A("r2")); /* shares */
    mb_node(&m, "Neg", "n3", 1, A("r2"), 1, A("v3"));
    mb_node(&m, "Reshape", "s3", 2, A("v3", "sq"), 1, A("r3"));   /* v3 read below: own slot */
    mb_node(&m, "Reshape", "s4", 2, A("r3", "flat"), 1, A("r4")); /* shares with r3 */
    mb_node(&m, "Add", "last", 2, A("r4", "v3"), 1, A("y"));
    struct ia_model *model = mb_load(&m);
    struct ia_graph *g;
    REQUIRE(ia_graph_build(model, &model->graph, 0, &g) == IA_OK);
    REQUIRE(ia_graph_resolve_ops(g) == IA_OK);
    ia_graph_bind_declared(g);
    REQUIRE(ia_graph_infer(g) == IA_OK);
    REQUIRE(ia_graph_plan(g) == IA_OK);
#define V(name) (&g->values[ia_graph_find(g, name)])
    CHECK(V("v1")->offset >= 0 && V("v1")->offset == V("r1")->offset);
    CHECK(V("v2")->offset >= 0 && V("v2")->offset == V("r2")->offset);
    CHECK(V("r3")->offset >= 0 && V("r3")->offset == V("r4")->offset);
    CHECK(V("v3")->offset >= 0 && V("v3")->offset != V("r3")->offset);
    /* Slots of values live together never overlap, views of one slot aside. */
    const char *vals[] = {"v1", "r1", "v2", "r2", "v3", "r3", "r4", "y"};
    const int group[] = {1, 1, 2, 2, 3, 4, 4, 5};
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) {
            const struct ia_graph_value *a = V(vals[i]), *b = V(vals[j]);
            int a_end = a->last_use > a->producer ? a->last_use : a->producer;
            int b_end = b->last_use > b->producer ? b->last_use : b->producer;
            int live_together = a->producer <= b_end && b->producer <= a_end;
            int mem_overlap = a->offset < b->offset + (int64_t)b->plan_bytes &&
                              b->offset < a->offset + (int64_t)a->plan_bytes;
            if (group[i] != group[j]) CHECK(!(live_together && mem_overlap));
        }
#undef V
    ia_graph_free(g);
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = (float)(i % 17) - 8.0f;
    struct ia_session *s = NULL;
    REQUIRE(ia_session_create(model, NULL, &s) == IA_OK);
    struct ia_tensor t = {0};
    ia_tensor_set_shape(&t, IA_DTYPE_FLOAT32, 1, &d);
    t.data = x;
    const struct ia_tensor *ins[1] = {&t};
    for (int run = 0; run < 2; run++) {
        struct ia_tensor *const *y;
        REQUIRE(ia_session_run(s, 1, A("x"), ins, 1, &y) == IA_OK);
        const float *f = y[0]->data;
        int bad = 0;
        for (int i = 0; i < 256; i++) bad += f[i] != -2.0f * (x[i] < 0 ? -x[i] : 0.0f);
        CHECK_EQ_INT(bad, 0);
    }
    ia_session_destroy(s);
    ia_model_free(model);
}

static void test_alloc_failures(void) {
    struct ia_model *model = chain_model(1);
    int ok = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        struct ia_graph *g = NULL;
        ia_alloc_fail_after(n);
        int rc = ia_graph_build(model, &model->graph, 0, &g);
        if (rc == IA_OK) rc = ia_graph_plan(g);
        ia_alloc_fail_after(-1);
        CHECK(rc == IA_OK || rc == IA_ENOMEM);
        ok = rc == IA_OK;
        ia_graph_free(g);
    }
    CHECK(ok);
    ia_model_free(model);
}

TEST_MAIN(T(test_build_ids_and_initializers), T(test_topological_sort), T(test_cycle_and_undefined),
          T(test_missing_ops_listed), T(test_free_names_of_subgraphs),
          T(test_infer_known_symbolic_dynamic), T(test_constant_folding), T(test_memory_plan),
          T(test_memory_plan_views), T(test_alloc_failures))
