/*
 * svg: a hand-written SVG writer (see svg.h).
 */
#include "config.h"

#include <stdio.h>

#include "util/svg.h"

void csq_svg_begin(FILE *fp, double width, double height)
{
    fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%g\" "
            "height=\"%g\" viewBox=\"0 0 %g %g\" font-family=\"sans-serif\">\n",
            width, height, width, height);
    csq_svg_rect(fp, 0, 0, width, height, "fill=\"white\"");
}

void csq_svg_end(FILE *fp)
{
    fputs("</svg>\n", fp);
}

void csq_svg_escape(FILE *fp, const char *text)
{
    const char *p;

    for (p = text; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&apos;", fp); break;
        default: fputc(*p, fp);
        }
    }
}

void csq_svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *style)
{
    fprintf(fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" %s/>\n", x1, y1, x2, y2,
            style);
}

void csq_svg_rect(FILE *fp, double x, double y, double w, double h, const char *style)
{
    fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" %s/>\n", x, y, w, h,
            style);
}

void csq_svg_polyline(FILE *fp, const double *x, const double *y, int n, const char *style)
{
    int i;

    fputs("<polyline points=\"", fp);
    for (i = 0; i < n; i++)
        fprintf(fp, "%s%.2f,%.2f", i ? " " : "", x[i], y[i]);
    fprintf(fp, "\" %s/>\n", style);
}

void csq_svg_circle(FILE *fp, double cx, double cy, double r, const char *cls,
                    const char *style, const char *title)
{
    fprintf(fp, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%g\"", cx, cy, r);
    if (cls) {
        fputs(" class=\"", fp);
        csq_svg_escape(fp, cls);
        fputc('"', fp);
    }
    fprintf(fp, " %s", style);
    if (!title) {
        fputs("/>\n", fp);
        return;
    }
    fputs("><title>", fp);
    csq_svg_escape(fp, title);
    fputs("</title></circle>\n", fp);
}

void csq_svg_text(FILE *fp, double x, double y, const char *anchor, const char *style,
                  const char *text)
{
    fprintf(fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\"%s%s>", x, y, anchor,
            style ? " " : "", style ? style : "");
    csq_svg_escape(fp, text);
    fputs("</text>\n", fp);
}
