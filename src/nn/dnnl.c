/*
 * dnnl: oneDNN convolutions behind op_conv.c (see dnnl.h).
 *
 * One primitive per planned Conv node, made for a single image (or the
 * whole batch of small images) with format "any" for source, weights and
 * destination, so oneDNN picks its layout and jit kernel (brgconv on NHWC,
 * jit:avx2 on nChw8c, brdgmm_dw ...) and applies the fused activation as a
 * post-op.  A tensor in NCHW is reordered into that layout in scratch per
 * image, convolved, and the destination reordered back while both are
 * still in cache; the engine keeps values between convolutions in the
 * primitive's layouts instead where it can (flags of run).  Each running thread has a slot of its
 * own (memory objects, stream; the scratchpad is in csmpq's scratch), so
 * threads may run different images through one primitive at once.
 * Nothing is allocated per forward: memory objects are made at plan time
 * and only get new data handles.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/dnnl.h"

#ifdef HAVE_DNNL

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

struct slot {
    dnnl_stream_t stream;
    dnnl_memory_t x, xb, w, b, yb, y, pad;
};

struct csq_dnnl_conv {
    dnnl_primitive_t conv, rx, ry;  /* rx, ry NULL: no reorder needed */
    dnnl_primitive_t conv_add;      /* conv + r, then its act (csq_dnnl_conv_add) */
    dnnl_convolution_desc_t cd;
    int nthreads;
    dnnl_memory_desc_t xmd, wmd, ymd, padmd;    /* the primitive's */
    dnnl_memory_desc_t plain_x, plain_y, wplain, bmd;   /* csmpq's */
    int bias;
    int xblk, yblk;             /* layout codes (dnnl.h), 0 another layout */
    size_t xb_floats, yb_floats, pad_floats;
    int nslots;
    struct slot *slots;
    char impl[64];
};

static dnnl_engine_t engine;
static int state;               /* 0 unknown, 1 on, -1 off */

int csq_dnnl_enabled(void)
{
    if (state == 0) {
        const char *isa = getenv("CSMPQ_ISA");

        state = -1;
        if (isa && strcmp(isa, "portable") == 0)
            return 0;
        /* Must precede the first primitive; caps what oneDNN dispatches to. */
        if (isa && strcmp(isa, "avx2") == 0)
            dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2);
        dnnl_set_verbose(0);
        if (dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success)
            state = 1;
    }
    return state == 1;
}

/* floats of a memory descriptor, rounded up to a cache line */
static size_t md_floats(const dnnl_memory_desc_t *md)
{
    size_t b = dnnl_memory_desc_get_size(md);

    return ((b + 63) & ~(size_t)63) / sizeof(float);
}

static int make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                        dnnl_primitive_t *out)
{
    dnnl_primitive_desc_t pd;
    dnnl_status_t s;

    *out = NULL;
    if (dnnl_memory_desc_equal(from, to))
        return 0;
    if (dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL) != dnnl_success)
        return -1;
    s = dnnl_primitive_create(out, pd);
    dnnl_primitive_desc_destroy(pd);
    return s == dnnl_success ? 0 : -1;
}

/* The layout code of md (dnnl.h: 1 NHWC, 16 nChw16c, 8 nChw8c, zero-
 * padded channels) when it is one the engine can keep between nodes,
 * else 0.  nChw16c of 16 channels (nChw8c of 8) is NHWC byte for byte,
 * and is called NHWC so that it meets NHWC neighbours without a
 * reorder. */
static int md_block(const dnnl_memory_desc_t *md)
{
    static const int blk[3] = {CSQ_DNNL_NHWC, 16, 8};
    const dnnl_format_tag_t tag[3] = {dnnl_nhwc, dnnl_nChw16c, dnnl_nChw8c};
    dnnl_memory_desc_t b;
    int i;

    if (md->ndims != 4)
        return 0;
    for (i = 0; i < 3; i++)
        if (dnnl_memory_desc_init_by_tag(&b, 4, md->dims, dnnl_f32, tag[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&b, md))
            return i > 0 && md->dims[1] == blk[i] ? CSQ_DNNL_NHWC : blk[i];
    return 0;
}

static int make_slot(struct csq_dnnl_conv *c, struct slot *s)
{
    if (dnnl_stream_create(&s->stream, engine, dnnl_stream_default_flags) != dnnl_success)
        return -1;
    if (dnnl_memory_create(&s->x, &c->plain_x, engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&s->y, &c->plain_y, engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&s->w, &c->wmd, engine, DNNL_MEMORY_NONE) ||
        dnnl_memory_create(&s->pad, &c->padmd, engine, DNNL_MEMORY_NONE) ||
        (c->bias && dnnl_memory_create(&s->b, &c->bmd, engine, DNNL_MEMORY_NONE)) ||
        (c->rx && dnnl_memory_create(&s->xb, &c->xmd, engine, DNNL_MEMORY_NONE)) ||
        (c->ry && dnnl_memory_create(&s->yb, &c->ymd, engine, DNNL_MEMORY_NONE)))
        return -1;
    return 0;
}

/* The activation of g as a post-op, applied by the kernel to the output
 * block it has just written (a NaN through Clip becomes lo here, where
 * op_conv.c's own pass keeps it). */
static int set_act(dnnl_primitive_attr_t attr, const struct csq_dnnl_geom *g)
{
    dnnl_post_ops_t po;
    dnnl_status_t s;

    if (!g->act)
        return 0;
    if (dnnl_post_ops_create(&po) != dnnl_success)
        return -1;
    if (g->act == 1)
        s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    else
        s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip, g->lo, g->hi);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_post_ops_destroy(po);
    return s != dnnl_success;
}

/* The primitive of *cd again on nChw16c (the source too from 16 channels
 * on), replacing *pd when oneDNN has a jit kernel for it. */
static void prefer16(const struct csq_dnnl_geom *g, const dnnl_memory_desc_t *any_x,
                     const dnnl_memory_desc_t *any_w, const dnnl_memory_desc_t *any_y,
                     const struct csq_dnnl_conv *c, dnnl_primitive_attr_t attr,
                     dnnl_convolution_desc_t *cd, dnnl_primitive_desc_t *pd,
                     const dnnl_dims_t strides, const dnnl_dims_t dil, const dnnl_dims_t pl,
                     const dnnl_dims_t pr, const dnnl_dims_t sd, const dnnl_dims_t dd)
{
    dnnl_memory_desc_t x16 = *any_x, y16 = *any_y;
    dnnl_convolution_desc_t cd16;
    dnnl_primitive_desc_t pd16 = NULL;
    const char *impl = "";

    if (g->c >= 16)
        dnnl_memory_desc_init_by_tag(&x16, 4, sd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&y16, 4, dd, dnnl_f32, dnnl_nChw16c);
    if (dnnl_dilated_convolution_forward_desc_init(&cd16, dnnl_forward_inference,
                                                   dnnl_convolution_direct, &x16, any_w,
                                                   g->bias ? &c->bmd : NULL, &y16, strides, dil,
                                                   pl, pr) != dnnl_success ||
        dnnl_primitive_desc_create(&pd16, &cd16, attr, engine, NULL) != dnnl_success)
        return;
    dnnl_primitive_desc_query(pd16, dnnl_query_impl_info_str, 0, &impl);
    if (!impl || strncmp(impl, "jit", 3) != 0) {
        dnnl_primitive_desc_destroy(pd16);
        return;
    }
    dnnl_primitive_desc_destroy(*pd);
    *pd = pd16;
    *cd = cd16;
}

int csq_dnnl_conv_new(const struct csq_dnnl_geom *g, int nthreads, struct csq_dnnl_conv **out)
{
    dnnl_dims_t sd = {g->n, g->c, g->h, g->w}, dd = {g->n, g->m, g->oh, g->ow}, bd = {g->m};
    dnnl_dims_t strides = {g->sh, g->sw}, dil = {g->dh - 1, g->dw - 1};
    dnnl_dims_t pl = {g->pt, g->pl}, pr = {g->pb, g->pr};
    dnnl_memory_desc_t any_x, any_w, any_y;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    struct csq_dnnl_conv *c;
    const char *impl = "";
    int i, ok = 0, saved;

    *out = NULL;
    if (!csq_dnnl_enabled() || g->pb < 0 || g->pr < 0 || g->c % g->g || g->m % g->g)
        return 0;
    c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->bias = g->bias;
    dnnl_memory_desc_init_by_tag(&c->plain_x, 4, sd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&c->plain_y, 4, dd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&any_x, 4, sd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&any_y, 4, dd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&c->bmd, 1, bd, dnnl_f32, dnnl_x);
    if (g->g == 1) {
        dnnl_dims_t wd = {g->m, g->c, g->kh, g->kw};

        dnnl_memory_desc_init_by_tag(&c->wplain, 4, wd, dnnl_f32, dnnl_oihw);
        dnnl_memory_desc_init_by_tag(&any_w, 4, wd, dnnl_f32, dnnl_format_tag_any);
    } else {
        dnnl_dims_t wd = {g->g, g->m / g->g, g->c / g->g, g->kh, g->kw};

        dnnl_memory_desc_init_by_tag(&c->wplain, 5, wd, dnnl_f32, dnnl_goihw);
        dnnl_memory_desc_init_by_tag(&any_w, 5, wd, dnnl_f32, dnnl_format_tag_any);
    }
    /* the primitive's thread split is fixed when it is made */
    saved = omp_get_max_threads();
    omp_set_num_threads(nthreads);
    if (dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                   dnnl_convolution_direct, &any_x, &any_w,
                                                   g->bias ? &c->bmd : NULL, &any_y, strides, dil,
                                                   pl, pr) != dnnl_success ||
        dnnl_primitive_attr_create(&attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success ||
        set_act(attr, g) ||
        dnnl_primitive_desc_create(&pd, &cd, attr, engine, NULL) != dnnl_success)
        goto done;
    /* up to 16 channels in, 16 out: oneDNN's direct jit kernels (a first
     * convolution reads the plain NCHW input; nChw16c of 16 channels is
     * NHWC byte for byte, so no reorder either way).  Per node on fmnist_resnet: conv1 0.042
     * ms against brgconv's 0.078, the 16-channel 14x14 convolutions 0.114
     * against 0.135 (a strided one 0.162 against 0.144; 2.9% less in all) */
    if ((g->prefer16 || (g->c <= 16 && g->m == 16 && g->g == 1)) &&
        md_block(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)) == CSQ_DNNL_NHWC)
        prefer16(g, &any_x, &any_w, &any_y, c, attr, &cd, &pd, strides, dil, pl, pr, sd, dd);
    c->cd = cd;
    c->nthreads = nthreads;
    c->xmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    c->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    c->ymd = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    c->padmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    c->pad_floats = md_floats(&c->padmd);
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    strncpy(c->impl, impl ? impl : "", sizeof c->impl - 1);
    if (dnnl_primitive_create(&c->conv, pd) != dnnl_success ||
        make_reorder(&c->plain_x, &c->xmd, &c->rx) || make_reorder(&c->ymd, &c->plain_y, &c->ry))
        goto done;
    c->xblk = c->rx ? md_block(&c->xmd) : 0;
    c->yblk = c->ry ? md_block(&c->ymd) : 0;
    c->xb_floats = c->rx ? md_floats(&c->xmd) : 0;
    c->yb_floats = c->ry ? md_floats(&c->ymd) : 0;
    c->nslots = nthreads;
    c->slots = calloc((size_t)nthreads, sizeof *c->slots);
    if (!c->slots)
        goto done;
    for (i = 0; i < nthreads; i++)
        if (make_slot(c, &c->slots[i]))
            goto done;
    ok = 1;
done:
    omp_set_num_threads(saved);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!ok) {
        csq_dnnl_conv_free(c);
        return 0;           /* oneDNN refuses: op_conv.c's own paths */
    }
    *out = c;
    return 0;
}

void csq_dnnl_conv_free(struct csq_dnnl_conv *c)
{
    int i;

    if (!c)
        return;
    for (i = 0; c->slots && i < c->nslots; i++) {
        struct slot *s = &c->slots[i];
        dnnl_memory_t *m[] = {&s->x, &s->xb, &s->w, &s->b, &s->yb, &s->y, &s->pad};
        size_t j;

        for (j = 0; j < sizeof m / sizeof m[0]; j++)
            if (*m[j])
                dnnl_memory_destroy(*m[j]);
        if (s->stream)
            dnnl_stream_destroy(s->stream);
    }
    free(c->slots);
    if (c->conv)
        dnnl_primitive_destroy(c->conv);
    if (c->conv_add)
        dnnl_primitive_destroy(c->conv_add);
    if (c->rx)
        dnnl_primitive_destroy(c->rx);
    if (c->ry)
        dnnl_primitive_destroy(c->ry);
    free(c);
}

size_t csq_dnnl_conv_packed(const struct csq_dnnl_conv *c)
{
    return md_floats(&c->wmd);
}

size_t csq_dnnl_conv_scratch(const struct csq_dnnl_conv *c, unsigned flags)
{
    return (flags & CSQ_DNNL_X_BLOCKED ? 0 : c->xb_floats) +
           (flags & CSQ_DNNL_Y_BLOCKED ? 0 : c->yb_floats) + c->pad_floats;
}

const char *csq_dnnl_conv_impl(const struct csq_dnnl_conv *c)
{
    return c->impl;
}

void csq_dnnl_conv_blocks(const struct csq_dnnl_conv *c, int *xblk, int *yblk)
{
    *xblk = c->xblk;
    *yblk = c->yblk;
}

/* *out: c's convolution with post-ops (a sum, then eltwise alg with
 * alpha, beta unless alg is 0) in c's own layouts, weights and scratchpad
 * size; NULL and 0 when oneDNN refuses. */
static int make_post(struct csq_dnnl_conv *c, int alg, float alpha, float beta,
                     dnnl_primitive_t *out)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_post_ops_t po = NULL;
    int ok = 0, saved = omp_get_max_threads();

    omp_set_num_threads(c->nthreads);
    if (dnnl_primitive_attr_create(&attr) == dnnl_success &&
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success &&
        dnnl_post_ops_create(&po) == dnnl_success &&
        dnnl_post_ops_append_sum(po, 1.0f) == dnnl_success &&
        (alg == 0 || dnnl_post_ops_append_eltwise(po, 1.0f, (dnnl_alg_kind_t)alg, alpha,
                                                  beta) == dnnl_success) &&
        dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success &&
        dnnl_primitive_desc_create(&pd, &c->cd, attr, engine, NULL) == dnnl_success &&
        /* the same layouts and weights, and no more scratchpad, or it is refused */
        dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), &c->xmd) &&
        dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
                               &c->wmd) &&
        dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), &c->ymd) &&
        md_floats(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)) <= c->pad_floats &&
        dnnl_primitive_create(out, pd) == dnnl_success)
        ok = 1;
    omp_set_num_threads(saved);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!ok)
        *out = NULL;
    return ok;
}

int csq_dnnl_conv_add(struct csq_dnnl_conv *c, int act, float lo, float hi)
{
    if (c->conv_add)
        return 1;
    return make_post(c, act == 0 ? 0 : act == 1 ? dnnl_eltwise_relu : dnnl_eltwise_clip,
                     act == 1 ? 0.0f : lo, act == 1 ? 0.0f : hi, &c->conv_add);
}

static int exec(dnnl_primitive_t p, dnnl_stream_t st, int n, const dnnl_exec_arg_t *args)
{
    return dnnl_primitive_execute(p, st, n, args) != dnnl_success;
}

void csq_dnnl_conv_pack(struct csq_dnnl_conv *c, const float *w, float *dst)
{
    dnnl_memory_t from = NULL, to = NULL;
    dnnl_primitive_t r = NULL;
    int fail = 1;

    /* once per engine: a reorder made here and dropped */
    if (dnnl_memory_create(&from, &c->wplain, engine, (void *)w) == dnnl_success &&
        dnnl_memory_create(&to, &c->wmd, engine, dst) == dnnl_success) {
        if (dnnl_memory_desc_equal(&c->wplain, &c->wmd)) {
            memcpy(dst, w, dnnl_memory_desc_get_size(&c->wmd));
            fail = 0;
        } else if (make_reorder(&c->wplain, &c->wmd, &r) == 0) {
            dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};

            fail = exec(r, c->slots[0].stream, 2, a);
            dnnl_stream_wait(c->slots[0].stream);
        }
    }
    if (fail)   /* run reports it: a NaN weight fails no check, so flag it */
        c->impl[0] = '\0';
    if (r)
        dnnl_primitive_destroy(r);
    if (from)
        dnnl_memory_destroy(from);
    if (to)
        dnnl_memory_destroy(to);
}

int csq_dnnl_conv_run(struct csq_dnnl_conv *c, int tid, const float *x, const float *wpacked,
                      const float *bias, float *y, float *scratch, int nt, unsigned flags,
                      const float *r)
{
    struct slot *s = &c->slots[tid];
    int xin = c->rx && !(flags & CSQ_DNNL_X_BLOCKED), yout = c->ry && !(flags & CSQ_DNNL_Y_BLOCKED);
    float *xb = scratch, *yb = xb + (flags & CSQ_DNNL_X_BLOCKED ? 0 : c->xb_floats);
    float *pad = yb + (flags & CSQ_DNNL_Y_BLOCKED ? 0 : c->yb_floats);
    dnnl_exec_arg_t a[5];
    int n = 0, rc = 0, saved = 0;

    if (!c->impl[0])
        return -1;
    /* outside a parallel region oneDNN's reorders take omp_get_max_threads():
     * hold them to the node's count (-j 1 included) */
    if (!omp_in_parallel()) {
        saved = omp_get_max_threads();
        omp_set_num_threads(nt);
    }
    dnnl_memory_set_data_handle(s->x, (void *)x);
    dnnl_memory_set_data_handle(s->y, y);
    dnnl_memory_set_data_handle(s->w, (void *)wpacked);
    dnnl_memory_set_data_handle(s->pad, pad);
    if (xin) {
        dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, s->x}, {DNNL_ARG_TO, s->xb}};

        dnnl_memory_set_data_handle(s->xb, xb);
        rc = exec(c->rx, s->stream, 2, ra);
    } else if (c->rx) {
        dnnl_memory_set_data_handle(s->xb, (void *)x);     /* x is in xmd already */
    }
    if (c->ry)
        dnnl_memory_set_data_handle(s->yb, yout ? yb : y);
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, c->rx ? s->xb : s->x};
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, s->w};
    if (c->bias) {
        dnnl_memory_set_data_handle(s->b, (void *)bias);
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->b};
    }
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, c->ry ? s->yb : s->y};
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->pad};
    /* the sum post-op adds what y holds: r, copied while y is in cache */
    if (r)
        memcpy(y, r, dnnl_memory_desc_get_size(&c->ymd));
    rc = rc || exec(r ? c->conv_add : c->conv, s->stream, n, a);
    if (!rc && yout) {
        dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, s->yb}, {DNNL_ARG_TO, s->y}};

        rc = exec(c->ry, s->stream, 2, ra);
    }
    if (saved)
        omp_set_num_threads(saved);
    return rc;
}

#else   /* no oneDNN: op_conv.c keeps its own paths */

int csq_dnnl_enabled(void)
{
    return 0;
}

int csq_dnnl_conv_new(const struct csq_dnnl_geom *g, int nthreads, struct csq_dnnl_conv **out)
{
    (void)g;
    (void)nthreads;
    *out = NULL;
    return 0;
}

void csq_dnnl_conv_free(struct csq_dnnl_conv *c)
{
    (void)c;
}

size_t csq_dnnl_conv_packed(const struct csq_dnnl_conv *c)
{
    (void)c;
    return 0;
}

size_t csq_dnnl_conv_scratch(const struct csq_dnnl_conv *c, unsigned flags)
{
    (void)c;
    (void)flags;
    return 0;
}

void csq_dnnl_conv_pack(struct csq_dnnl_conv *c, const float *w, float *dst)
{
    (void)c;
    (void)w;
    (void)dst;
}

int csq_dnnl_conv_run(struct csq_dnnl_conv *c, int tid, const float *x, const float *wpacked,
                      const float *bias, float *y, float *scratch, int nt, unsigned flags,
                      const float *r)
{
    (void)c; (void)tid; (void)x; (void)wpacked; (void)bias; (void)y; (void)scratch; (void)nt;
    (void)flags; (void)r;
    return -1;
}

int csq_dnnl_conv_add(struct csq_dnnl_conv *c, int act, float lo, float hi)
{
    (void)c; (void)act; (void)lo; (void)hi;
    return 0;
}

void csq_dnnl_conv_blocks(const struct csq_dnnl_conv *c, int *xblk, int *yblk)
{
    (void)c;
    *xblk = *yblk = 0;
}

const char *csq_dnnl_conv_impl(const struct csq_dnnl_conv *c)
{
    (void)c;
    return "";
}

#endif
