/*
 * dist: MPI collectives for split passes (see dist.h).  The only file that
 * includes mpi.h; without HAVE_MPI, the one-process versions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/dist.h"
#include "util/err.h"
#include "util/mem.h"

#ifdef HAVE_MPI
#include <mpi.h>

static int started;

int csq_dist_init(int *argc, char ***argv)
{
    int flag = 0;

    MPI_Initialized(&flag);
    if (!flag && MPI_Init(argc, argv) != MPI_SUCCESS)
        return csq_fail(CSQ_EIO, "mpi: cannot initialize");
    started = 1;
    return CSQ_OK;
}

void csq_dist_finalize(void)
{
    if (started)
        MPI_Finalize();
    started = 0;
}

int csq_dist_rank(void)
{
    int r = 0;

    if (started)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int csq_dist_size(void)
{
    int n = 1;

    if (started)
        MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

int csq_dist_enabled(void)
{
    return 1;
}

int csq_dist_agree(int status)
{
    int me = csq_dist_rank(), n = csq_dist_size(), mine, first, len = 0;
    int msg[2];
    char *text = NULL;

    if (n == 1)
        return status;
    mine = status ? me : n;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == n)
        return CSQ_OK;
    if (me == first) {
        msg[0] = status;
        msg[1] = len = csq_errmsg() ? (int)strlen(csq_errmsg()) : 0;
    }
    MPI_Bcast(msg, 2, MPI_INT, first, MPI_COMM_WORLD);
    len = msg[1];
    text = calloc((size_t)len + 1, 1);
    if (me == first && text && len)
        memcpy(text, csq_errmsg(), (size_t)len);
    if (text)
        MPI_Bcast(text, len, MPI_CHAR, first, MPI_COMM_WORLD);
    if (me != first) {
        csq_errclear();
        if (text && len)
            csq_fail(msg[0], "%s", text);
    }
    free(text);
    return msg[0];
}

int csq_dist_pick(double *buf, size_t n, int (*owner)(size_t i, void *user), void *user)
{
    int size = csq_dist_size();
    double *all;
    size_t i;

    if (size == 1)
        return CSQ_OK;
    all = csq_mem_array((size_t)size * n + 1, sizeof *all);
    if (!all)
        return CSQ_ENOMEM;
    MPI_Allgather(buf, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD);
    for (i = 0; i < n; i++)
        buf[i] = all[(size_t)owner(i, user) * n + i];
    free(all);
    return CSQ_OK;
}

int csq_dist_sum_i64(int64_t *buf, size_t n)
{
    if (csq_dist_size() == 1)
        return CSQ_OK;
    MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return CSQ_OK;
}

int csq_dist_gather(const void *buf, size_t len, void *out, size_t out_len)
{
    int size = csq_dist_size(), r, mine = (int)len;
    int *counts, *displs;

    if (size == 1) {
        if (len > out_len)
            return csq_fail(CSQ_EINVAL, "mpi: gather of %zu bytes into %zu", len, out_len);
        memcpy(out, buf, len);
        return CSQ_OK;
    }
    counts = csq_mem_array((size_t)size, sizeof *counts);
    displs = csq_mem_array((size_t)size, sizeof *displs);
    if (!counts || !displs) {
        free(counts);
        free(displs);
        return CSQ_ENOMEM;
    }
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < size; r++)
        displs[r] = r ? displs[r - 1] + counts[r - 1] : 0;
    if ((size_t)displs[size - 1] + (size_t)counts[size - 1] > out_len) {
        free(counts);
        free(displs);
        return csq_fail(CSQ_EINVAL, "mpi: gather larger than its buffer");
    }
    MPI_Allgatherv(buf, mine, MPI_BYTE, out, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
    free(counts);
    free(displs);
    return CSQ_OK;
}

int csq_dist_bcast(void *buf, size_t len, int root)
{
    unsigned char *p = buf;

    if (csq_dist_size() == 1)
        return CSQ_OK;
    /* MPI counts are int: large buffers go in 1 GiB pieces */
    while (len > 0) {
        int n = len > ((size_t)1 << 30) ? 1 << 30 : (int)len;
        MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD);
        p += n;
        len -= (size_t)n;
    }
    return CSQ_OK;
}

#else /* one process */

int csq_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return CSQ_OK;
}

void csq_dist_finalize(void)
{
}

int csq_dist_rank(void)
{
    return 0;
}

int csq_dist_size(void)
{
    return 1;
}

int csq_dist_enabled(void)
{
    return 0;
}

int csq_dist_agree(int status)
{
    return status;
}

int csq_dist_pick(double *buf, size_t n, int (*owner)(size_t i, void *user), void *user)
{
    (void)buf;
    (void)n;
    (void)owner;
    (void)user;
    return CSQ_OK;
}

int csq_dist_sum_i64(int64_t *buf, size_t n)
{
    (void)buf;
    (void)n;
    return CSQ_OK;
}

int csq_dist_gather(const void *buf, size_t len, void *out, size_t out_len)
{
    if (len > out_len)
        return csq_fail(CSQ_EINVAL, "mpi: gather of %zu bytes into %zu", len, out_len);
    memcpy(out, buf, len);
    return CSQ_OK;
}

int csq_dist_bcast(void *buf, size_t len, int root)
{
    (void)buf;
    (void)len;
    (void)root;
    return CSQ_OK;
}

#endif
