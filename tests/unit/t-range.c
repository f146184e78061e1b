/* range: budget lists and ranges against hand-written values, sizes with
 * suffixes, appending, and refusals naming the option; svg: escaping. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/err.h"
#include "util/range.h"
#include "util/svg.h"
#include "util/units.h"

static void list_ok(const char *s, csq_range_value_fn fn, const double *want, int nwant)
{
    double *v = NULL;
    int n = 0, i, same;
    int rc = csq_range_parse("--x", s, fn, &v, &n);

    same = rc == 0 && n == nwant;
    for (i = 0; same && i < n; i++)
        same = v[i] == want[i];
    ok(same, "'%s': %d values (got %d, rc %d)", s, nwant, n, rc);
    free(v);
}

static void list_bad(const char *s)
{
    double *v = NULL;
    int n = 0, rc;

    csq_errclear();
    rc = csq_range_parse("--avg-bits", s, csq_units_parse_real, &v, &n);
    ok(rc == CSQ_EUSAGE && n == 0 && !v && strstr(csq_errmsg(), "--avg-bits"),
       "'%s' refused: %s", s, csq_errmsg());
}

int main(void)
{
    static const double a[] = { 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4 };
    static const double b[] = { 2.5, 3 };
    static const double c[] = { 1048576, 2097152, 3145728, 4194304, 8 << 20 };
    /* 2 + i x 0.1 rounds to these literals (python3: 2 + i * 0.1); a
     * running sum would drift off them (2.3000000000000003 after 3 steps) */
    static const double d[] = { 2, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3 };
    double *v = NULL, want[3] = { 2, 3, 5e7 };
    char buf[256];
    FILE *fp;
    int n = 0;

    list_ok("2:4:0.25", csq_units_parse_real, a, 9);
    list_ok("2.5,3", csq_units_parse_real, b, 2);
    list_ok("1MiB:4MiB:1MiB,8MiB", csq_units_parse_size, c, 5);
    list_ok("2:3:0.1", csq_units_parse_real, d, 11);
    list_ok("3:3:1", csq_units_parse_real, d + 10, 1);
    ok(csq_range_parse("--x", "2,3", csq_units_parse_real, &v, &n) == 0 &&
       csq_range_parse("--x", "50M", csq_units_parse_bops, &v, &n) == 0 && n == 3 &&
       memcmp(v, want, sizeof want) == 0, "a second list is appended");
    free(v);
    list_bad("4:2:0.5");
    list_bad("2:4");
    list_bad("2:4:0");
    list_bad("2:4:1:1");
    list_bad("2,,3");
    list_bad("2,");
    list_bad("");
    list_bad("x");
    list_bad("1:1000:0.5");
    fp = fmemopen(buf, sizeof buf, "w");
    csq_svg_escape(fp, "a<b & \"c\" > 'd'");
    fclose(fp);
    ok(strcmp(buf, "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;") == 0, "svg escapes: %s",
       buf);
    return tap_done();
}
