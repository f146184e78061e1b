/*
 * scoretab: score table I/O (see scoretab.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/scoretab.h"
#include "util/units.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/tsv.h"

static const char header[] = "#layer\top\tparams\tmacs\tscore";

int csq_scoretab_write(const struct csq_scoretab *t, const char *path)
{
    struct csq_out o;
    char d[32];
    int i, rc;

    if (csq_tsv_unsafe(t->model) || csq_tsv_unsafe(t->sha256) || csq_tsv_unsafe(t->docs))
        return csq_fail(CSQ_EINVAL, "scores: model name contains a tab or newline");
    for (i = 0; i < t->n; i++) {
        if (!t->rows[i].layer || !t->rows[i].layer[0] || csq_tsv_unsafe(t->rows[i].layer)
            || csq_tsv_unsafe(t->rows[i].op))
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
        const struct csq_scoretab_row *r = &t->rows[i];
        fprintf(o.fp, "%s\t%s\t%lld\t%lld\t%s\n", r->layer, r->op ? r->op : "",
                (long long)r->params, (long long)r->macs, csq_units_fmt_double(r->score, d));
    }
    return csq_out_commit(&o);
}

int csq_scoretab_find(const struct csq_scoretab *t, const char *layer)
{
    int i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].layer, layer) == 0)
            return i;
    return -1;
}

#define CSQ_SCORETAB_MAX_COUNT ((int64_t)9000000000000000)

static int set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = csq_mem_strdup(s);
    return *dst ? CSQ_OK : CSQ_ENOMEM;
}

/* "# key: value" lines before the header; unknown keys and unreadable
 * values are ignored: they are information, not input. */
static int comment(struct csq_scoretab *t, char *line)
{
    char *v, *e;

    if (strncmp(line, "# model: ", 9) == 0)
        return csq_tsv_model(line + 9, &t->model, &t->sha256);
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

/* The rows; lines[] gets each row's line number (for messages). */
static int parse_rows(const char *path, char *text, struct csq_scoretab *t, int **lines)
{
    char *line, *cur = text, *f[5];
    int ln = 0, have_header = 0, cap = 0, rc, k;
    /* Totals stay under 9e15, so the allocator's sums of params or macs
     * times widths (at most 16 x 16) cannot overflow int64. */
    int64_t psum = 0, msum = 0;

    while ((line = csq_tsv_line(&cur, &ln)) != NULL) {
        struct csq_scoretab_row *r;
        int64_t p, m;
        char *e;
        double s;

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
        if ((k = csq_tsv_split(line, f, 5)) > 5)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: more than 5 columns", path,
                            ln);
        if (k < 5)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: expected 5 tab-separated "
                            "columns, found %d", path, ln, k);
        if (!*f[0])
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: empty layer name", path, ln);
        if (csq_tsv_int(f[2], &p) != 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: params '%s' is not an integer",
                            path, ln, f[2]);
        if (csq_tsv_int(f[3], &m) != 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: macs '%s' is not an integer",
                            path, ln, f[3]);
        if (p < 0 || m < 0)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: negative params or macs", path,
                            ln);
        if (p > CSQ_SCORETAB_MAX_COUNT - psum || m > CSQ_SCORETAB_MAX_COUNT - msum)
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
        if (t->n == cap) {
            struct csq_scoretab_row *nr;
            int *nl;
            cap = cap ? 2 * cap : 64;
            if (!(nr = csq_mem_rearray(t->rows, (size_t)cap, sizeof *nr)))
                return CSQ_ENOMEM;
            t->rows = nr;
            if (!(nl = csq_mem_rearray(*lines, (size_t)cap, sizeof *nl)))
                return CSQ_ENOMEM;
            *lines = nl;
        }
        (*lines)[t->n] = ln;
        r = &t->rows[t->n];
        memset(r, 0, sizeof *r);
        t->n++;
        r->params = p;
        r->macs = m;
        r->score = s;
        if ((rc = set_str(&r->layer, f[0])) != 0 || (rc = set_str(&r->op, f[1])) != 0)
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

static int parse(const char *path, char *text, struct csq_scoretab *t)
{
    const char **names = NULL;
    int *lines = NULL, i, dup, rc;

    if ((rc = parse_rows(path, text, t, &lines)) == 0 &&
        !(names = csq_mem_array((size_t)t->n, sizeof *names)))
        rc = CSQ_ENOMEM;
    for (i = 0; rc == 0 && i < t->n; i++)
        names[i] = t->rows[i].layer;
    if (rc == 0 && (rc = csq_tsv_duplicate(names, t->n, &dup)) == 0 && dup >= 0)
        rc = csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: layer '%s' appears twice", path,
                      lines[dup], names[dup]);
    free(names);
    free(lines);
    return rc;
}

int csq_scoretab_read(const char *path, struct csq_scoretab **out)
{
    char *buf;
    size_t len;
    struct csq_scoretab *t;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read_text("scores", path, &buf, &len)) != 0)
        return rc;
    t = csq_mem_zarray(1, sizeof *t);
    if (!t) {
        free(buf);
        return CSQ_ENOMEM;
    }
    t->images = t->classes = -1;
    rc = parse(path, buf, t);
    free(buf);
    if (rc != 0) {
        csq_scoretab_free(t);
        return rc;
    }
    *out = t;
    return CSQ_OK;
}

void csq_scoretab_release(struct csq_scoretab *t)
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

void csq_scoretab_free(struct csq_scoretab *t)
{
    if (!t)
        return;
    csq_scoretab_release(t);
    free(t);
}
