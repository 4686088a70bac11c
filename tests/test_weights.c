/* test_weights.c: the weights file: round trip, byte-exact layout, atomic
 * replacement, and one test per malformed case with its exact message. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "models/weights.h"

static char dir[] = "/tmp/strag-weights-XXXXXX";
static char path[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w.bin", dir);
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

TestSuite(weights, .init = setup, .fini = teardown);

static struct model *make(const char *name_or_spec, uint64_t seed)
{
    struct model *m;
    struct error err;
    cr_assert_eq(model_new(&m, name_or_spec, &err), STRAG_OK, "%s", err.msg);
    struct rng r;
    rng_seed(&r, seed, 0, RNG_INIT, 0);
    model_init(m, &r);
    return m;
}

static void save(const struct model *m)
{
    struct error err;
    cr_assert_eq(weights_save(m, path, &err), STRAG_OK, "%s", err.msg);
}

static unsigned char *slurp(size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*len + 16);
    cr_assert_eq(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static void spit(const unsigned char *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(p, 1, len, f);
    fclose(f);
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrites the length field and checksum after a test edited the bytes. */
static void reseal(unsigned char *p, size_t len)
{
    put_le(p + 8, len, 8);
    put_le(p + len - 4, crc32(0L, p, (uInt)(len - 4)), 4);
}

/* Loads into a fresh `name` model and checks the exact message and that
 * the model's parameters were not touched. */
static void expect_error(const char *name, const char *what)
{
    struct model *m = make(name, 99);
    float *before = malloc(m->nparams * sizeof(float));
    memcpy(before, m->params, m->nparams * sizeof(float));
    struct error err;
    int rc = weights_load(m, path, &err);
    cr_assert_eq(rc, STRAG_EINPUT, "rc %d: %s", rc, err.msg);
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, what);
    cr_assert_str_eq(err.msg, want);
    cr_assert_arr_eq(m->params, before, m->nparams * sizeof(float));
    free(before);
    model_free(m);
}

Test(weights, round_trip_is_bit_exact)
{
    const char *names[] = {"logreg", "mlp", "lenet5", "4: dense3 tanh dense2"};
    for (int i = 0; i < 4; i++) {
        struct model *a = make(names[i], 1), *b = make(names[i], 2);
        cr_assert(memcmp(a->params, b->params, a->nparams * sizeof(float)) != 0);
        save(a);
        struct error err;
        cr_assert_eq(weights_load(b, path, &err), STRAG_OK, "%s: %s", names[i], err.msg);
        cr_assert_arr_eq(a->params, b->params, a->nparams * sizeof(float));
        model_free(a);
        model_free(b);
    }
}

Test(weights, layout_matches_the_documentation)
{
    struct model *m = make("4: dense3 tanh dense2", 5);
    m->params[0] = 1.5f;
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    /* header: 6 + 2 + 8 + 2 + arch + 4, tensors "dense1.weight" (3,4),
     * "dense1.bias" (3), "dense2.weight" (2,3), "dense2.bias" (2). */
    const char *arch = weights_arch(m);
    size_t header = 18 + strlen(arch) + 4 + (1 + 13 + 1 + 8) + (1 + 11 + 1 + 4) +
                    (1 + 13 + 1 + 8) + (1 + 11 + 1 + 4);
    cr_assert_eq(len, header + 4 * m->nparams + 4);
    cr_assert_eq(memcmp(p, "STRGW\0\1\0", 8), 0);
    cr_assert_eq(p[8], len);
    cr_assert_eq(p[16], strlen(arch));
    cr_assert_eq(memcmp(p + 18, arch, strlen(arch)), 0);
    cr_assert_eq(p[18 + strlen(arch)], 4); /* tensor count */
    cr_assert_eq(memcmp(p + 18 + strlen(arch) + 4, "\015dense1.weight\002\003\0\0\0\004\0\0\0", 23),
                 0);
    cr_assert_eq(memcmp(p + header, "\0\0\xc0\x3f", 4), 0); /* 1.5f little-endian */
    uint32_t crc = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
                   (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
    cr_assert_eq(crc, crc32(0L, p, (uInt)(len - 4)));
    free(p);
    model_free(m);
}

Test(weights, same_weights_same_bytes)
{
    struct model *m = make("mlp", 3);
    save(m);
    size_t la, lb;
    unsigned char *a = slurp(&la);
    save(m);
    unsigned char *b = slurp(&lb);
    cr_assert_eq(la, lb);
    cr_assert_arr_eq(a, b, la);
    free(a);
    free(b);
    model_free(m);
}

Test(weights, save_replaces_atomically_and_leaves_no_temp_file)
{
    spit((const unsigned char *)"old", 3);
    struct model *m = make("logreg", 3);
    save(m);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_gt(st.st_size, 3);
    mode_t mask = umask(0);
    umask(mask);
    cr_assert_eq(st.st_mode & 0777, 0666 & ~mask, "as fopen would create it");
    DIR *d = opendir(dir);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        files += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(files, 1);
    model_free(m);
}

Test(weights, save_into_missing_directory)
{
    struct model *m = make("logreg", 3);
    struct error err;
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/w.bin", dir);
    cr_assert_eq(weights_save(m, bad, &err), STRAG_EINPUT);
    char want[400];
    snprintf(want, sizeof want, "%s: cannot write: No such file or directory", bad);
    cr_assert_str_eq(err.msg, want);
    model_free(m);
}

/* Weights are binary: "-" is a file in the current directory, as
 * weights_load reads it. */
Test(weights, dash_is_a_file_not_standard_output)
{
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    struct model *m = make("logreg", 3), *back = make("logreg", 4);
    struct error err;
    int saved = weights_save(m, "-", &err), loaded = weights_load(back, "-", &err);
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(saved, STRAG_OK, "%s", err.msg);
    cr_assert_eq(loaded, STRAG_OK, "%s", err.msg);
    cr_assert_eq(memcmp(m->params, back->params, m->nparams * sizeof *m->params), 0);
    model_free(m);
    model_free(back);
}

/* A device is written in place (nothing to rename over), and its failure
 * named: the message of every other output file. */
Test(weights, save_onto_a_full_device)
{
    struct model *m = make("logreg", 3);
    struct error err;
    cr_assert_eq(weights_save(m, "/dev/full", &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg, "/dev/full: cannot write: No space left on device");
    model_free(m);
}

Test(weights, missing_file)
{
    expect_error("mlp", "cannot open: No such file or directory");
}

Test(weights, empty_file)
{
    spit((const unsigned char *)"", 0);
    expect_error("mlp", "bad magic (not a stragsim weights file)");
}

Test(weights, bad_magic)
{
    const char text[] = "this is not a weights file at all";
    spit((const unsigned char *)text, sizeof text);
    expect_error("mlp", "bad magic (not a stragsim weights file)");
}

Test(weights, too_short)
{
    spit((const unsigned char *)"STRGW\0\1\0\0\0", 10);
    expect_error("mlp", "truncated: 10 bytes is shorter than any weights file");
}

Test(weights, unsupported_version)
{
    struct model *m = make("mlp", 3);
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    p[6] = 2;
    spit(p, len);
    expect_error("mlp", "unsupported version 2 (this build reads version 1)");
    free(p);
    model_free(m);
}

Test(weights, truncated)
{
    struct model *m = make("lenet5", 3);
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    spit(p, len - 100);
    char want[256];
    snprintf(want, sizeof want,
             "length mismatch: the header says %zu bytes, the file has %zu (truncated or corrupt)",
             len, len - 100);
    expect_error("lenet5", want);
    free(p);
    model_free(m);
}

Test(weights, flipped_bit)
{
    struct model *m = make("lenet5", 3);
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    p[len / 2] ^= 0x10;
    spit(p, len);
    expect_error("lenet5", "checksum mismatch (file corrupt)");
    free(p);
    model_free(m);
}

Test(weights, wrong_architecture)
{
    struct model *m = make("mlp", 3);
    save(m);
    expect_error("lenet5", "architecture is 'mlp', expected 'lenet5'");
    model_free(m);
}

Test(weights, custom_architecture_is_its_spec)
{
    struct model *m = make("784: dense10", 3);
    save(m);
    char want[256];
    snprintf(want, sizeof want, "architecture is '%s', expected 'logreg'", m->arch);
    expect_error("logreg", want);
    model_free(m);
}

/* A file that claims to be lenet5 but holds another stack's tensors: a
 * custom model renamed, so the header and checksum are well formed. */
static void save_as_lenet5(const char *spec)
{
    struct model *m = make(spec, 3);
    snprintf(m->name, sizeof m->name, "lenet5");
    save(m);
    model_free(m);
}

Test(weights, tensor_count_mismatch)
{
    save_as_lenet5("1x28x28: conv6k5p2 relu maxpool2 conv16k5 relu maxpool2 dense120 relu dense10");
    expect_error("lenet5", "8 tensors, expected 10");
}

Test(weights, tensor_name_mismatch)
{
    save_as_lenet5("1x28x28: conv6k5p2 relu maxpool2 dense400 relu dense120 relu dense84 relu dense10");
    expect_error("lenet5", "tensor 3 is 'dense1.weight', expected 'conv2.weight'");
}

Test(weights, tensor_shape_mismatch)
{
    save_as_lenet5("1x28x28: conv6k5p2 relu maxpool2 conv16k3 relu maxpool2 dense120 relu dense84 "
                   "relu dense10");
    expect_error("lenet5", "tensor 3 'conv2.weight' has shape 16x6x3x3, expected 16x6x5x5");
}

Test(weights, non_finite_value)
{
    struct model *m = make("lenet5", 3);
    m->params[m->tensors[2].offset + 7] = NAN;
    save(m);
    expect_error("lenet5", "tensor 3 'conv2.weight' holds a non-finite value at element 7");
    model_free(m);
}

Test(weights, malformed_rank_behind_a_valid_checksum)
{
    struct model *m = make("logreg", 3);
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    /* 18 + "logreg" + count, then name length 13, "dense1.weight", rank */
    size_t rank_at = 18 + 6 + 4 + 1 + 13;
    cr_assert_eq(p[rank_at], 2);
    p[rank_at] = 9;
    reseal(p, len);
    spit(p, len);
    expect_error("logreg", "malformed header: bad rank of tensor 1");
    free(p);
    model_free(m);
}

Test(weights, extra_data_behind_a_valid_checksum)
{
    struct model *m = make("logreg", 3);
    save(m);
    size_t len;
    unsigned char *p = slurp(&len);
    memmove(p + len, p + len - 4, 4); /* make room for 4 zero bytes before the CRC */
    memset(p + len - 4, 0, 4);
    reseal(p, len + 4);
    spit(p, len + 4);
    char want[128];
    snprintf(want, sizeof want, "malformed: %zu bytes of tensor data, expected %zu",
             4 * m->nparams + 4, 4 * m->nparams);
    expect_error("logreg", want);
    free(p);
    model_free(m);
}
