/*
 * bcast: helpers shared by the kernels in op_*.c: numpy broadcasting of
 * two shapes, axis normalisation, reading a constant int64 input, and
 * shapes formatted for messages.  Internal to src/nn.
 *
 *     if (csq_op_bcast_shape(a->in[0], a->in[1], a->out[0]) != 0)
 *         return csq_fail(CSQ_ESHAPE, "node '%s' (%s): ...", ...);
 */
#ifndef CSQ_BCAST_H
#define CSQ_BCAST_H

#include <stddef.h>
#include <stdint.h>

#include "nn/ops.h"

/* Threads for an OpenMP loop in a kernel: num_threads() needs >= 1. */
#define CSQ_OP_NT(a) ((a)->nthreads > 0 ? (a)->nthreads : 1)

/* Set out's rank and dims to the numpy broadcast of x and y (ONNX
 * multidirectional broadcasting); -1 when they do not broadcast. */
int csq_op_bcast_shape(const struct csq_tensor *x, const struct csq_tensor *y,
                       struct csq_tensor *out);

/* Normalise axis (negative counts from the end) into [0, rank) into *out;
 * fails with CSQ_EINVAL naming the node and what the axis is for. */
int csq_op_axis(const struct csq_kargs *a, int64_t axis, int rank, const char *what,
                int *out);

/* The elements of constant input i (int64, rank 0 or 1): *vals points into
 * its data.  Fails with CSQ_EUNSUPPORTED when the input is not a constant
 * and CSQ_EINVAL when it is not int64. */
int csq_op_const_ints(const struct csq_kargs *a, int i, const char *what,
                      const int64_t **vals, int64_t *n);

/* "[2,3,4]" into buf, for messages; returns buf. */
const char *csq_op_dims_str(const struct csq_tensor *t, char *buf, size_t len);

/* Op type of the node, for messages. */
const char *csq_op_type(const struct csq_kargs *a);

/*
 * A walk over a broadcast output: up to CSQ_BWALK_MAX inputs broadcast
 * (numpy rules) to out's shape.  Dims of size 1 are dropped and
 * neighbours in which every input either advances or stays put are
 * merged, so run() sees long rows: n elements of out from row offsets
 * off[k] of each input, each advancing by s[k] (1, or 0 = broadcast).
 * Offsets are in elements.  Rows are spread over threads when large.
 */
#define CSQ_BWALK_MAX 3
typedef void (*csq_bwalk_row)(void *ctx, int64_t o, const int64_t *off, const int64_t *s,
                              int64_t n);
void csq_op_bwalk(const struct csq_kargs *a, const struct csq_tensor *const *in, int nin,
                  const struct csq_tensor *out, csq_bwalk_row run, void *ctx);

#endif
