/*
 * json: string escaping and small arrays for hand-written JSON output, and
 * the reader (see json.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/json.h"
#include "util/mem.h"

void csq_json_string(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', fp);
    for (; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

void csq_json_dims(FILE *fp, const int64_t *dims, int n)
{
    int i;

    fputc('[', fp);
    for (i = 0; i < n; i++)
        fprintf(fp, "%s%lld", i ? ", " : "", (long long)dims[i]);
    fputc(']', fp);
}

/* --- reading --- */


struct jp {
    const char *what;
    const char *path;
    const char *p, *end;
    int line;
    int depth;
};

void csq_json_release(struct csq_json *v)
{
    int i;

    for (i = 0; i < v->n; i++) {
        csq_json_release(&v->items[i]);
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
    return csq_fail(CSQ_EFORMAT, "%s: '%s' line %d: %s", j->what, j->path, j->line, what);
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

static int parse_value(struct jp *j, struct csq_json *v);

static int push(struct jp *j, struct csq_json *v, char *key)
{
    struct csq_json *ni = csq_mem_rearray(v->items, (size_t)v->n + 1, sizeof *ni);

    if (!ni) {
        free(key);
        return CSQ_ENOMEM;
    }
    v->items = ni;
    memset(&v->items[v->n], 0, sizeof *ni);
    if (v->type == CSQ_JSON_OBJ) {
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

static int parse_container(struct jp *j, struct csq_json *v, char close)
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
        if (v->type == CSQ_JSON_OBJ) {
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

static int parse_value(struct jp *j, struct csq_json *v)
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
        v->type = CSQ_JSON_OBJ;
        rc = parse_container(j, v, '}');
        break;
    case '[':
        v->type = CSQ_JSON_ARR;
        rc = parse_container(j, v, ']');
        break;
    case '"':
        v->type = CSQ_JSON_STR;
        rc = parse_string(j, &v->str);
        break;
    default:
        if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
            v->type = CSQ_JSON_NULL;
            j->p += 4;
        } else if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
            v->type = CSQ_JSON_BOOL;
            v->num = 1;
            j->p += 4;
        } else if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
            v->type = CSQ_JSON_BOOL;
            j->p += 5;
        } else {
            char *e;
            if (!(*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
                return jerr(j, "unexpected character");
            v->type = CSQ_JSON_NUM;
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

const struct csq_json *csq_json_get(const struct csq_json *o, const char *key)
{
    int i;

    for (i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}


int csq_json_parse(const char *what, const char *path, const char *text, size_t len,
                   struct csq_json *root, int *lines)
{
    struct jp j = {what, path, text, text + len, 1, 0};
    int rc;

    memset(root, 0, sizeof *root);
    rc = parse_value(&j, root);
    if (rc == 0) {
        skip_ws(&j);
        if (j.p != j.end)
            rc = jerr(&j, "text after the end of the json value");
    }
    *lines = j.line;
    if (rc != 0)
        csq_json_release(root);
    return rc;
}
