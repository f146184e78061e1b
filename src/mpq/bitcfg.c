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
#include "mpq/units.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"

int csq_bitcfg_parse_format(const char *s, enum csq_bitcfg_format *fmt)
{
    if (strcmp(s, "tsv") == 0)
        *fmt = CSQ_BITCFG_TSV;
    else if (strcmp(s, "json") == 0)
        *fmt = CSQ_BITCFG_JSON;
    else if (strcmp(s, "list") == 0)
        *fmt = CSQ_BITCFG_LIST;
    else
        return csq_fail(CSQ_EUSAGE, "--format '%s': expected tsv, json or list", s);
    return CSQ_OK;
}

void csq_bitcfg_totals(const struct csq_bitcfg *c, int64_t *size_bits, int64_t *bops,
                       double *mean_wbits)
{
    int64_t s = 0, b = 0, p = 0;
    int l;

    /* Readers bound params and macs by 9e15 and widths by 16, so one
     * layer's terms fit; sums of many such layers saturate instead of
     * overflowing. */
    for (l = 0; l < c->nlayers; l++) {
        const struct csq_bitcfg_layer *y = &c->layers[l];
        if (__builtin_add_overflow(s, y->params * y->wbits, &s))
            s = INT64_MAX;
        if (__builtin_add_overflow(b, y->macs * y->wbits * y->abits, &b))
            b = INT64_MAX;
        if (__builtin_add_overflow(p, y->params, &p))
            p = INT64_MAX;
    }
    *size_bits = s;
    *bops = b;
    *mean_wbits = p > 0 ? (double)s / (double)p : 0;
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
    if (s && strpbrk(s, "\t\n\r"))
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

/* --- a small json reader --- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    int type;
    int line;
    double num;
    char *str;         /* J_STR */
    int n;             /* J_ARR, J_OBJ */
    struct jv *items;  /* [n] */
    char **keys;       /* [n] for J_OBJ */
};

struct jp {
    const char *path;
    const char *p, *end;
    int line;
    int depth;
};

static void jv_clear(struct jv *v)
{
    int i;

    for (i = 0; i < v->n; i++) {
        jv_clear(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

static int jerr(const struct jp *j, const char *what)
{
    return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: %s", j->path, j->line, what);
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
        if (*j->p == '\n')
            j->line++;
        j->p++;
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_string(struct jp *j, char **out)
{
    size_t cap = 16, n = 0;
    char *s = malloc(cap);

    if (!s)
        return csq_fail(CSQ_ENOMEM, "out of memory");
    j->p++; /* opening quote */
    for (;;) {
        unsigned c;
        if (j->p >= j->end || *j->p == '\n') {
            free(s);
            return jerr(j, "unterminated string");
        }
        c = (unsigned char)*j->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (j->p >= j->end) {
                free(s);
                return jerr(j, "unterminated string");
            }
            c = (unsigned char)*j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '"': case '\\': case '/': break;
            case 'u': {
                int k, h;
                c = 0;
                for (k = 0; k < 4; k++) {
                    if (j->p >= j->end || (h = hexval(*j->p)) < 0) {
                        free(s);
                        return jerr(j, "bad \\u escape");
                    }
                    c = c * 16 + (unsigned)h;
                    j->p++;
                }
                break;
            }
            default:
                free(s);
                return jerr(j, "bad escape in string");
            }
        }
        if (n + 4 >= cap) {
            char *ns = realloc(s, cap *= 2);
            if (!ns) {
                free(s);
                return csq_fail(CSQ_ENOMEM, "out of memory");
            }
            s = ns;
        }
        if (c < 0x80) { /* UTF-8 for \u escapes (surrogates taken as is) */
            s[n++] = (char)c;
        } else if (c < 0x800) {
            s[n++] = (char)(0xc0 | c >> 6);
            s[n++] = (char)(0x80 | (c & 0x3f));
        } else {
            s[n++] = (char)(0xe0 | c >> 12);
            s[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
            s[n++] = (char)(0x80 | (c & 0x3f));
        }
    }
    s[n] = '\0';
    *out = s;
    return CSQ_OK;
}

static int parse_value(struct jp *j, struct jv *v);

static int push(struct jp *j, struct jv *v, char *key)
{
    struct jv *ni = csq_mem_rearray(v->items, (size_t)v->n + 1, sizeof *ni);

    if (!ni) {
        free(key);
        return CSQ_ENOMEM;
    }
    v->items = ni;
    memset(&v->items[v->n], 0, sizeof *ni);
    if (v->type == J_OBJ) {
        char **nk = csq_mem_rearray(v->keys, (size_t)v->n + 1, sizeof *nk);
        if (!nk) {
            free(key);
            return CSQ_ENOMEM;
        }
        v->keys = nk;
        v->keys[v->n] = key;
    }
    v->n++;
    return parse_value(j, &v->items[v->n - 1]);
}

static int parse_container(struct jp *j, struct jv *v, char close)
{
    int rc;

    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return CSQ_OK;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(j);
        if (v->type == J_OBJ) {
            if (j->p >= j->end || *j->p != '"')
                return jerr(j, "expected a quoted key");
            if ((rc = parse_string(j, &key)) != 0)
                return rc;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(key);
                return jerr(j, "expected ':' after a key");
            }
            j->p++;
        }
        if ((rc = push(j, v, key)) != 0)
            return rc;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return CSQ_OK;
        }
        return jerr(j, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static int parse_value(struct jp *j, struct jv *v)
{
    int rc;

    skip_ws(j);
    v->line = j->line;
    if (j->p >= j->end)
        return jerr(j, "unexpected end of file");
    if (++j->depth > 64)
        return jerr(j, "nested too deeply");
    switch (*j->p) {
    case '{':
        v->type = J_OBJ;
        rc = parse_container(j, v, '}');
        break;
    case '[':
        v->type = J_ARR;
        rc = parse_container(j, v, ']');
        break;
    case '"':
        v->type = J_STR;
        rc = parse_string(j, &v->str);
        break;
    default:
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
            v->type = J_NULL;
            j->p += 4;
        } else if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
            v->type = J_BOOL;
            v->num = 1;
            j->p += 4;
        } else if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
            v->type = J_BOOL;
            j->p += 5;
        } else {
            char *e;
            if (!(*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
                return jerr(j, "unexpected character");
            v->type = J_NUM;
            v->num = strtod(j->p, &e);
            if (e == j->p || !isfinite(v->num))
                return jerr(j, "bad number");
            j->p = e;
        }
        rc = CSQ_OK;
    }
    j->depth--;
    return rc;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
    int i;

    for (i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}

/* --- reading --- */

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return CSQ_OK;
    *out = csq_mem_strdup(s);
    return *out ? CSQ_OK : CSQ_ENOMEM;
}

/* An integer-valued json number in [lo, hi]. */
static int jint(const struct jp *j, const struct jv *v, const char *key, double lo, double hi,
                int64_t *out)
{
    char msg[96];

    if (!v || v->type != J_NUM || v->num != floor(v->num) || v->num < lo || v->num > hi) {
        snprintf(msg, sizeof msg, "'%s' must be an integer from %.0f to %.0f", key, lo, hi);
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: %s", j->path,
                        v ? v->line : j->line, msg);
    }
    *out = (int64_t)v->num;
    return CSQ_OK;
}

static int jstr_opt(const struct jp *j, const struct jv *o, const char *key, char **out)
{
    const struct jv *v = jget(o, key);

    *out = NULL;
    if (!v || v->type == J_NULL)
        return CSQ_OK;
    if (v->type != J_STR)
        return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: '%s' must be a string", j->path,
                        v->line, key);
    return dup_opt(v->str, out);
}

static int from_json(struct jp *j, const struct jv *root, struct csq_bitcfg *c)
{
    const struct jv *layers;
    int l, rc;
    int64_t t;

    if (root->type == J_ARR) { /* a bare list of weight widths */
        layers = root;
    } else if (root->type == J_OBJ) {
        if ((rc = jstr_opt(j, root, "model", &c->model)) != 0
            || (rc = jstr_opt(j, root, "sha256", &c->sha256)) != 0
            || (rc = jstr_opt(j, root, "budget", &c->budget)) != 0
            || (rc = jstr_opt(j, root, "solver", &c->solver)) != 0)
            return rc;
        layers = jget(root, "layers");
        if (!layers || layers->type != J_ARR)
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
        const struct jv *e = &layers->items[l], *v;
        struct csq_bitcfg_layer *y = &c->layers[l];
        if (root->type == J_ARR) {
            if ((rc = jint(j, e, "wbits", 1, 16, &t)) != 0)
                return rc;
            y->wbits = (int)t;
            continue;
        }
        if (e->type != J_OBJ)
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: layer %d is not an object",
                            j->path, e->line, l);
        v = jget(e, "name");
        if (!v || v->type != J_STR || !v->str[0])
            return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: layer %d has no \"name\"",
                            j->path, e->line, l);
        if ((rc = dup_opt(v->str, &y->name)) != 0 || (rc = jstr_opt(j, e, "node", &y->node)) != 0)
            return rc;
        if ((rc = jint(j, jget(e, "wbits"), "wbits", 1, 16, &t)) != 0)
            return rc;
        y->wbits = (int)t;
        v = jget(e, "abits");
        if (v && (rc = jint(j, v, "abits", 1, 16, &t)) != 0)
            return rc;
        y->abits = v ? (int)t : 0;
        if ((v = jget(e, "params")) && (rc = jint(j, v, "params", 0, 9e15, &y->params)) != 0)
            return rc;
        if ((v = jget(e, "macs")) && (rc = jint(j, v, "macs", 0, 9e15, &y->macs)) != 0)
            return rc;
        if ((v = jget(e, "score")) && v->type != J_NULL) {
            if (v->type != J_NUM)
                return csq_fail(CSQ_EFORMAT, "bitcfg: '%s' line %d: 'score' must be a number",
                                j->path, v->line);
            y->score = v->num;
        }
    }
    return CSQ_OK;
}

static int read_json(const char *path, const char *text, size_t len, struct csq_bitcfg *c)
{
    struct jp j = {path, text, text + len, 1, 0};
    struct jv root;
    int rc;

    memset(&root, 0, sizeof root);
    rc = parse_value(&j, &root);
    if (rc == 0) {
        skip_ws(&j);
        if (j.p != j.end)
            rc = jerr(&j, "text after the end of the json value");
    }
    if (rc == 0)
        rc = from_json(&j, &root, c);
    jv_clear(&root);
    return rc;
}

/* Split a line at tabs in place: at most max fields. */
static int split_tabs(char *s, char **f, int max)
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

static int parse_i64(const char *s, int64_t *v)
{
    char *e;
    long long x;

    if (!*s || !((*s >= '0' && *s <= '9') || *s == '-'))
        return -1;
    errno = 0;
    x = strtoll(s, &e, 10);
    if (*e || errno)
        return -1;
    *v = x;
    return 0;
}

static int read_tsv(const char *path, char *text, struct csq_bitcfg *c)
{
    char *line = text, *next, *f[8];
    int ln = 0, have_header = 0, rc, nf, cap = 0;

    for (; line && *line; line = next) {
        ln++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (*line && line[strlen(line) - 1] == '\r')
            line[strlen(line) - 1] = '\0';
        if (!*line)
            continue;
        if (line[0] == '#') {
            if (strncmp(line, "#layer\t", 7) == 0) {
                have_header = 1;
            } else if (strncmp(line, "# model: ", 9) == 0 && !c->model) {
                char *sp = strstr(line + 9, " sha256=");
                if (sp) {
                    *sp = '\0';
                    if ((rc = dup_opt(sp + 8, &c->sha256)) != 0)
                        return rc;
                }
                if ((rc = dup_opt(line + 9, &c->model)) != 0)
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
        nf = split_tabs(line, f, 8);
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
            if (parse_i64(f[1], &wb) || parse_i64(f[2], &ab) || parse_i64(f[3], &y->params)
                || parse_i64(f[4], &y->macs))
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

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, not pairwise: a config of a million layers must not take a
 * million squared comparisons. */
static int check_unique(const char *path, const struct csq_bitcfg *c)
{
    const char **names;
    int l, n = 0, rc = CSQ_OK;

    if (c->nlayers < 2)
        return CSQ_OK;
    names = csq_mem_array((size_t)c->nlayers, sizeof *names);
    if (!names)
        return CSQ_ENOMEM;
    for (l = 0; l < c->nlayers; l++)
        if (c->layers[l].name)
            names[n++] = c->layers[l].name;
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (l = 1; l < n; l++)
        if (strcmp(names[l - 1], names[l]) == 0) {
            rc = csq_fail(CSQ_EFORMAT, "bitcfg: '%s': layer '%s' listed twice", path, names[l]);
            break;
        }
    free(names);
    return rc;
}

int csq_bitcfg_read(const char *path, struct csq_bitcfg **out)
{
    unsigned char *buf;
    size_t len, i;
    struct csq_bitcfg *c;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    c = csq_mem_zarray(1, sizeof *c);
    if (!c) {
        free(buf);
        return CSQ_ENOMEM;
    }
    for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r');
         i++)
        ;
    if (i < len && (buf[i] == '{' || buf[i] == '['))
        rc = read_json(path, (const char *)buf, len, c);
    else if (memchr(buf, '\0', len))
        rc = csq_fail(CSQ_EFORMAT, "bitcfg: '%s': binary file", path);
    else
        rc = read_tsv(path, (char *)buf, c);
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
