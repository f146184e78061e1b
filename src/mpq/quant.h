/*
 * quant: simulated ("fake") uniform quantization on float arrays (DESIGN
 * §10).  Pure functions: no graph, no engine; values are quantized and
 * dequantized in place, so the result is float32 that holds only the values
 * an integer model could represent.  scripts/reference-quant is the PyTorch
 * twin of this file and follows every choice below.
 *
 * Weights, per output channel, symmetric, b bits (1..16):
 *   b >= 2: levels q in [-qmax, qmax], qmax = 2^(b-1) - 1 (so b = 2 is
 *           ternary {-1, 0, 1} * scale); scale = r * max|w| / qmax, with the
 *           clipping ratio r taken from the grid r = k / 100, k = 1..100
 *           (100 points; ternary 2-bit weights of a Gaussian channel want
 *           r near 0.3 even without outliers, so the grid goes below it)
 *           that minimizes sum (w - Q(w))^2 of the channel;
 *           Q(w) = clamp(round(w / scale), -qmax, qmax) * scale.  Ties (and
 *           improvements below a relative 1e-12) keep the larger r: the scan
 *           runs from r = 1 down.  The stored value is (float)level *
 *           (float)scale, multiplied in float32: what ONNX DequantizeLinear
 *           gives for the int8 level and the float32 scale an export holds.
 *   b == 1: binary {-s, +s} with s = mean |w|, the least-squares optimum for
 *           a fixed sign pattern; w >= 0 maps to +s (no grid).
 *   A channel whose max |w| is 0 stays 0.  Weight rounding is half away
 *   from zero (the levels are stored, so any rule is exportable).  The
 *   search is double; only the stored result is float.
 *
 * Activations, per tensor, asymmetric, b bits (1..16): levels 0..2^b - 1,
 *   for a range [lo, hi] that always contains 0: scale = (hi - lo) /
 *   (2^b - 1) and zp = clamp(round(-lo / scale), 0, 2^b - 1) in double
 *   (round half away).  Applying them is ONNX QuantizeLinear followed by
 *   DequantizeLinear with the float32 scale s = (float)scale, all in
 *   float32: x_q = clamp(rint(x / s) + zp, 0, 2^b - 1) with the division
 *   in float32 and rint half to even, x' = (float)(x_q - zp) * s.  An
 *   exported QDQ model run by ONNX Runtime gives the same bits.  When the
 *   calibration data has min >= 0 (after a ReLU) the range is [0, hi] and
 *   zp = 0 ("unsigned"); otherwise [lo, hi].  scale 0 (only zeros seen)
 *   maps everything to 0.
 *
 * Calibration (one pass, any batch split gives the same histogram): the
 * calibrator keeps the exact min and max and a histogram of count and sum
 * per bin, with bins [i h, (i+1) h), i in [-2048, 2048), anchored at 0; h is
 * the smallest power of two 2^k (k >= -64) with -2048 h <= min and
 * max < 2048 h, and when a batch needs a larger h, adjacent bin pairs merge
 * exactly.  csq_actcal_finish tries the ranges [min(r lo, 0), max(r hi, 0)]
 * (in double: csq_actq_value, rounding half to even as the apply does)
 * with lo = min, hi = max (lo = 0 when min >= 0) for r = k / 100,
 * k = 1..100, and keeps the one with the least estimated squared error
 * sum_bins count * (m - Q(m))^2, m = the mean of the values in the bin (this
 * is exact up to a constant whenever no bin straddles a rounding boundary;
 * bins outside the range contribute their clipping error).  Ties keep the
 * larger r, as for weights.
 *
 * Ownership: arrays are borrowed; csq_actcal_new returns a calibrator the
 * caller frees with csq_actcal_free (NULL is fine).
 *
 * The order scripts/reference-quant uses (and eval should): quantize the
 * weights of every configured layer, run the calibration images with hooks
 * that only observe each layer's data input (weights quantized, activations
 * still float), finish, then evaluate with hooks that apply.
 *
 *     csq_quant_weights(w, cout, w_elems / cout, 4, &sqnr);
 *     struct csq_actcal *c = csq_actcal_new(8);
 *     for each calibration batch: csq_actcal_add(c, x, n);
 *     csq_actcal_finish(c, &q);  csq_actcal_free(c);
 *     for each eval batch: csq_actq_apply(&q, x, n);
 */
#ifndef CSQ_QUANT_H
#define CSQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

#define CSQ_QUANT_MAXBITS 16
/* Weight clipping grid: r = k / 100 for k in [WMIN, 100]. */
#define CSQ_QUANT_WGRID_MIN 1
/* Activation range grid: r = k / 100 for k in [AMIN, 100]. */
#define CSQ_QUANT_AGRID_MIN 1
/* Histogram bins on each side of 0. */
#define CSQ_QUANT_HALFBINS 2048

/* What was chosen for one weight channel. */
struct csq_wquant {
    double ratio; /* clipping ratio of max|w|; 0 for b = 1 (no grid) */
    double scale; /* step between levels (s for b = 1); 0 for a zero channel */
    double sse;   /* sum (w - Q(w))^2 in double, before rounding to float */
};

/* Quantize one channel of n weights in place.  info may be NULL.
 * CSQ_EINVAL for bits outside 1..16, n < 0 or a non-finite weight (w is then
 * left untouched). */
int csq_quant_channel(float *w, int64_t n, int bits, struct csq_wquant *info);

/* The choice csq_quant_channel makes for the channel whose element i is
 * w[i * stride], without changing w (GPTQ takes its scales from here).
 * CSQ_EINVAL as csq_quant_channel. */
int csq_quant_choose(const float *w, int64_t n, int64_t stride, int bits,
                     struct csq_wquant *info);
/* The integer level of w for a chosen scale: clamp(round(w / scale), -qmax,
 * qmax) for b >= 2, +-1 (w >= 0 gives +1) for b = 1, 0 when scale is 0;
 * the quantized value is csq_quant_value(level, scale).  Any finite w. */
double csq_quant_level(double w, double scale, int bits);
/* The stored weight of a level: (float)level * (float)scale in float32, as
 * DequantizeLinear computes it from an int8 level and a float32 scale. */
static inline float csq_quant_value(double level, double scale)
{
    return (float)level * (float)scale;
}

/* Quantize out_channels x per_channel weights (channel-major, as Conv's
 * (Cout, Cin/g, kH, kW) and Gemm's transB = 1 (N, K)) in place.  sqnr_db
 * (may be NULL) receives 10 log10(sum w^2 / sum (w - w')^2) over the whole
 * tensor with w' the stored floats, INFINITY when exact.  Nothing is changed
 * on error. */
int csq_quant_weights(float *w, int64_t out_channels, int64_t per_channel, int bits,
                      double *sqnr_db);
/* The same with element i of channel o at w[o * ch_stride + i * el_stride]
 * (a MatMul / Gemm transB = 0 weight (K, N): ch_stride 1, el_stride N). */
int csq_quant_weights_strided(float *w, int64_t out_channels, int64_t per_channel,
                              int64_t ch_stride, int64_t el_stride, int bits,
                              double *sqnr_db);

/* A per-tensor activation quantizer. */
struct csq_actq {
    int bits;
    int zp;       /* zero point, in [0, 2^bits - 1] */
    double lo;    /* chosen range, lo <= 0 <= hi */
    double hi;
    double scale; /* (hi - lo) / (2^bits - 1) */
    double ratio; /* calibration ratio of the observed range, 1 if set directly */
    double mse;   /* estimated mean squared error on the calibration data */
};

/* Set q from a range: lo is raised to <= 0 and hi to >= 0 first.  CSQ_EINVAL
 * on bad bits or a non-finite or inverted range. */
int csq_actq_init(struct csq_actq *q, int bits, double lo, double hi);
/* Fake-quantize n values in place, in float32 as QuantizeLinear +
 * DequantizeLinear compute them (see the top of this file). */
void csq_actq_apply(const struct csq_actq *q, float *x, size_t n);
/* One value as apply stores it. */
float csq_actq_value32(const struct csq_actq *q, float x);
/* One value in double with the double scale (the calibration search's
 * model: apply's result up to float rounding of the scale and quotient). */
double csq_actq_value(const struct csq_actq *q, double x);

struct csq_actcal;

/* NULL (message recorded) on bad bits or no memory. */
struct csq_actcal *csq_actcal_new(int bits);
/* Add n values of one calibration batch.  CSQ_EINVAL on a non-finite value
 * (nothing from this batch is kept). */
int csq_actcal_add(struct csq_actcal *c, const float *x, size_t n);
/* Choose the range; CSQ_EINVAL when no value was added.  The calibrator
 * stays usable (more batches may be added and finish called again). */
int csq_actcal_finish(const struct csq_actcal *c, struct csq_actq *q);
/* Values seen, exact min and max, and the current bin width h. */
void csq_actcal_stats(const struct csq_actcal *c, uint64_t *count, double *min, double *max,
                      double *bin_width);
void csq_actcal_free(struct csq_actcal *c);

#endif
