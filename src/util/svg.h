/*
 * svg: the few SVG 1.1 elements csmpq's pictures need, written as text
 * to a stream (no DOM, no library).  Coordinates are user units with
 * the origin at the top left; text is XML-escaped here, styles are the
 * caller's attribute text (e.g. "stroke=\"#333\" fill=\"none\"").
 *
 *     csq_svg_begin(fp, 640, 400);
 *     csq_svg_line(fp, 10, 10, 100, 10, "stroke=\"black\"");
 *     csq_svg_text(fp, 50, 30, "middle", "font-size=\"12\"", "a < b");
 *     csq_svg_end(fp);
 */
#ifndef CSQ_SVG_H
#define CSQ_SVG_H

#include <stdio.h>

void csq_svg_begin(FILE *fp, double width, double height);
void csq_svg_end(FILE *fp);
/* text with &, <, >, " and ' escaped */
void csq_svg_escape(FILE *fp, const char *text);
void csq_svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *style);
void csq_svg_rect(FILE *fp, double x, double y, double w, double h, const char *style);
/* n points joined in order */
void csq_svg_polyline(FILE *fp, const double *x, const double *y, int n, const char *style);
/* A marker: a circle with an optional class and a <title> tooltip. */
void csq_svg_circle(FILE *fp, double cx, double cy, double r, const char *cls,
                    const char *style, const char *title);
/* anchor: "start", "middle" or "end"; style may be NULL. */
void csq_svg_text(FILE *fp, double x, double y, const char *anchor, const char *style,
                  const char *text);

#endif
