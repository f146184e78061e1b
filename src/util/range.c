/*
 * range: budget lists and ranges (see range.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/range.h"

/* One comma-separated item [s, e): a value or START:STOP:STEP, appended. */
static int item(const char *opt, const char *all, const char *s, size_t len,
                csq_range_value_fn one, double *out, int *n)
{
    char buf[128], *part[3], *c;
    double v[3];
    int k = 0, i, count;

    if (len == 0)
        return csq_fail(CSQ_EUSAGE, "%s '%s': empty item in the list", opt, all);
    if (len >= sizeof buf)
        return csq_fail(CSQ_EUSAGE, "%s '%s': item too long", opt, all);
    memcpy(buf, s, len);
    buf[len] = '\0';
    part[k++] = buf;
    for (c = buf; *c; c++)
        if (*c == ':') {
            if (k == 3)
                return csq_fail(CSQ_EUSAGE, "%s '%s': a range is START:STOP:STEP", opt, all);
            *c = '\0';
            part[k++] = c + 1;
        }
    if (k == 2)
        return csq_fail(CSQ_EUSAGE, "%s '%s': a range is START:STOP:STEP", opt, all);
    for (i = 0; i < k; i++)
        if (one(opt, part[i], &v[i]) != 0)
            return CSQ_EUSAGE;
    if (k == 1) {
        if (*n >= CSQ_RANGE_MAX)
            return csq_fail(CSQ_EUSAGE, "%s '%s': more than %d values", opt, all,
                            CSQ_RANGE_MAX);
        out[(*n)++] = v[0];
        return CSQ_OK;
    }
    if (v[1] < v[0])
        return csq_fail(CSQ_EUSAGE, "%s '%s': the range '%s:%s:%s' ends below its start", opt,
                        all, part[0], part[1], part[2]);
    if ((v[1] - v[0]) / v[2] + 1 > CSQ_RANGE_MAX - *n)
        return csq_fail(CSQ_EUSAGE, "%s '%s': more than %d values", opt, all,
                        CSQ_RANGE_MAX);
    count = (int)floor((v[1] - v[0]) / v[2] + 1e-9) + 1;
    for (i = 0; i < count; i++)
        out[(*n)++] = i == count - 1 && fabs(v[0] + i * v[2] - v[1]) < 1e-9 * v[2]
                          ? v[1] : v[0] + i * v[2];
    return CSQ_OK;
}

int csq_range_parse(const char *opt, const char *s, csq_range_value_fn one, double **vals,
                    int *n)
{
    double *out, *grown;
    const char *p, *e;
    int k = 0, rc = CSQ_OK;

    if (!s || !*s)
        return csq_fail(CSQ_EUSAGE, "%s: empty value", opt);
    if (!(out = csq_mem_array(CSQ_RANGE_MAX, sizeof *out)))
        return CSQ_ENOMEM;
    for (p = s; rc == CSQ_OK; p = e + 1) {
        e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        rc = item(opt, s, p, (size_t)(e - p), one, out, &k);
        if (!*e)
            break;
    }
    if (rc == CSQ_OK && *n + k > CSQ_RANGE_MAX)
        rc = csq_fail(CSQ_EUSAGE, "%s '%s': more than %d values in all", opt, s,
                      CSQ_RANGE_MAX);
    if (rc == CSQ_OK) {
        grown = csq_mem_rearray(*vals, (size_t)(*n + k), sizeof *grown);
        if (!grown) {
            rc = CSQ_ENOMEM;
        } else {
            memcpy(grown + *n, out, (size_t)k * sizeof *out);
            *vals = grown;
            *n += k;
        }
    }
    free(out);
    return rc;
}
