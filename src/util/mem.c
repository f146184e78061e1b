/*
 * mem: overflow-checked allocation (see mem.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

int csq_mem_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

static void *oom(size_t n, size_t size)
{
    csq_fail(CSQ_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return NULL;
}

void *csq_mem_array(size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (csq_mem_mul(n, size, &bytes) != 0)
        return oom(n, size);
    p = malloc(bytes ? bytes : 1);
    return p ? p : oom(n, size);
}

void *csq_mem_zarray(size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (csq_mem_mul(n, size, &bytes) != 0)
        return oom(n, size);
    p = calloc(bytes ? n : 1, bytes ? size : 1);
    return p ? p : oom(n, size);
}

void *csq_mem_rearray(void *old, size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (csq_mem_mul(n, size, &bytes) != 0)
        return oom(n, size);
    p = realloc(old, bytes ? bytes : 1);
    return p ? p : oom(n, size);
}

void *csq_mem_aligned(size_t n, size_t size)
{
    size_t bytes;
    void *p = NULL;

    if (csq_mem_mul(n, size, &bytes) != 0 || bytes > SIZE_MAX - 64)
        return oom(n, size);
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return oom(n, size);
    return p;
}

void csq_mem_afree(void *p)
{
    free(p);
}

char *csq_mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (!p)
        return oom(n, 1);
    memcpy(p, s, n);
    return p;
}
