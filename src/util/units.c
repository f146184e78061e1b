/*
 * units: budget parsing and formatting (see units.h).  Numbers are parsed
 * by hand, not with strtod, so the result never depends on the locale and
 * "4.5MiB" is exactly 45 * 2^20 / 10 bytes.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/units.h"
#include "util/err.h"
#include "util/mem.h"

struct suffix {
    const char *name;
    double mult;
};

static const struct suffix size_suffixes[] = {
    {"", 1.0}, {"B", 1.0},
    {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0}, {NULL, 0}
};

static const struct suffix count_suffixes[] = {
    {"", 1.0}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {NULL, 0}
};

static const struct suffix plain_suffixes[] = {{"", 1.0}, {NULL, 0}};

/* Leading unsigned decimal of s as mant / 10^k; *end after it.  -1 when
 * there is none or it has more than 18 significant digits. */
static int parse_decimal(const char *s, int64_t *mant, int *k, const char **end)
{
    int digits = 0, seen_dot = 0;
    const char *p = s;

    *mant = 0;
    *k = 0;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (*mant > 0 || *p != '0')
                digits++;
            if (digits > 18)
                return -1;
            *mant = *mant * 10 + (*p - '0');
            if (seen_dot)
                ++*k;
        } else if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (p == s || (p - s == 1 && seen_dot))
        return -1;
    *end = p;
    return 0;
}

/* Suffixes match case-insensitively: "4.5mib" is 4.5MiB. */
static int parse_with(const char *opt, const char *s, const struct suffix *tab,
                      const char *hint, double *out)
{
    int64_t mant;
    int k, i;
    double v;
    const char *end;

    if (!s || !*s)
        return csq_fail(CSQ_EUSAGE, "%s: empty value", opt);
    if (parse_decimal(s, &mant, &k, &end) != 0)
        return csq_fail(CSQ_EUSAGE, "%s '%s': not a positive number", opt, s);
    for (i = 0; tab[i].name; i++)
        if (strcasecmp(end, tab[i].name) == 0)
            break;
    if (!tab[i].name)
        return hint ? csq_fail(CSQ_EUSAGE, "%s '%s': unknown suffix '%s' (use %s)", opt, s,
                               end, hint)
                    : csq_fail(CSQ_EUSAGE, "%s '%s': not a positive number", opt, s);
    /* multiply before dividing out the decimals: 4.5MiB stays exact */
    v = (double)mant * tab[i].mult;
    while (k-- > 0)
        v /= 10.0;
    if (!(v > 0) || !isfinite(v))
        return csq_fail(CSQ_EUSAGE, "%s '%s': must be greater than 0", opt, s);
    *out = v;
    return CSQ_OK;
}

int csq_units_parse_size(const char *opt, const char *s, double *bytes)
{
    return parse_with(opt, s, size_suffixes, "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB", bytes);
}

int csq_units_parse_bops(const char *opt, const char *s, double *bops)
{
    return parse_with(opt, s, count_suffixes, "K, M, G, T", bops);
}

int csq_units_parse_real(const char *opt, const char *s, double *v)
{
    return parse_with(opt, s, plain_suffixes, NULL, v);
}

/* One integer width 1..16 from [s, e). */
static int width_at(const char *s, const char *e, int *bits)
{
    int v = 0;
    const char *p;

    if (e == s || e - s > 2)
        return -1;
    for (p = s; p < e; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > CSQ_UNITS_MAXBITS)
        return -1;
    *bits = v;
    return 0;
}

int csq_units_parse_bits(const char *opt, const char *s, int *bits)
{
    if (!s || width_at(s, s + strlen(s), bits) != 0)
        return csq_fail(CSQ_EUSAGE, "%s '%s': not a bit-width from 1 to %d", opt, s ? s : "",
                        CSQ_UNITS_MAXBITS);
    return CSQ_OK;
}

int csq_units_parse_wbits(const char *opt, const char *s, int *bits, int *n)
{
    int seen[CSQ_UNITS_MAXBITS + 1] = {0};
    const char *p, *e;
    int b, i, k = 0;

    if (!s || !*s)
        return csq_fail(CSQ_EUSAGE, "%s: empty list", opt);
    for (p = s;; p = e + 1) {
        e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        if (width_at(p, e, &b) != 0)
            return csq_fail(CSQ_EUSAGE, "%s '%s': '%.*s' is not a bit-width from 1 to %d", opt,
                            s, (int)(e - p), p, CSQ_UNITS_MAXBITS);
        if (seen[b])
            return csq_fail(CSQ_EUSAGE, "%s '%s': %d bits listed twice", opt, s, b);
        seen[b] = 1;
        if (!*e)
            break;
    }
    for (i = 1; i <= CSQ_UNITS_MAXBITS; i++)
        if (seen[i])
            bits[k++] = i;
    *n = k;
    return CSQ_OK;
}

int csq_units_parse_pin(const char *opt, const char *s, char **name, int *bits)
{
    const char *eq = s ? strrchr(s, '=') : NULL;

    *name = NULL;
    if (!eq || eq == s)
        return csq_fail(CSQ_EUSAGE, "%s '%s': expected NAME=BITS", opt, s ? s : "");
    if (width_at(eq + 1, eq + strlen(eq), bits) != 0)
        return csq_fail(CSQ_EUSAGE, "%s '%s': '%s' is not a bit-width from 1 to %d", opt, s,
                        eq + 1, CSQ_UNITS_MAXBITS);
    *name = malloc((size_t)(eq - s) + 1);
    if (!*name)
        return csq_fail(CSQ_ENOMEM, "out of memory");
    memcpy(*name, s, (size_t)(eq - s));
    (*name)[eq - s] = '\0';
    return CSQ_OK;
}

int csq_units_parse_tie(const char *opt, const char *s, char ***names, int *n)
{
    char **v = NULL;
    const char *p, *e;
    int k = 0, i, rc = CSQ_OK;

    *names = NULL;
    *n = 0;
    if (!s || !*s)
        return csq_fail(CSQ_EUSAGE, "%s: empty list", opt);
    for (p = s;; p = e + 1) {
        char **nv;
        e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        if (e == p) {
            rc = csq_fail(CSQ_EUSAGE, "%s '%s': empty layer name", opt, s);
            goto fail;
        }
        for (i = 0; i < k; i++)
            if (strlen(v[i]) == (size_t)(e - p) && memcmp(v[i], p, (size_t)(e - p)) == 0) {
                rc = csq_fail(CSQ_EUSAGE, "%s '%s': layer '%s' listed twice", opt, s, v[i]);
                goto fail;
            }
        nv = csq_mem_rearray(v, (size_t)k + 1, sizeof *v);
        if (!nv) {
            rc = CSQ_ENOMEM;
            goto fail;
        }
        v = nv;
        v[k] = malloc((size_t)(e - p) + 1);
        if (!v[k]) {
            rc = csq_fail(CSQ_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(v[k], p, (size_t)(e - p));
        v[k][e - p] = '\0';
        k++;
        if (!*e)
            break;
    }
    if (k < 2) {
        rc = csq_fail(CSQ_EUSAGE, "%s '%s': needs at least two layer names", opt, s);
        goto fail;
    }
    *names = v;
    *n = k;
    return CSQ_OK;
fail:
    csq_units_free_names(v, k);
    return rc;
}

void csq_units_free_names(char **names, int n)
{
    int i;

    if (!names)
        return;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

char *csq_units_fmt_bytes(double bytes, char *buf, size_t n)
{
    static const char *unit[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;

    if (bytes < 1023.5) {
        snprintf(buf, n, "%.0fB", bytes);
        return buf;
    }
    while (u < 3 && (u < 0 || v >= 1023.995)) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, n, "%.2f%s", v, unit[u]);
    return buf;
}

char *csq_units_fmt_count(double v, char *buf, size_t n)
{
    static const char *unit[] = {"", "K", "M", "G", "T", "P"};
    int u = 0, prec;

    while (u < 5 && v >= 999.5) {
        v /= 1000.0;
        u++;
    }
    prec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    if (u == 0)
        prec = v == floor(v) ? 0 : prec;
    snprintf(buf, n, "%.*f%s", prec, v, unit[u]);
    return buf;
}

char *csq_units_fmt_double(double v, char *buf)
{
    int prec;

    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, 32, "%.17g", v);
    return buf;
}
