/* Fuzz target: ONNX bytes → strict load, then keep-going load + verify.
 * Neither may crash, leak or read outside the input whatever the bytes.
 * External data is never resolved here (no base folder). */
#include <stddef.h>
#include <stdint.h>

#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ia_model *m = NULL;
    if (ia_onnx_load_memory(data, size, NULL, 0, &m) == IA_OK) {
        /* A strictly loaded model has every tensor's bytes in place. */
        for (size_t i = 0; i < m->graph.n_initializers; i++) {
            const struct ia_onnx_tensor *t = &m->graph.initializers[i];
            const volatile uint8_t *p = t->data;
            if (t->nbytes) (void)p[0], (void)p[t->nbytes - 1];
        }
        ia_model_free(m);
    }
    struct ia_verify_report r;
    m = NULL;
    if (ia_onnx_verify_memory(data, size, NULL, ia_engine_verify_opts(), &r, &m) == IA_OK) ia_verify_report_free(&r);
    ia_model_free(m);
    return 0;
}
