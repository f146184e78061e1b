/*
 * bitcfg: bit config writing and reading (see bitcfg.h; the format is
 * csmpq-bitcfg(5) and DESIGN.md section 8).  The json reader is a small
 * recursive-descent parser for our own output and hand edits of it: it
 * keeps line numbers for messages and nothing else.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/bitcfg.h"
#include "mpq/cost.h"
#include "util/units.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/tsv.h"

int csq_bitcfg_parse_format(const char *s, enum csq_bitcfg_format *fmt)
{
    if (strcmp(s, "tsv") == 0)
        *fmt = CSQ_BITCFG_TSV;
    else if (strcmp(s, "json") == 0)
        *fmt = CSQ_BITCFG_JSON;
    else if (strcmp(s, "list") == 0)
        *fmt = CSQ_BITCFG_LIST;
    else
        return csq_fail(CSQ_EUSAGE, "format '%s': expected tsv, json or list", s);
    return CSQ_OK;
}

void csq_bitcfg_totals(const struct csq_bitcfg *c, int64_t *size_bits, int64_t *bops,
                       double *mean_wbits)
{
    struct csq_cost_config t;
    int l;

    /* Readers bound params and macs by 9e15 and widths by 16, so one
     * layer's terms fit. */
    memset(&t, 0, sizeof t);
    for (l = 0; l < c->nlayers; l++)
        csq_cost_add(&t, c->layers[l].params, c->layers[l].macs, c->layers[l].wbits,
                     c->layers[l].abits);
    *size_bits = t.size_bits;
    *bops = t.bops;
    *mean_wbits = t.mean_wbits;
}

/* --- writing --- */

/* A JSON string, or null for a missing one. */
static void json_str(FILE *fp, const char *s)
{
    if (s)
        csq_json_string(fp, s);
    else
        fputs("null", fp);
}

static int check_tsv_field(const char *what, const char *s)
{
    if (csq_tsv_unsafe(s))
        return csq_fail(CSQ_EINVAL, "bitcfg: %s '%s' contains a tab or newline", what, s);
    return CSQ_OK;
}

static int write_tsv(const struct csq_bitcfg *c, FILE *fp)
{
    int64_t sb, bo;
    double mean;
    char a[32], b[32], d[32];
    int l, rc;

    if ((rc = check_tsv_field("model", c->model)) != 0
        || (rc = check_tsv_field("budget", c->budget)) != 0
        || (rc = check_tsv_field("solver", c->solver)) != 0)
        return rc;
    for (l = 0; l < c->nlayers; l++)
        if ((rc = check_tsv_field("layer", c->layers[l].name)) != 0
            || (rc = check_tsv_field("node", c->layers[l].node)) != 0)
            return rc;
    csq_bitcfg_totals(c, &sb, &bo, &mean);
    fputs("# csmpq bitcfg 1\n", fp);
    if (c->model || c->sha256) {
        fprintf(fp, "# model: %s", c->model ? c->model : "-");
        if (c->sha256)
            fprintf(fp, " sha256=%s", c->sha256);
        putc('\n', fp);
    }
    fprintf(fp, "# budget: %s; achieved size=%s bops=%s mean_wbits=%.2f\n",
            c->budget ? c->budget : "none", csq_units_fmt_bytes((double)sb / 8, a, sizeof a),
            csq_units_fmt_count((double)bo, b, sizeof b), mean);
    if (c->solver)
        fprintf(fp, "# solver: %s\n", c->solver);
    fputs("#layer\twbits\tabits\tparams\tmacs\tscore\tnode\n", fp);
    for (l = 0; l < c->nlayers; l++) {
        const struct csq_bitcfg_layer *y = &c->layers[l];
        fprintf(fp, "%s\t%d\t%d\t%lld\t%lld\t%s\t%s\n", y->name ? y->name : "", y->wbits,
                y->abits, (long long)y->params, (long long)y->macs,
                csq_units_fmt_double(y->score, d), y->node ? y->node : "");
    }
    return CSQ_OK;
}

static void write_json(const struct csq_bitcfg *c, FILE *fp)
{
    int64_t sb, bo;
    double mean;
    char d[32];
    int l;

    csq_bitcfg_totals(c, &sb, &bo, &mean);
    fputs("{\n  \"format\": \"csmpq bitcfg 1\",\n  \"model\": ", fp);
    json_str(fp, c->model);
    fputs(",\n  \"sha256\": ", fp);
    json_str(fp, c->sha256);
    fputs(",\n  \"budget\": ", fp);
    json_str(fp, c->budget);
    fputs(",\n  \"solver\": ", fp);
    json_str(fp, c->solver);
    fprintf(fp, ",\n  \"achieved\": {\"size_bits\": %lld, \"bops\": %lld, \"mean_wbits\": %.4f},\n",
            (long long)sb, (long long)bo, mean);
    fputs("  \"layers\": [", fp);
    for (l = 0; l < c->nlayers; l++) {
        const struct csq_bitcfg_layer *y = &c->layers[l];
        fputs(l ? ",\n    {\"name\": " : "\n    {\"name\": ", fp);
        json_str(fp, y->name);
        fprintf(fp, ", \"wbits\": %d, \"abits\": %d, \"params\": %lld, \"macs\": %lld, "
                "\"score\": %s, \"node\": ", y->wbits, y->abits, (long long)y->params,
                (long long)y->macs, csq_units_fmt_double(y->score, d));
        json_str(fp, y->node);
        putc('}', fp);
    }
    fputs(c->nlayers ? "\n  ]\n}\n" : "]\n}\n", fp);
}

int csq_bitcfg_write(const struct csq_bitcfg *c, const char *path, enum csq_bitcfg_format fmt)
{
    struct csq_out o;
    int rc, l;

    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    switch (fmt) {
    case CSQ_BITCFG_TSV:
        rc = write_tsv(c, o.fp);
        break;
    case CSQ_BITCFG_JSON:
        write_json(c, o.fp);
        break;
    case CSQ_BITCFG_LIST:
        putc('[', o.fp);
        for (l = 0; l < c->nlayers; l++)
            fprintf(o.fp, l ? ", %d" : "%d", c->layers[l].wbits);
        fputs("]\n", o.fp);
        break;
    default:
        rc = csq_fail(CSQ_EINVAL, "bitcfg: unknown format %d", (int)fmt);
    }
    if (rc != 0) {
        csq_out_abort(&o);
        return rc;
    }
    return csq_out_commit(&o);
}

/* --- reading --- */

/* Where messages point: the file and its last line. */
struct jp {
    const char *path;
    int line;
};

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return CSQ_OK;
    *out = csq_mem_strdup(s);
    return *out ? CSQ_OK : CSQ_ENOMEM;
}

/* An integer-valued json number in [lo, hi]. */
static int jint(const struct jp *j, const struct csq_json *v, const char *key, double lo, double hi,
                int64_t *out)
{
    char msg[96];

    if (!v || v->type != CSQ_JSON_NUM || v->num != floor(v->num) || v->num < lo || v->num > hi) {
        snprintf(msg, sizeof msg, "'%s' must be an integer from %.0f to %.0f", key, lo, hi);
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: %s", j->path,
                        v ? v->line : j->line, msg);
    }
    *out = (int64_t)v->num;
    return CSQ_OK;
}

static int jstr_opt(const struct jp *j, const struct csq_json *o, const char *key, char **out)
{
    const struct csq_json *v = csq_json_get(o, key);

    *out = NULL;
    if (!v || v->type == CSQ_JSON_NULL)
        return CSQ_OK;
    if (v->type != CSQ_JSON_STR)
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: '%s' must be a string", j->path,
                        v->line, key);
    return dup_opt(v->str, out);
}

static int from_json(struct jp *j, const struct csq_json *root, struct csq_bitcfg *c)
{
    const struct csq_json *layers;
    int l, rc;
    int64_t t;

    if (root->type == CSQ_JSON_ARR) { /* a bare list of weight widths */
        layers = root;
    } else if (root->type == CSQ_JSON_OBJ) {
        if ((rc = jstr_opt(j, root, "model", &c->model)) != 0
            || (rc = jstr_opt(j, root, "sha256", &c->sha256)) != 0
            || (rc = jstr_opt(j, root, "budget", &c->budget)) != 0
            || (rc = jstr_opt(j, root, "solver", &c->solver)) != 0)
            return rc;
        layers = csq_json_get(root, "layers");
        if (!layers || layers->type != CSQ_JSON_ARR)
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: no \"layers\" array", j->path,
                            root->line);
    } else {
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: expected an object or an array",
                        j->path, root->line);
    }
    c->layers = csq_mem_zarray((size_t)layers->n + 1, sizeof *c->layers);
    if (!c->layers)
        return CSQ_ENOMEM;
    c->nlayers = layers->n;
    for (l = 0; l < layers->n; l++) {
        const struct csq_json *e = &layers->items[l], *v;
        struct csq_bitcfg_layer *y = &c->layers[l];
        if (root->type == CSQ_JSON_ARR) {
            if ((rc = jint(j, e, "wbits", 1, 16, &t)) != 0)
                return rc;
            y->wbits = (int)t;
            continue;
        }
        if (e->type != CSQ_JSON_OBJ)
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: layer %d is not an object",
                            j->path, e->line, l);
        v = csq_json_get(e, "name");
        if (!v || v->type != CSQ_JSON_STR || !v->str[0])
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: layer %d has no \"name\"",
                            j->path, e->line, l);
        if ((rc = dup_opt(v->str, &y->name)) != 0 || (rc = jstr_opt(j, e, "node", &y->node)) != 0)
            return rc;
        if ((rc = jint(j, csq_json_get(e, "wbits"), "wbits", 1, 16, &t)) != 0)
            return rc;
        y->wbits = (int)t;
        v = csq_json_get(e, "abits");
        if (v && (rc = jint(j, v, "abits", 1, 16, &t)) != 0)
            return rc;
        y->abits = v ? (int)t : 0;
        if ((v = csq_json_get(e, "params")) && (rc = jint(j, v, "params", 0, 9e15, &y->params)) != 0)
            return rc;
        if ((v = csq_json_get(e, "macs")) && (rc = jint(j, v, "macs", 0, 9e15, &y->macs)) != 0)
            return rc;
        if ((v = csq_json_get(e, "score")) && v->type != CSQ_JSON_NULL) {
            if (v->type != CSQ_JSON_NUM)
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: 'score' must be a number",
                                j->path, v->line);
            y->score = v->num;
        }
    }
    return CSQ_OK;
}

static int read_json(const char *path, const char *text, size_t len, struct csq_bitcfg *c)
{
    struct jp j = {path, 1};
    struct csq_json root;
    int rc;

    if ((rc = csq_json_parse("bitcfg", path, text, len, &root, &j.line)) != 0)
        return rc;
    rc = from_json(&j, &root, c);
    csq_json_release(&root);
    return rc;
}

static int read_tsv(const char *path, char *text, struct csq_bitcfg *c)
{
    char *line, *cur = text, *f[8];
    int ln = 0, have_header = 0, rc, nf, cap = 0;

    while ((line = csq_tsv_line(&cur, &ln)) != NULL) {
        if (!*line)
            continue;
        if (line[0] == '#') {
            if (strncmp(line, "#layer\t", 7) == 0) {
                have_header = 1;
            } else if (strncmp(line, "# model: ", 9) == 0 && !c->model) {
                if ((rc = csq_tsv_model(line + 9, &c->model, &c->sha256)) != 0)
                    return rc;
            } else if (strncmp(line, "# budget: ", 10) == 0 && !c->budget) {
                char *semi = strstr(line + 10, "; achieved");
                if (semi)
                    *semi = '\0';
                if (strcmp(line + 10, "none") != 0 && (rc = dup_opt(line + 10, &c->budget)) != 0)
                    return rc;
            } else if (strncmp(line, "# solver: ", 10) == 0 && !c->solver) {
                if ((rc = dup_opt(line + 10, &c->solver)) != 0)
                    return rc;
            }
            continue;
        }
        if (!have_header)
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: row before the '#layer' header",
                            path, ln);
        nf = csq_tsv_split(line, f, 8);
        if (nf < 6 || nf > 7)
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: expected 7 tab-separated "
                            "columns, found %d", path, ln, nf);
        if (c->nlayers == cap) {
            struct csq_bitcfg_layer *nl;
            cap = cap ? 2 * cap : 64;
            nl = csq_mem_rearray(c->layers, (size_t)cap, sizeof *nl);
            if (!nl)
                return CSQ_ENOMEM;
            c->layers = nl;
        }
        {
            struct csq_bitcfg_layer *y = &c->layers[c->nlayers];
            int64_t wb, ab;
            char *e;
            memset(y, 0, sizeof *y);
            c->nlayers++;
            if (!*f[0])
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: empty layer name", path, ln);
            if ((rc = dup_opt(f[0], &y->name)) != 0)
                return rc;
            if (csq_tsv_int(f[1], &wb) || csq_tsv_int(f[2], &ab) || csq_tsv_int(f[3], &y->params)
                || csq_tsv_int(f[4], &y->macs))
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: non-integer width or count",
                                path, ln);
            y->score = strtod(f[5], &e);
            if (e == f[5] || *e || isnan(y->score))
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: score '%s' is not a number",
                                path, ln, f[5]);
            if (wb < 1 || wb > 16 || ab < 1 || ab > 16)
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: widths %s and %s are not "
                                "both in 1..16", path, ln, f[1], f[2]);
            if (y->params < 0 || y->macs < 0)
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: negative params or macs",
                                path, ln);
            if (y->params > (int64_t)9e15 || y->macs > (int64_t)9e15)
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: params or macs over 9e15",
                                path, ln);
            y->wbits = (int)wb;
            y->abits = (int)ab;
            if (nf == 7 && *f[6] && (rc = dup_opt(f[6], &y->node)) != 0)
                return rc;
        }
    }
    if (!have_header)
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s': no '#layer' header line", path);
    return CSQ_OK;
}

static int check_unique(const char *path, const struct csq_bitcfg *c)
{
    const char **names;
    int l, dup, rc;

    if (!(names = csq_mem_array((size_t)c->nlayers + 1, sizeof *names)))
        return CSQ_ENOMEM;
    for (l = 0; l < c->nlayers; l++)
        names[l] = c->layers[l].name;
    if ((rc = csq_tsv_duplicate(names, c->nlayers, &dup)) == 0 && dup >= 0)
        rc = csq_fail(CSQ_EFORMAT, "bitcfg: '%s': layer '%s' listed twice", path, names[dup]);
    free(names);
    return rc;
}

int csq_bitcfg_read(const char *path, struct csq_bitcfg **out)
{
    char *buf;
    size_t len;
    struct csq_bitcfg *c;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read_text("bitcfg", path, &buf, &len)) != 0)
        return rc;
    c = csq_mem_zarray(1, sizeof *c);
    if (!c) {
        free(buf);
        return CSQ_ENOMEM;
    }
    if (buf[strspn(buf, " \t\r\n")] == '{' || buf[strspn(buf, " \t\r\n")] == '[')
        rc = read_json(path, buf, len, c);
    else
        rc = read_tsv(path, buf, c);
    free(buf);
    if (rc == 0)
        rc = check_unique(path, c);
    if (rc == 0 && c->nlayers == 0)
        rc = csq_fail(CSQ_EFORMAT, "bitcfg: '%s': no layers", path);
    if (rc != 0) {
        csq_bitcfg_free(c);
        return rc;
    }
    *out = c;
    return CSQ_OK;
}

void csq_bitcfg_release(struct csq_bitcfg *c)
{
    int l;

    for (l = 0; c->layers && l < c->nlayers; l++) {
        free(c->layers[l].name);
        free(c->layers[l].node);
    }
    free(c->layers);
    free(c->model);
    free(c->sha256);
    free(c->budget);
    free(c->solver);
    memset(c, 0, sizeof *c);
}

void csq_bitcfg_free(struct csq_bitcfg *c)
{
    if (!c)
        return;
    csq_bitcfg_release(c);
    free(c);
}
