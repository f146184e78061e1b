/*
 * fuzz-text: the bodies of fuzz-list, fuzz-labels and fuzz-npy, shared
 * with tests/unit/t-fuzz-regress so a kept reproducer replays exactly what
 * the harness ran.  Each body takes the input as a path, tries it in a few
 * ways, and returns the first failure's status with its message left
 * recorded.  Beyond the sanitizers, a body aborts when a failure leaves no
 * message or more than one line, or when what was accepted breaks the
 * promises of dataset.h or npy.h: the fuzzer then reports the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "nn/tensor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/npy.h"

/* The lists a labels file is tried with: one naming classes (its labels
 * must be found there), one without (the names are only carried). */
static const char *const fuzz_labels_lists[] = { "a.png\tcat\nb.png\tdog\n", "a.png\n" };

static void fuzz_broken(const char *what)
{
    fprintf(stderr, "fuzz: %s (message: '%s')\n", what, csq_errmsg());
    abort();
}

/* One try's status: checks the message of a failure, keeps the first
 * failure's status and message in *first / msg, clears for the next try. */
static void fuzz_try(int rc, int *first, char *msg, size_t size)
{
    const char *m = csq_errmsg();

    if (rc != 0 && (!m[0] || strchr(m, '\n')))
        fuzz_broken("a failure without a one-line message");
    if (rc != 0 && *first == 0) {
        *first = rc;
        snprintf(msg, size, "%s", m);
    }
    csq_errclear();
}

static int fuzz_done(int first, const char *msg)
{
    return first ? csq_fail(first, "%s", msg) : 0;
}

/* What dataset.h promises of a dataset read with o. */
static void fuzz_dataset_check(const struct csq_dataset *ds, const struct csq_dataset_opts *o)
{
    size_t i, j, *count;
    int used = 0;

    if (ds->n == 0 || ds->nclass < 0)
        fuzz_broken("an accepted dataset without images");
    for (i = 0; i < (size_t)ds->nclass; i++) {
        if (!ds->classes[i] || !ds->classes[i][0])
            fuzz_broken("an empty class name");
        for (j = 0; j < i; j++)
            if (strcmp(ds->classes[j], ds->classes[i]) == 0
                || (!o->labels_file && strcmp(ds->classes[j], ds->classes[i]) > 0))
                fuzz_broken("class names repeated or out of byte order");
    }
    if (!(count = calloc((size_t)ds->nclass + 1, sizeof *count)))
        abort();
    for (i = 0; i < ds->n; i++) {
        if (!ds->paths[i] || !ds->paths[i][0])
            fuzz_broken("an empty image path");
        if (ds->labels[i] < -1 || ds->labels[i] >= ds->nclass)
            fuzz_broken("a label outside the classes");
        if (o->need_labels && ds->labels[i] < 0)
            fuzz_broken("an unlabeled image where labels are needed");
        if (count[ds->labels[i] + 1]++ == 0 && ds->labels[i] >= 0)
            used++;
        if (o->per_class > 0 && count[ds->labels[i] + 1] > (size_t)o->per_class)
            fuzz_broken("more images of a class than per_class");
    }
    free(count);
    if (o->need_labels && used < 2)
        fuzz_broken("fewer than two classes where labels are needed");
}

/* A text file with a NUL byte must be refused: the line parsers stop at
 * the first NUL, so accepting it would silently drop what follows. */
static void fuzz_text_check(const char *path)
{
    unsigned char *buf;
    size_t len;

    if (csq_file_read(path, &buf, &len) != 0)
        abort();
    if (memchr(buf, '\0', len))
        fuzz_broken("a text file with a NUL byte accepted");
    free(buf);
}

/* A list file read as an unlabeled set, then with labels needed and a
 * seeded draw of one image per class. */
static __attribute__((unused)) int fuzz_list_run(const char *list)
{
    struct csq_dataset ds;
    struct csq_dataset_opts o;
    char msg[1024];
    int first = 0, k, rc;

    for (k = 0; k < 2; k++) {
        csq_dataset_opts_init(&o);
        o.need_labels = k;
        o.per_class = k;
        o.seeded = k;
        o.seed = 11;
        if ((rc = csq_dataset_read_list(&ds, list, &o)) == 0) {
            fuzz_dataset_check(&ds, &o);
            fuzz_text_check(list);
        }
        csq_dataset_release(&ds);
        fuzz_try(rc, &first, msg, sizeof msg);
    }
    return fuzz_done(first, msg);
}

/* A labels file applied to lists[0] (classes cat, dog) and lists[1] (no
 * classes), paths of files holding fuzz_labels_lists[]. */
static __attribute__((unused)) int fuzz_labels_run(const char *labels, const char *const lists[2])
{
    struct csq_dataset ds;
    struct csq_dataset_opts o;
    char msg[1024];
    int first = 0, k, rc, i;

    for (k = 0; k < 2; k++) {
        csq_dataset_opts_init(&o);
        o.labels_file = labels;
        o.need_labels = k == 0;
        if ((rc = csq_dataset_read_list(&ds, lists[k], &o)) == 0) {
            fuzz_dataset_check(&ds, &o);
            fuzz_text_check(labels);
            if (k == 0 && (strcmp(ds.classes[ds.labels[0]], "cat") != 0
                           || strcmp(ds.classes[ds.labels[1]], "dog") != 0))
                fuzz_broken("an image labeled with another class's name");
            if (ds.nclass == 0)
                fuzz_broken("an accepted labels file without names");
            for (i = 0; i < ds.nclass; i++)
                if (strchr(ds.classes[i], '\n')
                    || strchr(" \t\r", ds.classes[i][strlen(ds.classes[i]) - 1]))
                    fuzz_broken("a class name with its line end or trailing blanks");
        }
        csq_dataset_release(&ds);
        fuzz_try(rc, &first, msg, sizeof msg);
    }
    return fuzz_done(first, msg);
}

/* A .npy file read; what is accepted is written to out and must read back
 * the same (dtype, shape, bytes). */
static __attribute__((unused)) int fuzz_npy_run(const char *path, const char *out)
{
    struct csq_tensor t, u;
    int64_t numel;
    size_t esize;
    char msg[1024];
    int first = 0, rc, i;

    if ((rc = csq_npy_read(path, &t)) == 0) {
        numel = csq_tensor_numel(&t);
        esize = csq_dtype_size(t.dtype);
        if ((t.dtype != CSQ_DT_FLOAT && t.dtype != CSQ_DT_INT64) || t.rank < 0
            || t.rank > CSQ_MAX_RANK || numel < 0 || !t.data)
            fuzz_broken("an accepted array with a bad dtype, rank or size");
        if ((rc = csq_npy_write(out, &t)) == 0) {
            if ((rc = csq_npy_read(out, &u)) != 0)
                fuzz_broken("an array written that does not read back");
            if (u.dtype != t.dtype || u.rank != t.rank
                || memcmp(u.data, t.data, (size_t)numel * esize) != 0)
                fuzz_broken("an array that reads back different");
            for (i = 0; i < t.rank; i++)
                if (u.dims[i] != t.dims[i])
                    fuzz_broken("an array that reads back with another shape");
            free(u.data);
        }
        free(t.data);
    }
    fuzz_try(rc, &first, msg, sizeof msg);
    return fuzz_done(first, msg);
}
