/*
 * dist: the few collective operations csmpq's passes need to split their
 * work across MPI ranks (`mpirun -n N csmpq ...`), behind csq_dist_*
 * names, so mpi.h is included by dist.c alone.  Built without MPI
 * (./configure without --with-mpi) every function is the one-process
 * version: rank 0 of 1, and the combines return their input.
 *
 * Exactness: nothing here adds floating-point numbers from different
 * ranks.  Work is split into units each computed whole by one rank, and
 * the combines move bytes (pick: each entry from the rank that owns it;
 * gather: blocks in rank order; bcast: one rank's), so a split run gives
 * the same bits as one process.  The only sums are of integers.
 *
 * Failure: csq_dist_agree is a collective every rank reaches with its
 * status; when any failed, all get the lowest failing rank's status and
 * its message (recorded on every rank, printed by rank 0 alone).
 *
 *     csq_dist_init(&argc, &argv);        main, before anything else
 *     if (unit % csq_dist_size() == csq_dist_rank()) compute(unit);
 *     rc = csq_dist_agree(rc);
 *     if (rc == 0) rc = csq_dist_pick(buf, n, owner, user);
 *     csq_dist_finalize();
 */
#ifndef CSQ_DIST_H
#define CSQ_DIST_H

#include <stddef.h>
#include <stdint.h>

int csq_dist_init(int *argc, char ***argv);
void csq_dist_finalize(void);
int csq_dist_rank(void);
int csq_dist_size(void);
/* 1 when built with MPI (csmpq --version says so). */
int csq_dist_enabled(void);

/* The lowest failing rank's status and message on every rank, or 0. */
int csq_dist_agree(int status);
/* buf[n] on every rank becomes, entry by entry, the value held by the
 * rank owner(i, user). */
int csq_dist_pick(double *buf, size_t n, int (*owner)(size_t i, void *user), void *user);
/* Integer sums over ranks, on every rank. */
int csq_dist_sum_i64(int64_t *buf, size_t n);
/* Concatenate each rank's bytes, rank 0's first, on every rank: rank r
 * holds len[r] bytes at its own buf; out gets sum len bytes (caller's
 * storage, sized from csq_dist_sum_i64 of the lengths or known ahead). */
int csq_dist_gather(const void *buf, size_t len, void *out, size_t out_len);
/* buf[len] on every rank becomes root's bytes. */
int csq_dist_bcast(void *buf, size_t len, int root);

#endif
