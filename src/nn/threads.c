/*
 * threads: the one thread count shared by our OpenMP loops and OpenBLAS.
 * Kernels never nest the two: a kernel either calls a threaded sgemm from
 * one thread or sets OpenBLAS to one thread while its own parallel loop
 * makes sgemm calls (op_conv.c).
 */
#include "config.h"

#include <unistd.h>

#include <cblas.h>

#include "nn/ops.h"

static int ops_threads;     /* 0 until set: all cores */

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)n : 1;
}

void csq_ops_set_threads(int n)
{
    if (n <= 0)
        n = online_cores();
    ops_threads = n;
    openblas_set_num_threads(n);
}

int csq_ops_threads(void)
{
    if (ops_threads <= 0)
        csq_ops_set_threads(0);
    return ops_threads;
}
