/* weights.c: encoding and decoding the weights file of weights.h. The whole
 * file is built (or read) in memory: the largest model here is under 1 MB.
 * It checks a file against one model; it does not guess architectures. */
#include "models/weights.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/atomic_file.h"

static const unsigned char weights_magic[6] = {'S', 'T', 'R', 'G', 'W', '\0'};
enum {
    FIXED_HEADER = 18, /* magic, version, length, architecture length */
    MAX_ARCH = 1024,
    MAX_RANK = 4,
    MAX_NAME = 31,
};

const char *weights_arch(const struct model *m)
{
    return model_builtin_spec(m->name) ? m->name : m->arch;
}

/* ---- encoding ---- */

struct wbuf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct wbuf *b, const void *src, size_t n)
{
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_le(struct wbuf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->p[b->len++] = (unsigned char)(v >> (8 * i));
}

static size_t encoded_size(const struct model *m, const char *arch)
{
    size_t n = FIXED_HEADER + strlen(arch) + 4;
    for (int t = 0; t < m->ntensors; t++)
        n += 1 + strlen(m->tensors[t].name) + 1 + 4 * (size_t)m->tensors[t].ndim;
    return n + 4 * m->nparams + 4;
}

static void encode(const struct model *m, const char *arch, struct wbuf *b)
{
    put(b, weights_magic, sizeof weights_magic);
    put_le(b, WEIGHTS_VERSION, 2);
    put_le(b, b->cap, 8);
    put_le(b, strlen(arch), 2);
    put(b, arch, strlen(arch));
    put_le(b, (uint64_t)m->ntensors, 4);
    for (int t = 0; t < m->ntensors; t++) {
        const struct model_tensor *mt = &m->tensors[t];
        put_le(b, strlen(mt->name), 1);
        put(b, mt->name, strlen(mt->name));
        put_le(b, (uint64_t)mt->ndim, 1);
        for (int d = 0; d < mt->ndim; d++)
            put_le(b, (uint64_t)mt->dims[d], 4);
    }
    for (int t = 0; t < m->ntensors; t++) {
        const struct model_tensor *mt = &m->tensors[t];
        for (size_t i = 0; i < mt->count; i++) {
            uint32_t bits;
            memcpy(&bits, &m->params[mt->offset + i], 4);
            put_le(b, bits, 4);
        }
    }
    put_le(b, crc32(0L, b->p, (uInt)b->len), 4);
}

int weights_save(const struct model *m, const char *path, struct error *err)
{
    const char *arch = weights_arch(m);
    if (strlen(arch) > MAX_ARCH)
        return error_fail(err, "%s: architecture text is longer than %d bytes", path, MAX_ARCH);
    struct wbuf b = {.cap = encoded_size(m, arch)};
    if (!(b.p = malloc(b.cap)))
        return error_fail(err, "%s: out of memory", path);
    encode(m, arch, &b);

    /* Weights are binary: "-" names a file here (weights_load reads it as
     * one too), not standard output as for atomic_file's text outputs. */
    struct atomic_file af;
    int rc = atomic_file_open(&af, strcmp(path, "-") == 0 ? "./-" : path, err);
    if (!rc) {
        fwrite(b.p, 1, b.len, af.f); /* a failed write is reported by commit */
        rc = atomic_file_commit(&af, err);
    }
    free(b.p);
    return rc;
}

/* ---- decoding ---- */

struct rbuf {
    const unsigned char *p;
    size_t len, pos;
};

/* Reads a little-endian integer; -1 if fewer than `bytes` bytes are left. */
static int get_le(struct rbuf *b, int bytes, uint64_t *v)
{
    if (b->len - b->pos < (size_t)bytes)
        return -1;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v |= (uint64_t)b->p[b->pos++] << (8 * i);
    return 0;
}

static int read_file(const char *path, unsigned char **out, size_t *len, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return error_at(err, path, 0, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *q = realloc(p, cap *= 2);
        if (!q)
            free(p);
        p = q;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (!p)
        return error_fail(err, "%s: out of memory", path);
    if (bad) {
        free(p);
        return error_at(err, path, 0, "cannot read: %s", strerror(saved));
    }
    *out = p;
    *len = n;
    return STRAG_OK;
}

static void shape_text(char *s, size_t n, const uint64_t *dims, int rank)
{
    int w = 0;
    for (int d = 0; d < rank && (size_t)w < n; d++)
        w += snprintf(s + w, n - (size_t)w, d ? "x%llu" : "%llu", (unsigned long long)dims[d]);
}

/* Checks one tensor's header entry against the model's tensor t. */
static int check_tensor(struct rbuf *b, const char *path, const struct model_tensor *mt, int t,
                        struct error *err)
{
    uint64_t name_len, rank, dims[MAX_RANK];
    if (get_le(b, 1, &name_len) || name_len < 1 || name_len > MAX_NAME ||
        b->len - b->pos < name_len)
        return error_at(err, path, 0, "malformed header: bad name of tensor %d", t + 1);
    char name[MAX_NAME + 1];
    memcpy(name, b->p + b->pos, name_len);
    name[name_len] = '\0';
    b->pos += name_len;
    if (get_le(b, 1, &rank) || rank < 1 || rank > MAX_RANK)
        return error_at(err, path, 0, "malformed header: bad rank of tensor %d", t + 1);
    for (uint64_t d = 0; d < rank; d++)
        if (get_le(b, 4, &dims[d]))
            return error_at(err, path, 0, "malformed header: bad shape of tensor %d", t + 1);
    if (strcmp(name, mt->name) != 0)
        return error_at(err, path, 0, "tensor %d is '%s', expected '%s'", t + 1, name, mt->name);
    uint64_t want[MAX_RANK];
    for (int d = 0; d < mt->ndim; d++)
        want[d] = (uint64_t)mt->dims[d];
    int same = (int)rank == mt->ndim;
    for (int d = 0; same && d < mt->ndim; d++)
        same = dims[d] == want[d];
    if (!same) {
        char got[64], exp[64];
        shape_text(got, sizeof got, dims, (int)rank);
        shape_text(exp, sizeof exp, want, mt->ndim);
        return error_at(err, path, 0, "tensor %d '%s' has shape %s, expected %s", t + 1, name,
                        got, exp);
    }
    return STRAG_OK;
}

static float get_f32(const unsigned char *s)
{
    uint32_t bits = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                    (uint32_t)s[3] << 24;
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* Everything after the checksum check: architecture, tensors, values.
 * b->len excludes the checksum. */
static int decode(struct model *m, const char *path, struct rbuf *b, struct error *err)
{
    uint64_t arch_len, ntensors;
    b->pos = FIXED_HEADER - 2;
    if (get_le(b, 2, &arch_len) || arch_len > MAX_ARCH || b->len - b->pos < arch_len)
        return error_at(err, path, 0, "malformed header: bad architecture length");
    const char *arch = (const char *)b->p + b->pos;
    b->pos += arch_len;
    const char *want = weights_arch(m);
    if (arch_len != strlen(want) || memcmp(arch, want, arch_len) != 0)
        return error_at(err, path, 0, "architecture is '%.*s', expected '%s'", (int)arch_len, arch,
                        want);
    if (get_le(b, 4, &ntensors))
        return error_at(err, path, 0, "malformed header: no tensor count");
    if (ntensors != (uint64_t)m->ntensors)
        return error_at(err, path, 0, "%llu tensors, expected %d", (unsigned long long)ntensors,
                        m->ntensors);
    for (int t = 0; t < m->ntensors; t++) {
        int rc = check_tensor(b, path, &m->tensors[t], t, err);
        if (rc)
            return rc;
    }
    size_t data = b->len - b->pos;
    if (data != 4 * m->nparams)
        return error_at(err, path, 0, "malformed: %zu bytes of tensor data, expected %zu", data,
                        4 * m->nparams);
    float *values = malloc((m->nparams ? m->nparams : 1) * sizeof(float));
    if (!values)
        return error_fail(err, "%s: out of memory", path);
    const unsigned char *src = b->p + b->pos;
    for (int t = 0; t < m->ntensors; t++) {
        const struct model_tensor *mt = &m->tensors[t];
        for (size_t i = 0; i < mt->count; i++) {
            float v = get_f32(src + 4 * (mt->offset + i));
            if (!isfinite(v)) {
                free(values);
                return error_at(err, path, 0,
                                "tensor %d '%s' holds a non-finite value at element %zu", t + 1,
                                mt->name, i);
            }
            values[mt->offset + i] = v;
        }
    }
    memcpy(m->params, values, m->nparams * sizeof(float));
    free(values);
    return STRAG_OK;
}

/* Magic, version, length and checksum: is this an intact weights file? */
static int check_envelope(const char *path, struct rbuf *b, struct error *err)
{
    uint64_t version, length;
    size_t head = b->len < sizeof weights_magic ? b->len : sizeof weights_magic;
    if (b->len == 0 || memcmp(b->p, weights_magic, head) != 0)
        return error_at(err, path, 0, "bad magic (not a stragsim weights file)");
    if (b->len < FIXED_HEADER + 4)
        return error_at(err, path, 0, "truncated: %zu bytes is shorter than any weights file",
                        b->len);
    b->pos = sizeof weights_magic;
    get_le(b, 2, &version);
    get_le(b, 8, &length);
    if (version != WEIGHTS_VERSION)
        return error_at(err, path, 0, "unsupported version %llu (this build reads version %d)",
                        (unsigned long long)version, WEIGHTS_VERSION);
    if (length != b->len)
        return error_at(err, path, 0,
                        "length mismatch: the header says %llu bytes, the file has %zu "
                        "(truncated or corrupt)",
                        (unsigned long long)length, b->len);
    const unsigned char *crc = b->p + b->len - 4;
    uint32_t stored = (uint32_t)crc[0] | (uint32_t)crc[1] << 8 | (uint32_t)crc[2] << 16 |
                      (uint32_t)crc[3] << 24;
    if (crc32(0L, b->p, (uInt)(b->len - 4)) != stored)
        return error_at(err, path, 0, "checksum mismatch (file corrupt)");
    return STRAG_OK;
}

int weights_load(struct model *m, const char *path, struct error *err)
{
    unsigned char *p = NULL;
    size_t len = 0;
    int rc = read_file(path, &p, &len, err);
    if (rc)
        return rc;
    struct rbuf b = {.p = p, .len = len};
    rc = check_envelope(path, &b, err);
    if (!rc) {
        b.len = len - 4;
        rc = decode(m, path, &b, err);
    }
    free(p);
    return rc;
}
