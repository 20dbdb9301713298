/* Fuzzes the CAR v1 reader from memory, and from a stream over the same
 * bytes: both must return the same blocks and the same final status. */
#include <stdio.h>
#include <string.h>

#include "ia/cid.h"

static int drain(struct ia_car_reader *r, size_t *count) {
    struct ia_cid c;
    const uint8_t *d;
    size_t n;
    int rc;
    *count = 0;
    while ((rc = ia_car_reader_next(r, &c, &d, &n)) == 1) {
        (void)ia_cid_verify(&c, d, n);
        (*count)++;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ia_car_reader *r;
    size_t n_mem = 0, n_file = 0;
    int rc_mem = ia_car_reader_open_mem(data, size, &r);
    if (rc_mem == IA_OK) {
        for (size_t i = 0; i < ia_car_reader_n_roots(r); i++) IA_ASSERT(ia_car_reader_root(r, i));
        rc_mem = drain(r, &n_mem);
        ia_car_reader_close(r);
    }
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    int rc_file = ia_car_reader_open(f, "fuzz.car", &r);
    if (rc_file == IA_OK) {
        rc_file = drain(r, &n_file);
        ia_car_reader_close(r);
    }
    fclose(f);
    IA_ASSERT(rc_mem == rc_file && n_mem == n_file);
    return 0;
}
