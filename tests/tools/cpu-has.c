/*
 * cpu-has: prints which of avx512f, avx2 and avx the CPU it runs on
 * reports, as GCC's function clones see it (__builtin_cpu_supports), so a
 * test can show that an emulated CPU (qemu-x86_64 -cpu) is the one it
 * asked for.  Usage: cpu-has
 */
#include "config.h"

#include <stdio.h>

int main(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    printf("avx512f %d avx2 %d avx %d\n", !!__builtin_cpu_supports("avx512f"),
           !!__builtin_cpu_supports("avx2"), !!__builtin_cpu_supports("avx"));
#else
    printf("avx512f 0 avx2 0 avx 0\n");
#endif
    return 0;
}
