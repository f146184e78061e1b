/*
 * tap: a tiny Test Anything Protocol helper for the C unit tests.  Header
 * only, so each tests/unit/t-*.c is one self-contained program.
 *
 *     int main(void) { ok(1 + 1 == 2, "adds"); is_near(x, 0.5, 1e-9, "x"); return tap_done(); }
 */
#ifndef CSQ_TAP_H
#define CSQ_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static void tap_vresult(int pass, const char *fmt, va_list ap)
{
    tap_n++;
    if (!pass)
        tap_failed++;
    printf("%sok %d - ", pass ? "" : "not ", tap_n);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

static __attribute__((unused, format(printf, 2, 3))) int ok(int pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vresult(pass, fmt, ap);
    va_end(ap);
    return pass;
}

static __attribute__((unused, format(printf, 3, 4))) int is_int(long long got, long long want,
                                                                const char *fmt, ...)
{
    va_list ap;
    int pass = got == want;
    va_start(ap, fmt);
    tap_vresult(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got %lld, want %lld\n", got, want);
    return pass;
}

/* |got - want| <= tol, or both NaN. */
static __attribute__((unused, format(printf, 4, 5))) int is_near(double got, double want,
                                                                 double tol, const char *fmt, ...)
{
    va_list ap;
    int pass = fabs(got - want) <= tol || (isnan(got) && isnan(want));
    va_start(ap, fmt);
    tap_vresult(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got %.17g, want %.17g (tol %g)\n", got, want, tol);
    return pass;
}

static __attribute__((unused, format(printf, 1, 2))) void diag(const char *fmt, ...)
{
    va_list ap;
    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static __attribute__((unused)) int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
