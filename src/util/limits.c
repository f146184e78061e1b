/* limits: the memory limit (see limits.h). */
#include "config.h"

#include <stdint.h>
#include <unistd.h>

#include "util/limits.h"

/* Set once by the CLI before any work; read-only afterwards. */
static size_t memory_limit;

size_t csq_limit_default_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

    if (pages <= 0 || psize <= 0 || (uint64_t)pages > SIZE_MAX / (uint64_t)psize)
        return SIZE_MAX / 2;
    return (size_t)pages * (size_t)psize / 2;
}

void csq_limit_set_memory(size_t bytes)
{
    memory_limit = bytes;
}

size_t csq_limit_memory(void)
{
    /* Not cached here: worker threads call this, and only the setter
     * may write the variable. */
    return memory_limit ? memory_limit : csq_limit_default_memory();
}
