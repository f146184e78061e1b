/* image: dispatch by content, bad files, PIL-exact resize and torchvision
 * preprocessing against goldens, plus small cases worked by hand. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/decode.h"
#include "data/image.h"
#include "data/resample.h"
#include "fixture.h"
#include "tap.h"
#include "util/err.h"

static char *img_path(const char *name)
{
    char rel[256];

    snprintf(rel, sizeof rel, "images/%s", name);
    return strdup(fx_path(rel));
}

/* csq_decode_file picks the decoder from the content. */
static void load_decode(char **f, int nf, void *ctx)
{
    char *path = img_path(f[1]), rel[256];
    struct csq_image img;
    unsigned char *gold;
    size_t glen, i;
    int maxd = 0, d;

    (void)nf;
    (void)ctx;
    snprintf(rel, sizeof rel, "images/%s", f[6]);
    gold = fx_read(rel, &glen);
    if (is_int(csq_decode_file(&img, path, 0, NULL), 0, "load %s", f[1])
        && ok(glen == (size_t)img.w * img.h * img.c, "%s: size", f[1])) {
        for (i = 0; i < glen; i++) {
            d = abs(img.px[i] - gold[i]);
            maxd = d > maxd ? d : maxd;
        }
        ok(maxd <= atoi(f[5]), "%s: pixels within %s of PIL (max %d)", f[1], f[5], maxd);
    }
    csq_image_release(&img);
    csq_errclear();
    free(gold);
    free(path);
}

static int status_of(const char *s)
{
    if (strcmp(s, "EFORMAT") == 0)
        return CSQ_EFORMAT;
    if (strcmp(s, "EUNSUPPORTED") == 0)
        return CSQ_EUNSUPPORTED;
    return -1;
}

static void load_bad(char **f, int nf, void *ctx)
{
    char *path = img_path(f[1]);
    struct csq_image img;

    (void)nf;
    (void)ctx;
    is_int(csq_decode_file(&img, path, 0, NULL), status_of(f[2]), "%s fails (%s)", f[1], f[3]);
    ok(strstr(csq_errmsg(), path) != NULL, "%s: message names the file: %s", f[1],
       csq_errmsg());
    ok(img.px == NULL, "%s: no pixels", f[1]);
    csq_errclear();
    free(path);
}

/* The resampler alone: PIL's Image.resize(BILINEAR) result. */
static void resize_golden(char **f, int nf, void *ctx)
{
    char *path = img_path(f[2]), rel[256];
    int w = atoi(f[3]), h = atoi(f[4]), c = atoi(f[5]), rw, rh, d, maxd = 0;
    struct csq_image src, conv, out;
    unsigned char *gold;
    size_t glen, i;

    (void)nf;
    (void)ctx;
    snprintf(rel, sizeof rel, "images/%s", f[7]);
    gold = fx_read(rel, &glen);
    if (csq_decode_file(&src, path, 0, NULL) != 0 || csq_image_convert(&conv, &src, c) != 0) {
        ok(0, "%s: load %s", f[1], csq_errmsg());
        free(path);
        free(gold);
        return;
    }
    csq_resample_dims(conv.w, conv.h, w < h ? w : h, &rw, &rh);
    is_int(rw * 10000 + rh, w * 10000 + h, "%s: torchvision size %dx%d", f[1], w, h);
    if (is_int(csq_resample_image(&out, &conv, w, h), 0, "%s: resize", f[1])
        && glen == (size_t)w * h * c) {
        for (i = 0; i < glen; i++) {
            d = abs(out.px[i] - gold[i]);
            maxd = d > maxd ? d : maxd;
        }
        is_int(maxd, 0, "%s: %dx%d -> %dx%d equals PIL", f[1], conv.w, conv.h, w, h);
    }
    csq_image_release(&src);
    csq_image_release(&conv);
    csq_image_release(&out);
    free(gold);
    free(path);
}

static void parse3(const char *s, float v[3])
{
    char *end;
    int i;

    for (i = 0; i < 3; i++) {
        v[i] = strtof(s, &end);
        s = *end == ',' ? end + 1 : end;
    }
}

/* Whole pipeline against torchvision.  The tolerance is 2/255 on the [0,1]
 * scale (before Normalize), i.e. 2 levels of the uint8 image: the goldens
 * come from PIL's fixed-point resampler, which ours reproduces, but a JPEG
 * source may differ by 1 level after decoding. */
static void prep_golden(char **f, int nf, void *ctx)
{
    char *path = img_path(f[2]), rel[256];
    struct csq_image_prep p;
    float *out, *gold, worst = 0;
    size_t glen, i, plane;
    int ch;

    (void)nf;
    (void)ctx;
    csq_image_prep_init(&p, atoi(f[6]), atoi(f[4]), atoi(f[5]));
    p.resize = atoi(f[3]);
    parse3(f[7], p.mean);
    parse3(f[8], p.std);
    snprintf(rel, sizeof rel, "images/%s", f[9]);
    gold = (float *)fx_read(rel, &glen);
    plane = (size_t)p.crop_h * p.crop_w;
    out = malloc(csq_image_prep_size(&p) * sizeof *out);
    if (!ok(glen == csq_image_prep_size(&p) * sizeof(float), "%s: golden size", f[1]))
        goto done;
    if (!is_int(csq_image_load_prep(path, &p, out, NULL), 0, "%s: preprocess", f[1]))
        goto done;
    for (i = 0; i < csq_image_prep_size(&p); i++) {
        ch = (int)(i / plane);
        float e = fabsf(out[i] - gold[i]) * p.std[ch];
        worst = e > worst ? e : worst;
    }
    ok(worst <= 2.0f / 255 + 1e-6f, "%s: %s resize %s crop %sx%s, max error %.3g/255", f[1],
       f[2], f[3], f[4], f[5], worst * 255);
done:
    csq_errclear();
    free(out);
    free(gold);
    free(path);
}

static void hand_cases(void)
{
    unsigned char rgb[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255}, row4[4] = {0, 100, 200, 255};
    unsigned char row2[2] = {0, 200}, sq[4] = {10, 20, 30, 255};
    struct csq_image src = {3, 1, 3, rgb}, out;
    struct csq_image_prep p;
    float t[16];
    int w, h, i, x, y;

    /* PIL convert('L'): 0.299 R + 0.587 G + 0.114 B, rounded (76.2, 149.7, 29.1) */
    is_int(csq_image_convert(&out, &src, 1), 0, "convert to luma");
    ok(out.px[0] == 76 && out.px[1] == 150 && out.px[2] == 29, "luma %d %d %d", out.px[0],
       out.px[1], out.px[2]);
    csq_image_release(&out);

    /* shrink 4 -> 2: support 2, weights (.75 .75 .25)/1.75 and (.25 .75 .75)/1.75:
     * 125/1.75 = 71.4, 366.25/1.75 = 209.3 */
    src = (struct csq_image){4, 1, 1, row4};
    is_int(csq_resample_image(&out, &src, 2, 1), 0, "resize 4 -> 2");
    ok(out.px[0] == 71 && out.px[1] == 209, "antialiased shrink: %d %d", out.px[0], out.px[1]);
    csq_image_release(&out);
    /* grow 2 -> 4: centres 0.25 .75 1.25 1.75 -> 0, 50, 150, 200 */
    src = (struct csq_image){2, 1, 1, row2};
    is_int(csq_resample_image(&out, &src, 4, 1), 0, "resize 2 -> 4");
    ok(out.px[0] == 0 && out.px[1] == 50 && out.px[2] == 150 && out.px[3] == 200,
       "bilinear grow: %d %d %d %d", out.px[0], out.px[1], out.px[2], out.px[3]);
    csq_image_release(&out);

    csq_resample_dims(500, 375, 256, &w, &h);
    ok(w == 341 && h == 256, "Resize(256) of 500x375 is 341x256 (%dx%d)", w, h);
    csq_resample_dims(375, 500, 256, &w, &h);
    ok(w == 256 && h == 341, "portrait: 256x341 (%dx%d)", w, h);

    /* crop 4x4 of a 2x2 gray image pads one pixel each side with zeros,
     * replicated to 3 channels */
    src = (struct csq_image){2, 2, 1, sq};
    csq_image_prep_init(&p, 3, 4, 4);
    p.resize = 0;
    for (i = 0; i < 3; i++) {
        p.mean[i] = 0.0f;
        p.std[i] = 0.5f;
    }
    {
        float full[48];
        int good = 1;
        is_int(csq_image_preprocess(&src, &p, full, "sq", NULL), 0, "pad preprocess");
        for (i = 0; i < 3; i++)
            for (y = 0; y < 4; y++)
                for (x = 0; x < 4; x++) {
                    float want = 0.0f;
                    if (y >= 1 && y <= 2 && x >= 1 && x <= 2)
                        want = sq[(y - 1) * 2 + x - 1] / 255.0f / 0.5f;
                    good &= full[i * 16 + y * 4 + x] == want;
                }
        ok(good, "zero padding around a centered 2x2, 3 channels");
    }
    /* 1-channel crop 1x1 of 4x1 without resize: offset round(1.5) = 2 */
    src = (struct csq_image){4, 1, 1, row4};
    csq_image_prep_init(&p, 1, 1, 1);
    p.resize = 0;
    p.mean[0] = 0.0f;
    p.std[0] = 1.0f;
    is_int(csq_image_preprocess(&src, &p, t, "row", NULL), 0, "crop 1 of 4");
    ok(t[0] == 200 / 255.0f, "center crop offset round-half-even: %g", t[0] * 255);
    /* 4x1 crop to 1x? : width 3 of 4 -> offset round(0.5) = 0 */
    csq_image_prep_init(&p, 1, 1, 3);
    p.resize = 0;
    p.mean[0] = 0.0f;
    p.std[0] = 1.0f;
    csq_image_preprocess(&src, &p, t, "row", NULL);
    ok(t[0] == 0.0f && t[2] == 200 / 255.0f, "offset round(0.5) = 0");
}

/* torchvision CenterCrop's top/left offset, written independently of
 * image.c: int(round((size - crop) / 2.0)), or -((crop - size) // 2) when it
 * pads; rint() rounds half to even like Python's round(). */
static int tv_offset(int size, int crop)
{
    if (crop > size)
        return -((crop - size) / 2);
    return (int)rint((size - crop) / 2.0);
}

/* csq_image_preprocess resizes only the window the crop keeps; it must give
 * bit for bit what the full csq_resample_image (checked against PIL above)
 * gives once cropped and normalized. */
static void window_vs_full(void)
{
    static const char *names[] = {"prep-rgb.png", "prep-tall.png", "prep-gray28.png"};
    static const int sizes[] = {5, 9, 13, 20, 21, 33, 37};
    static const int crops[][2] = {{1, 1}, {7, 4}, {8, 8}, {12, 5}, {40, 3}, {50, 50}, {6, 31}};
    const float mean[3] = {0.25f, 0.5f, 0.125f}, sd[3] = {0.3f, 0.2f, 0.7f};
    size_t ni, si, ci;
    int cases = 0, bad = 0, chans, ch, x, y, rw, rh;

    for (ni = 0; ni < sizeof names / sizeof *names; ni++) {
        char *path = img_path(names[ni]);
        struct csq_image src, conv, full;
        if (!is_int(csq_decode_file(&src, path, 0, NULL), 0, "load %s", names[ni])) {
            free(path);
            continue;
        }
        for (chans = 1; chans <= 3; chans += 2) {
            const struct csq_image *base = &src;
            if (src.c == 3 && chans == 1) {
                csq_image_convert(&conv, &src, 1);
                base = &conv;
            }
            for (si = 0; si < sizeof sizes / sizeof *sizes; si++) {
                csq_resample_dims(base->w, base->h, sizes[si], &rw, &rh);
                if (csq_resample_image(&full, base, rw, rh) != 0) {
                    bad++;
                    continue;
                }
                for (ci = 0; ci < sizeof crops / sizeof *crops; ci++) {
                    struct csq_image_prep p;
                    int ch_ = crops[ci][0], cw = crops[ci][1];
                    int top = tv_offset(rh, ch_), left = tv_offset(rw, cw);
                    float *got = malloc(sizeof *got * chans * ch_ * cw);
                    csq_image_prep_init(&p, chans, ch_, cw);
                    p.resize = sizes[si];
                    memcpy(p.mean, mean, sizeof mean);
                    memcpy(p.std, sd, sizeof sd);
                    cases++;
                    if (csq_image_preprocess(&src, &p, got, names[ni], NULL) != 0) {
                        bad++;
                        free(got);
                        continue;
                    }
                    for (ch = 0; ch < chans; ch++)
                        for (y = 0; y < ch_; y++)
                            for (x = 0; x < cw; x++) {
                                int sy = y + top, sx = x + left;
                                float v = 0.0f, want;
                                if (sy >= 0 && sy < rh && sx >= 0 && sx < rw)
                                    v = full.px[((size_t)sy * rw + sx) * full.c
                                                + (full.c == 1 ? 0 : ch)] / 255.0f;
                                want = (v - mean[ch]) / sd[ch];
                                if (got[((size_t)ch * ch_ + y) * cw + x] != want)
                                    bad++;
                            }
                    free(got);
                }
                csq_image_release(&full);
            }
            if (base == &conv)
                csq_image_release(&conv);
        }
        csq_image_release(&src);
        free(path);
    }
    ok(cases == 3 * 2 * 7 * 7 && bad == 0,
       "windowed resize + crop equals full resize then crop (%d cases, %d mismatches)",
       cases, bad);
}

/* PIL resizes in two 8-bit passes, horizontal then vertical, so resizing
 * the width alone and then the height alone must give the two-pass result
 * (checked against PIL above): this covers the one-pass paths. */
static void one_pass_compose(void)
{
    static const char *names[] = {"prep-rgb.png", "prep-tall.png", "prep-gray28.png"};
    static const int dims[][2] = {{27, 20}, {13, 10}, {61, 45}, {16, 24}, {7, 50}};
    size_t ni, di;
    int bad = 0, cases = 0;

    for (ni = 0; ni < sizeof names / sizeof *names; ni++) {
        char *path = img_path(names[ni]);
        struct csq_image src, a, b, both;
        if (!is_int(csq_decode_file(&src, path, 0, NULL), 0, "load %s", names[ni])) {
            free(path);
            continue;
        }
        for (di = 0; di < sizeof dims / sizeof *dims; di++) {
            int w = dims[di][0], h = dims[di][1];
            cases++;
            if (csq_resample_image(&a, &src, w, src.h) != 0
                || csq_resample_image(&b, &a, w, h) != 0
                || csq_resample_image(&both, &src, w, h) != 0
                || memcmp(b.px, both.px, (size_t)w * h * src.c) != 0)
                bad++;
            csq_image_release(&a);
            csq_image_release(&b);
            csq_image_release(&both);
        }
        csq_image_release(&src);
        free(path);
    }
    ok(cases == 15 && bad == 0, "width-only then height-only resize equals both at once "
       "(%d cases, %d differ)", cases, bad);
}

int main(void)
{
    struct csq_image img;
    struct csq_image_msg m;
    char *path;

    ok(fx_manifest("decode", load_decode, NULL) >= 20, "decode fixtures");
    ok(fx_manifest("bad", load_bad, NULL) >= 8, "bad fixtures");
    ok(fx_manifest("resize", resize_golden, NULL) >= 6, "resize goldens");
    ok(fx_manifest("prep", prep_golden, NULL) >= 6, "preprocessing goldens");
    hand_cases();
    window_vs_full();
    one_pass_compose();

    /* extension versus content */
    path = img_path("png-named.jpg");
    csq_decode_file(&img, path, 0, NULL);
    ok(strstr(csq_errmsg(), "PNG content") != NULL, "mismatch says what the content is: %s",
       csq_errmsg());
    csq_errclear();
    free(path);
    path = img_path("no-such-file.png");
    is_int(csq_decode_file(&img, path, 0, NULL), CSQ_EIO, "missing file is an I/O error");
    ok(strstr(csq_errmsg(), "no-such-file.png") != NULL, "names it: %s", csq_errmsg());
    csq_errclear();
    free(path);
    /* per-call message slot leaves the shared one alone */
    path = img_path("trunc.jpg");
    memset(&m, 0, sizeof m);
    is_int(csq_decode_file(&img, path, 0, &m), CSQ_EFORMAT, "message to a caller slot");
    ok(strstr(m.text, "trunc.jpg") && strcmp(csq_errmsg(), "") == 0, "slot: %s", m.text);
    free(path);
    /* max pixels through load */
    path = img_path("rgb8.png");
    is_int(csq_decode_file(&img, path, 1000, NULL), CSQ_EUNSUPPORTED, "max_pixels 1000");
    csq_errclear();
    free(path);
    return tap_done();
}
