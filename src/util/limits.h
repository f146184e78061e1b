/*
 * limits: the process-wide memory limit (csmpq --max-memory).  Loaders
 * and the engine compare what a file's declared sizes would make them
 * allocate against it and refuse with CSQ_ENOMEM before allocating, so a
 * hostile or mistaken input fails with a message instead of swapping or
 * being killed.  The default is half of the machine's physical RAM.
 *
 *     csq_limit_set_memory(512 << 20);
 *     if (bytes > csq_limit_memory()) return csq_fail(CSQ_ENOMEM, ...);
 */
#ifndef CSQ_LIMITS_H
#define CSQ_LIMITS_H

#include <stddef.h>

/* Set the limit in bytes; 0 restores the default. */
void csq_limit_set_memory(size_t bytes);
/* The limit in bytes (never 0). */
size_t csq_limit_memory(void);
/* Half of physical RAM, or SIZE_MAX / 2 when the system does not say. */
size_t csq_limit_default_memory(void);

#endif
