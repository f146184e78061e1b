/*
 * run-conformance: runs the ONNX backend test suite (Debian's
 * libonnx-testdata) through the csmpq loader and engine and compares
 * every output with the suite's expected one, with the suite's own
 * tolerance (numpy assert_allclose, rtol 1e-3, atol 1e-7).
 *
 * usage: run-conformance SKIPFILE DIR...
 * Each DIR holds test_* folders (model.onnx, test_data_set_N/input_K.pb,
 * output_K.pb).  A test is skipped when the loader refuses its model (an
 * operator outside the supported set, another domain, a data type or a
 * value type csmpq does not handle), when its data is not float32,
 * int64 or bool ((u)int8 and (u)int4 only in tests of QuantizeLinear /
 * DequantizeLinear alone), or when SKIPFILE lists it with a reason; anything else that does
 * not match is a failure.  Prints TAP, then
 * "N passed, M failed, K skipped" as the last line.
 */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/engine.h"
#include "nn/graph.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"

#define MAXIO 16

static int npass, nfail, nskip, ntest;

struct skip {
    char name[256];
    char reason[256];
};
static struct skip skips[64];
static int nskips;

static void load_skips(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[600];

    if (!fp)
        return;
    while (fgets(line, sizeof line, fp) && nskips < 64) {
        char *tab = strchr(line, '\t');
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        snprintf(skips[nskips].name, sizeof skips[0].name, "%s", line);
        snprintf(skips[nskips].reason, sizeof skips[0].reason, "%s", tab + 1);
        nskips++;
    }
    fclose(fp);
}

static const char *skip_reason(const char *name)
{
    int i;

    for (i = 0; i < nskips; i++)
        if (strcmp(skips[i].name, name) == 0)
            return skips[i].reason;
    return NULL;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void result(int status, const char *name, const char *why)
{
    ntest++;
    if (status == 0) {
        npass++;
        printf("ok %d - %s\n", ntest, name);
    } else if (status == 1) {
        nskip++;
        printf("ok %d - %s # SKIP %s\n", ntest, name, why);
    } else {
        nfail++;
        printf("not ok %d - %s\n# %s\n", ntest, name, why);
    }
    fflush(stdout);
}

/* float32, int64, bool, and int32 / double, which the loader holds as
 * int64 / float32 (the suite's tolerance covers the narrowing) */
static int dtype_ok(int file_dtype, int qdq_only)
{
    if (file_dtype == 2 || file_dtype == 3 || file_dtype == 21 || file_dtype == 22)
        return qdq_only;
    return file_dtype == 1 || file_dtype == 7 || file_dtype == 9 || file_dtype == 6 ||
           file_dtype == 11;
}

/* (u)int8 / (u)int4 data is what QuantizeLinear and DequantizeLinear
 * read and write; every other kernel computes in float32 or int64, so
 * tests of integer arithmetic on 8-bit types are out of scope. */
static int only_qdq(const struct csq_graph *g)
{
    int i;

    for (i = 0; i < g->nnodes; i++)
        if (strcmp(g->nodes[i].op_type, "QuantizeLinear") != 0 &&
            strcmp(g->nodes[i].op_type, "DequantizeLinear") != 0)
            return 0;
    return 1;
}

static int compare(const struct csq_tensor *got, const struct csq_tensor *want,
                   char *why, size_t len)
{
    int64_t n, i;
    int d;

    if (got->rank != want->rank) {
        snprintf(why, len, "rank %d, expected %d", got->rank, want->rank);
        return -1;
    }
    for (d = 0; d < got->rank; d++)
        if (got->dims[d] != want->dims[d]) {
            snprintf(why, len, "dim %d is %lld, expected %lld", d,
                     (long long)got->dims[d], (long long)want->dims[d]);
            return -1;
        }
    if (got->dtype != want->dtype) {
        snprintf(why, len, "data type %d, expected %d", got->dtype, want->dtype);
        return -1;
    }
    n = csq_tensor_numel(got);
    for (i = 0; i < n; i++) {
        double g, w;
        if (got->dtype == CSQ_DT_FLOAT) {
            g = ((const float *)got->data)[i];
            w = ((const float *)want->data)[i];
        } else if (got->dtype == CSQ_DT_INT64) {
            g = (double)((const int64_t *)got->data)[i];
            w = (double)((const int64_t *)want->data)[i];
        } else if (got->dtype == CSQ_DT_INT8 || got->dtype == CSQ_DT_INT4) {
            g = ((const signed char *)got->data)[i];
            w = ((const signed char *)want->data)[i];
        } else {
            g = ((const unsigned char *)got->data)[i];
            w = ((const unsigned char *)want->data)[i];
        }
        if (isnan(w) && isnan(g))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= 1e-7 + 1e-3 * fabs(w))) {
            snprintf(why, len, "element %lld is %.9g, expected %.9g", (long long)i, g, w);
            return -1;
        }
    }
    return 0;
}

/* 0 pass, 1 skip, 2 fail; why explains 1 and 2. */
static int run_test(const char *dir, char *why, size_t len)
{
    char path[4096], setdir[4096];
    struct csq_graph *g = NULL;
    struct csq_engine *e = NULL;
    struct csq_tensor in[MAXIO], want[MAXIO];
    int nin = 0, nwant = 0, i, k, set, rc, status = 0, fdt;
    char *names[MAXIO];

    memset(in, 0, sizeof in);
    memset(want, 0, sizeof want);
    memset(names, 0, sizeof names);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    rc = csq_onnx_load_flags(path, CSQ_ONNX_NO_BIND, &g);
    if (rc == CSQ_EUNSUPPORTED) {
        snprintf(why, len, "%s", csq_errmsg());
        csq_errclear();
        return 1;
    }
    if (rc != CSQ_OK) {
        snprintf(why, len, "load: %s", csq_errmsg());
        csq_errclear();
        return 2;
    }
    for (set = 0; status == 0; set++) {
        struct stat st;
        struct csq_tensor feed[MAXIO];

        snprintf(setdir, sizeof setdir, "%s/test_data_set_%d", dir, set);
        if (stat(setdir, &st) != 0)
            break;
        for (nin = 0; nin < MAXIO; nin++) {
            snprintf(path, sizeof path, "%s/input_%d.pb", setdir, nin);
            if (stat(path, &st) != 0)
                break;
            if ((rc = csq_onnx_read_tensor(path, &in[nin], &names[nin], &fdt)) != 0) {
                snprintf(why, len, "%s", csq_errmsg());
                csq_errclear();
                status = rc == CSQ_EUNSUPPORTED ? 1 : 2;
                nin++;
                goto done;
            }
            if (!dtype_ok(fdt, only_qdq(g))) {
                snprintf(why, len, "input %d has data type %d", nin, fdt);
                status = 1;
                nin++;
                goto done;
            }
        }
        for (nwant = 0; nwant < MAXIO; nwant++) {
            snprintf(path, sizeof path, "%s/output_%d.pb", setdir, nwant);
            if (stat(path, &st) != 0)
                break;
            if ((rc = csq_onnx_read_tensor(path, &want[nwant], NULL, &fdt)) != 0) {
                snprintf(why, len, "%s", csq_errmsg());
                csq_errclear();
                status = rc == CSQ_EUNSUPPORTED ? 1 : 2;
                nwant++;
                goto done;
            }
            if (!dtype_ok(fdt, only_qdq(g))) {
                snprintf(why, len, "output %d has data type %d", nwant, fdt);
                status = 1;
                nwant++;
                goto done;
            }
        }
        if (nin != g->ninputs) {
            snprintf(why, len, "%d input files for %d graph inputs", nin, g->ninputs);
            status = 2;
            goto done;
        }
        /* Inputs go by name when the files carry one, else by position. */
        for (i = 0; i < g->ninputs; i++) {
            feed[i] = in[i];
            for (k = 0; k < nin; k++)
                if (names[k] && strcmp(names[k], g->vals[g->inputs[i]].name) == 0)
                    feed[i] = in[k];
        }
        if (!e && (rc = csq_engine_new(g, &e)) != 0) {
            snprintf(why, len, "%s", csq_errmsg());
            csq_errclear();
            status = 2;
            goto done;
        }
        rc = csq_engine_forward(e, feed);
        if (rc != CSQ_OK) {
            /* The loader already refused what is outside the supported
             * set; a kernel refusing a feature of a supported operator is
             * a failure unless skip.txt lists the test with a reason. */
            snprintf(why, len, "forward: %s", csq_errmsg());
            status = 2;
            csq_errclear();
            goto done;
        }
        if (nwant != g->noutputs) {
            snprintf(why, len, "%d output files for %d graph outputs", nwant, g->noutputs);
            status = 2;
            goto done;
        }
        for (i = 0; i < nwant && status == 0; i++) {
            char w[256];
            if (compare(csq_engine_output(e, i), &want[i], w, sizeof w) != 0) {
                snprintf(why, len, "set %d output %d: %s", set, i, w);
                status = 2;
            }
        }
done:
        for (i = 0; i < nin; i++) {
            free(in[i].data);
            free(names[i]);
            in[i].data = NULL;
            names[i] = NULL;
        }
        for (i = 0; i < nwant; i++) {
            free(want[i].data);
            want[i].data = NULL;
        }
        nin = nwant = 0;
    }
    csq_engine_free(e);
    csq_graph_free(g);
    return status;
}

static void run_dir(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0, i;

    if (!d) {
        printf("# cannot open %s\n", root);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "test_", 5) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    for (i = 0; i < n; i++) {
        char dir[4096], why[1024], label[600];
        const char *reason;
        const char *base = strrchr(root, '/');
        int st;

        snprintf(label, sizeof label, "%s/%s", base ? base + 1 : root, names[i]);
        reason = skip_reason(label);
        if (reason) {
            result(1, label, reason);
        } else {
            snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
            why[0] = '\0';
            st = run_test(dir, why, sizeof why);
            result(st, label, why);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int i;

    if (argc < 3) {
        fprintf(stderr, "usage: run-conformance SKIPFILE DIR...\n");
        return 2;
    }
    load_skips(argv[1]);
    csq_ops_set_threads(0);
    for (i = 2; i < argc; i++)
        run_dir(argv[i]);
    printf("1..%d\n", ntest);
    printf("%d passed, %d failed, %d skipped\n", npass, nfail, nskip);
    return nfail ? 1 : 0;
}
