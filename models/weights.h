/* weights.h: the stragsim weights file: saving a model's parameters and
 * loading them back into a model of the same architecture.
 *
 * The format (version 1, all integers little-endian; documented with a worked
 * example in models/weights/README.md):
 *   offset 0   6 bytes  magic "STRGW\0"
 *          6   u16      version (1)
 *          8   u64      file length in bytes, checksum included
 *         16   u16      architecture length A, then A bytes of text (no NUL):
 *                       the model's table name ("lenet5") or, for a custom
 *                       model, its spec text
 *              u32      number of tensors T
 *              T times: u8 name length L (1..31), L bytes of name,
 *                       u8 rank R (1..4), R x u32 dims (PyTorch layout)
 *              float32  every tensor's elements, row-major, in tensor order
 *   last 4 bytes u32    CRC-32 (zlib's crc32) of every byte before it
 *
 * Loading checks magic, version, length, checksum, architecture, tensor
 * count, names and shapes (in that order, so a truncated file says
 * "truncated" and a flipped bit says "checksum mismatch") and that every
 * value is finite, and names the first mismatch in one line "PATH: ..."
 * (STRAG_EINPUT). Saving goes through base/atomic_file (a temporary file
 * next to PATH, renamed when complete), so PATH is either the old file or
 * the complete new one; "-" is a file of that name, not standard output.
 * Does not train, initialise or pick file names.
 */
#ifndef STRAG_WEIGHTS_H
#define STRAG_WEIGHTS_H

#include "models/model.h"
#include "base/error.h"

enum { WEIGHTS_VERSION = 1 };

/* The architecture string a model is stored and checked under: its table
 * name, or its spec text for a custom model. */
const char *weights_arch(const struct model *m);

/* Writes m->params to path (atomically). */
int weights_save(const struct model *m, const char *path, struct error *err);

/* Reads path into m->params if it holds weights for m's architecture and
 * tensors; on any error m->params is left unchanged. */
int weights_load(struct model *m, const char *path, struct error *err);

#endif
