/*
 * lapack: the factor GPTQ needs.  With J the reversal permutation,
 * J a J = L L^T (one dpotrf) gives a = R R^T with R = J L J upper
 * triangular, and U = R^-1 is the upper Cholesky factor of a^-1 by
 * uniqueness; GPTQ works from R without forming U (see gptq.c).
 * Conjugating by J is reversing the row-major array, and a row-major lower
 * triangle is LAPACK's column-major upper one.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>

#include "mpq/lapack.h"

/* Fortran LAPACK (OpenBLAS); the trailing lengths are gfortran's hidden
 * CHARACTER arguments, ignored by OpenBLAS's own C versions. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);

static void reverse(double *a, int64_t len)
{
    for (int64_t i = 0, j = len - 1; i < j; i++, j--) {
        double t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int csq_lapack_rev_chol_upper(double *a, int64_t n)
{
    int ni = (int)n, info = 0;
    int64_t i;

    if (n < 1)
        return 0;
    for (i = 0; i < n * n; i++)
        if (!isfinite(a[i]))
            return -1;
    reverse(a, n * n);
    dpotrf_("U", &ni, a, &ni, &info, 1);
    if (info != 0)
        return -1;
    reverse(a, n * n);
    for (i = 0; i < n; i++)
        if (!(a[i * n + i] > 0) || !isfinite(a[i * n + i]) || !isfinite(1 / a[i * n + i]))
            return -1;
    return 0;
}
