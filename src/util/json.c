/*
 * json: string escaping and small arrays for hand-written JSON output.
 */
#include "config.h"

#include "util/json.h"

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
