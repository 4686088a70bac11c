/* progress.c: the in-place progress line of a sweep (see progress.h). Draws
 * only; it knows nothing about what a point is. */
#include "app/progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/clock.h"

enum { BAR_WIDTH = 20, LABEL_MAX = 160 };
#define REDRAW_SECONDS 0.1

struct progress {
    FILE *out;
    size_t total, done, skipped;
    double start, last_draw; /* monotonic seconds */
    char label[LABEL_MAX];
    pthread_mutex_t lock;
};

struct progress *progress_new(FILE *out, size_t total, enum progress_mode mode)
{
    bool on = mode == PROGRESS_ON || (mode == PROGRESS_AUTO && isatty(fileno(out)));
    struct progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = on ? out : NULL; /* NULL: every call is a no-op */
    p->total = total;
    p->start = now_seconds();
    p->last_draw = -1;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void progress_free(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* "m:ss", or "h:mm:ss" from an hour on. */
static void format_duration(char *buf, size_t len, double seconds)
{
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

static int terminal_columns(FILE *out)
{
    struct winsize ws;
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

/* Called with the lock held. */
static void draw(struct progress *p, bool force)
{
    double t = now_seconds();
    if (!force && p->last_draw >= 0 && t - p->last_draw < REDRAW_SECONDS)
        return;
    p->last_draw = t;
    double elapsed = t - p->start;
    size_t worked = p->done - p->skipped;
    char el[32], eta[32] = "--";
    format_duration(el, sizeof el, elapsed);
    if (worked > 0)
        format_duration(eta, sizeof eta, elapsed / (double)worked * (double)(p->total - p->done));

    char bar[BAR_WIDTH + 1];
    size_t filled = p->total ? p->done * BAR_WIDTH / p->total : BAR_WIDTH;
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = 0;

    char head[128], tail[96];
    snprintf(head, sizeof head, "[%s] %zu/%zu ", bar, p->done, p->total);
    snprintf(tail, sizeof tail, "  elapsed %s  ETA %s", el, eta);
    /* The label gets what the terminal has left; never wrap (a wrapped line
     * cannot be redrawn with \r). */
    int room = terminal_columns(p->out) - 1 - (int)strlen(head) - (int)strlen(tail);
    if (room < 0)
        room = 0;
    fprintf(p->out, "\r%s%.*s%s\033[K", head, room, p->label, tail);
    fflush(p->out);
}

void progress_begin(struct progress *p, const char *label)
{
    if (!p || !p->out)
        return;
    pthread_mutex_lock(&p->lock);
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    draw(p, false);
    pthread_mutex_unlock(&p->lock);
}

static void advance(struct progress *p, bool skipped)
{
    if (!p || !p->out)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->done < p->total) {
        p->done++;
        p->skipped += skipped;
    }
    draw(p, p->done == p->total);
    pthread_mutex_unlock(&p->lock);
}

bool progress_note(struct progress *p, const char *line)
{
    if (!p || !p->out)
        return false;
    pthread_mutex_lock(&p->lock);
    fprintf(p->out, "\r%s\033[K\n", line);
    draw(p, true);
    pthread_mutex_unlock(&p->lock);
    return true;
}

void progress_done(struct progress *p) { advance(p, false); }
void progress_skip(struct progress *p) { advance(p, true); }

void progress_finish(struct progress *p)
{
    if (!p || !p->out)
        return;
    pthread_mutex_lock(&p->lock);
    p->label[0] = 0;
    draw(p, true);
    fputc('\n', p->out);
    fflush(p->out);
    pthread_mutex_unlock(&p->lock);
}
