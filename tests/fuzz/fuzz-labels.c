/* fuzz-labels: bytes as a --labels file, applied to a list naming two
 * classes and to a list without classes. */
#include "fuzz-file.h"
#include "fuzz-text.h"

/* A memfd holding text, for the lists that stay the same every run. */
static const char *fixed_file(const char *text)
{
    size_t n = strlen(text);
    int fd = memfd_create("fuzz-list", 0);
    char *path = malloc(64);

    if (fd < 0 || !path || write(fd, text, n) != (ssize_t)n)
        abort();
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *lists[2];

    if (!lists[0]) {
        lists[0] = fixed_file(fuzz_labels_lists[0]);
        lists[1] = fixed_file(fuzz_labels_lists[1]);
    }
    (void)fuzz_labels_run(fuzz_file(data, size), lists);
    csq_errclear();
    return 0;
}
