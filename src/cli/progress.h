/*
 * progress: the bar long passes draw on stderr (images done, rate, time
 * left), only when stderr is a terminal and -q was not given.
 */
#ifndef CSQ_CLI_PROGRESS_H
#define CSQ_CLI_PROGRESS_H

#include "util/progress.h"

struct cli_progress {
    const char *cmd;
    double start;           /* monotonic seconds at the pass's first report */
    const char *what;       /* the pass being drawn */
    double last;            /* when the bar was last drawn */
    int on;
};

/* A csq_progress that draws for cmd (it points at p, which must outlive it). */
struct csq_progress cli_progress_init(struct cli_progress *p, const char *cmd);

#endif
