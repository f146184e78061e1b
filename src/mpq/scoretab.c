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
    if (csq_tsv_unsafe(t->criterion) || csq_tsv_unsafe(t->quantizer) ||
        (t->criterion && strchr(t->criterion, ' ')) || (t->quantizer && strchr(t->quantizer, ' ')))
        return csq_fail(CSQ_EINVAL, "scores: criterion or quantizer name contains a space, tab "
                        "or newline");
    for (i = 0; i < t->n; i++) {
        int j;
        if (!t->rows[i].layer || !t->rows[i].layer[0] || csq_tsv_unsafe(t->rows[i].layer)
            || csq_tsv_unsafe(t->rows[i].op))
            return csq_fail(CSQ_EINVAL, "scores: layer %d: empty name or a tab or newline in it",
                            i);
        if (!isfinite(t->rows[i].score))
            return csq_fail(CSQ_EINVAL, "scores: layer '%s': score is not finite",
                            t->rows[i].layer);
        for (j = 0; j < t->nwidths; j++)
            if (!isfinite(t->rows[i].cost[t->widths[j] - 1]))
                return csq_fail(CSQ_EINVAL, "scores: layer '%s': cost@%d is not finite",
                                t->rows[i].layer, t->widths[j]);
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
    if (t->criterion || t->quantizer)
        fprintf(o.fp, "# criterion: %s quantizer: %s\n", t->criterion ? t->criterion : "-",
                t->quantizer ? t->quantizer : "-");
    fputs(header, o.fp);
    for (i = 0; i < t->nwidths; i++)
        fprintf(o.fp, "\tcost@%d", t->widths[i]);
    putc('\n', o.fp);
    for (i = 0; i < t->n; i++) {
        const struct csq_scoretab_row *r = &t->rows[i];
        int j;
        fprintf(o.fp, "%s\t%s\t%lld\t%lld\t%s", r->layer, r->op ? r->op : "",
                (long long)r->params, (long long)r->macs, csq_units_fmt_double(r->score, d));
        for (j = 0; j < t->nwidths; j++)
            fprintf(o.fp, "\t%s", csq_units_fmt_double(r->cost[t->widths[j] - 1], d));
        putc('\n', o.fp);
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
    } else if (strncmp(line, "# criterion: ", 13) == 0) {
        /* "NAME quantizer: NAME" */
        char *q = strstr(line + 13, " quantizer: ");
        if (q) {
            *q = '\0';
            if (set_str(&t->quantizer, q + 12) != 0)
                return CSQ_ENOMEM;
        }
        return set_str(&t->criterion, line + 13);
    } else if (strncmp(line, "# coe: ", 7) == 0) {
        v = line + 7;
        t->coe = strtod(v, &e);
        if (e == v || *e || !isfinite(t->coe))
            t->coe = 0;
    }
    return CSQ_OK;
}

/* The header line: the five columns, then "cost@B" columns of distinct
 * widths 1..16, kept in column order.  1 when line is the header, 0 when
 * it is not one, or a negative status after recording what is wrong with
 * its cost columns. */
static int parse_header(const char *path, int ln, char *line, struct csq_scoretab *t)
{
    size_t hl = sizeof header - 1;
    char *f[CSQ_SCORETAB_MAXBITS + 1], *e;
    int k, j, seen = 0;

    if (strncmp(line, header, hl) != 0 || (line[hl] && line[hl] != '\t'))
        return 0;
    t->nwidths = 0;
    if (!line[hl])
        return 1;
    if ((k = csq_tsv_split(line + hl + 1, f, CSQ_SCORETAB_MAXBITS + 1)) > CSQ_SCORETAB_MAXBITS)
        return -csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: more than %d cost columns", path,
                         ln, CSQ_SCORETAB_MAXBITS);
    for (j = 0; j < k; j++) {
        long b;
        if (strncmp(f[j], "cost@", 5) != 0 || (b = strtol(f[j] + 5, &e, 10), *e) ||
            e == f[j] + 5 || b < 1 || b > CSQ_SCORETAB_MAXBITS)
            return -csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: column '%s' is not "
                             "cost@BITS with BITS in 1..16", path, ln, f[j]);
        if (seen >> b & 1)
            return -csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: column cost@%ld appears "
                             "twice", path, ln, b);
        seen |= 1 << b;
        t->widths[t->nwidths++] = (int)b;
    }
    return 1;
}

/* The rows; lines[] gets each row's line number (for messages). */
static int parse_rows(const char *path, char *text, struct csq_scoretab *t, int **lines)
{
    char *line, *cur = text, *f[5 + CSQ_SCORETAB_MAXBITS];
    int ln = 0, have_header = 0, cap = 0, rc, k, ncol = 5, j;
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
            if ((rc = parse_header(path, ln, line, t)) < 0)
                return -rc;
            if (rc == 1) {
                have_header = 1;
                ncol = 5 + t->nwidths;
            } else if (line[0] != '#')
                return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: expected the header "
                                "'#layer<TAB>op<TAB>params<TAB>macs<TAB>score'", path, ln);
            else if ((rc = comment(t, line)) != 0)
                return rc;
            continue;
        }
        if (line[0] == '#')
            continue;
        if ((k = csq_tsv_split(line, f, ncol)) > ncol)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: more than %d columns", path,
                            ln, ncol);
        if (k < ncol)
            return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: expected %d tab-separated "
                            "columns, found %d%s", path, ln, ncol, k,
                            k >= 5 ? " (a cost@ cell is missing)" : "");
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
        for (j = 0; j < CSQ_SCORETAB_MAXBITS; j++)
            r->cost[j] = NAN;
        for (j = 0; j < t->nwidths; j++) {
            double c = strtod(f[5 + j], &e);
            if (e == f[5 + j] || *e || !isfinite(c))
                return csq_fail(CSQ_EFORMAT, "scores: '%s' line %d: cost@%d '%s' is not a "
                                "finite number", path, ln, t->widths[j], f[5 + j]);
            r->cost[t->widths[j] - 1] = c;
        }
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
    if (t->criterion && strcmp(t->criterion, "tfidf") != 0 && t->nwidths == 0)
        return csq_fail(CSQ_EFORMAT, "scores: '%s': criterion %s but no cost@ columns", path,
                        t->criterion);
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
    free(t->criterion);
    free(t->quantizer);
    memset(t, 0, sizeof *t);
}

void csq_scoretab_free(struct csq_scoretab *t)
{
    if (!t)
        return;
    csq_scoretab_release(t);
    free(t);
}
