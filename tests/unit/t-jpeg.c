/* jpeg: JPEG fixtures decode within 1 level of PIL (same libjpeg defaults:
 * islow DCT, fancy upsampling), and broken JPEGs fail naming the file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/jpeg.h"
#include "fixture.h"
#include "tap.h"
#include "util/err.h"

static void check(char **f, int nf, void *ctx)
{
    const char *name = f[1], *dot = strrchr(name, '.');
    int w = atoi(f[2]), h = atoi(f[3]), c = atoi(f[4]), tol = atoi(f[5]), d, maxd = 0;
    unsigned char *buf, *gold;
    size_t len, glen, i;
    struct csq_image img;
    char rel[256];

    (void)nf;
    (void)ctx;
    if (strcmp(dot, ".jpg") != 0)
        return;
    snprintf(rel, sizeof rel, "images/%s", name);
    buf = fx_read(rel, &len);
    snprintf(rel, sizeof rel, "images/%s", f[6]);
    gold = fx_read(rel, &glen);
    if (!ok(buf && gold, "%s: fixture and golden readable", name))
        return;
    if (is_int(csq_jpeg_decode(&img, buf, len, name, CSQ_IMAGE_MAX_PIXELS_DEFAULT, NULL), 0,
               "%s: decodes", name)) {
        if (ok(img.w == w && img.h == h && img.c == c, "%s: %dx%dx%d", name, img.w, img.h,
               img.c) && glen == (size_t)w * h * c) {
            for (i = 0; i < glen; i++) {
                d = abs(img.px[i] - gold[i]);
                maxd = d > maxd ? d : maxd;
            }
            ok(maxd <= tol, "%s: max difference from PIL %d <= %d", name, maxd, tol);
        }
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

    snprintf(rel, sizeof rel, "images/%s", name);
    buf = fx_read(rel, &len);
    memset(&m, 0, sizeof m);
    is_int(csq_jpeg_decode(&img, buf, len, name, CSQ_IMAGE_MAX_PIXELS_DEFAULT, &m), want,
           "%s: fails (%s)", name, what);
    ok(strstr(m.text, name) != NULL, "%s: message names the file: %s", name, m.text);
    ok(img.px == NULL, "%s: no image", name);
    free(buf);
}

int main(void)
{
    struct csq_image img;
    unsigned char *buf;
    size_t len;

    ok(fx_manifest("decode", check, NULL) > 0, "manifest read");
    bad("trunc.jpg", CSQ_EFORMAT, "truncated");
    bad("garbage.jpg", CSQ_EFORMAT, "garbage after SOI");
    bad("png-named.jpg", CSQ_EFORMAT, "PNG content");
    bad("empty.png", CSQ_EFORMAT, "empty");

    buf = fx_read("images/rgb.jpg", &len);
    is_int(csq_jpeg_decode(&img, buf, len, "rgb.jpg", 40 * 30 - 1, NULL), CSQ_EUNSUPPORTED,
           "pixel limit checked from the header");
    ok(strstr(csq_errmsg(), "rgb.jpg") != NULL, "limit message names the file: %s",
       csq_errmsg());
    csq_errclear();
    free(buf);
    return tap_done();
}
