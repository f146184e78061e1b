/* units: budget parsing (exact values, suffixes, errors naming the value)
 * and the human-readable forms. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/units.h"
#include "tap.h"
#include "util/err.h"

static void size_ok(const char *s, double want)
{
    double v = -1;
    int rc = csq_units_parse_size("--size", s, &v);
    ok(rc == 0 && v == want, "--size %s = %.17g (got %.17g)", s, want, v);
}

static void size_bad(const char *s)
{
    double v;
    csq_errclear();
    ok(csq_units_parse_size("--size", s, &v) == CSQ_EUSAGE && strstr(csq_errmsg(), "--size")
       && (!*s || strstr(csq_errmsg(), s)), "--size '%s' refused: %s", s, csq_errmsg());
}

int main(void)
{
    double v;
    int bits[16], n, b;
    char *name, **names, buf[32];

    size_ok("4.5MiB", 4718592);       /* 4.5 * 1048576 */
    size_ok("40KiB", 40960);
    size_ok("1.5GB", 1.5e9);
    size_ok("100", 100);
    size_ok("100B", 100);
    size_ok("2kb", 2000);
    size_ok("0.5KiB", 512);
    size_ok("1.3KiB", 1331.2);        /* 13 * 1024 / 10 */
    size_ok("3TiB", 3298534883328.0);
    size_bad("12XB");
    size_bad("-1");
    size_bad("-3MB");
    size_bad("0");
    size_bad("0MiB");
    size_bad("");
    size_bad(".");
    size_bad("1.2.3MB");
    size_bad("1e6");
    size_bad("MiB");

    ok(csq_units_parse_bops("--bops", "58.1G", &v) == 0 && v == 58.1e9, "bops 58.1G");
    ok(csq_units_parse_bops("--bops", "2T", &v) == 0 && v == 2e12, "bops 2T");
    ok(csq_units_parse_bops("--bops", "750k", &v) == 0 && v == 750e3, "bops 750k");
    ok(csq_units_parse_bops("--bops", "123456", &v) == 0 && v == 123456, "bops plain");
    csq_errclear();
    ok(csq_units_parse_bops("--bops", "5GiB", &v) == CSQ_EUSAGE && strstr(csq_errmsg(), "'5GiB'"),
       "bops GiB refused: %s", csq_errmsg());
    ok(csq_units_parse_real("--avg-bits", "3.25", &v) == 0 && v == 3.25, "avg-bits 3.25");
    csq_errclear();
    ok(csq_units_parse_real("--avg-bits", "3K", &v) == CSQ_EUSAGE, "avg-bits with suffix refused");
    csq_errclear();
    ok(csq_units_parse_real("--avg-bits", "0", &v) == CSQ_EUSAGE, "avg-bits 0 refused");

    ok(csq_units_parse_wbits("--wbits", "4,2,3", bits, &n) == 0 && n == 3 && bits[0] == 2
       && bits[1] == 3 && bits[2] == 4, "wbits sorted");
    ok(csq_units_parse_wbits("--wbits", "16,1", bits, &n) == 0 && n == 2 && bits[0] == 1
       && bits[1] == 16, "wbits 1 and 16");
    {
        static const char *bad[] = {"2,2", "0,4", "17", "2,,3", "", "2,", "a", "-2", "4 ,5"};
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            csq_errclear();
            ok(csq_units_parse_wbits("--wbits", bad[i], bits, &n) == CSQ_EUSAGE
               && strstr(csq_errmsg(), "--wbits"), "--wbits '%s' refused: %s", bad[i],
               csq_errmsg());
        }
    }
    ok(csq_units_parse_bits("--abits", "8", &b) == 0 && b == 8, "bits 8");
    csq_errclear();
    ok(csq_units_parse_bits("--abits", "33", &b) == CSQ_EUSAGE, "bits 33 refused");

    ok(csq_units_parse_pin("--pin", "layer1.0.conv1=6", &name, &b) == 0
       && strcmp(name, "layer1.0.conv1") == 0 && b == 6, "pin NAME=BITS");
    free(name);
    ok(csq_units_parse_pin("--pin", "a=b=8", &name, &b) == 0 && strcmp(name, "a=b") == 0 && b == 8,
       "pin splits at the last '='");
    free(name);
    csq_errclear();
    ok(csq_units_parse_pin("--pin", "conv1", &name, &b) == CSQ_EUSAGE && !name
       && strstr(csq_errmsg(), "'conv1'"), "pin without '=' refused: %s", csq_errmsg());
    csq_errclear();
    ok(csq_units_parse_pin("--pin", "=4", &name, &b) == CSQ_EUSAGE, "pin without a name refused");
    csq_errclear();
    ok(csq_units_parse_pin("--pin", "c=0", &name, &b) == CSQ_EUSAGE, "pin to 0 bits refused");

    ok(csq_units_parse_tie("--tie", "a,b,c", &names, &n) == 0 && n == 3
       && strcmp(names[0], "a") == 0 && strcmp(names[2], "c") == 0, "tie of three");
    csq_units_free_names(names, n);
    csq_errclear();
    ok(csq_units_parse_tie("--tie", "a", &names, &n) == CSQ_EUSAGE && !names, "tie of one refused");
    csq_errclear();
    ok(csq_units_parse_tie("--tie", "a,,b", &names, &n) == CSQ_EUSAGE, "tie with empty name");
    csq_errclear();
    ok(csq_units_parse_tie("--tie", "a,b,a", &names, &n) == CSQ_EUSAGE
       && strstr(csq_errmsg(), "'a'"), "tie with a repeat: %s", csq_errmsg());

    ok(strcmp(csq_units_fmt_bytes(4718592, buf, sizeof buf), "4.50MiB") == 0, "4.50MiB");
    ok(strcmp(csq_units_fmt_bytes(4.49 * 1048576, buf, sizeof buf), "4.49MiB") == 0, "4.49MiB");
    ok(strcmp(csq_units_fmt_bytes(512, buf, sizeof buf), "512B") == 0, "512B");
    ok(strcmp(csq_units_fmt_bytes(27840, buf, sizeof buf), "27.19KiB") == 0, "27.19KiB");
    ok(strcmp(csq_units_fmt_bytes(1048575, buf, sizeof buf), "1.00MiB") == 0,
       "just below 1MiB rounds up a unit: %s", buf);
    ok(strcmp(csq_units_fmt_count(58123456789.0, buf, sizeof buf), "58.1G") == 0, "58.1G");
    ok(strcmp(csq_units_fmt_count(1234, buf, sizeof buf), "1.23K") == 0, "1.23K");
    ok(strcmp(csq_units_fmt_count(12, buf, sizeof buf), "12") == 0, "12");
    ok(strcmp(csq_units_fmt_count(999999, buf, sizeof buf), "1.00M") == 0, "999999 -> %s", buf);
    ok(strcmp(csq_units_fmt_count(250e9, buf, sizeof buf), "250G") == 0, "250G");
    ok(strcmp(csq_units_fmt_double(0.1, buf), "0.1") == 0, "shortest 0.1");
    ok(strtod(csq_units_fmt_double(1.0 / 3.0, buf), NULL) == 1.0 / 3.0, "1/3 round trips: %s",
       buf);
    ok(strcmp(csq_units_fmt_double(0.01322, buf), "0.01322") == 0, "shortest 0.01322");
    return tap_done();
}
