/*
 * threads: the one thread count shared by our OpenMP loops and OpenBLAS.
 * Kernels never nest the two: a kernel either calls a threaded sgemm from
 * one thread or sets OpenBLAS to one thread while its own parallel loop
 * makes sgemm calls (op_conv.c).
 *
 * The watch (csq_ops_threads_watch, called by the engine between nodes)
 * runs OpenMP's parallel regions on one thread while other processes
 * leave at most one core free, and on all ops_threads again when they
 * leave.  Why: a team's parallel region ends when its slowest thread
 * does, and a thread that shares its core with another process runs at
 * half speed, so two threads on two cores with one busy go no faster than
 * one thread on the free core, and slower when their waits spin (the
 * CLI's wait policy on a quiet machine): efficientnet_b0 at batch 1 kept
 * 42 of 124 images/s when a busy process started after csmpq, and 74 with
 * the watch (BENCHMARKS.md, issue 16).  OpenMP's max-active-levels of 0
 * makes every region inactive (one thread) without changing a plan:
 * csmpq's loops and oneDNN's primitives split their work over the threads
 * the region really has (oneDNN's gemm convolutions once told so,
 * csq_ops_threads_now), and no kernel's sums depend on that count, so
 * results stay the same to the bit.
 */
#include "config.h"

#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "nn/ops.h"
#include "util/load.h"

static int ops_threads;     /* 0 until set: all cores */

/* the watch's state: the process's, as the machine's load is */
static struct {
    int off;                /* CSMPQ_ADAPT_THREADS=0 */
    int cores;              /* cores this process may run on */
    int single;             /* regions on one thread now */
    int streak;             /* looks in a row that disagree with single */
    int levels;             /* max-active-levels to restore */
    double last;            /* time of the last look, s */
    long looks, shared;     /* looks, and those made on one thread */
} watch = { -1, 0, 0, 0, 0, 0.0, 0, 0 };

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)n : 1;
}

/* Back to all threads (before the count changes, or for good). */
static void watch_release(void)
{
    if (watch.single)
        omp_set_max_active_levels(watch.levels);
    watch.single = watch.streak = 0;
}

void csq_ops_set_threads(int n)
{
    if (n <= 0)
        n = online_cores();
    watch_release();
    ops_threads = n;
    openblas_set_num_threads(n);
}

int csq_ops_threads(void)
{
    if (ops_threads <= 0)
        csq_ops_set_threads(0);
    return ops_threads;
}

int csq_ops_threads_now(void)
{
    int n = csq_ops_threads(), limit = omp_get_thread_limit();

    /* the watch's setting, or the user's OMP_MAX_ACTIVE_LEVELS=0 */
    if (omp_get_max_active_levels() == 0)
        return 1;
    return n < limit ? n : limit;
}

/* A look every 25 ms at most (a look that walks csmpq's threads takes
 * about 100 us), and two looks in a row to change: a process that runs
 * for a moment, or one of this process's threads seen in the middle of a
 * change of state, does not flip the team. */
#define WATCH_EVERY 0.025
#define WATCH_AGREE 2

void csq_ops_threads_watch(void)
{
    struct timespec ts;
    double now;
    int others, crowded;

    if (watch.off < 0) {
        const char *v = getenv("CSMPQ_ADAPT_THREADS");
        cpu_set_t set;

        watch.off = v && strcmp(v, "0") == 0;
        watch.cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                                    : online_cores();
    }
    if (watch.off || csq_ops_threads() < 2)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    if (now - watch.last < WATCH_EVERY)
        return;
    watch.last = now;
    watch.looks++;
    watch.shared += watch.single;
    if ((others = csq_load_others()) < 0)
        return;
    crowded = others >= watch.cores - 1;
    if (crowded == watch.single) {
        watch.streak = 0;
        return;
    }
    if (++watch.streak < WATCH_AGREE)
        return;
    if (crowded) {
        watch.levels = omp_get_max_active_levels();
        omp_set_max_active_levels(0);
        watch.single = 1;
        watch.streak = 0;
    } else {
        watch_release();
    }
}

void csq_ops_threads_shared(long *looks, long *shared)
{
    *looks = watch.looks;
    *shared = watch.shared;
}
