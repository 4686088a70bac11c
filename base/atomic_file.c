/* atomic_file.c: output files written under a temporary name and renamed
 * when complete (see atomic_file.h). */
#include "base/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The last failure's reason; "write error" when stdio kept only the flag. */
static const char *reason(int e)
{
    return e ? strerror(e) : "write error";
}

/* Under the FILE: the descriptor, and the errno of the first failed write,
 * which stdio itself forgets (it keeps only an error flag). */
struct atomic_sink {
    int fd;
    int error;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
    struct atomic_sink *s = cookie;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(s->fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!s->error)
                s->error = w < 0 ? errno : ENOSPC;
            /* What was written, 0 on error, never -1 (fopencookie(3)): glibc
             * adds a -1 to the bytes still to write and reads past the
             * caller's buffer. */
            return (ssize_t)done;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int sink_close(void *cookie)
{
    struct atomic_sink *s = cookie;
    int rc = close(s->fd);
    if (rc && !s->error)
        s->error = errno;
    return rc;
}

/* A FILE over fd whose failures are remembered in af->sink; takes fd. */
static FILE *sink_open(struct atomic_file *af, int fd)
{
    if (!(af->sink = calloc(1, sizeof *af->sink)))
        return NULL;
    af->sink->fd = fd;
    FILE *f = fopencookie(af->sink, "w", (cookie_io_functions_t){.write = sink_write,
                                                                 .close = sink_close});
    if (!f) {
        free(af->sink);
        af->sink = NULL;
    }
    return f;
}

int atomic_file_open(struct atomic_file *af, const char *path, struct error *err)
{
    *af = (struct atomic_file){0};
    if (strcmp(path, "-") == 0) {
        af->f = stdout;
        af->to_stdout = true;
        return 0;
    }
    if (!(af->path = strdup(path)))
        return error_fail(err, "out of memory");
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            atomic_file_abort(af);
            return error_at(err, path, 0, "cannot write: %s", strerror(EISDIR));
        }
        /* A device or FIFO: there is nothing to rename over. */
        int fd = open(path, O_WRONLY | O_TRUNC);
        if (fd < 0 || !(af->f = sink_open(af, fd))) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            atomic_file_abort(af);
            return error_at(err, path, 0, "cannot write: %s", strerror(e));
        }
        return 0;
    }
    if (asprintf(&af->tmp, "%s.tmp-XXXXXX", path) < 0) {
        af->tmp = NULL;
        atomic_file_abort(af);
        return error_fail(err, "out of memory");
    }
    int fd = mkstemp(af->tmp);
    if (fd < 0 || !(af->f = sink_open(af, fd))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(af->tmp);
        }
        free(af->tmp);
        af->tmp = NULL; /* nothing to remove any more */
        atomic_file_abort(af);
        return error_at(err, path, 0, "cannot write: %s", strerror(e));
    }
    /* mkstemp makes 0600; an output file gets fopen's 0666 & ~umask. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(af->sink->fd, 0666 & ~mask);
    return 0;
}

int atomic_file_commit(struct atomic_file *af, struct error *err)
{
    if (af->to_stdout) { /* flushed and checked by atomic_stdout_check */
        *af = (struct atomic_file){0};
        return 0;
    }
    bool failed = fflush(af->f) != 0 || ferror(af->f);
    if (!failed && af->tmp && fsync(af->sink->fd) != 0 && !af->sink->error)
        af->sink->error = errno;
    failed = fclose(af->f) != 0 || failed || af->sink->error;
    af->f = NULL;
    int e = af->sink->error;
    if (!failed && af->tmp && rename(af->tmp, af->path) != 0)
        failed = true, e = errno;
    int rc = failed ? error_at(err, af->path, 0, "cannot write: %s", reason(e)) : 0;
    if (!failed) {
        free(af->tmp);
        af->tmp = NULL;
    }
    atomic_file_abort(af);
    return rc;
}

int atomic_file_fd(const struct atomic_file *af)
{
    return af->to_stdout ? fileno(stdout) : af->sink->fd;
}

void atomic_file_abort(struct atomic_file *af)
{
    if (af->f && !af->to_stdout)
        fclose(af->f);
    if (af->tmp)
        unlink(af->tmp);
    free(af->sink);
    free(af->tmp);
    free(af->path);
    *af = (struct atomic_file){0};
}

int atomic_stdout_check(const char *command, struct error *err)
{
    bool failed = ferror(stdout) != 0;
    int e = 0;
    if (fflush(stdout) != 0)
        failed = true, e = errno;
    if (!failed)
        return 0;
    /* stdio drops a failed buffer and keeps only the flag (a long line that
     * bypassed the buffer leaves nothing to flush): an empty write asks the
     * descriptor for the reason without writing anything (ENOSPC on a full
     * device; a regular file or a pipe answers 0, and the reason stays
     * unknown). */
    if (!e && write(fileno(stdout), "", 0) < 0)
        e = errno;
    clearerr(stdout); /* in-process callers (tests) go on using it */
    return error_at(err, NULL, 0, "stragsim %s: cannot write standard output: %s", command,
                    reason(e));
}
