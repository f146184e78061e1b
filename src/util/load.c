/*
 * load: other processes' runnable tasks, from /proc/loadavg's running
 * count (every runnable task on the machine, this process's included)
 * and the states in /proc/self/task.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "util/load.h"

/* This process's threads that are running or runnable (state R). */
static int own_runnable(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[64], buf[512];
        const char *state;
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%.32s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        /* the name in parentheses may hold spaces: the state follows the last ')' */
        state = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        n += state && state[1] == ' ' && state[2] == 'R';
    }
    closedir(d);
    return n;
}

/* Runnable tasks on the machine (the 4th field of /proc/loadavg,
 * "running/total"). */
static int machine_runnable(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    int running = -1, total;

    if (!f)
        return -1;
    if (fscanf(f, "%*s %*s %*s %d/%d", &running, &total) != 2)
        running = -1;
    fclose(f);
    return running;
}

int csq_load_others(void)
{
    int all = machine_runnable(), own;

    if (all < 0)
        return -1;
    /* the caller runs: one runnable task is this one, and the walk over
     * this process's threads (about 25 us a thread) is not needed */
    if (all <= 1)
        return 0;
    if ((own = own_runnable()) < 0)
        return -1;
    return all > own ? all - own : 0;
}
