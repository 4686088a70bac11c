/* test_fmnist.c: the Fashion-MNIST IDX reader on small files the tests write
 * (valid and malformed, gzip and plain), the split and batch gathering, and
 * one read of the real test set from dataset-fashion-mnist. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "models/fmnist.h"

static char dir[] = "/tmp/strag-fmnist-XXXXXX";
static char images_path[256], labels_path[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(images_path, sizeof images_path, "%s/images.gz", dir);
    snprintf(labels_path, sizeof labels_path, "%s/labels.gz", dir);
}

static void teardown(void)
{
    unlink(images_path);
    unlink(labels_path);
    rmdir(dir);
}

TestSuite(fmnist, .init = setup, .fini = teardown);

/* Writes an IDX file: big-endian magic, dims, then payload (gzip or plain). */
static void write_idx(const char *path, unsigned magic, const unsigned *dims, int ndims,
                      const unsigned char *payload, size_t len, int gzip)
{
    unsigned char head[16];
    size_t hl = 0;
    unsigned words[4] = {magic};
    for (int i = 0; i < ndims; i++)
        words[1 + i] = dims[i];
    for (int w = 0; w < 1 + ndims; w++)
        for (int b = 3; b >= 0; b--)
            head[hl++] = (unsigned char)(words[w] >> (8 * b));
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        cr_assert_not_null(gz);
        gzwrite(gz, head, (unsigned)hl);
        if (len)
            gzwrite(gz, payload, (unsigned)len);
        gzclose(gz);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        fwrite(head, 1, hl, f);
        fwrite(payload, 1, len, f);
        fclose(f);
    }
}

/* A valid 3-image set: image i has every pixel = 51 * i (0, 0.2, 0.4). */
static void write_valid(int gzip)
{
    static unsigned char pixels[3 * FMNIST_PIXELS];
    for (int i = 0; i < 3; i++)
        memset(pixels + i * FMNIST_PIXELS, 51 * i, FMNIST_PIXELS);
    pixels[FMNIST_PIXELS - 1] = 255;
    unsigned char labels[3] = {9, 0, 4};
    write_idx(images_path, 2051, (unsigned[]){3, 28, 28}, 3, pixels, sizeof pixels, gzip);
    write_idx(labels_path, 2049, (unsigned[]){3}, 1, labels, 3, gzip);
}

static void expect_error(const char *path, const char *what)
{
    struct fmnist d;
    struct error err;
    int rc = fmnist_read(images_path, labels_path, &d, &err);
    cr_assert_eq(rc, STRAG_EINPUT, "rc %d: %s", rc, err.msg);
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, what);
    cr_assert_str_eq(err.msg, want);
    cr_assert_null(d.images);
    cr_assert_null(d.labels);
}

static void check_valid_set(void)
{
    struct fmnist d;
    struct error err;
    cr_assert_eq(fmnist_read(images_path, labels_path, &d, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(d.n, 3);
    cr_assert_eq(d.images[0], 0.0f);
    cr_assert_eq(d.images[FMNIST_PIXELS - 1], 1.0f);
    cr_assert_float_eq(d.images[FMNIST_PIXELS], 0.2f, 1e-7);
    cr_assert_float_eq(d.images[3 * FMNIST_PIXELS - 1], 0.4f, 1e-7);
    cr_assert_eq(d.labels[0], 9);
    cr_assert_eq(d.labels[1], 0);
    cr_assert_eq(d.labels[2], 4);
    fmnist_free(&d);
}

Test(fmnist, reads_gzip_files)
{
    write_valid(1);
    check_valid_set();
}

Test(fmnist, reads_uncompressed_files)
{
    write_valid(0);
    check_valid_set();
}

Test(fmnist, missing_file)
{
    write_valid(1);
    unlink(images_path);
    expect_error(images_path, "cannot open: No such file or directory");
}

Test(fmnist, missing_labels_file)
{
    write_valid(1);
    unlink(labels_path);
    expect_error(labels_path, "cannot open: No such file or directory");
}

Test(fmnist, labels_given_as_images)
{
    write_valid(1);
    unsigned char labels[3] = {0};
    write_idx(images_path, 2049, (unsigned[]){3}, 1, labels, 3, 1);
    expect_error(images_path, "bad magic 0x00000801 (expected 2051 for an IDX image file)");
}

Test(fmnist, images_given_as_labels)
{
    write_valid(1);
    unsigned char pixels[FMNIST_PIXELS] = {0};
    write_idx(labels_path, 2051, (unsigned[]){1, 28, 28}, 3, pixels, sizeof pixels, 1);
    expect_error(labels_path, "bad magic 0x00000803 (expected 2049 for an IDX label file)");
}

Test(fmnist, wrong_image_size)
{
    write_valid(1);
    static unsigned char pixels[3 * 32 * 32];
    write_idx(images_path, 2051, (unsigned[]){3, 32, 32}, 3, pixels, sizeof pixels, 1);
    expect_error(images_path, "images are 32x32, expected 28x28");
}

Test(fmnist, truncated_header)
{
    write_valid(1);
    write_idx(images_path, 2051, (unsigned[]){3}, 1, NULL, 0, 1);
    expect_error(images_path, "truncated: expected a 16-byte IDX image header, got 8 bytes");
}

Test(fmnist, empty_file)
{
    write_valid(1);
    fclose(fopen(images_path, "wb"));
    expect_error(images_path, "truncated: expected a 16-byte IDX image header, got 0 bytes");
}

Test(fmnist, truncated_pixels)
{
    write_valid(1);
    unsigned char pixels[123] = {0};
    write_idx(images_path, 2051, (unsigned[]){60000, 28, 28}, 3, pixels, sizeof pixels, 1);
    expect_error(images_path, "truncated: expected 47040000 bytes of pixels, got 123");
}

Test(fmnist, trailing_pixels)
{
    write_valid(1);
    static unsigned char pixels[3 * FMNIST_PIXELS + 5];
    write_idx(images_path, 2051, (unsigned[]){3, 28, 28}, 3, pixels, sizeof pixels, 1);
    expect_error(images_path, "unexpected data after the 2352 bytes of pixels");
}

Test(fmnist, implausible_count)
{
    write_valid(1);
    write_idx(images_path, 2051, (unsigned[]){4000000000u, 28, 28}, 3, NULL, 0, 1);
    expect_error(images_path, "count 4000000000 is implausible (more than 1000000)");
}

Test(fmnist, count_mismatch)
{
    write_valid(1);
    unsigned char labels[4] = {0};
    write_idx(labels_path, 2049, (unsigned[]){4}, 1, labels, 4, 1);
    char want[512];
    snprintf(want, sizeof want, "4 labels for the 3 images of %s", images_path);
    expect_error(labels_path, want);
}

Test(fmnist, truncated_labels)
{
    write_valid(1);
    unsigned char labels[2] = {0};
    write_idx(labels_path, 2049, (unsigned[]){3}, 1, labels, 2, 1);
    expect_error(labels_path, "truncated: expected 3 bytes of labels, got 2");
}

Test(fmnist, label_out_of_range)
{
    write_valid(1);
    unsigned char labels[3] = {1, 2, 10};
    write_idx(labels_path, 2049, (unsigned[]){3}, 1, labels, 3, 1);
    expect_error(labels_path, "label 10 of image 2 is out of range (expected 0..9)");
}

Test(fmnist, corrupt_gzip_stream)
{
    write_valid(1);
    /* Flip bytes inside the deflate data: zlib must report it, not us read garbage. */
    FILE *f = fopen(images_path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size - 8, SEEK_SET); /* the gzip trailer: CRC-32 of the data */
    fputc(0xff, f);
    fputc(0xff, f);
    fclose(f);
    expect_error(images_path, "not a valid gzip stream: incorrect data check");
}

Test(fmnist, split_is_a_seeded_permutation)
{
    enum { N = 1000 };
    static int a[N], b[N], c[N];
    fmnist_split(N, 7, a);
    fmnist_split(N, 7, b);
    fmnist_split(N, 8, c);
    cr_assert_arr_eq(a, b, sizeof a);
    cr_assert(memcmp(a, c, sizeof a) != 0);
    static char seen[N];
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] >= 0 && a[i] < N);
        cr_assert_eq(seen[a[i]], 0);
        seen[a[i]] = 1;
    }
}

Test(fmnist, gather_copies_rows_and_labels)
{
    write_valid(1);
    struct fmnist d;
    struct error err;
    cr_assert_eq(fmnist_read(images_path, labels_path, &d, &err), STRAG_OK, "%s", err.msg);
    static float x[2 * FMNIST_PIXELS];
    int y[2];
    fmnist_gather(&d, (int[]){2, 0}, 2, x, y);
    cr_assert_arr_eq(x, d.images + 2 * FMNIST_PIXELS, FMNIST_PIXELS * sizeof(float));
    cr_assert_arr_eq(x + FMNIST_PIXELS, d.images, FMNIST_PIXELS * sizeof(float));
    cr_assert_eq(y[0], 4);
    cr_assert_eq(y[1], 9);
    fmnist_free(&d);
}

/* The real test set: 10,000 images, 1,000 per class, first label 9 (ankle
 * boot), mean pixel about 0.2868 (the published figure for t10k). */
Test(fmnist, real_test_set)
{
    struct fmnist d;
    struct error err;
    cr_assert_eq(fmnist_load(NULL, FMNIST_TEST, &d, &err), STRAG_OK, "%s", err.msg);
    cr_assert_eq(d.n, 10000);
    cr_assert_eq(d.labels[0], 9);
    int per_class[FMNIST_CLASSES] = {0};
    for (size_t i = 0; i < d.n; i++)
        per_class[d.labels[i]]++;
    for (int k = 0; k < FMNIST_CLASSES; k++)
        cr_assert_eq(per_class[k], 1000, "class %d has %d images", k, per_class[k]);
    double sum = 0;
    float lo = 1, hi = 0;
    for (size_t i = 0; i < d.n * FMNIST_PIXELS; i++) {
        sum += d.images[i];
        lo = d.images[i] < lo ? d.images[i] : lo;
        hi = d.images[i] > hi ? d.images[i] : hi;
    }
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 1.0f);
    cr_assert_float_eq(sum / (double)(d.n * FMNIST_PIXELS), 0.2868, 5e-4);
    fmnist_free(&d);
}

Test(fmnist, missing_data_dir)
{
    struct fmnist d;
    struct error err;
    cr_assert_eq(fmnist_load("/nonexistent-dir", FMNIST_TEST, &d, &err), STRAG_EINPUT);
    cr_assert_str_eq(err.msg,
                     "/nonexistent-dir/t10k-images-idx3-ubyte.gz: cannot open: No such file or directory");
}

/* Regression (found by fuzz/fuzz_idx): a tiny file whose header claims the
 * most images allowed made the reader allocate ~4 GB before finding it
 * truncated. Memory now grows with the bytes actually read: under a 1 GB
 * address-space limit the file is reported truncated, not out of memory.
 * (Sanitizer builds reserve terabytes of shadow memory: no limit there.) */
Test(fmnist, tiny_file_claiming_a_million_images)
{
    write_valid(0);
    unsigned char pixels[10] = {0};
    write_idx(images_path, 2051, (unsigned[]){FMNIST_MAX_IMAGES, 28, 28}, 3, pixels,
              sizeof pixels, 0);
#if !defined(__SANITIZE_ADDRESS__)
    struct rlimit lim = {.rlim_cur = 1ul << 30, .rlim_max = 1ul << 30};
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
#endif
    expect_error(images_path, "truncated: expected 784000000 bytes of pixels, got 10");
}
