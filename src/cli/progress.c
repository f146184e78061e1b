/*
 * progress: a one-line bar on stderr (see progress.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void draw(void *user, const char *what, size_t done, size_t total)
{
    struct cli_progress *p = user;
    char bar[21];
    double t = now(), rate, el;
    size_t i, fill;

    if (!p->on)
        return;
    if (p->what != what) {
        p->what = what;
        p->start = t;
        p->last = 0;
    }
    /* Redraw at most ten times a second, and always at the end. */
    if (done < total && t - p->last < 0.1)
        return;
    p->last = t;
    el = t - p->start;
    rate = el > 0 ? (double)done / el : 0;
    fill = total ? done * 20 / total : 20;
    for (i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr, "\rcsmpq: %s: %s [%s] %zu/%zu images", p->cmd, what, bar, done, total);
    if (rate > 0)
        fprintf(stderr, ", %.0f/s", rate);
    if (done < total && rate > 0) {
        long left = (long)((double)(total - done) / rate + 0.5);
        fprintf(stderr, ", %ld:%02ld left ", left / 60, left % 60);
    } else {
        fputs("          ", stderr);
    }
    if (done >= total) {
        fputc('\n', stderr);
        p->what = NULL;
    }
}

struct csq_progress cli_progress_init(struct cli_progress *p, const char *cmd)
{
    struct csq_progress r;

    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->on = !cli_global.quiet && isatty(STDERR_FILENO);
    r.report = draw;
    r.user = p;
    return r;
}
