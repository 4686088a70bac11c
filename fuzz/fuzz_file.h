/* fuzz_file.h: the harnesses' one helper: a fuzz input written to a file in
 * a private temporary directory (the readers under test take paths). */
#ifndef STRAG_FUZZ_FILE_H
#define STRAG_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes data[0..size) to the file `name` in the harness's directory
 * (created on first use, under $TMPDIR or /dev/shm) and returns its path;
 * aborts on an I/O error (the harness, not the input, is broken). */
const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size);

#endif
