/*
 * dataset: which images to read and their labels, from a folder tree or a
 * list file.  Nothing is decoded here.
 *
 * Folder: DIR/<class>/<file>.  Classes are the subfolder names in byte
 * order (strcmp, the torchvision ImageFolder convention), files within a
 * class in byte order; only the class folder itself is read (no recursion).
 * Files named *.png, *.jpg, *.jpeg (any case) are images, others are
 * ignored, and so are names starting with '.' and plain files next to
 * class folders.  A class folder without images is an error.  A folder
 * with images and no subfolders is a flat, unlabeled set (label -1),
 * accepted only when need_labels is 0.
 *
 * List (--list FILE|-): one image per line, `path<TAB>class`; `path` alone
 * when labels are not needed.  Empty lines and lines starting with '#' are
 * skipped.  Relative paths are relative to the list file's directory, or to
 * the current directory when the list comes from stdin ("-").  Classes are
 * the distinct class names in byte order; images keep the list's order.
 *
 * --labels FILE (one class name per line, in the model's output order)
 * replaces the byte-order mapping: label k is line k; every class found in
 * the folder / list must appear there (extra names are fine).  Both files
 * are text: a NUL byte in either is an error.
 *
 * per_class N keeps the first N images of each class (in the order above),
 * or, when seeded, N drawn by a splitmix64-seeded shuffle; the kept images
 * stay in their original order.  With need_labels, fewer than two classes
 * with images is an error.
 *
 * Ownership: the dataset owns every string; csq_dataset_release() frees
 * all and leaves an empty dataset.
 *
 *     struct csq_dataset ds;
 *     struct csq_dataset_opts o;
 *     csq_dataset_opts_init(&o);
 *     o.need_labels = 1;
 *     if ((rc = csq_dataset_scan(&ds, dir, &o)) != 0) return rc;
 *     ... ds.paths[i], ds.labels[i], ds.classes[ds.labels[i]] ...
 *     csq_dataset_release(&ds);
 */
#ifndef CSQ_DATASET_H
#define CSQ_DATASET_H

#include <stddef.h>
#include <stdint.h>

struct csq_dataset {
    int nclass;             /* number of label names */
    char **classes;         /* (nclass) label k's name */
    size_t n;               /* number of images */
    char **paths;           /* (n) */
    int *labels;            /* (n) class index, or -1 when unlabeled */
};

struct csq_dataset_opts {
    int need_labels;        /* a flat folder / class-less list is an error */
    const char *labels_file;    /* NULL: byte-order classes */
    long per_class;         /* 0: all images */
    int seeded;             /* shuffle before taking per_class */
    uint64_t seed;
};

void csq_dataset_opts_init(struct csq_dataset_opts *o);
int csq_dataset_scan(struct csq_dataset *ds, const char *dir, const struct csq_dataset_opts *o);
/* list is a path or "-" for stdin. */
int csq_dataset_read_list(struct csq_dataset *ds, const char *list,
                          const struct csq_dataset_opts *o);
void csq_dataset_release(struct csq_dataset *ds);
/* 1 when name ends in .png, .jpg or .jpeg, any case. */
int csq_dataset_is_image_name(const char *name);

#endif
