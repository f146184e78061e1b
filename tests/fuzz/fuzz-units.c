/*
 * fuzz-units: the command-line value parsers of mpq/units.h.  The first
 * byte picks the parser, the rest (NUL-terminated copy) is the value;
 * parsed numbers go through the formatters too.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/units.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, buf[64], **names = NULL, *name = NULL;
    int bits[CSQ_UNITS_MAXBITS], n = 0, b;
    double v;

    if (size < 1)
        return 0;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 7) {
    case 0:
        if (csq_units_parse_size("--size", s, &v) == 0) {
            csq_units_fmt_bytes(v, buf, sizeof buf);
            csq_units_fmt_double(v, buf);
        }
        break;
    case 1:
        if (csq_units_parse_bops("--bops", s, &v) == 0)
            csq_units_fmt_count(v, buf, sizeof buf);
        break;
    case 2:
        if (csq_units_parse_real("--avg-bits", s, &v) == 0)
            csq_units_fmt_double(v, buf);
        break;
    case 3:
        (void)csq_units_parse_wbits("--wbits", s, bits, &n);
        break;
    case 4:
        (void)csq_units_parse_bits("--abits", s, &b);
        break;
    case 5:
        if (csq_units_parse_pin("--pin", s, &name, &b) == 0)
            free(name);
        break;
    default:
        if (csq_units_parse_tie("--tie", s, &names, &n) == 0)
            csq_units_free_names(names, n);
        break;
    }
    free(s);
    csq_errclear();
    return 0;
}
