/*
 * waitpolicy: keeps idle OpenMP and OpenBLAS threads from spinning on
 * cores that other work needs, unless the user chose (OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT for OpenMP, OPENBLAS_THREAD_TIMEOUT for OpenBLAS).
 *
 * Why: libgomp's default lets a thread that finished its share spin for
 * about 300000 iterations before it sleeps.  On a machine whose other core
 * is busy (another process, or more runnable threads than cores), the
 * spinning thread burns the time slice its partner needs to reach the
 * barrier: measured in BENCHMARKS.md (issue 16), mobilenet_v2 at batch 1
 * ran 0.2-0.4 images/s with the default and 17.6-50 with
 * OMP_WAIT_POLICY=passive at load average 19-27.  But sleeping costs a
 * futex wake-up at every parallel region, which at batch 1 is every few
 * tens of microseconds: on a quiet machine a short spin (GOMP_SPINCOUNT
 * 1000) ran mobilenet_v2 at batch 1 about 20% and efficientnet_b0 35%
 * faster than passive.  So csmpq spins briefly when nothing else is
 * runnable as it starts, and sleeps otherwise.  A process arriving later
 * is the thread watch's (src/nn/threads.c: one thread while it runs).
 * How long to spin depends on what else of csmpq's wants the cores: run
 * is the forward pass alone, and spinning 30000 ran efficientnet_b0 at
 * batch 1 at 126 images/s against 110 with 1000; eval's decoding threads
 * need the cores the spinning threads hold (fmnist_resnet 10.9 -> 8.9-9.4
 * thousand images/s at 10000-100000), so every other command spins 1000
 * (BENCHMARKS.md, issue 16).
 * OpenBLAS's own threads keep calling sched_yield for 2^28 cycles (about
 * 0.1 s) after each threaded call, so one classifier Gemm per image kept
 * a third thread runnable on 2 cores through every OpenMP convolution:
 * with the timeout at its minimum mobilenet_v2 at batch 1 went from about
 * 146 to 220 images/s on a quiet machine (BENCHMARKS.md).
 *
 * How: libgomp and OpenBLAS read their environment once, in their ELF
 * constructors, before main(); and a variable set earlier still
 * (.preinit_array) is lost when libc's own initializer resets environ to
 * the original block.  So when a variable is unset, csmpq sets it and
 * executes itself again (one exec, a few ms); if that fails it just
 * carries on spinning.  main() does this before MPI_Init: a rank that
 * executes itself then still joins its job (tests/cli/t0710-mpi.sh), while
 * one that had called MPI_Init already cannot initialize again.
 * Only the CLI does this; the library leaves the environment alone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/load.h"

/* Whether another process is runnable: looks 200 us apart over at most
 * 5 ms, since the first millisecond or so after a start still counts the
 * parent that forked csmpq.  Busy (1) when /proc cannot be read. */
static int others_runnable(void)
{
    for (int look = 0; look < 25; look++) {
        int n = csq_load_others();

        if (n < 0)
            return 1;
        if (n == 0)
            return 0;
        nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
    }
    return 1;
}

/* Whether the command is run: argv past the global options (main.c). */
static int command_is_run(char **argv)
{
    int i = 1;

    while (argv[i] && argv[i][0] == '-')
        i += strcmp(argv[i], "--max-memory") == 0 && argv[i + 1] ? 2 : 1;
    return argv[i] && strcmp(argv[i], "run") == 0;
}

void cli_wait_policy(char **argv)
{
    int set = 0;

    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
        if (!others_runnable())
            set |= setenv("GOMP_SPINCOUNT", command_is_run(argv) ? "30000" : "1000", 0) == 0;
        else
            set |= setenv("OMP_WAIT_POLICY", "PASSIVE", 0) == 0;
    }
    /* 4 is OpenBLAS's floor: 2^4 cycles, so an idle thread sleeps at once */
    if (!getenv("OPENBLAS_THREAD_TIMEOUT"))
        set |= setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0) == 0;
    if (set) {
        /* by its real path, so that ps and top still say csmpq, not exe */
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

        if (n > 0) {
            self[n] = '\0';
            execv(self, argv);
        }
        execv("/proc/self/exe", argv);
    }
}
