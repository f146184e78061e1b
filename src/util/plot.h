/*
 * plot: a line chart as an SVG file (util/svg.h): series of points
 * joined in x order, linear axes with ticks at 1, 2 or 5 x 10^k, axis
 * labels, a legend, a title, and an optional dashed horizontal reference
 * line (e.g. the float model's accuracy).  Written atomically (util/file.h).
 *
 * Everything is borrowed.
 *
 *     struct csq_plot_series s = {.name = "sweep", .cls = "sweep", .x = x, .y = y, .n = 9,
 *                                 .color = "#1f77b4"};
 *     struct csq_plot p = {.title = "m.onnx", .xlabel = "size (KiB)", .ylabel = "top-1 (%)",
 *                          .series = &s, .nseries = 1};
 *     rc = csq_plot_write(&p, "sweep.svg");
 */
#ifndef CSQ_PLOT_H
#define CSQ_PLOT_H

struct csq_plot_series {
    const char *name;               /* legend text */
    const char *cls;                /* class of its markers (tests count them) */
    const double *x, *y;            /* [n] */
    const char *const *labels;      /* [n] marker tooltips, or NULL */
    int n;
    const char *color;              /* SVG colour */
    int square;                     /* square markers instead of circles */
};

struct csq_plot {
    const char *title, *xlabel, *ylabel;
    const struct csq_plot_series *series;
    int nseries;
    int have_ref;                   /* a dashed horizontal line at y = ref */
    double ref;
    const char *ref_label;
};

int csq_plot_write(const struct csq_plot *p, const char *path);

#endif
