/* replay_main.c: a harness without libFuzzer. Each file named on the command
 * line is read whole and given once to LLVMFuzzerTestOneInput. Every normal
 * build links the four harnesses with it, and the test suite (its sanitizer
 * build included) replays the regression inputs and the seeds through them,
 * so the harnesses keep compiling and the fixed bugs stay fixed; fuzz/run.sh
 * does the fuzzing itself. Exit 0 when every input ran (a bug aborts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 2;
        }
        long size = ftell(f);
        uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
        rewind(f);
        if (size < 0 || !data || fread(data, 1, (size_t)size, f) != (size_t)size) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 2;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(data, (size_t)size);
        free(data);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
