/* fmnist.c: the IDX reader (gzip through zlib), the validation split and
 * batch gathering for Fashion-MNIST. It checks every header field against
 * what Fashion-MNIST must be (magic, 28x28, counts, lengths, labels < 10) and
 * names the first thing wrong; it does not cache, download or augment. */
#include "models/fmnist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/rng.h"

/* IDX magic: 0x00 0x00, type 0x08 (unsigned byte), number of dimensions. */
enum { IDX_IMAGES_MAGIC = 2051, IDX_LABELS_MAGIC = 2049 };

static const char *const part_files[][2] = {
    [FMNIST_TRAIN] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
    [FMNIST_TEST] = {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
};

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int idx_open(const char *path, gzFile *out, struct error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return error_at(err, path, 0, "cannot open: %s", strerror(errno));
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return error_fail(err, "%s: out of memory opening the gzip stream", path);
    }
    *out = gz;
    return STRAG_OK;
}

/* Reads up to len bytes; *got is how many arrived before the end of the
 * file. A corrupt gzip stream is an error (not a short read). */
static int idx_read(gzFile gz, const char *path, void *buf, size_t len, size_t *got,
                    struct error *err)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        size_t chunk = len - *got;
        if (chunk > INT_MAX / 2)
            chunk = INT_MAX / 2;
        int n = gzread(gz, p + *got, (unsigned)chunk);
        if (n < 0) {
            int code;
            const char *why = gzerror(gz, &code);
            const char *sep = strstr(why, ": ");
            if (why[0] == '<' && sep) /* gzdopen streams prefix "<fd:N>: " */
                why = sep + 2;
            return error_at(err, path, 0, "not a valid gzip stream: %s", why);
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return STRAG_OK;
}

/* Reads the magic and `ndims` big-endian dimensions. */
static int idx_header(gzFile gz, const char *path, uint32_t magic, const char *what,
                      uint32_t *dims, int ndims, struct error *err)
{
    unsigned char h[16];
    size_t want = 4 + 4 * (size_t)ndims, got;
    int rc = idx_read(gz, path, h, want, &got, err);
    if (rc)
        return rc;
    if (got < 4)
        return error_at(err, path, 0, "truncated: expected a %zu-byte IDX %s header, got %zu bytes",
                        want, what, got);
    uint32_t m = be32(h);
    if (m != magic)
        return error_at(err, path, 0, "bad magic 0x%08x (expected %u for an IDX %s file)", m,
                        magic, what);
    if (got < want)
        return error_at(err, path, 0, "truncated: expected a %zu-byte IDX %s header, got %zu bytes",
                        want, what, got);
    for (int i = 0; i < ndims; i++)
        dims[i] = be32(h + 4 + 4 * i);
    if (dims[0] > FMNIST_MAX_IMAGES)
        return error_at(err, path, 0, "count %u is implausible (more than %d)", dims[0],
                        FMNIST_MAX_IMAGES);
    return STRAG_OK;
}

/* Reads exactly len payload bytes into *buf (allocated here, freed by the
 * caller even on error) and checks nothing follows them. The buffer grows
 * with the data actually read, so a corrupt header claiming a million
 * images costs memory only if the file really holds them. */
static int idx_payload(gzFile gz, const char *path, const char *what, unsigned char **buf,
                       size_t len, struct error *err)
{
    enum { FIRST_CHUNK = 1 << 20 };
    size_t have = 0, cap = len < FIRST_CHUNK ? (len ? len : 1) : FIRST_CHUNK;
    if (!(*buf = malloc(cap)))
        return error_fail(err, "%s: out of memory for %zu bytes of %s", path, len, what);
    for (;;) {
        size_t got;
        int rc = idx_read(gz, path, *buf + have, (len < cap ? len : cap) - have, &got, err);
        if (rc)
            return rc;
        have += got;
        if (have < cap || cap >= len)
            break; /* the file ended, or everything is here */
        size_t grown = cap > len / 2 ? len : 2 * cap;
        unsigned char *nb = realloc(*buf, grown);
        if (!nb)
            return error_fail(err, "%s: out of memory for %zu bytes of %s", path, len, what);
        *buf = nb;
        cap = grown;
    }
    if (have < len)
        return error_at(err, path, 0, "truncated: expected %zu bytes of %s, got %zu", len, what,
                        have);
    unsigned char extra[256];
    size_t got;
    int rc = idx_read(gz, path, extra, sizeof extra, &got, err);
    if (rc)
        return rc;
    if (got > 0)
        return error_at(err, path, 0, "unexpected data after the %zu bytes of %s", len, what);
    return STRAG_OK;
}

static int read_images(const char *path, struct fmnist *out, struct error *err)
{
    gzFile gz = NULL;
    int rc = idx_open(path, &gz, err);
    if (rc)
        return rc;
    uint32_t dims[3];
    unsigned char *bytes = NULL;
    rc = idx_header(gz, path, IDX_IMAGES_MAGIC, "image", dims, 3, err);
    if (!rc && (dims[1] != FMNIST_ROWS || dims[2] != FMNIST_COLS))
        rc = error_at(err, path, 0, "images are %ux%u, expected %dx%d", dims[1], dims[2],
                      FMNIST_ROWS, FMNIST_COLS);
    size_t n = rc ? 0 : dims[0], len = n * FMNIST_PIXELS;
    if (!rc)
        rc = idx_payload(gz, path, "pixels", &bytes, len, err);
    if (!rc && !(out->images = malloc((len ? len : 1) * sizeof(float))))
        rc = error_fail(err, "%s: out of memory for %zu images", path, n);
    if (!rc) {
        for (size_t i = 0; i < len; i++)
            out->images[i] = (float)bytes[i] * (1.0f / 255.0f);
        out->n = n;
    }
    free(bytes);
    gzclose(gz);
    return rc;
}

static int read_labels(const char *path, size_t nimages, const char *images_path, int *labels,
                       struct error *err)
{
    gzFile gz = NULL;
    int rc = idx_open(path, &gz, err);
    if (rc)
        return rc;
    uint32_t count = 0;
    unsigned char *bytes = NULL;
    rc = idx_header(gz, path, IDX_LABELS_MAGIC, "label", &count, 1, err);
    if (!rc && count != nimages)
        rc = error_at(err, path, 0, "%u labels for the %zu images of %s", count, nimages,
                      images_path);
    if (!rc)
        rc = idx_payload(gz, path, "labels", &bytes, nimages, err);
    for (size_t i = 0; !rc && i < nimages; i++) {
        if (bytes[i] >= FMNIST_CLASSES)
            rc = error_at(err, path, 0, "label %u of image %zu is out of range (expected 0..%d)",
                          bytes[i], i, FMNIST_CLASSES - 1);
        labels[i] = bytes[i];
    }
    free(bytes);
    gzclose(gz);
    return rc;
}

int fmnist_read(const char *images_path, const char *labels_path, struct fmnist *out,
                struct error *err)
{
    memset(out, 0, sizeof *out);
    int rc = read_images(images_path, out, err);
    if (!rc && !(out->labels = malloc((out->n ? out->n : 1) * sizeof(int))))
        rc = error_fail(err, "%s: out of memory for %zu labels", labels_path, out->n);
    if (!rc)
        rc = read_labels(labels_path, out->n, images_path, out->labels, err);
    if (rc)
        fmnist_free(out);
    return rc;
}

int fmnist_load(const char *dir, enum fmnist_part part, struct fmnist *out, struct error *err)
{
    if (!dir || !*dir)
        dir = FMNIST_DEFAULT_DIR;
    char images[4096], labels[4096];
    snprintf(images, sizeof images, "%s/%s", dir, part_files[part][0]);
    snprintf(labels, sizeof labels, "%s/%s", dir, part_files[part][1]);
    return fmnist_read(images, labels, out, err);
}

void fmnist_free(struct fmnist *d)
{
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

void fmnist_split(size_t n, uint64_t seed, int *perm)
{
    struct rng r;
    rng_seed(&r, seed, 0, RNG_DATA, 0);
    for (size_t i = 0; i < n; i++)
        perm[i] = (int)i;
    rng_shuffle_int(&r, perm, n);
}

void fmnist_gather(const struct fmnist *d, const int *idx, size_t count, float *x, int *y)
{
    for (size_t i = 0; i < count; i++) {
        memcpy(x + i * FMNIST_PIXELS, d->images + (size_t)idx[i] * FMNIST_PIXELS,
               FMNIST_PIXELS * sizeof(float));
        y[i] = d->labels[idx[i]];
    }
}
