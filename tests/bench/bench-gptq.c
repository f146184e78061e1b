/*
 * bench-gptq: time of csmpq's layer statistics and GPTQ on one layer, for
 * scripts/bench-gptq.  A developer tool, not a test.
 *
 *     bench-gptq X.npy W.npy BITS ACT_ORDER OUT.npy
 *
 * X: (n, K) float32 input rows; W: (M, K) float32 weights.  Accumulates
 * H = (2/n) X^T X (csq_hessian_add_rows), quantizes W with GPTQ (blocks of
 * 128, damping 0.01), writes the result to OUT.npy and prints one JSON line:
 * stats_s, gptq_s, e_gptq, e_rtn (E from the same H), peak_rss_mib.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mpq/gptq.h"
#include "mpq/hessian.h"
#include "mpq/werr.h"
#include "util/err.h"
#include "util/npy.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    struct csq_tensor x, w, q;
    struct csq_gptq_opts o;
    struct csq_gptq_info info;
    struct rusage ru;
    double t0, t1, t2, eg, er;
    int bits[1];

    if (argc != 6) {
        fprintf(stderr, "usage: bench-gptq X.npy W.npy BITS ACT_ORDER OUT.npy\n");
        return 2;
    }
    if (csq_npy_read(argv[1], &x) || csq_npy_read(argv[2], &w)) {
        fprintf(stderr, "bench-gptq: %s\n", csq_errmsg());
        return 1;
    }
    int64_t n = x.dims[0], k = x.dims[1], m = w.dims[0];
    struct csq_hessian *h = csq_hessian_new(1, k, 0, CSQ_HESSIAN_SEED);
    float *out = malloc((size_t)(m * k) * sizeof *out);
    if (!h || !out || w.dims[1] != k) {
        fprintf(stderr, "bench-gptq: bad shapes or no memory\n");
        return 1;
    }
    t0 = now();
    csq_hessian_add_rows(h, x.data, n, k);
    csq_hessian_finish(h);
    t1 = now();
    free(x.data);
    csq_gptq_opts_init(&o, atoi(argv[3]));
    o.act_order = atoi(argv[4]);
    if (csq_gptq_quantize(w.data, m, k, k, 1, 1, csq_hessian_matrix(h, 0), &o, out, NULL, NULL,
                          &info)) {
        fprintf(stderr, "bench-gptq: %s\n", csq_errmsg());
        return 1;
    }
    t2 = now();
    getrusage(RUSAGE_SELF, &ru);
    csq_werr_ratio(w.data, out, m, k, k, 1, 1, csq_hessian_matrix(h, 0), &eg);
    bits[0] = o.bits;
    csq_werr_candidates(w.data, m, k, k, 1, 1, csq_hessian_matrix(h, 0), CSQ_WERR_RTN, NULL,
                        bits, 1, &er, NULL);
    q = w;
    q.data = out;
    csq_npy_write(argv[5], &q);
    printf("{\"stats_s\": %.4f, \"gptq_s\": %.4f, \"e_gptq\": %.9g, \"e_rtn\": %.9g, "
           "\"fallback\": %lld, \"peak_rss_mib\": %.1f}\n", t1 - t0, t2 - t1, eg, er,
           (long long)info.rtn, ru.ru_maxrss / 1024.0);
    csq_hessian_free(h);
    free(out);
    free(w.data);
    return 0;
}
