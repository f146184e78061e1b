/* dataset: byte-order classes and files, ignored files, flat folders,
 * labels files, list files, per-class sampling, and the error cases, on the
 * small trees in tests/fixtures/. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "fixture.h"
#include "tap.h"
#include "util/err.h"

/* The path's last two components, "class/file". */
static const char *tail2(const char *p)
{
    const char *s = p + strlen(p);
    int n = 0;

    while (s > p) {
        if (s[-1] == '/' && ++n == 2)
            break;
        s--;
    }
    return s;
}

/* "label:class/file ..." of the whole dataset */
static const char *show(const struct csq_dataset *ds)
{
    static char buf[4096];
    size_t i, n = 0;

    buf[0] = '\0';
    for (i = 0; i < ds->n && n < sizeof buf - 200; i++)
        n += snprintf(buf + n, sizeof buf - n, "%s%d:%s", i ? " " : "", ds->labels[i],
                      tail2(ds->paths[i]));
    return buf;
}

static void expect(const struct csq_dataset *ds, const char *want, const char *what)
{
    const char *got = show(ds);

    if (!ok(strcmp(got, want) == 0, "%s", what)) {
        diag("got  %s", got);
        diag("want %s", want);
    }
}

int main(void)
{
    struct csq_dataset ds;
    struct csq_dataset_opts o;
    char tree[4096], labels[4096], list[4096];
    int rc;

    snprintf(tree, sizeof tree, "%s", fx_path("tree"));
    snprintf(labels, sizeof labels, "%s", fx_path("tree.labels"));
    snprintf(list, sizeof list, "%s", fx_path("tree.list"));

    ok(csq_dataset_is_image_name("a.PNG") && csq_dataset_is_image_name("b.JpEg")
       && csq_dataset_is_image_name("c.jpg") && !csq_dataset_is_image_name("d.gif")
       && !csq_dataset_is_image_name("png"), "image extensions, any case");

    /* folder order: strcmp, upper case before lower case */
    csq_dataset_opts_init(&o);
    o.need_labels = 1;
    rc = csq_dataset_scan(&ds, tree, &o);
    is_int(rc, 0, "scan tree");
    is_int(ds.nclass, 3, "3 classes");
    ok(ds.nclass == 3 && strcmp(ds.classes[0], "Ant") == 0 && strcmp(ds.classes[1], "cat") == 0
       && strcmp(ds.classes[2], "dog") == 0, "classes in byte order");
    expect(&ds, "0:Ant/B.png 0:Ant/a.png 0:Ant/a10.PNG 0:Ant/a2.jpeg 1:cat/c1.png 1:cat/c2.JPG "
           "1:cat/c3.png 2:dog/d.png 2:dog/e.png", "files in byte order, .txt and README skipped");
    ok(strncmp(ds.paths[0], tree, strlen(tree)) == 0, "paths start with the folder");
    csq_dataset_release(&ds);
    ok(ds.n == 0 && ds.paths == NULL, "release empties");

    /* per-class, first N */
    o.per_class = 2;
    is_int(csq_dataset_scan(&ds, tree, &o), 0, "per-class 2");
    expect(&ds, "0:Ant/B.png 0:Ant/a.png 1:cat/c1.png 1:cat/c2.JPG 2:dog/d.png 2:dog/e.png",
           "first two of each class");
    csq_dataset_release(&ds);

    /* per-class with seed: a splitmix64-driven Fisher-Yates shuffle per
     * class (one state across classes), first N kept, back in byte order.
     * The expected set for seed 7 was computed by an independent Python
     * transcription of splitmix64 (the reference constants). */
    {
        char a[4096], b[4096];
        int differs = 0;
        unsigned long s;
        o.per_class = 2;
        o.seeded = 1;
        o.seed = 7;
        csq_dataset_scan(&ds, tree, &o);
        snprintf(a, sizeof a, "%s", show(&ds));
        expect(&ds, "0:Ant/a.png 0:Ant/a10.PNG 1:cat/c2.JPG 1:cat/c3.png 2:dog/d.png "
               "2:dog/e.png", "seed 7 selection");
        csq_dataset_release(&ds);
        csq_dataset_scan(&ds, tree, &o);
        ok(strcmp(a, show(&ds)) == 0, "same seed, same selection: %s", a);
        csq_dataset_release(&ds);
        for (s = 1; s < 20; s++) {
            o.seed = s;
            csq_dataset_scan(&ds, tree, &o);
            snprintf(b, sizeof b, "%s", show(&ds));
            differs |= strcmp(a, b) != 0;
            csq_dataset_release(&ds);
        }
        ok(differs, "other seeds choose other images");
        o.seeded = 0;
        o.per_class = 0;
    }

    /* labels file: dog, Ant, cat, wolf */
    o.labels_file = labels;
    is_int(csq_dataset_scan(&ds, tree, &o), 0, "scan with labels");
    is_int(ds.nclass, 4, "labels file gives 4 names (wolf has no folder)");
    expect(&ds, "1:Ant/B.png 1:Ant/a.png 1:Ant/a10.PNG 1:Ant/a2.jpeg 2:cat/c1.png 2:cat/c2.JPG "
           "2:cat/c3.png 0:dog/d.png 0:dog/e.png", "labels from the file's order");
    ok(strcmp(ds.classes[0], "dog") == 0 && strcmp(ds.classes[3], "wolf") == 0, "names");
    csq_dataset_release(&ds);
    o.labels_file = NULL;

    /* a folder class missing from the labels file */
    {
        char tmp[] = "/tmp/t-dataset-XXXXXX";
        int fd = mkstemp(tmp);
        FILE *fp = fdopen(fd, "w");
        fputs("dog\ncat\n", fp);
        fclose(fp);
        o.labels_file = tmp;
        is_int(csq_dataset_scan(&ds, tree, &o), CSQ_EINVAL, "class not in labels file");
        ok(strstr(csq_errmsg(), "'Ant'") && strstr(csq_errmsg(), tmp), "message: %s",
           csq_errmsg());
        csq_errclear();
        fp = fopen(tmp, "w");
        fputs("dog\ncat\ndog\n", fp);
        fclose(fp);
        is_int(csq_dataset_scan(&ds, tree, &o), CSQ_EFORMAT, "duplicate label name");
        diag("%s", csq_errmsg());
        csq_errclear();
        fp = fopen(tmp, "w");
        fputs("Ant\n\ncat\ndog\n", fp);
        fclose(fp);
        is_int(csq_dataset_scan(&ds, tree, &o), CSQ_EFORMAT, "blank line inside labels");
        csq_errclear();
        remove(tmp);
        o.labels_file = NULL;
    }

    /* a NUL byte ends a line for the parsers, so it must not silently
     * drop the rest: line 2 holds it in both files */
    {
        char tmp[] = "/tmp/t-dataset-XXXXXX";
        int fd = mkstemp(tmp);
        FILE *fp = fdopen(fd, "wb");
        fwrite("Ant\ncat\0\ndog\n", 1, 13, fp);
        fclose(fp);
        o.labels_file = tmp;
        is_int(csq_dataset_scan(&ds, tree, &o), CSQ_EFORMAT, "NUL byte in a labels file");
        ok(strstr(csq_errmsg(), tmp) && strstr(csq_errmsg(), "line 2: NUL byte"), "message: %s",
           csq_errmsg());
        csq_errclear();
        o.labels_file = NULL;
        fp = fopen(tmp, "wb");
        fwrite("a.png\tcat\nb.png\tdog\0\nc.png\tAnt\n", 1, 31, fp);
        fclose(fp);
        is_int(csq_dataset_read_list(&ds, tmp, &o), CSQ_EFORMAT, "NUL byte in a list");
        ok(strstr(csq_errmsg(), tmp) && strstr(csq_errmsg(), "line 2: NUL byte"), "message: %s",
           csq_errmsg());
        csq_errclear();
        remove(tmp);
    }

    /* class folder without images */
    is_int(csq_dataset_scan(&ds, fx_path("tree-empty"), &o), CSQ_EINVAL, "empty class folder");
    ok(strstr(csq_errmsg(), "tree-empty/b'") != NULL, "names the folder: %s", csq_errmsg());
    csq_errclear();

    /* flat folder: an error when labels are needed, label -1 otherwise */
    is_int(csq_dataset_scan(&ds, fx_path("flat"), &o), CSQ_EINVAL, "flat folder needs classes");
    ok(strstr(csq_errmsg(), "flat") != NULL, "message: %s", csq_errmsg());
    csq_errclear();
    o.need_labels = 0;
    is_int(csq_dataset_scan(&ds, fx_path("flat"), &o), 0, "flat folder without labels");
    expect(&ds, "-1:flat/A.png -1:flat/m.png -1:flat/z.png", "flat: byte order, label -1");
    is_int(ds.nclass, 0, "no classes");
    csq_dataset_release(&ds);
    o.per_class = 2;
    csq_dataset_scan(&ds, fx_path("flat"), &o);
    expect(&ds, "-1:flat/A.png -1:flat/m.png", "per-class on a flat folder: first N");
    csq_dataset_release(&ds);
    o.per_class = 0;
    o.need_labels = 1;

    /* one class only */
    {
        char one[4096];
        snprintf(one, sizeof one, "%s", fx_path("tree-empty"));
        /* tree-empty fails earlier (empty b); build a one-class view with a list */
        char tmp[] = "/tmp/t-dataset-XXXXXX";
        int fd = mkstemp(tmp);
        FILE *fp = fdopen(fd, "w");
        fprintf(fp, "%s/a/x.png\ta\n", one);
        fclose(fp);
        is_int(csq_dataset_read_list(&ds, tmp, &o), CSQ_EINVAL, "one class is not enough");
        ok(strstr(csq_errmsg(), "1 class") != NULL, "message: %s", csq_errmsg());
        csq_errclear();
        fp = fopen(tmp, "w");
        fprintf(fp, "x.png\n");
        fclose(fp);
        is_int(csq_dataset_read_list(&ds, tmp, &o), CSQ_EFORMAT, "list line without class");
        ok(strstr(csq_errmsg(), "line 1") != NULL, "message: %s", csq_errmsg());
        csq_errclear();
        o.need_labels = 0;
        is_int(csq_dataset_read_list(&ds, tmp, &o), 0, "class-less list when not needed");
        ok(ds.n == 1 && ds.labels[0] == -1 && strncmp(ds.paths[0], "/tmp/", 5) == 0,
           "relative to the list's folder: %s", ds.n ? ds.paths[0] : "");
        csq_dataset_release(&ds);
        o.need_labels = 1;
        remove(tmp);
    }

    /* list file: list order kept, classes sorted, paths relative to the list */
    is_int(csq_dataset_read_list(&ds, list, &o), 0, "read list");
    expect(&ds, "2:dog/e.png 0:Ant/a.png 1:cat/c1.png 2:dog/d.png", "list order, byte-order labels");
    ok(ds.n > 0 && strncmp(ds.paths[0], fx_path(""), strlen(fx_path(""))) == 0,
       "relative paths resolved against the list's folder: %s", ds.n ? ds.paths[0] : "");
    csq_dataset_release(&ds);
    o.labels_file = labels;
    is_int(csq_dataset_read_list(&ds, list, &o), 0, "list with labels");
    expect(&ds, "0:dog/e.png 1:Ant/a.png 2:cat/c1.png 0:dog/d.png", "list through labels file");
    csq_dataset_release(&ds);
    o.labels_file = NULL;
    o.per_class = 1;
    csq_dataset_read_list(&ds, list, &o);
    expect(&ds, "2:dog/e.png 0:Ant/a.png 1:cat/c1.png", "per-class 1 on a list");
    csq_dataset_release(&ds);
    o.per_class = 0;

    is_int(csq_dataset_scan(&ds, fx_path("no-such-dir"), &o), CSQ_EIO, "missing folder");
    ok(strstr(csq_errmsg(), "no-such-dir") != NULL, "names it: %s", csq_errmsg());
    csq_errclear();
    is_int(csq_dataset_read_list(&ds, fx_path("no-such.list"), &o), CSQ_EIO, "missing list");
    csq_errclear();
    return tap_done();
}
