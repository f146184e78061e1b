/*
 * fixture: paths and contents of the files under tests/fixtures/, and the
 * MANIFEST written by scripts/make-image-fixtures.  Header only, like tap.h.
 */
#ifndef CSQ_FIXTURE_H
#define CSQ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_MAX_FIELDS 12

/* $top_srcdir/tests/fixtures/<rel> in a static buffer (one at a time). */
static __attribute__((unused)) const char *fx_path(const char *rel)
{
    static char buf[4096];
    const char *top = getenv("top_srcdir");

    snprintf(buf, sizeof buf, "%s/tests/fixtures/%s", top ? top : ".", rel);
    return buf;
}

/* Whole file, malloc'd; NULL when unreadable. */
static __attribute__((unused)) unsigned char *fx_read(const char *rel, size_t *len)
{
    FILE *fp = fopen(fx_path(rel), "rb");
    unsigned char *buf;
    long n;

    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc(n + 1);
    if (buf && fread(buf, 1, n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Calls fn for each MANIFEST line whose first field is kind. */
static __attribute__((unused)) int fx_manifest(const char *kind,
                                               void (*fn)(char **f, int nf, void *ctx),
                                               void *ctx)
{
    size_t len;
    unsigned char *buf = fx_read("images/MANIFEST", &len);
    char *line, *next, *f[FX_MAX_FIELDS];
    int nf, count = 0;

    if (!buf)
        return -1;
    buf[len] = '\0';
    for (line = (char *)buf; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (*line == '#')
            continue;
        for (nf = 0; nf < FX_MAX_FIELDS && line; nf++) {
            f[nf] = line;
            line = strchr(line, '\t');
            if (line)
                *line++ = '\0';
        }
        if (strcmp(f[0], kind) == 0) {
            fn(f, nf, ctx);
            count++;
        }
    }
    free(buf);
    return count;
}

#endif
