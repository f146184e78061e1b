/*
 * lapack: the LAPACK factorizations GPTQ needs, from OpenBLAS's Fortran
 * symbols (Debian's libopenblas-dev ships no lapacke.h).  The only file that
 * declares them is lapack.c.
 */
#ifndef CSQ_LAPACK_H
#define CSQ_LAPACK_H

#include <stdint.h>

/* a: n x n row-major, symmetric positive definite.  Its upper triangle
 * becomes R, upper triangular with R_ii > 0 and a = R R^T (so R^-1 is the
 * upper Cholesky factor of a^-1); the strict lower triangle is left
 * undefined.  Returns 0, or -1 when the factorization fails (a not
 * positive definite, or not finite): no message is recorded, since
 * callers retry. */
int csq_lapack_rev_chol_upper(double *a, int64_t n);

#endif
