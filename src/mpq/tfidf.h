/*
 * tfidf: class-separability score of one layer (DESIGN.md section 5, the
 * CSMPQ paper's TF-IDF of pooled feature maps).  Channels are the terms;
 * documents are either classes (each the mean of its images' pooled
 * vectors) or single images.
 *
 * An accumulator is created per layer, fed one pooled vector per image in
 * any order, and scored at the end; it is owned by the caller and freed
 * with csq_tfidf_free.  Classes mode keeps a double sum per class and
 * channel; samples mode keeps every image's vector (N x C floats), since
 * the per-channel mean must be known before any document is judged.
 *
 *     struct csq_tfidf *t;
 *     csq_tfidf_new(C, K, CSQ_TFIDF_CLASSES, &t);
 *     for each image: csq_tfidf_pool(y, 1, C, H * W, f); csq_tfidf_add(t, f, label);
 *     csq_tfidf_score(t, 0.0, &score); csq_tfidf_free(t);
 */
#ifndef CSQ_TFIDF_H
#define CSQ_TFIDF_H

#include <stdint.h>

enum csq_tfidf_docs { CSQ_TFIDF_CLASSES, CSQ_TFIDF_SAMPLES };

struct csq_tfidf;

/* nclasses >= 2 in classes mode (ignored in samples mode). */
int csq_tfidf_new(int nchannels, int nclasses, enum csq_tfidf_docs docs, struct csq_tfidf **out);
/* One image's pooled vector [nchannels], finite and >= 0; cls in
 * [0, nclasses) in classes mode, ignored in samples mode. */
int csq_tfidf_add(struct csq_tfidf *t, const float *pooled, int cls);
/* The layer score for --coe coe (<= 0: beta = 1).  Errors: fewer than two
 * documents, a class without images. */
int csq_tfidf_score(const struct csq_tfidf *t, double coe, double *score);
/* Images added so far. */
int64_t csq_tfidf_count(const struct csq_tfidf *t);
void csq_tfidf_free(struct csq_tfidf *t);

/* out[i][c] = mean over hw of max(y[i][c][hw], 0) for n images of c
 * channels (NCHW with H*W = hw; hw = 1 for Gemm outputs), summed in double. */
void csq_tfidf_pool(const float *y, int64_t n, int64_t c, int64_t hw, float *out);
/* The same for channels-last maps [n][hw][c] (a Linear on tokens,
 * [N, L, C] or [N, H, W, C]). */
void csq_tfidf_pool_last(const float *y, int64_t n, int64_t hw, int64_t c, float *out);

#endif
