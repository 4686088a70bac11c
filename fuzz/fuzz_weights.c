/* fuzz_weights.c: libFuzzer harness for the weights reader: the input is a
 * weights file loaded into a logreg model (the smallest architecture; the
 * reader's checks do not depend on which). A failed load must leave the
 * model's parameters untouched. Each input is tried twice: as it is, and
 * with its length field and CRC-32 made right, so that mutations reach the
 * checks behind the checksum instead of all dying at it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz/fuzz_file.h"
#include "models/model.h"
#include "models/weights.h"

static void fuzz_load(struct model *m, float *saved, const char *name, const uint8_t *data,
                      size_t size)
{
    struct error err;
    memcpy(saved, m->params, m->nparams * sizeof *saved);
    const char *path = fuzz_file_write(name, data, size);
    if (weights_load(m, path, &err) != 0 &&
        memcmp(saved, m->params, m->nparams * sizeof *saved) != 0)
        __builtin_trap(); /* a failed load changed the model */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model *m;
    static float *saved;
    struct error err;
    if (!m) {
        if (model_new(&m, "logreg", &err))
            abort();
        if (!(saved = malloc(m->nparams * sizeof *saved)))
            abort();
    }
    fuzz_load(m, saved, "fuzz.bin", data, size);
    if (size >= 20 && size <= (1 << 20)) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            abort();
        memcpy(fixed, data, size);
        for (int i = 0; i < 8; i++) /* u64 LE file length at offset 8 */
            fixed[8 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        fuzz_load(m, saved, "fixed.bin", fixed, size);
        free(fixed);
    }
    return 0;
}
