/*
 * progress: how long passes over images tell the caller how far they are.
 * The library never prints; the command line draws a bar from these calls.
 *
 *     struct csq_progress pr = { .report = draw, .user = ctx };
 *     csq_progress_report(&pr, "score", done, total);
 */
#ifndef CSQ_PROGRESS_H
#define CSQ_PROGRESS_H

#include <stddef.h>

struct csq_progress {
    /* what: the pass ("score", "calibrate", ...); done == total ends it.
     * NULL report: nobody listens. */
    void (*report)(void *user, const char *what, size_t done, size_t total);
    void *user;
};

static inline void csq_progress_report(const struct csq_progress *p, const char *what,
                                       size_t done, size_t total)
{
    if (p && p->report)
        p->report(p->user, what, done, total);
}

#endif
