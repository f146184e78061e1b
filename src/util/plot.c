/*
 * plot: a line chart in SVG (see plot.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/plot.h"
#include "util/svg.h"

#define W 720.0
#define H 450.0
#define LEFT 70.0
#define RIGHT 20.0
#define TOP 40.0
#define BOTTOM 55.0

struct axis {
    double lo, hi;          /* data range shown */
    double step;            /* between ticks */
};

/* Ticks at 1, 2 or 5 x 10^k, about six of them, with the range widened to
 * whole steps. */
static void nice_axis(double lo, double hi, struct axis *a)
{
    double span, mag, f;

    if (!(hi > lo)) {
        double pad = lo != 0 ? fabs(lo) * 0.05 : 1;
        lo -= pad;
        hi += pad;
    }
    span = hi - lo;
    mag = pow(10, floor(log10(span / 6)));
    f = span / 6 / mag;
    a->step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    a->lo = floor(lo / a->step + 1e-9) * a->step;
    a->hi = ceil(hi / a->step - 1e-9) * a->step;
}

static double px(const struct axis *a, double v)
{
    return LEFT + (v - a->lo) / (a->hi - a->lo) * (W - LEFT - RIGHT);
}

static double py(const struct axis *a, double v)
{
    return H - BOTTOM - (v - a->lo) / (a->hi - a->lo) * (H - TOP - BOTTOM);
}

/* A tick's text with as many decimals as the step needs. */
static void tick_text(double v, double step, char *buf, size_t n)
{
    int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, n, "%.*f", d, v);
}

static void axes(FILE *fp, const struct csq_plot *p, const struct axis *ax,
                 const struct axis *ay)
{
    char buf[64];
    double v;
    int i;

    for (i = 0; (v = ay->lo + i * ay->step) <= ay->hi + ay->step * 1e-6; i++) {
        csq_svg_line(fp, LEFT, py(ay, v), W - RIGHT, py(ay, v), "stroke=\"#e4e4e4\"");
        tick_text(v, ay->step, buf, sizeof buf);
        csq_svg_text(fp, LEFT - 6, py(ay, v) + 4, "end", "font-size=\"11\"", buf);
    }
    for (i = 0; (v = ax->lo + i * ax->step) <= ax->hi + ax->step * 1e-6; i++) {
        csq_svg_line(fp, px(ax, v), H - BOTTOM, px(ax, v), H - BOTTOM + 5, "stroke=\"#333\"");
        tick_text(v, ax->step, buf, sizeof buf);
        csq_svg_text(fp, px(ax, v), H - BOTTOM + 18, "middle", "font-size=\"11\"", buf);
    }
    csq_svg_rect(fp, LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM,
                 "fill=\"none\" stroke=\"#333\"");
    csq_svg_text(fp, (LEFT + W - RIGHT) / 2, H - 12, "middle", "font-size=\"13\"", p->xlabel);
    snprintf(buf, sizeof buf, "transform=\"rotate(-90 18 %.2f)\" font-size=\"13\"",
             (TOP + H - BOTTOM) / 2);
    csq_svg_text(fp, 18, (TOP + H - BOTTOM) / 2, "middle", buf, p->ylabel);
    csq_svg_text(fp, W / 2, 24, "middle", "font-size=\"15\" font-weight=\"bold\"", p->title);
}

/* The series' points in x order, joined, then their markers. */
static int series(FILE *fp, const struct csq_plot_series *s, const struct axis *ax,
                  const struct axis *ay)
{
    double *x = csq_mem_array((size_t)s->n + 1, sizeof *x);
    double *y = csq_mem_array((size_t)s->n + 1, sizeof *y);
    int *ord = csq_mem_array((size_t)s->n + 1, sizeof *ord);
    char style[128];
    int i, j, t;

    if (!x || !y || !ord) {
        free(x);
        free(y);
        free(ord);
        return CSQ_ENOMEM;
    }
    for (i = 0; i < s->n; i++)
        ord[i] = i;
    /* insertion sort: few points, and stable for equal sizes */
    for (i = 1; i < s->n; i++)
        for (j = i; j > 0 && s->x[ord[j]] < s->x[ord[j - 1]]; j--) {
            t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    for (i = 0; i < s->n; i++) {
        x[i] = px(ax, s->x[ord[i]]);
        y[i] = py(ay, s->y[ord[i]]);
    }
    snprintf(style, sizeof style, "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"", s->color);
    csq_svg_polyline(fp, x, y, s->n, style);
    for (i = 0; i < s->n; i++) {
        const char *tip = s->labels ? s->labels[ord[i]] : NULL;
        if (s->square) {
            snprintf(style, sizeof style, "fill=\"%s\" class=\"%s\"", s->color, s->cls);
            fprintf(fp, "<g>");
            csq_svg_rect(fp, x[i] - 4, y[i] - 4, 8, 8, style);
            if (tip) {
                fputs("<title>", fp);
                csq_svg_escape(fp, tip);
                fputs("</title>", fp);
            }
            fputs("</g>\n", fp);
        } else {
            snprintf(style, sizeof style, "fill=\"%s\" stroke=\"white\"", s->color);
            csq_svg_circle(fp, x[i], y[i], 4.5, s->cls, style, tip);
        }
    }
    free(x);
    free(y);
    free(ord);
    return CSQ_OK;
}

/* Bottom right, where a curve rising with size leaves room. */
static void legend(FILE *fp, const struct csq_plot *p)
{
    double x, y, w = 0;
    char style[96];
    int i, n = 0;
    size_t len, most = 0;

    for (i = 0; i < p->nseries; i++) {
        len = strlen(p->series[i].name);
        most = len > most ? len : most;
        n++;
    }
    if (p->have_ref && p->ref_label) {
        len = strlen(p->ref_label);
        most = len > most ? len : most;
        n++;
    }
    w = 40 + 6.5 * (double)most;
    x = W - RIGHT - w - 6;
    y = H - BOTTOM - 18.0 * n - 4;
    csq_svg_rect(fp, x - 6, y - 12, w, 18.0 * n + 6,
                 "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"");
    for (i = 0; i < p->nseries; i++, y += 18) {
        snprintf(style, sizeof style, "stroke=\"%s\" stroke-width=\"2\"", p->series[i].color);
        csq_svg_line(fp, x, y - 4, x + 22, y - 4, style);
        snprintf(style, sizeof style, "fill=\"%s\"", p->series[i].color);
        if (p->series[i].square)
            csq_svg_rect(fp, x + 7, y - 8, 8, 8, style);
        else
            csq_svg_circle(fp, x + 11, y - 4, 4.5, NULL, style, NULL);
        csq_svg_text(fp, x + 28, y, "start", "font-size=\"12\"", p->series[i].name);
    }
    if (p->have_ref && p->ref_label) {
        csq_svg_line(fp, x, y - 4, x + 22, y - 4,
                     "stroke=\"#777\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
        csq_svg_text(fp, x + 28, y, "start", "font-size=\"12\"", p->ref_label);
    }
}

int csq_plot_write(const struct csq_plot *p, const char *path)
{
    struct csq_out o;
    struct axis ax, ay;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int i, j, rc = CSQ_OK;

    for (i = 0; i < p->nseries; i++)
        for (j = 0; j < p->series[i].n; j++) {
            xlo = fmin(xlo, p->series[i].x[j]);
            xhi = fmax(xhi, p->series[i].x[j]);
            ylo = fmin(ylo, p->series[i].y[j]);
            yhi = fmax(yhi, p->series[i].y[j]);
        }
    if (p->have_ref) {
        ylo = fmin(ylo, p->ref);
        yhi = fmax(yhi, p->ref);
    }
    if (!isfinite(xlo) || !isfinite(ylo))
        return csq_fail(CSQ_EINVAL, "plot '%s': no point to draw", path);
    nice_axis(xlo, xhi, &ax);
    nice_axis(ylo, yhi, &ay);
    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    csq_svg_begin(o.fp, W, H);
    axes(o.fp, p, &ax, &ay);
    if (p->have_ref)
        csq_svg_line(o.fp, LEFT, py(&ay, p->ref), W - RIGHT, py(&ay, p->ref),
                     "stroke=\"#777\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
    for (i = 0; i < p->nseries && rc == CSQ_OK; i++)
        rc = series(o.fp, &p->series[i], &ax, &ay);
    legend(o.fp, p);
    csq_svg_end(o.fp);
    if (rc != CSQ_OK) {
        csq_out_abort(&o);
        return rc;
    }
    return csq_out_commit(&o);
}
