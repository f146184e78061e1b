/* png: every PNG fixture decodes to exactly what PIL decodes (goldens from
 * scripts/make-image-fixtures), and broken PNGs fail naming the file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/png.h"
#include "fixture.h"
#include "tap.h"
#include "util/err.h"

static void check(char **f, int nf, void *ctx)
{
    const char *name = f[1], *dot = strrchr(name, '.');
    int w = atoi(f[2]), h = atoi(f[3]), c = atoi(f[4]);
    unsigned char *buf, *gold;
    size_t len, glen, i, diff = 0;
    struct csq_image img;
    char rel[256];
    int rc;

    (void)nf;
    (void)ctx;
    if (strcmp(dot, ".png") != 0)
        return;
    snprintf(rel, sizeof rel, "images/%s", name);
    buf = fx_read(rel, &len);
    snprintf(rel, sizeof rel, "images/%s", f[6]);
    gold = fx_read(rel, &glen);
    if (!ok(buf && gold, "%s: fixture and golden readable", name))
        return;
    rc = csq_png_decode(&img, buf, len, name, CSQ_IMAGE_MAX_PIXELS_DEFAULT, NULL);
    if (is_int(rc, 0, "%s: decodes", name)) {
        ok(img.w == w && img.h == h && img.c == c, "%s: %dx%dx%d (want %dx%dx%d)", name, img.w,
           img.h, img.c, w, h, c);
        if (glen == (size_t)w * h * c && img.w == w && img.h == h && img.c == c)
            for (i = 0; i < glen; i++)
                diff += img.px[i] != gold[i];
        is_int((long long)diff, 0, "%s: pixels equal PIL's", name);
    } else {
        diag("%s", csq_errmsg());
    }
    csq_image_release(&img);
    csq_errclear();
    free(buf);
    free(gold);
}

static void bad(const char *name, int want, const char *what)
{
    struct csq_image img;
    struct csq_image_msg m;
    unsigned char *buf;
    size_t len;
    char rel[256];
    int rc;

    snprintf(rel, sizeof rel, "images/%s", name);
    buf = fx_read(rel, &len);
    memset(&m, 0, sizeof m);
    rc = csq_png_decode(&img, buf, len, name, CSQ_IMAGE_MAX_PIXELS_DEFAULT, &m);
    is_int(rc, want, "%s: fails (%s)", name, what);
    ok(m.code == want && strstr(m.text, name) != NULL, "%s: message names the file: %s", name,
       m.text);
    ok(img.px == NULL && strcmp(csq_errmsg(), "") == 0, "%s: no image, shared slot untouched",
       name);
    free(buf);
}

int main(void)
{
    struct csq_image img;
    unsigned char *buf;
    size_t len;
    int n;

    n = fx_manifest("decode", check, NULL);
    ok(n >= 20, "manifest lists the decode fixtures (%d)", n);

    bad("trunc.png", CSQ_EFORMAT, "truncated");
    bad("badcrc.png", CSQ_EFORMAT, "IDAT CRC");
    bad("text.png", CSQ_EFORMAT, "not a PNG");
    bad("empty.png", CSQ_EFORMAT, "empty");
    bad("huge.png", CSQ_EUNSUPPORTED, "over the pixel limit");
    bad("zero-width.png", CSQ_EFORMAT, "zero width");

    /* the limit is checked against the header: 40x30 = 1200 pixels */
    buf = fx_read("images/rgb8.png", &len);
    is_int(csq_png_decode(&img, buf, len, "rgb8.png", 1199, NULL), CSQ_EUNSUPPORTED,
           "limit 1199 refuses a 1200-pixel image");
    ok(strstr(csq_errmsg(), "rgb8.png") && strstr(csq_errmsg(), "40x30"),
       "limit message: %s", csq_errmsg());
    csq_errclear();
    is_int(csq_png_decode(&img, buf, len, "rgb8.png", 1200, NULL), 0, "limit 1200 accepts it");
    csq_image_release(&img);
    free(buf);
    return tap_done();
}
