/*
 * modelprep: command line over metadata over defaults (see modelprep.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/modelprep.h"
#include "util/err.h"

int csq_modelprep_parse_hw(const char *s, int *h, int *w)
{
    char *end;
    long a, b;

    errno = 0;
    a = strtol(s, &end, 10);
    if (errno || end == s || a <= 0 || a > 65536)
        return -1;
    if (*end == '\0') {
        *h = *w = (int)a;
        return 0;
    }
    if (*end != 'x' && *end != 'X')
        return -1;
    s = end + 1;
    b = strtol(s, &end, 10);
    if (errno || end == s || *end || b <= 0 || b > 65536)
        return -1;
    *h = (int)a;
    *w = (int)b;
    return 0;
}

/* "a,b,c" (or one value for every channel) into v[channels]. */
static int parse_floats(const char *s, int channels, float *v, int positive)
{
    int n = 0, i;
    char *end;

    for (;;) {
        double x;
        errno = 0;
        x = strtod(s, &end);
        if (errno || end == s || !isfinite(x) || (positive && x <= 0) || n == 3)
            return -1;
        v[n++] = (float)x;
        if (*end == '\0')
            break;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
    if (n == 1)
        for (i = 1; i < 3; i++)
            v[i] = v[0];
    else if (n != channels)
        return -1;
    return 0;
}

int csq_modelprep_resolve(const struct csq_graph *g, const struct csq_prep_request *req,
                          struct csq_image_prep *p)
{
    const struct csq_value *in;
    const char *m;
    int c, h, w, i;

    if (g->ninputs != 1)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': the model has %d inputs; images feed one",
                        g->path, g->ninputs);
    in = &g->vals[g->inputs[0]];
    if (in->t.rank != 4 || in->t.dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': input '%s' is not a float32 N x C x H x W "
                        "image batch", g->path, in->name);
    c = (int)in->decl_dims[1];
    if (c != 1 && c != 3)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': input '%s' has %d channels; images give "
                        "1 or 3", g->path, in->name, c);
    h = (int)in->decl_dims[2];
    w = (int)in->decl_dims[3];
    csq_image_prep_init(p, c, h > 0 ? h : 224, w > 0 ? w : 224);
    if (c == 1) {
        p->mean[0] = 0.449f;
        p->std[0] = 0.226f;
    }
    /* Metadata first, then the command line over it. */
    if ((m = csq_graph_meta(g, "csmpq.crop")) != NULL &&
        csq_modelprep_parse_hw(m, &p->crop_h, &p->crop_w) != 0)
        return csq_fail(CSQ_EFORMAT, "'%s': metadata csmpq.crop='%s' is not H or HxW",
                        g->path, m);
    if (req->crop_h > 0) {
        p->crop_h = req->crop_h;
        p->crop_w = req->crop_w;
    } else if (!m && (h <= 0 || w <= 0)) {
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': the input size is symbolic; a crop size is needed",
                        g->path);
    }
    p->resize = p->crop_h > p->crop_w ? p->crop_h : p->crop_w;
    if ((m = csq_graph_meta(g, "csmpq.resize")) != NULL) {
        char *end;
        long r = strtol(m, &end, 10);
        if (end == m || *end || r <= 0 || r > 65536)
            return csq_fail(CSQ_EFORMAT, "'%s': metadata csmpq.resize='%s' is not a size",
                            g->path, m);
        p->resize = (int)r;
    }
    if (req->resize > 0)
        p->resize = req->resize;
    if ((m = csq_graph_meta(g, "csmpq.mean")) != NULL && parse_floats(m, c, p->mean, 0) != 0)
        return csq_fail(CSQ_EFORMAT, "'%s': metadata csmpq.mean='%s' is not %d numbers",
                        g->path, m, c);
    if ((m = csq_graph_meta(g, "csmpq.std")) != NULL && parse_floats(m, c, p->std, 1) != 0)
        return csq_fail(CSQ_EFORMAT, "'%s': metadata csmpq.std='%s' is not %d positive numbers",
                        g->path, m, c);
    if (req->mean && parse_floats(req->mean, c, p->mean, 0) != 0)
        return csq_fail(CSQ_EUSAGE, "mean '%s': give 1 or %d numbers separated by commas",
                        req->mean, c);
    if (req->std && parse_floats(req->std, c, p->std, 1) != 0)
        return csq_fail(CSQ_EUSAGE, "std '%s': give 1 or %d positive numbers separated "
                        "by commas", req->std, c);
    if (req->max_pixels)
        p->max_pixels = req->max_pixels;
    /* Static spatial dims must be what the crop makes. */
    if ((h > 0 && h != p->crop_h) || (w > 0 && w != p->crop_w))
        return csq_fail(CSQ_ESHAPE, "'%s': the model takes %dx%d images, the crop is %dx%d",
                        g->path, h, w, p->crop_h, p->crop_w);
    for (i = 0; i < 3; i++)
        if (!(p->std[i] > 0))
            p->std[i] = 1;
    return CSQ_OK;
}
