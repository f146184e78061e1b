/*
 * tsv: shared pieces of the tab-separated file readers (see tsv.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/tsv.h"

char *csq_tsv_line(char **cursor, int *lineno)
{
    char *line = *cursor, *next;
    size_t n;

    if (!line || !*line)
        return NULL;
    next = strchr(line, '\n');
    if (next)
        *next++ = '\0';
    *cursor = next;
    n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    (*lineno)++;
    return line;
}

int csq_tsv_split(char *s, char **f, int max)
{
    int n = 0;

    for (;;) {
        char *t = strchr(s, '\t');
        if (n < max)
            f[n] = s;
        n++;
        if (!t)
            break;
        *t = '\0';
        s = t + 1;
    }
    return n;
}

int csq_tsv_int(const char *s, int64_t *v)
{
    char *e;
    long long x;

    if (!((*s >= '0' && *s <= '9') || *s == '-'))
        return -1;
    errno = 0;
    x = strtoll(s, &e, 10);
    if (*e || errno)
        return -1;
    *v = x;
    return 0;
}

int csq_tsv_unsafe(const char *s)
{
    return s && strpbrk(s, "\t\n\r") != NULL;
}

int csq_tsv_model(char *value, char **model, char **sha256)
{
    char *sp = strstr(value, " sha256=");

    free(*model);
    free(*sha256);
    *model = *sha256 = NULL;
    if (sp) {
        *sp = '\0';
        if (!(*sha256 = csq_mem_strdup(sp + 8)))
            return CSQ_ENOMEM;
    }
    return (*model = csq_mem_strdup(value)) ? CSQ_OK : CSQ_ENOMEM;
}

struct named {
    const char *name;
    int index;
};

static int by_name(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->index > y->index) - (x->index < y->index);
}

int csq_tsv_duplicate(const char *const *names, int n, int *dup)
{
    struct named *v;
    int i, k = 0;

    *dup = -1;
    if (n < 2)
        return CSQ_OK;
    if (!(v = csq_mem_array((size_t)n, sizeof *v)))
        return CSQ_ENOMEM;
    for (i = 0; i < n; i++)
        if (names[i]) {
            v[k].name = names[i];
            v[k++].index = i;
        }
    qsort(v, (size_t)k, sizeof *v, by_name);
    /* In a run of equal names the second one is the first repetition. */
    for (i = 1; i < k; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0 && (i < 2 || strcmp(v[i - 2].name, v[i].name))
            && (*dup < 0 || v[i].index < *dup))
            *dup = v[i].index;
    free(v);
    return CSQ_OK;
}
