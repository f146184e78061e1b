/*
 * scores: score table I/O (see scores.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/scores.h"
#include "mpq/units.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"

static const char header[] = "#layer\top\tparams\tmacs\tscore";

static int bad_text(const char *s)
{
    return s && strpbrk(s, "\t\n\r") != NULL;
}

int csq_scores_write(const struct csq_scores *t, const char *path)
{
    struct csq_out o;
    char d[32];
    int i, rc;

    if (bad_text(t->model) || bad_text(t->sha256) || bad_text(t->docs))
        return csq_fail(CSQ_EINVAL, "scores: model name contains a tab or newline");
    for (i = 0; i < t->n; i++) {
        if (!t->rows[i].layer || !t->rows[i].layer[0] || bad_text(t->rows[i].layer)
            || bad_text(t->rows[i].op))
            return csq_fail(CSQ_EINVAL, "scores: layer %d: empty name or a tab or newline in it",
                            i);
        if (!isfinite(t->rows[i].score))
            return csq_fail(CSQ_EINVAL, "scores: layer '%s': score is not finite",
                            t->rows[i].layer);
    }
    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    fputs("# csmpq scores 1\n", o.fp);
    if (t->model || t->sha256) {
        fprintf(o.fp, "# model: %s", t->model ? t->model : "-");
        if (t->sha256)
            fprintf(o.fp, " sha256=%s", t->sha256);
        putc('\n', o.fp);
    }
    if (t->images >= 0)
        fprintf(o.fp, "# images: %ld\n", t->images);
    if (t->classes >= 0)
        fprintf(o.fp, "# classes: %ld\n", t->classes);
    if (t->docs)
        fprintf(o.fp, "# docs: %s\n", t->docs);
    fprintf(o.fp, "# coe: %s\n", csq_units_fmt_double(t->coe, d));
    fprintf(o.fp, "%s\n", header);
    for (i = 0; i < t->n; i++) {
        const struct csq_scores_row *r = &t->rows[i];
        fprintf(o.fp, "%s\t%s\t%lld\t%lld\t%s\n", r->layer, r->op ? r->op : "",
                (long long)r->params, (long long)r->macs, csq_units_fmt_double(r->score, d));
    }
    return csq_out_commit(&o);
}

int csq_scores_find(const struct csq_scores *t, const char *layer)
{
    int i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].layer, layer) == 0)
            return i;
    return -1;
}

#define CSQ_SCORES_MAX_COUNT ((int64_t)9000000000000000)

static int parse_count(const char *s, int64_t *v)
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

static int set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = csq_mem_strdup(s);
    return *dst ? CSQ_OK : CSQ_ENOMEM;
}

/* "# key: value" lines before the header; unknown keys and unreadable
 * values are ignored: they are information, not input. */
static int comment(struct csq_scores *t, char *line)
{
    char *v, *e;

    if (strncmp(line, "# model: ", 9) == 0) {
        char *sp = strstr(line + 9, " sha256=");
        int rc;
        if (sp) {
            *sp = '\0';
            if ((rc = set_str(&t->sha256, sp + 8)) != 0)
                return rc;
        }
        return set_str(&t->model, line + 9);
    }
    if (strncmp(line, "# docs: ", 8) == 0)
        return set_str(&t->docs, line + 8);
    if (strncmp(line, "# images: ", 10) == 0) {
        v = line + 10;
        t->images = strtol(v, &e, 10);
        if (e == v || *e)
            t->images = -1;
    } else if (strncmp(line, "# classes: ", 11) == 0) {
        v = line + 11;
        t->classes = strtol(v, &e, 10);
        if (e == v || *e)
            t->classes = -1;
    } else if (strncmp(line, "# coe: ", 7) == 0) {
        v = line + 7;
        t->coe = strtod(v, &e);
        if (e == v || *e || !isfinite(t->coe))
            t->coe = 0;
    }
    return CSQ_OK;
}

/* Row names seen so far, hashed: a table of a million rows must not take
 * a million squared comparisons.  slot[] holds row index + 1, 0 = free. */
struct nameset {
    int *slot;
    size_t cap;     /* power of two, or 0 */
};

static size_t name_hash(const char *s)
{
    size_t h = 2166136261u;     /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int nameset_has(const struct nameset *h, const struct csq_scores *t, const char *name)
{
    size_t i;

    if (!h->cap)
        return 0;
    for (i = name_hash(name) & (h->cap - 1); h->slot[i]; i = (i + 1) & (h->cap - 1))
        if (strcmp(t->rows[h->slot[i] - 1].layer, name) == 0)
            return 1;
    return 0;
}

/* Add row t->n - 1, growing the table to keep it at most half full. */
static int nameset_add(struct nameset *h, const struct csq_scores *t)
{
    size_t i;
    int r;

    if ((size_t)t->n * 2 > h->cap) {
        struct nameset g = {NULL, h->cap ? h->cap * 2 : 128};
        g.slot = csq_mem_zarray(g.cap, sizeof *g.slot);
        if (!g.slot)
            return CSQ_ENOMEM;
        free(h->slot);
        *h = g;
        for (r = 0; r < t->n - 1; r++) {
            for (i = name_hash(t->rows[r].layer) & (h->cap - 1); h->slot[i];
                 i = (i + 1) & (h->cap - 1))
                ;
            h->slot[i] = r + 1;
        }
    }
    for (i = name_hash(t->rows[t->n - 1].layer) & (h->cap - 1); h->slot[i];
         i = (i + 1) & (h->cap - 1))
        ;
    h->slot[i] = t->n;
    return CSQ_OK;
}

static int parse_rows(const char *path, char *text, struct csq_scores *t, struct nameset *seen)
{
    char *line, *next, *f[5];
    int ln = 0, have_header = 0, cap = 0, rc, k;
    /* Totals stay under 9e15, so the allocator's sums of params or macs
     * times widths (at most 16 x 16) cannot overflow int64. */
    int64_t psum = 0, msum = 0;

    for (line = text; line && *line; line = next) {
        struct csq_scores_row *r;
        int64_t p, m;
        char *e;
        double s;
        size_t n;

        ln++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (!*line)
            continue;
        if (!have_header) {
            if (strcmp(line, header) == 0)
                have_header = 1;
            else if (line[0] != '#')
                return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: expected the header "
                                "'#layer<TAB>op<TAB>params<TAB>macs<TAB>score'", path, ln);
            else if ((rc = comment(t, line)) != 0)
                return rc;
            continue;
        }
        if (line[0] == '#')
            continue;
        for (k = 0, f[0] = line; k < 5; k++) {
            char *tab = strchr(f[k], '\t');
            if (!tab)
                break;
            if (k == 4)
                return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: more than 5 columns", path,
                                ln);
            *tab = '\0';
            f[k + 1] = tab + 1;
        }
        if (k < 4)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: expected 5 tab-separated "
                            "columns, found %d", path, ln, k + 1);
        if (!*f[0])
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: empty layer name", path, ln);
        if (parse_count(f[2], &p) != 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: params '%s' is not an integer",
                            path, ln, f[2]);
        if (parse_count(f[3], &m) != 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: macs '%s' is not an integer",
                            path, ln, f[3]);
        if (p < 0 || m < 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: negative params or macs", path,
                            ln);
        if (p > CSQ_SCORES_MAX_COUNT - psum || m > CSQ_SCORES_MAX_COUNT - msum)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: params or macs add up to "
                            "more than 9e15", path, ln);
        psum += p;
        msum += m;
        s = strtod(f[4], &e);
        if (e == f[4] || *e)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: score '%s' is not a number",
                            path, ln, f[4]);
        if (!isfinite(s))
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: score '%s' is not finite", path,
                            ln, f[4]);
        if (nameset_has(seen, t, f[0]))
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: layer '%s' appears twice", path,
                            ln, f[0]);
        if (t->n == cap) {
            struct csq_scores_row *nr;
            cap = cap ? 2 * cap : 64;
            nr = csq_mem_rearray(t->rows, (size_t)cap, sizeof *nr);
            if (!nr)
                return CSQ_ENOMEM;
            t->rows = nr;
        }
        r = &t->rows[t->n];
        memset(r, 0, sizeof *r);
        t->n++;
        r->params = p;
        r->macs = m;
        r->score = s;
        if ((rc = set_str(&r->layer, f[0])) != 0 || (rc = set_str(&r->op, f[1])) != 0 ||
            (rc = nameset_add(seen, t)) != 0)
            return rc;
    }
    if (!have_header)
        return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: no '#layer<TAB>op<TAB>params<TAB>"
                        "macs<TAB>score' header", path, ln > 0 ? ln : 1);
    if (t->n == 0)
        return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: the table has no layers", path,
                        ln);
    return CSQ_OK;
}

static int parse(const char *path, char *text, struct csq_scores *t)
{
    struct nameset seen = {NULL, 0};
    int rc = parse_rows(path, text, t, &seen);

    free(seen.slot);
    return rc;
}

int csq_scores_read(const char *path, struct csq_scores **out)
{
    unsigned char *buf;
    size_t len;
    struct csq_scores *t;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    t = csq_mem_zarray(1, sizeof *t);
    if (!t) {
        free(buf);
        return CSQ_ENOMEM;
    }
    t->images = t->classes = -1;
    if (memchr(buf, '\0', len))
        rc = csq_fail(CSQ_EFORMAT, "scores: '%s': binary file", path);
    else
        rc = parse(path, (char *)buf, t);
    free(buf);
    if (rc != 0) {
        csq_scores_free(t);
        return rc;
    }
    *out = t;
    return CSQ_OK;
}

void csq_scores_release(struct csq_scores *t)
{
    int i;

    for (i = 0; t->rows && i < t->n; i++) {
        free(t->rows[i].layer);
        free(t->rows[i].op);
    }
    free(t->rows);
    free(t->model);
    free(t->sha256);
    free(t->docs);
    memset(t, 0, sizeof *t);
}

void csq_scores_free(struct csq_scores *t)
{
    if (!t)
        return;
    csq_scores_release(t);
    free(t);
}
