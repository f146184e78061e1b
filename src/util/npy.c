/*
 * npy: .npy reading and writing (see npy.h).  The header is a Python dict
 * literal; we parse just the three keys numpy always writes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/npy.h"

static const char *find_key(const char *hdr, const char *key)
{
    const char *p = strstr(hdr, key);

    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\'' || *p == '"' || *p == ':')
        p++;
    return p;
}

int csq_npy_read(const char *path, struct csq_tensor *t)
{
    unsigned char *buf;
    size_t len, hlen, off, esize;
    char *hdr = NULL;
    const char *p;
    int64_t numel;
    int rc = CSQ_OK;

    memset(t, 0, sizeof *t);
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        rc = csq_fail(CSQ_EFORMAT, "'%s': not a .npy file", path);
        goto out;
    }
    if (buf[6] == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        off = 10;
    } else if (buf[6] == 2 || buf[6] == 3) {
        if (len < 12) {
            rc = csq_fail(CSQ_EFORMAT, "'%s': truncated .npy header", path);
            goto out;
        }
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        off = 12;
    } else {
        rc = csq_fail(CSQ_EFORMAT, "'%s': .npy format version %d is not supported",
                      path, buf[6]);
        goto out;
    }
    if (hlen > len - off) {
        rc = csq_fail(CSQ_EFORMAT, "'%s': truncated .npy header", path);
        goto out;
    }
    hdr = malloc(hlen + 1);
    if (!hdr) {
        rc = csq_fail(CSQ_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(hdr, buf + off, hlen);
    hdr[hlen] = '\0';
    off += hlen;
    p = find_key(hdr, "descr");
    if (p && (strncmp(p, "<f4", 3) == 0 || strncmp(p, "|f4", 3) == 0)) {
        t->dtype = CSQ_DT_FLOAT;
        esize = 4;
    } else if (p && strncmp(p, "<i8", 3) == 0) {
        t->dtype = CSQ_DT_INT64;
        esize = 8;
    } else {
        rc = csq_fail(CSQ_EUNSUPPORTED, "'%s': .npy data type must be float32 ('<f4') "
                      "or int64 ('<i8')", path);
        goto out;
    }
    p = find_key(hdr, "fortran_order");
    if (!p || strncmp(p, "False", 5) != 0) {
        rc = csq_fail(CSQ_EUNSUPPORTED, "'%s': .npy array must be in C order", path);
        goto out;
    }
    p = find_key(hdr, "shape");
    if (!p || *p != '(') {
        rc = csq_fail(CSQ_EFORMAT, "'%s': .npy header has no shape", path);
        goto out;
    }
    p++;
    numel = 1;
    while (*p && *p != ')') {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (t->rank == CSQ_MAX_RANK || d < 0 || (d && numel > INT64_MAX / 8 / d)) {
            rc = csq_fail(CSQ_EFORMAT, "'%s': bad .npy shape", path);
            goto out;
        }
        t->dims[t->rank++] = d;
        numel *= d;
        p = end;
    }
    if ((uint64_t)(len - off) < (uint64_t)numel * esize) {
        rc = csq_fail(CSQ_EFORMAT, "'%s': .npy data is shorter than its shape", path);
        goto out;
    }
    t->data = csq_mem_array((size_t)(numel ? numel : 1), esize);
    if (!t->data) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    memcpy(t->data, buf + off, (size_t)numel * esize);
out:
    free(hdr);
    free(buf);
    return rc;
}

int csq_npy_write(const char *path, const struct csq_tensor *t)
{
    struct csq_out o;
    char hdr[256];
    int n, i, rc;
    size_t total, esize = csq_dtype_size(t->dtype);
    int64_t numel = csq_tensor_numel(t);

    n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                 t->dtype == CSQ_DT_INT64 ? "<i8" : "<f4");
    for (i = 0; i < t->rank; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld,%s", (long long)t->dims[i],
                      i + 1 < t->rank ? " " : "");
    if (t->rank > 1)
        n--;                    /* numpy writes (2, 3) but (2,) */
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    /* Pad with spaces so the data starts on a 64-byte boundary. */
    total = ((size_t)n + 11 + 63) / 64 * 64;
    while ((size_t)n + 11 < total)
        hdr[n++] = ' ';
    hdr[n++] = '\n';
    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    fwrite("\x93NUMPY\x01\x00", 1, 8, o.fp);
    fputc(n & 0xff, o.fp);
    fputc(n >> 8, o.fp);
    fwrite(hdr, 1, (size_t)n, o.fp);
    fwrite(t->data, esize, (size_t)numel, o.fp);
    return csq_out_commit(&o);
}
