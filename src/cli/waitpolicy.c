/*
 * waitpolicy: makes idle OpenMP threads sleep instead of spinning, unless
 * the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT set).
 *
 * Why: libgomp's default lets a thread that finished its share spin for
 * about 300000 iterations before it sleeps.  On a machine whose other core
 * is busy (another process, or more runnable threads than cores), the
 * spinning thread burns the time slice its partner needs to reach the
 * barrier: measured in BENCHMARKS.md (issue 16), mobilenet_v2 at batch 1
 * ran 0.2-0.4 images/s with the default and 17.6-50 with
 * OMP_WAIT_POLICY=passive at load average 19-27.
 *
 * How: libgomp reads its environment once, in its ELF constructor, before
 * main(); and a variable set earlier still (.preinit_array) is lost when
 * libc's own initializer resets environ to the original block.  So when
 * neither variable is set, csmpq sets OMP_WAIT_POLICY and executes itself
 * again (one exec, a few ms); if that fails it just carries on spinning.
 * main() does this before MPI_Init: a rank that executes itself then
 * still joins its job (tests/cli/t0710-mpi.sh), while one that had
 * called MPI_Init already cannot initialize again.
 * Only the CLI does this; the library leaves the environment alone.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
        return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 0) != 0)
        return;
    execv("/proc/self/exe", argv);
}
