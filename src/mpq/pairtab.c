/*
 * pairtab: CLADO pair table I/O (see pairtab.h; format in csmpq-bitcfg(5)).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/pairtab.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/tsv.h"

#define MAGIC "# csmpq pairs 1"

int csq_pairtab_alloc(struct csq_pairtab *t, int n, int nw)
{
    size_t nn = (size_t)n * (size_t)nw;

    t->n = n;
    t->nw = nw;
    t->rows = csq_mem_zarray((size_t)n + 1, sizeof *t->rows);
    t->single = csq_mem_zarray(nn + 1, sizeof *t->single);
    t->cross = csq_mem_zarray(nn * nn + 1, sizeof *t->cross);
    return t->rows && t->single && t->cross ? CSQ_OK : CSQ_ENOMEM;
}

int csq_pairtab_write(const struct csq_pairtab *t, const char *path)
{
    struct csq_out o;
    int i, j, k, k2, rc;

    for (i = 0; i < t->n; i++)
        if (!t->rows[i].layer || !t->rows[i].layer[0] || csq_tsv_unsafe(t->rows[i].layer) ||
            csq_tsv_unsafe(t->rows[i].op))
            return csq_fail(CSQ_EINVAL, "pairs: layer %d: empty name or a tab or newline in it",
                            i);
    if (csq_tsv_unsafe(t->model) || csq_tsv_unsafe(t->sha256))
        return csq_fail(CSQ_EINVAL, "pairs: model name contains a tab or newline");
    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    fprintf(o.fp, "%s\n", MAGIC);
    if (t->model || t->sha256) {
        fprintf(o.fp, "# model: %s", t->model ? t->model : "-");
        if (t->sha256)
            fprintf(o.fp, " sha256=%s", t->sha256);
        putc('\n', o.fp);
    }
    fprintf(o.fp, "# criterion: clado quantizer: %s loss: %s images: %ld\n",
            t->quantizer ? t->quantizer : "-", t->loss ? t->loss : "-", t->images);
    fputs("#layer\top\tparams\tmacs", o.fp);
    for (k = 0; k < t->nw; k++)
        fprintf(o.fp, "\tdL@%d", t->widths[k]);
    putc('\n', o.fp);
    for (i = 0; i < t->n; i++) {
        fprintf(o.fp, "%s\t%s\t%lld\t%lld", t->rows[i].layer, t->rows[i].op ? t->rows[i].op : "",
                (long long)t->rows[i].params, (long long)t->rows[i].macs);
        for (k = 0; k < t->nw; k++)
            fprintf(o.fp, "\t%.17g", CSQ_PAIRTAB_SINGLE(t, i, k));
        putc('\n', o.fp);
    }
    fputs("#cross\tlayer_i\tbits_i\tlayer_j\tbits_j\tvalue\n", o.fp);
    for (i = 0; i < t->n; i++)
        for (k = 0; k < t->nw; k++)
            for (j = i + 1; j < t->n; j++)
                for (k2 = 0; k2 < t->nw; k2++)
                    fprintf(o.fp, "cross\t%s\t%d\t%s\t%d\t%.17g\n", t->rows[i].layer,
                            t->widths[k], t->rows[j].layer, t->widths[k2],
                            CSQ_PAIRTAB_CROSS(t, i, k, j, k2));
    return csq_out_commit(&o);
}

int csq_pairtab_sniff(const char *path)
{
    char buf[sizeof MAGIC];
    FILE *fp;
    size_t n;

    if (strcmp(path, "-") == 0 || !(fp = fopen(path, "rb")))
        return 0;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strncmp(buf, "# csmpq pairs ", 14) == 0;
}

/* --- reading --- */

static int num(const char *s, double *v)
{
    char *e;

    *v = strtod(s, &e);
    return e != s && !*e && isfinite(*v);
}

static int find(const struct csq_pairtab *t, const char *name)
{
    int i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].layer, name) == 0)
            return i;
    return -1;
}

static int kof(const struct csq_pairtab *t, const char *s)
{
    int64_t b;
    int k;

    if (csq_tsv_int(s, &b) != 0)
        return -1;
    for (k = 0; k < t->nw; k++)
        if (t->widths[k] == b)
            return k;
    return -1;
}

static int header(const char *path, int ln, char *line, struct csq_pairtab *t)
{
    char *f[20];
    int nf = csq_tsv_split(line, f, 20), k;
    int64_t b;

    if (nf < 5 || nf > 20 || strcmp(f[1], "op") || strcmp(f[2], "params") ||
        strcmp(f[3], "macs"))
        return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: not the header #layer op params "
                        "macs dL@B...", path, ln);
    t->nw = nf - 4;
    for (k = 0; k < t->nw; k++) {
        if (strncmp(f[4 + k], "dL@", 3) != 0 || csq_tsv_int(f[4 + k] + 3, &b) != 0 ||
            b < 1 || b > 16 || (k > 0 && b <= t->widths[k - 1]))
            return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: column '%s' is not dL@B with "
                            "B ascending in 1..16", path, ln, f[4 + k]);
        t->widths[k] = (int)b;
    }
    return CSQ_OK;
}

static int parse(const char *path, char *text, struct csq_pairtab *t)
{
    char *line, *cur = text, *f[8];
    int ln = 0, stage = 0, cap = 0, rc, k;

    line = csq_tsv_line(&cur, &ln);
    if (!line || strcmp(line, MAGIC) != 0)
        return csq_fail(CSQ_EFORMAT, "pairs: '%s': not a csmpq pair table (no '%s' line)",
                        path, MAGIC);
    while ((line = csq_tsv_line(&cur, &ln)) != NULL) {
        if (stage == 0 && strncmp(line, "# model: ", 9) == 0) {
            if ((rc = csq_tsv_model(line + 9, &t->model, &t->sha256)) != 0)
                return rc;
        } else if (stage == 0 && strncmp(line, "# criterion: clado", 18) == 0) {
            char q[16] = "", l[16] = "";
            if (sscanf(line, "# criterion: clado quantizer: %15s loss: %15s images: %ld", q,
                       l, &t->images) == 3) {
                t->quantizer = csq_mem_strdup(q);
                t->loss = csq_mem_strdup(l);
            }
        } else if (stage == 0 && strncmp(line, "#layer\t", 7) == 0) {
            if ((rc = header(path, ln, line, t)) != 0)
                return rc;
            stage = 1;
        } else if (stage == 1 && strncmp(line, "#cross\t", 7) == 0) {
            size_t nn = (size_t)t->n * (size_t)t->nw;
            if (t->n == 0)
                return csq_fail(CSQ_EFORMAT, "pairs: '%s': no layers", path);
            t->cross = csq_mem_zarray(nn * nn + 1, sizeof *t->cross);
            if (!t->cross)
                return CSQ_ENOMEM;
            stage = 2;
        } else if (line[0] == '#' || line[0] == '\0') {
            continue;
        } else if (stage == 1) {
            struct csq_pairtab_row *r;
            if (csq_tsv_split(line, f, 8) != 4 + t->nw)
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: expected %d fields", path,
                                ln, 4 + t->nw);
            if (find(t, f[0]) >= 0)
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: layer '%s' listed twice",
                                path, ln, f[0]);
            if (t->n == cap) {
                cap = cap ? 2 * cap : 64;
                t->rows = csq_mem_rearray(t->rows, (size_t)cap, sizeof *t->rows);
                t->single = csq_mem_rearray(t->single, (size_t)cap * (size_t)t->nw,
                                            sizeof *t->single);
                if (!t->rows || !t->single)
                    return CSQ_ENOMEM;
            }
            r = &t->rows[t->n];
            memset(r, 0, sizeof *r);
            t->n++;
            r->layer = csq_mem_strdup(f[0]);
            r->op = csq_mem_strdup(f[1]);
            if (!r->layer || !r->op)
                return CSQ_ENOMEM;
            if (csq_tsv_int(f[2], &r->params) != 0 || csq_tsv_int(f[3], &r->macs) != 0 ||
                r->params < 0 || r->macs < 0 || r->params > ((int64_t)1 << 40) ||
                r->macs > ((int64_t)1 << 40))
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: params or macs is not an "
                                "integer in 0..2^40", path, ln);
            for (k = 0; k < t->nw; k++)
                if (!num(f[4 + k], &CSQ_PAIRTAB_SINGLE(t, t->n - 1, k)))
                    return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: '%s' is not a finite "
                                    "number", path, ln, f[4 + k]);
        } else if (stage == 2) {
            int i, j, ki, kj;
            double v;
            if (csq_tsv_split(line, f, 8) != 6 || strcmp(f[0], "cross") != 0)
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: expected cross LAYER BITS "
                                "LAYER BITS VALUE", path, ln);
            i = find(t, f[1]);
            j = find(t, f[3]);
            ki = kof(t, f[2]);
            kj = kof(t, f[4]);
            if (i < 0 || j < 0 || i >= j || ki < 0 || kj < 0)
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: not two listed layers in "
                                "table order at measured widths", path, ln);
            if (!num(f[5], &v))
                return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: '%s' is not a finite number",
                                path, ln, f[5]);
            CSQ_PAIRTAB_CROSS(t, i, ki, j, kj) = v;
        } else {
            return csq_fail(CSQ_EFORMAT, "pairs: '%s' line %d: a row before the header", path,
                            ln);
        }
    }
    if (t->n == 0 || stage != 2)
        return csq_fail(CSQ_EFORMAT, "pairs: '%s': %s", path,
                        t->n == 0 ? "no layers" : "no #cross section");
    return CSQ_OK;
}

int csq_pairtab_read(const char *path, struct csq_pairtab **out)
{
    struct csq_pairtab *t;
    char *text = NULL;
    size_t len;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read_text("pairs", path, &text, &len)) != 0)
        return rc;
    t = csq_mem_zarray(1, sizeof *t);
    if (!t) {
        free(text);
        return CSQ_ENOMEM;
    }
    t->images = -1;
    rc = parse(path, text, t);
    free(text);
    if (rc != 0) {
        csq_pairtab_free(t);
        return rc;
    }
    *out = t;
    return CSQ_OK;
}

void csq_pairtab_release(struct csq_pairtab *t)
{
    int i;

    if (!t)
        return;
    for (i = 0; t->rows && i < t->n; i++) {
        free(t->rows[i].layer);
        free(t->rows[i].op);
    }
    free(t->rows);
    free(t->single);
    free(t->cross);
    free(t->model);
    free(t->sha256);
    free(t->quantizer);
    free(t->loss);
    memset(t, 0, sizeof *t);
}

void csq_pairtab_free(struct csq_pairtab *t)
{
    csq_pairtab_release(t);
    free(t);
}
