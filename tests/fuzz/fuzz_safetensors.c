/* Fuzzes the safetensors parser: whatever it accepts must describe tensors
 * that lie inside the buffer, tile the data region, and be findable by
 * name; every byte of every tensor is read so ASan sees any over-read. */
#include <string.h>

#include "ia/zoo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy: the parser must not rely on bytes past `size`. */
    uint8_t *buf = ia_malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    struct ia_safetensors *st = NULL;
    if (ia_safetensors_parse(buf, size, "fuzz", &st) == IA_OK) {
        uint64_t covered = 0;
        unsigned sum = 0;
        for (size_t i = 0; i < st->n_tensors; i++) {
            const struct ia_st_tensor *t = &st->tensors[i];
            IA_ASSERT(t->offset + t->nbytes <= st->data_len);
            IA_ASSERT(t->nbytes == 0 || t->data != NULL);
            const uint8_t *p = t->data;
            for (uint64_t k = 0; k < t->nbytes; k++) sum += p[k];
            covered += t->nbytes;
            IA_ASSERT(ia_safetensors_find(st, t->name) != NULL);
        }
        IA_ASSERT(covered == st->data_len);
        IA_ASSERT(8 + st->header_len + st->data_len == size);
        (void)sum;
        ia_safetensors_close(st);
    }
    ia_free(buf);
    return 0;
}
