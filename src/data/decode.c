/*
 * decode: which decoder a file goes to, and reading it (see decode.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/decode.h"
#include "data/jpeg.h"
#include "data/png.h"
#include "util/err.h"

enum csq_image_format csq_decode_sniff(const unsigned char *buf, size_t len)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    if (len >= 8 && memcmp(buf, sig, 8) == 0)
        return CSQ_IMAGE_PNG;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return CSQ_IMAGE_JPEG;
    return CSQ_IMAGE_UNKNOWN;
}

int csq_decode_mem(struct csq_image *img, const unsigned char *buf, size_t len,
                     const char *name, size_t max_pixels, struct csq_image_msg *m)
{
    memset(img, 0, sizeof *img);
    if (max_pixels == 0)
        max_pixels = CSQ_IMAGE_MAX_PIXELS_DEFAULT;
    switch (csq_decode_sniff(buf, len)) {
    case CSQ_IMAGE_PNG:
        return csq_png_decode(img, buf, len, name, max_pixels, m);
    case CSQ_IMAGE_JPEG:
        return csq_jpeg_decode(img, buf, len, name, max_pixels, m);
    default:
        if (len == 0)
            return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': empty file", name);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': not a PNG or JPEG file", name);
    }
}

/* The format a file name promises, from its extension. */
static enum csq_image_format by_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');

    if (!dot)
        return CSQ_IMAGE_UNKNOWN;
    if (strcasecmp(dot, ".png") == 0)
        return CSQ_IMAGE_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return CSQ_IMAGE_JPEG;
    return CSQ_IMAGE_UNKNOWN;
}

/* Whole-file read reporting through m (csq_file_read would use the shared
 * slot, which worker threads must not race on). */
static int slurp(const char *path, unsigned char **out, size_t *len, struct csq_image_msg *m)
{
    FILE *fp;
    struct stat st;
    unsigned char *buf;
    size_t n, got;

    *out = NULL;
    *len = 0;
    fp = fopen(path, "rb");
    if (!fp)
        return csq_image_fail(m, CSQ_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return csq_image_fail(m, CSQ_EIO, "cannot read '%s': not a regular file", path);
    }
    n = (size_t)st.st_size;
    buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(fp);
        return csq_image_fail(m, CSQ_ENOMEM, "out of memory reading '%s'", path);
    }
    got = fread(buf, 1, n, fp);
    if (got != n) {
        int e = ferror(fp) ? errno : 0;
        fclose(fp);
        free(buf);
        return csq_image_fail(m, CSQ_EIO, "cannot read '%s': %s", path,
                              e ? strerror(e) : "file shrank while reading");
    }
    fclose(fp);
    *out = buf;
    *len = n;
    return CSQ_OK;
}

int csq_decode_file(struct csq_image *img, const char *path, size_t max_pixels,
                   struct csq_image_msg *m)
{
    static const char *fname[] = {"", "PNG", "JPEG"};
    unsigned char *buf;
    size_t len;
    int rc;
    enum csq_image_format want, got;

    memset(img, 0, sizeof *img);
    if ((rc = slurp(path, &buf, &len, m)) != 0)
        return rc;
    want = by_name(path);
    got = csq_decode_sniff(buf, len);
    if (len == 0) {
        free(buf);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': empty file", path);
    }
    if (want != CSQ_IMAGE_UNKNOWN && got != want) {
        free(buf);
        if (got == CSQ_IMAGE_UNKNOWN)
            return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': not a %s file", path,
                                  fname[want]);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': %s content in a file named as %s",
                              path, fname[got], fname[want]);
    }
    rc = csq_decode_mem(img, buf, len, path, max_pixels, m);
    free(buf);
    return rc;
}
