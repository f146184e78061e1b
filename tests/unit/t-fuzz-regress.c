/*
 * fuzz-regress: every input a fuzz harness (tests/fuzz/, scripts/fuzz)
 * once crashed on, kept in tests/fixtures/fuzz-regress/<harness>/, fed
 * through the same entry points the harness calls, and the harnesses'
 * seeds in tests/fuzz/seeds/.  Each must either load or fail with one
 * non-empty message line; under --enable-sanitizers a relapse is a
 * sanitizer abort, and the checks of tests/fuzz/fuzz-text.h abort too.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/image.h"
#include "data/jpeg.h"
#include "data/png.h"
#include "mpq/bitcfg.h"
#include "mpq/scores.h"
#include "mpq/units.h"
#include "nn/graph.h"
#include "onnx/onnx.h"
#include "tap.h"
#include "util/err.h"
#include "util/file.h"

#include "../fuzz/fuzz-text.h"

/* Where the bodies of fuzz-text.h find their fixed lists and write. */
static const char *labels_lists[2];
static char npy_out[64];

/* The same limit as tests/fuzz/fuzz-image.h. */
#define FUZZ_MAX_PIXELS ((size_t)1 << 18)

static int run_image(int rc, struct csq_image *img, struct csq_image_msg *m)
{
    struct csq_image_prep p;
    float *out;

    if (rc == 0) {
        csq_image_prep_init(&p, img->c == 1 ? 3 : 1, 8, 6);
        p.resize = 7;
        out = malloc(csq_image_prep_size(&p) * sizeof *out);
        if (out)
            rc = csq_image_preprocess(img, &p, out, "fuzz", m);
        free(out);
    }
    csq_image_release(img);
    if (rc != 0 && m->text[0] && !csq_errmsg()[0])
        csq_fail(rc, "%s", m->text);
    return rc;
}

static int run_units(const unsigned char *data, size_t size)
{
    char *s, buf[64], **names = NULL, *name = NULL;
    int bits[CSQ_UNITS_MAXBITS], n = 0, b, rc;
    double v;

    if (size < 1)
        return 0;
    s = malloc(size);
    if (!s)
        return CSQ_ENOMEM;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 7) {
    case 0:
        if ((rc = csq_units_parse_size("--size", s, &v)) == 0) {
            csq_units_fmt_bytes(v, buf, sizeof buf);
            csq_units_fmt_double(v, buf);
        }
        break;
    case 1:
        if ((rc = csq_units_parse_bops("--bops", s, &v)) == 0)
            csq_units_fmt_count(v, buf, sizeof buf);
        break;
    case 2:
        if ((rc = csq_units_parse_real("--avg-bits", s, &v)) == 0)
            csq_units_fmt_double(v, buf);
        break;
    case 3:
        rc = csq_units_parse_wbits("--wbits", s, bits, &n);
        break;
    case 4:
        rc = csq_units_parse_bits("--abits", s, &b);
        break;
    case 5:
        if ((rc = csq_units_parse_pin("--pin", s, &name, &b)) == 0)
            free(name);
        break;
    default:
        if ((rc = csq_units_parse_tie("--tie", s, &names, &n)) == 0)
            csq_units_free_names(names, n);
        break;
    }
    free(s);
    return rc;
}

static int run_one(const char *harness, const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (strcmp(harness, "fuzz-scores") == 0) {
        struct csq_scores *t;
        if ((rc = csq_scores_read(path, &t)) == 0)
            csq_scores_free(t);
        return rc;
    }
    if (strcmp(harness, "fuzz-bitcfg") == 0) {
        struct csq_bitcfg *c;
        int64_t bits, bops;
        double mean;
        if ((rc = csq_bitcfg_read(path, &c)) == 0) {
            csq_bitcfg_totals(c, &bits, &bops, &mean);
            csq_bitcfg_free(c);
        }
        return rc;
    }
    if (strcmp(harness, "fuzz-list") == 0)
        return fuzz_list_run(path);
    if (strcmp(harness, "fuzz-labels") == 0)
        return fuzz_labels_run(path, labels_lists);
    if (strcmp(harness, "fuzz-npy") == 0)
        return fuzz_npy_run(path, npy_out);
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    if (strcmp(harness, "fuzz-onnx") == 0) {
        struct csq_graph *g;
        if ((rc = csq_onnx_load_mem(buf, len, path, 0, &g)) == 0)
            csq_graph_free(g);
    } else if (strcmp(harness, "fuzz-png") == 0 || strcmp(harness, "fuzz-jpeg") == 0) {
        struct csq_image img = {0};
        struct csq_image_msg m = {0};
        rc = harness[6] == 'p'
            ? csq_png_decode(&img, buf, len, path, FUZZ_MAX_PIXELS, &m)
            : csq_jpeg_decode(&img, buf, len, path, FUZZ_MAX_PIXELS, &m);
        rc = run_image(rc, &img, &m);
    } else {
        rc = run_units(buf, len);
    }
    free(buf);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of dir (absent: none) through harness's entry points. */
static void run_dir(const char *dir, const char *harness, const char *what)
{
    char path[8192];
    char **names = NULL;
    size_t n = 0, i;
    struct dirent *e;
    DIR *d;

    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)) != NULL) {
        char **nn;
        if (e->d_name[0] == '.')
            continue;
        if (!(nn = realloc(names, (n + 1) * sizeof *names)) || !(nn[n] = strdup(e->d_name))) {
            fprintf(stderr, "out of memory\n");
            exit(99);
        }
        names = nn;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (i = 0; i < n; i++) {
        const char *msg;
        int rc;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        csq_errclear();
        rc = run_one(harness, path);
        msg = csq_errmsg();
        ok(rc == 0 || (msg[0] && !strchr(msg, '\n')), "%s %s/%s: %s", what, harness, names[i],
           rc == 0 ? "accepted" : msg);
        free(names[i]);
    }
    free(names);
}

/* A temporary file holding text; its malloc'd path. */
static char *temp_text(const char *text)
{
    char *path = strdup("/tmp/t-fuzz-regress-XXXXXX");
    int fd = path ? mkstemp(path) : -1;
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
        fprintf(stderr, "cannot write a temporary file\n");
        exit(99);
    }
    return path;
}

int main(void)
{
    static const char *const harnesses[] = {
        "fuzz-onnx", "fuzz-png", "fuzz-jpeg", "fuzz-scores", "fuzz-bitcfg", "fuzz-units",
        "fuzz-list", "fuzz-labels", "fuzz-npy"
    };
    const char *top = getenv("top_srcdir");
    char *lists[2], dir[] = "/tmp/t-fuzz-regress-XXXXXX", in[4096];
    size_t i;

    if (!top)
        top = ".";
    for (i = 0; i < 2; i++)
        labels_lists[i] = lists[i] = temp_text(fuzz_labels_lists[i]);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot make a temporary folder\n");
        return 99;
    }
    snprintf(npy_out, sizeof npy_out, "%s/out.npy", dir);
    for (i = 0; i < sizeof harnesses / sizeof *harnesses; i++) {
        snprintf(in, sizeof in, "%s/tests/fixtures/fuzz-regress/%s", top, harnesses[i]);
        run_dir(in, harnesses[i], "kept");
        /* the seeds too, so the harness bodies' own checks run here */
        snprintf(in, sizeof in, "%s/tests/fuzz/seeds/%s", top, harnesses[i] + 5);
        run_dir(in, harnesses[i], "seed");
    }
    for (i = 0; i < 2; i++) {
        remove(lists[i]);
        free(lists[i]);
    }
    remove(npy_out);
    rmdir(dir);
    return tap_done();
}
