/* Fuzzes the Hugging Face config.json reader (jansson underneath) and the
 * getters the builders use on it: whatever parses must answer every typed
 * lookup without crashing, and a clone must answer the same. */
#include <string.h>

#include "ia/zoo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ia_hf_config *c = NULL, *d = NULL;
    if (ia_hf_config_parse((const char *)data, size, "fuzz", &c) != IA_OK) return 0;
    static const char *const keys[] = {"model_type", "hidden_size", "num_attention_heads",
                                       "layer_norm_eps", "architectures", "text_config",
                                       "vision_config", "rope_theta", "tie_word_embeddings"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t v;
        double f;
        int b;
        const char *s;
        (void)ia_hf_config_has(c, keys[i]);
        (void)ia_hf_config_int(c, keys[i], &v);
        (void)ia_hf_config_float(c, keys[i], &f);
        (void)ia_hf_config_bool_or(c, keys[i], 0, &b);
        (void)ia_hf_config_str_or(c, keys[i], "", &s);
        (void)ia_hf_config_len(c, keys[i]);
    }
    (void)ia_hf_config_architecture(c);
    if (ia_hf_config_clone(c, &d) == IA_OK) {
        int64_t a = 0, b = 0;
        int ra = ia_hf_config_int(c, "hidden_size", &a), rb = ia_hf_config_int(d, "hidden_size", &b);
        IA_ASSERT(ra == rb && a == b);
        ia_hf_config_free(d);
    }
    ia_hf_config_free(c);
    return 0;
}
