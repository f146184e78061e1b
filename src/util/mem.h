/*
 * mem: overflow-checked allocation.  Every function records a message with
 * csq_fail() when it returns NULL, so callers just return CSQ_ENOMEM.
 */
#ifndef CSQ_MEM_H
#define CSQ_MEM_H

#include <stddef.h>
#include <stdint.h>

/* malloc(n * size), NULL on overflow or failure. */
void *csq_mem_array(size_t n, size_t size);
/* calloc(n, size), NULL on overflow or failure. */
void *csq_mem_zarray(size_t n, size_t size);
/* realloc(p, n * size); p is left alone on failure. */
void *csq_mem_rearray(void *p, size_t n, size_t size);
/* 64-byte aligned, for SIMD kernels; free with csq_mem_afree. */
void *csq_mem_aligned(size_t n, size_t size);
void csq_mem_afree(void *p);
/* strdup that records a message on failure. */
char *csq_mem_strdup(const char *s);
/* *out = a * b; 0 on success, -1 on overflow. */
int csq_mem_mul(size_t a, size_t b, size_t *out);

#endif
