/*
 * werr: a layer's output error from its statistics (DESIGN §7):
 *   E_l(b) = tr((Q_b(W) - W) H (Q_b(W) - W)^T) / tr(W H W^T),
 * the relative squared error of the layer's output on the calibration
 * patches (H = (2/n) sum x x^T, so both traces are 2x the mean squared
 * output per patch).  Grouped layers sum both traces over their groups,
 * each group against its own H.  When tr(W H W^T) is 0 (the layer's output
 * is 0 on every patch) E is 0 if the numerator is too, else INFINITY.
 *
 * Layout and groups as csq_gptq_quantize (mpq/gptq.h); arrays are borrowed.
 *
 *     int bits[] = {2, 3, 4};  double e[3];
 *     rc = csq_werr_candidates(w, rows, k, k, 1, groups, H, CSQ_WERR_GPTQ, &o,
 *                              bits, 3, e, &info);
 */
#ifndef CSQ_WERR_H
#define CSQ_WERR_H

#include <stdint.h>

#include "mpq/gptq.h"

enum csq_werr_quantizer { CSQ_WERR_RTN = 0, CSQ_WERR_GPTQ = 1 };

/* E for given quantized weights q (same layout as w). */
int csq_werr_ratio(const float *w, const float *q, int64_t rows, int64_t k, int64_t ch_stride,
                   int64_t el_stride, int64_t groups, const double *h, double *e);
/* E at each of nbits widths, quantizing w (left unchanged) with rtn or gptq;
 * o gives gptq's act-order, block and damping (its bits are ignored; NULL:
 * defaults).  info (may be NULL) sums gptq's outcomes over the widths. */
int csq_werr_candidates(const float *w, int64_t rows, int64_t k, int64_t ch_stride,
                        int64_t el_stride, int64_t groups, const double *h, int quantizer,
                        const struct csq_gptq_opts *o, const int *bits, int nbits, double *e,
                        struct csq_gptq_info *info);

#endif
