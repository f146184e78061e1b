/*
 * npy: NumPy .npy files (format 1.0 / 2.0 / 3.0, little-endian, C order)
 * for float32 and int64 arrays, so raw tensors can go in and out of
 * csmpq without another runtime.
 */
#ifndef CSQ_NPY_H
#define CSQ_NPY_H

#include "nn/tensor.h"

/* Read path ("-" = stdin) into *t; the caller frees t->data. */
int csq_npy_read(const char *path, struct csq_tensor *t);
/* Write t (float32 or int64) atomically to path ("-" = stdout). */
int csq_npy_write(const char *path, const struct csq_tensor *t);

#endif
