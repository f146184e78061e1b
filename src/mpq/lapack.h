/*
 * lapack: the LAPACK factorizations GPTQ needs, from OpenBLAS's Fortran
 * symbols (Debian's libopenblas-dev ships no lapacke.h).  The only file that
 * declares them is lapack.c.
 */
#ifndef CSQ_LAPACK_H
#define CSQ_LAPACK_H

#include <stdint.h>

/* a: n x n row-major, symmetric positive definite.  Overwrites its upper
 * triangle with U, the upper Cholesky factor of a^-1 (a^-1 = U^T U, U_ii >
 * 0); the strict lower triangle is left undefined.  Returns 0, or -1 when
 * the factorization fails (a not positive definite, or not finite): no
 * message is recorded, since callers retry. */
int csq_lapack_inv_chol_upper(double *a, int64_t n);

#endif
