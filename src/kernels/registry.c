/* The op registry: every ia_op_<Name> definition, listed at build time
 * into ops_registry.inc (see module.cmake). Lookups are linear over a
 * sorted copy; the engine resolves ops once per session, not per run. */
#include <string.h>

#include "ia/kernels.h"

#define IA_OP_ENTRY(name) extern const struct ia_op_def ia_op_##name;
#include "ops_registry.inc"
#undef IA_OP_ENTRY

static const struct ia_op_def *const registry[] = {
#define IA_OP_ENTRY(name) &ia_op_##name,
#include "ops_registry.inc"
#undef IA_OP_ENTRY
    NULL, /* keeps the array valid while no op is registered */
};
static const size_t n_registry = sizeof registry / sizeof registry[0] - 1;

static int same_domain(const char *a, const char *b) {
    if (!a || !strcmp(a, "ai.onnx")) a = "";
    if (!b || !strcmp(b, "ai.onnx")) b = "";
    return strcmp(a, b) == 0;
}

const struct ia_op_def *ia_kernels_find(const char *domain, const char *op_type, int64_t opset) {
    for (size_t i = 0; i < n_registry; i++) {
        const struct ia_op_def *d = registry[i];
        if (strcmp(d->op_type, op_type) == 0 && same_domain(d->domain, domain) &&
            (opset <= 0 || opset >= d->min_opset))
            return d;
    }
    return NULL;
}

int ia_kernels_supported(const char *domain, const char *op_type, int64_t opset) {
    return ia_kernels_find(domain, op_type, opset) != NULL;
}

size_t ia_kernels_count(void) { return n_registry; }

const struct ia_op_def *ia_kernels_at(size_t i) { return i < n_registry ? registry[i] : NULL; }

int ia_op_takes_values(const struct ia_op_def *op) {
    static const char *const ops[] = {
        "Identity",         "If",                 "Loop",           "Optional",
        "OptionalGetElement", "OptionalHasElement", "SequenceAt",     "SequenceConstruct",
        "SequenceEmpty",    "SequenceErase",      "SequenceInsert", "SequenceLength",
        "SequenceMap",      "SplitToSequence",    "ConcatFromSequence"};
    if (!op || !same_domain(op->domain, "")) return 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op->op_type, ops[i])) return 1;
    return 0;
}
