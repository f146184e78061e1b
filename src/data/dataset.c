/*
 * dataset: folder scan, list files, labels, per-class sampling (see dataset.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"

void csq_dataset_opts_init(struct csq_dataset_opts *o)
{
    memset(o, 0, sizeof *o);
}

void csq_dataset_release(struct csq_dataset *ds)
{
    size_t i;

    for (i = 0; i < ds->n; i++)
        free(ds->paths[i]);
    for (i = 0; i < (size_t)ds->nclass; i++)
        free(ds->classes[i]);
    free(ds->paths);
    free(ds->labels);
    free(ds->classes);
    memset(ds, 0, sizeof *ds);
}

int csq_dataset_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0
                   || strcasecmp(dot, ".jpeg") == 0);
}

/* ---- growable string list */

struct strs {
    char **v;
    size_t n, cap;
};

static int strs_push(struct strs *s, char *str)
{
    char **nv;

    if (!str)
        return CSQ_ENOMEM;
    if (s->n == s->cap) {
        nv = csq_mem_rearray(s->v, s->cap ? s->cap * 2 : 16, sizeof *nv);
        if (!nv) {
            free(str);
            return CSQ_ENOMEM;
        }
        s->v = nv;
        s->cap = s->cap ? s->cap * 2 : 16;
    }
    s->v[s->n++] = str;
    return CSQ_OK;
}

static void strs_free(struct strs *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    char *s = csq_mem_array(n + strlen(name) + 2, 1);

    if (!s)
        return NULL;
    if (n == 0)
        strcpy(s, name);
    else
        sprintf(s, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
    return s;
}

/* Sorted entries of dir: subfolders into dirs (when not NULL), image files
 * into imgs.  Dot names are skipped. */
static int list_dir(const char *dir, struct strs *dirs, struct strs *imgs)
{
    DIR *d;
    struct dirent *e;
    struct stat st;
    char *p;
    int rc = CSQ_OK;

    if (!(d = opendir(dir)))
        return csq_fail(CSQ_EIO, "dataset: cannot open directory '%s': %s", dir,
                        strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!(p = join(dir, e->d_name))) {
            rc = CSQ_ENOMEM;
            break;
        }
        if (stat(p, &st) != 0) {
            /* a dangling link or a file that vanished is not our business
             * unless it claims to be an image */
            if (csq_dataset_is_image_name(e->d_name)) {
                rc = csq_fail(CSQ_EIO, "dataset: cannot read '%s': %s", p, strerror(errno));
                free(p);
                break;
            }
            free(p);
            continue;
        }
        free(p);
        if (S_ISDIR(st.st_mode)) {
            if (dirs && (rc = strs_push(dirs, csq_mem_strdup(e->d_name))) != 0)
                break;
        } else if (S_ISREG(st.st_mode) && csq_dataset_is_image_name(e->d_name)) {
            if ((rc = strs_push(imgs, csq_mem_strdup(e->d_name))) != 0)
                break;
        }
    }
    closedir(d);
    if (dirs && dirs->n > 1)
        qsort(dirs->v, dirs->n, sizeof *dirs->v, cmp_str);
    if (imgs->n > 1)
        qsort(imgs->v, imgs->n, sizeof *imgs->v, cmp_str);
    return rc;
}

/* ---- text files */

/* The line parsers below stop at the first NUL, so a NUL byte would
 * silently drop the rest of the file: refuse it, naming its line. */
static int check_text(const unsigned char *buf, size_t len, const char *what, const char *src)
{
    const unsigned char *nul = memchr(buf, '\0', len), *p;
    int lineno = 1;

    if (!nul)
        return CSQ_OK;
    for (p = buf; p < nul; p++)
        lineno += *p == '\n';
    return csq_fail(CSQ_EFORMAT, "dataset: %s '%s' line %d: NUL byte (not a text file)", what,
                    src, lineno);
}

/* ---- labels file */

static int read_labels(struct strs *names, const char *path)
{
    unsigned char *buf;
    size_t len, i;
    char *line, *next, *end;
    int rc, lineno = 0;

    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    if ((rc = check_text(buf, len, "labels file", path)) != 0) {
        free(buf);
        return rc;
    }
    for (line = (char *)buf; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        end = line + strlen(line);
        while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*line == '\0') {
            /* blank lines only at the end: a hole would shift every label */
            if (next && strspn(next, "\r\n \t") != strlen(next)) {
                rc = csq_fail(CSQ_EFORMAT, "dataset: labels file '%s' line %d: empty class name",
                              path, lineno);
                break;
            }
            continue;
        }
        for (i = 0; i < names->n; i++)
            if (strcmp(names->v[i], line) == 0)
                break;
        if (i < names->n) {
            rc = csq_fail(CSQ_EFORMAT, "dataset: labels file '%s' line %d: duplicate class '%s'",
                          path, lineno, line);
            break;
        }
        if ((rc = strs_push(names, csq_mem_strdup(line))) != 0)
            break;
    }
    free(buf);
    if (rc == CSQ_OK && names->n == 0)
        rc = csq_fail(CSQ_EFORMAT, "dataset: labels file '%s' has no class names", path);
    return rc;
}

static int find_name(const struct strs *names, const char *name)
{
    size_t i;

    for (i = 0; i < names->n; i++)
        if (strcmp(names->v[i], name) == 0)
            return (int)i;
    return -1;
}

/* ---- per-class selection */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Keep per_class images of each label (-1 counts as one group), in their
 * original order; paths of dropped images are freed. */
static int select_per_class(struct csq_dataset *ds, const struct csq_dataset_opts *o)
{
    size_t *idx, i, j, k, m, out = 0;
    unsigned char *keep;
    uint64_t state = o->seed;
    int g;

    if (o->per_class <= 0)
        return CSQ_OK;
    idx = csq_mem_array(ds->n ? ds->n : 1, sizeof *idx);
    keep = csq_mem_zarray(ds->n ? ds->n : 1, 1);
    if (!idx || !keep) {
        free(idx);
        free(keep);
        return CSQ_ENOMEM;
    }
    for (g = -1; g < ds->nclass; g++) {
        for (m = 0, i = 0; i < ds->n; i++)
            if (ds->labels[i] == g)
                idx[m++] = i;
        if (o->seeded) {
            for (i = m; i > 1; i--) {
                j = (size_t)(splitmix64(&state) % i);
                k = idx[i - 1];
                idx[i - 1] = idx[j];
                idx[j] = k;
            }
        }
        for (i = 0; i < m && i < (size_t)o->per_class; i++)
            keep[idx[i]] = 1;
    }
    for (i = 0; i < ds->n; i++) {
        if (keep[i]) {
            ds->paths[out] = ds->paths[i];
            ds->labels[out++] = ds->labels[i];
        } else {
            free(ds->paths[i]);
        }
    }
    ds->n = out;
    free(idx);
    free(keep);
    return CSQ_OK;
}

/* Checks shared by folders and lists, then sampling. */
static int finish(struct csq_dataset *ds, const struct csq_dataset_opts *o, const char *src)
{
    int *seen, used = 0, rc;
    size_t i;

    if (o->need_labels) {
        seen = csq_mem_zarray(ds->nclass ? ds->nclass : 1, sizeof *seen);
        if (!seen)
            return CSQ_ENOMEM;
        for (i = 0; i < ds->n; i++)
            if (ds->labels[i] >= 0 && !seen[ds->labels[i]]++)
                used++;
        free(seen);
        if (used < 2)
            return csq_fail(CSQ_EINVAL, "dataset: '%s' has images of %d class%s; "
                            "class separability needs at least 2", src, used,
                            used == 1 ? "" : "es");
    }
    if ((rc = select_per_class(ds, o)) != 0)
        return rc;
    return CSQ_OK;
}

static int take_classes(struct csq_dataset *ds, struct strs *names)
{
    ds->classes = names->v;
    ds->nclass = (int)names->n;
    memset(names, 0, sizeof *names);
    return CSQ_OK;
}

int csq_dataset_scan(struct csq_dataset *ds, const char *dir, const struct csq_dataset_opts *o)
{
    struct strs dirs = {0}, top = {0}, files = {0}, paths = {0}, names = {0};
    int *labels = NULL, rc, lab;
    size_t i, j, nl = 0, caplab = 0;
    char *cdir = NULL;

    memset(ds, 0, sizeof *ds);
    if ((rc = list_dir(dir, &dirs, &top)) != 0)
        goto fail;
    if (dirs.n == 0) {
        if (o->need_labels) {
            rc = csq_fail(CSQ_EINVAL, "dataset: '%s' has no class subfolders (labels are "
                          "needed: use DIR/<class>/<image>)", dir);
            goto fail;
        }
        if (top.n == 0) {
            rc = csq_fail(CSQ_EINVAL, "dataset: '%s' has no images (.png, .jpg, .jpeg)", dir);
            goto fail;
        }
        /* names still let callers print predicted classes */
        if (o->labels_file && (rc = read_labels(&names, o->labels_file)) != 0)
            goto fail;
        take_classes(ds, &names);
        if (!(labels = csq_mem_array(top.n, sizeof *labels))) {
            rc = CSQ_ENOMEM;
            goto fail;
        }
        for (i = 0; i < top.n; i++) {
            labels[i] = -1;
            if ((rc = strs_push(&paths, join(dir, top.v[i]))) != 0)
                goto fail;
        }
        nl = top.n;
    } else {
        if (o->labels_file) {
            if ((rc = read_labels(&names, o->labels_file)) != 0)
                goto fail;
        }
        for (i = 0; i < dirs.n; i++) {
            if (o->labels_file) {
                if ((lab = find_name(&names, dirs.v[i])) < 0) {
                    rc = csq_fail(CSQ_EINVAL, "dataset: class folder '%s' in '%s' is not in "
                                  "labels file '%s'", dirs.v[i], dir, o->labels_file);
                    goto fail;
                }
            } else {
                lab = (int)i;
            }
            if (!(cdir = join(dir, dirs.v[i]))) {
                rc = CSQ_ENOMEM;
                goto fail;
            }
            if ((rc = list_dir(cdir, NULL, &files)) != 0)
                goto fail;
            if (files.n == 0) {
                rc = csq_fail(CSQ_EINVAL, "dataset: class folder '%s' has no images "
                              "(.png, .jpg, .jpeg)", cdir);
                goto fail;
            }
            if (nl + files.n > caplab) {
                int *nlab;
                caplab = (nl + files.n) * 2;
                if (!(nlab = csq_mem_rearray(labels, caplab, sizeof *labels))) {
                    rc = CSQ_ENOMEM;
                    goto fail;
                }
                labels = nlab;
            }
            for (j = 0; j < files.n; j++) {
                if ((rc = strs_push(&paths, join(cdir, files.v[j]))) != 0)
                    goto fail;
                labels[nl++] = lab;
            }
            strs_free(&files);
            free(cdir);
            cdir = NULL;
        }
        if (o->labels_file) {
            take_classes(ds, &names);
        } else {
            take_classes(ds, &dirs);
        }
    }
    ds->paths = paths.v;
    ds->n = paths.n;
    ds->labels = labels;
    memset(&paths, 0, sizeof paths);
    labels = NULL;
    rc = finish(ds, o, dir);
fail:
    free(cdir);
    free(labels);
    strs_free(&dirs);
    strs_free(&top);
    strs_free(&files);
    strs_free(&paths);
    strs_free(&names);
    if (rc)
        csq_dataset_release(ds);
    return rc;
}

int csq_dataset_read_list(struct csq_dataset *ds, const char *list,
                          const struct csq_dataset_opts *o)
{
    struct strs paths = {0}, cls = {0}, names = {0};
    unsigned char *buf = NULL;
    size_t len, i, nlines = 0;
    char *line, *next, *end, *tab, *base = NULL, *slash;
    const char *src = strcmp(list, "-") == 0 ? "<stdin>" : list;
    int rc, lineno = 0, with_class = -1;
    int *labels = NULL;

    memset(ds, 0, sizeof *ds);
    if ((rc = csq_file_read(list, &buf, &len)) != 0)
        return rc;
    if ((rc = check_text(buf, len, "list", src)) != 0)
        goto fail;
    if (strcmp(list, "-") != 0 && (slash = strrchr(list, '/')) != NULL) {
        if (!(base = csq_mem_strdup(list))) {
            rc = CSQ_ENOMEM;
            goto fail;
        }
        base[slash - list + 1] = '\0';
    }
    for (line = (char *)buf; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        end = line + strlen(line);
        while (end > line && end[-1] == '\r')
            *--end = '\0';
        if (*line == '\0' || *line == '#')
            continue;
        tab = strchr(line, '\t');
        if (tab)
            *tab++ = '\0';
        if (with_class < 0)
            with_class = tab != NULL;
        if ((tab != NULL) != with_class || (tab && *tab == '\0') || *line == '\0') {
            rc = csq_fail(CSQ_EFORMAT, "dataset: list '%s' line %d: expected %s", src, lineno,
                          with_class ? "path<TAB>class" : "a path");
            goto fail;
        }
        if (!with_class && o->need_labels) {
            rc = csq_fail(CSQ_EFORMAT, "dataset: list '%s' line %d: no class (expected "
                          "path<TAB>class)", src, lineno);
            goto fail;
        }
        if ((rc = strs_push(&paths, line[0] != '/' && base ? join(base, line)
                                                           : csq_mem_strdup(line))) != 0)
            goto fail;
        if (with_class && (rc = strs_push(&cls, csq_mem_strdup(tab))) != 0)
            goto fail;
        nlines++;
    }
    if (nlines == 0) {
        rc = csq_fail(CSQ_EINVAL, "dataset: list '%s' has no images", src);
        goto fail;
    }
    if (!(labels = csq_mem_array(nlines, sizeof *labels))) {
        rc = CSQ_ENOMEM;
        goto fail;
    }
    if (with_class) {
        if (o->labels_file) {
            if ((rc = read_labels(&names, o->labels_file)) != 0)
                goto fail;
        } else {
            /* distinct names in byte order */
            char **sorted = csq_mem_array(nlines, sizeof *sorted);
            if (!sorted) {
                rc = CSQ_ENOMEM;
                goto fail;
            }
            memcpy(sorted, cls.v, nlines * sizeof *sorted);
            qsort(sorted, nlines, sizeof *sorted, cmp_str);
            for (i = 0; i < nlines; i++) {
                if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
                    continue;
                if ((rc = strs_push(&names, csq_mem_strdup(sorted[i]))) != 0)
                    break;
            }
            free(sorted);
            if (rc)
                goto fail;
        }
        for (i = 0; i < nlines; i++) {
            if ((labels[i] = find_name(&names, cls.v[i])) < 0) {
                rc = csq_fail(CSQ_EINVAL, "dataset: class '%s' of '%s' in list '%s' is not in "
                              "labels file '%s'", cls.v[i], paths.v[i], src, o->labels_file);
                goto fail;
            }
        }
    } else {
        if (o->labels_file && (rc = read_labels(&names, o->labels_file)) != 0)
            goto fail;
        for (i = 0; i < nlines; i++)
            labels[i] = -1;
    }
    take_classes(ds, &names);
    ds->paths = paths.v;
    ds->n = paths.n;
    ds->labels = labels;
    memset(&paths, 0, sizeof paths);
    labels = NULL;
    rc = finish(ds, o, src);
fail:
    free(buf);
    free(base);
    free(labels);
    strs_free(&paths);
    strs_free(&cls);
    strs_free(&names);
    if (rc)
        csq_dataset_release(ds);
    return rc;
}
