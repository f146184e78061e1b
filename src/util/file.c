/*
 * file: whole-file reads and atomic writes (see file.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/dist.h"
#include "util/file.h"
#include "util/mem.h"

int csq_file_read(const char *path, unsigned char **out, size_t *len)
{
    FILE *fp;
    unsigned char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;
    int is_stdin = strcmp(path, "-") == 0;
    struct stat st;

    *out = NULL;
    *len = 0;
    fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return csq_fail(CSQ_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (!is_stdin && fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return csq_fail(CSQ_EIO, "cannot read '%s': is a directory", path);
    }
    /* A device such as /dev/zero never ends; pipes and FIFOs do. */
    if (!is_stdin && fstat(fileno(fp), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        fclose(fp);
        return csq_fail(CSQ_EIO, "cannot read '%s': not a regular file", path);
    }
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                if (!is_stdin)
                    fclose(fp);
                return csq_fail(CSQ_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        int e = errno;
        free(buf);
        if (!is_stdin)
            fclose(fp);
        return csq_fail(CSQ_EIO, "cannot read '%s': %s", path, strerror(e));
    }
    if (!is_stdin)
        fclose(fp);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CSQ_OK;
}

int csq_file_read_text(const char *what, const char *path, char **buf, size_t *len)
{
    unsigned char *b;
    int rc;

    *buf = NULL;
    if ((rc = csq_file_read(path, &b, len)) != 0)
        return rc;
    if (memchr(b, '\0', *len)) {
        free(b);
        return csq_fail(CSQ_EFORMAT, "%s: '%s': binary file", what, path);
    }
    *buf = (char *)b;
    return CSQ_OK;
}

int csq_out_open(struct csq_out *o, const char *path)
{
    int fd;
    size_t n;

    o->fp = NULL;
    o->path = NULL;
    o->tmp = NULL;
    /* Under MPI rank 0 alone writes; the others' stdout is /dev/null. */
    if (strcmp(path, "-") == 0 || csq_dist_rank() > 0) {
        o->fp = stdout;
        return CSQ_OK;
    }
    n = strlen(path);
    o->path = csq_mem_strdup(path);
    o->tmp = malloc(n + 16);
    if (!o->path || !o->tmp) {
        free(o->path);
        free(o->tmp);
        o->path = o->tmp = NULL;
        return csq_fail(CSQ_ENOMEM, "out of memory");
    }
    snprintf(o->tmp, n + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->path);
        free(o->tmp);
        o->path = o->tmp = NULL;
        return csq_fail(CSQ_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    /* mkstemp makes 0600 files; outputs should look like any other file. */
    {
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, 0666 & ~um);
    }
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        close(fd);
        unlink(o->tmp);
        free(o->path);
        free(o->tmp);
        o->path = o->tmp = NULL;
        return csq_fail(CSQ_ENOMEM, "cannot write '%s'", path);
    }
    return CSQ_OK;
}

int csq_out_commit(struct csq_out *o)
{
    int rc = CSQ_OK;
    const char *name = o->path ? o->path : "standard output";

    if (!o->fp)
        return CSQ_OK;
    if (fflush(o->fp) != 0 || ferror(o->fp))
        rc = csq_fail(CSQ_EIO, "cannot write '%s': %s", name, strerror(errno));
    if (o->path) {
        if (fclose(o->fp) != 0 && rc == CSQ_OK)
            rc = csq_fail(CSQ_EIO, "cannot write '%s': %s", name, strerror(errno));
        if (rc == CSQ_OK && rename(o->tmp, o->path) != 0)
            rc = csq_fail(CSQ_EIO, "cannot write '%s': %s", name, strerror(errno));
        if (rc != CSQ_OK)
            unlink(o->tmp);
        free(o->path);
        free(o->tmp);
    }
    o->fp = NULL;
    o->path = o->tmp = NULL;
    return rc;
}

void csq_out_abort(struct csq_out *o)
{
    if (!o->fp)
        return;
    if (o->path) {
        fclose(o->fp);
        unlink(o->tmp);
        free(o->path);
        free(o->tmp);
    }
    o->fp = NULL;
    o->path = o->tmp = NULL;
}

int csq_out_check(const char *path)
{
    struct csq_out o;
    struct stat st;
    int rc;

    if (strcmp(path, "-") == 0)
        return CSQ_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return csq_fail(CSQ_EIO, "cannot write '%s': %s", path, strerror(EISDIR));
    if ((rc = csq_out_open(&o, path)) == CSQ_OK)
        csq_out_abort(&o);
    return rc;
}
