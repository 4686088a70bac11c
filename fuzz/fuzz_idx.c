/* fuzz_idx.c: libFuzzer harness for the Fashion-MNIST IDX reader: the input
 * is split into an images file and a labels file (its first 4 bytes, little
 * endian, say where), each read through zlib as fmnist_read does: gzip or
 * raw IDX, any header, any length. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_file.h"
#include "models/fmnist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t split = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
    data += 4;
    size -= 4;
    split %= (uint32_t)size + 1;
    const char *images = fuzz_file_write("images-idx3-ubyte.gz", data, split);
    const char *labels = fuzz_file_write("labels-idx1-ubyte.gz", data + split, size - split);
    struct fmnist d = {0};
    struct error err;
    if (fmnist_read(images, labels, &d, &err) == 0)
        fmnist_free(&d);
    return 0;
}
