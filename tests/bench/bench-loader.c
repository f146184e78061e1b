/*
 * bench-loader: decode + preprocess throughput of the data loader alone
 * (no model), for scripts/bench-data.  A developer tool, not a test.
 *
 *     bench-loader [--resize N] [--crop HxW] [--channels 1|3] [--mean A[,B,C]]
 *                  [--std A[,B,C]] [--threads N] [--batch N] [--repeat N]
 *                  DIR | --list FILE
 *
 * Prints `images=N seconds=S images_per_s=X`, N counting every pass of
 * --repeat.  Scanning the dataset is outside the timed part; opening the
 * loader (starting its threads) is inside, as for a real run.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/dataset.h"
#include "data/image.h"
#include "data/loader.h"
#include "util/err.h"

static void usage(void)
{
    fprintf(stderr, "usage: bench-loader [--resize N] [--crop HxW] [--channels 1|3]\n"
                    "       [--mean A[,B,C]] [--std A[,B,C]] [--threads N] [--batch N]\n"
                    "       [--repeat N] DIR | --list FILE\n");
    exit(2);
}

static int int_arg(const char *opt, const char *s, int min)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > 1000000) {
        fprintf(stderr, "bench-loader: %s: bad value '%s'\n", opt, s);
        exit(2);
    }
    return (int)v;
}

/* One value (used for every channel) or one per channel. */
static void floats_arg(const char *opt, const char *s, float *v)
{
    int n = 0;
    char *end;

    for (;;) {
        double d = strtod(s, &end);
        if (end == s || n == 3) {
            fprintf(stderr, "bench-loader: %s: bad value list\n", opt);
            exit(2);
        }
        v[n++] = (float)d;
        if (*end == '\0')
            break;
        if (*end != ',') {
            fprintf(stderr, "bench-loader: %s: bad value list\n", opt);
            exit(2);
        }
        s = end + 1;
    }
    for (; n < 3; n++)
        v[n] = v[n - 1];
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct csq_dataset ds;
    struct csq_dataset_opts dso;
    struct csq_image_prep p;
    struct csq_loader_opts lo;
    struct csq_loader *ld;
    struct csq_batch b;
    const char *dir = NULL, *list = NULL;
    int resize = -1, crop_h = 224, crop_w = 224, channels = 3, repeat = 1, r, i, rc;
    int have_mean = 0, have_std = 0;
    float mean[3], std[3];
    size_t images = 0;
    double t0, dt;
    volatile float sink = 0.0f;

    csq_loader_opts_init(&lo);
    lo.threads = 2;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (dir || list)
                usage();
            dir = a;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--list") == 0) {
            if (dir || list)
                usage();
            list = v;
        } else if (strcmp(a, "--resize") == 0) {
            resize = int_arg(a, v, 0);
        } else if (strcmp(a, "--crop") == 0) {
            if (sscanf(v, "%dx%d", &crop_h, &crop_w) != 2 || crop_h < 1 || crop_w < 1) {
                if (sscanf(v, "%d", &crop_h) != 1 || crop_h < 1)
                    usage();
                crop_w = crop_h;
            }
        } else if (strcmp(a, "--channels") == 0) {
            channels = int_arg(a, v, 1);
            if (channels != 1 && channels != 3)
                usage();
        } else if (strcmp(a, "--mean") == 0) {
            floats_arg(a, v, mean);
            have_mean = 1;
        } else if (strcmp(a, "--std") == 0) {
            floats_arg(a, v, std);
            have_std = 1;
        } else if (strcmp(a, "--threads") == 0) {
            lo.threads = int_arg(a, v, 0);
        } else if (strcmp(a, "--batch") == 0) {
            lo.batch = int_arg(a, v, 1);
        } else if (strcmp(a, "--repeat") == 0) {
            repeat = int_arg(a, v, 1);
        } else {
            usage();
        }
    }
    if (!dir && !list)
        usage();

    csq_image_prep_init(&p, channels, crop_h, crop_w);
    if (resize >= 0)
        p.resize = resize;
    for (i = 0; i < 3; i++) {
        if (have_mean)
            p.mean[i] = mean[i];
        if (have_std)
            p.std[i] = std[i];
    }
    csq_dataset_opts_init(&dso);
    rc = list ? csq_dataset_read_list(&ds, list, &dso) : csq_dataset_scan(&ds, dir, &dso);
    if (rc != 0) {
        fprintf(stderr, "bench-loader: %s\n", csq_errmsg());
        return 1;
    }

    t0 = now();
    for (r = 0; r < repeat; r++) {
        if ((rc = csq_loader_open(&ld, &ds, &p, &lo)) != 0)
            break;
        while ((rc = csq_loader_next(ld, &b)) == 0 && b.n > 0) {
            images += b.n;
            sink += b.data[0];   /* touch the batch as a consumer would */
        }
        csq_loader_close(ld);
        if (rc != 0)
            break;
    }
    dt = now() - t0;
    csq_dataset_release(&ds);
    if (rc != 0) {
        fprintf(stderr, "bench-loader: %s\n", csq_errmsg());
        return 1;
    }
    printf("images=%zu seconds=%.4f images_per_s=%.1f\n", images, dt, images / dt);
    return 0;
}
