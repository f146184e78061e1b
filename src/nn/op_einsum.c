/*
 * op_einsum: Einsum on float32, one or two operands, explicit or implicit
 * output, with or without an ellipsis (numpy's right-aligned broadcast
 * dims, which must agree in size across operands).  A two-operand contraction in which every letter
 * is a batch letter (both operands and the output), a free letter (one
 * operand and the output) or a contracted letter (both operands, not the
 * output) is a batch of sgemm calls, with operands and result permuted
 * through scratch only when their letters are not already in
 * [batch, M, K] / [batch, K, N] order (MaxViT's attention equations need
 * no copy).  Anything else (diagonals, sums over one operand) is summed
 * element by element over all letters.
 */
#include "config.h"

#include <string.h>

#include <cblas.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

#define NLET 52                     /* letters a-z A-Z */
#define NL (NLET + CSQ_MAX_RANK)    /* then the dims an ellipsis stands for */

struct eq {
    int nops;
    int nterm[2], term[2][CSQ_MAX_RANK];   /* letter ids of each operand */
    int nout, out[CSQ_MAX_RANK];
    int64_t dim[NL];
};

static int letter(int c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return 26 + c - 'A';
    return -1;
}

static int pos(const int *v, int n, int l)
{
    int i;

    for (i = 0; i < n; i++)
        if (v[i] == l)
            return i;
    return -1;
}

/* The ellipsis dims of an operand of rank r with nexpl letters take the
 * last ids of the NLET.. range, so operands align on the right. */
static int add_ellipsis(int *term, int *nterm, int r, int nexpl, int maxe)
{
    int e = r - nexpl, i;

    for (i = 0; i < e; i++)
        term[(*nterm)++] = NLET + (maxe - e) + i;
    return e;
}

static int parse(const struct csq_kargs *a, struct eq *q)
{
    const char *s = csq_node_string(a->node, "equation", NULL), *p;
    int cnt[NL] = { 0 }, side = 0, i, k, l, maxe = 0, ell[3] = { -1, -1, -1 }, nexpl[3] = { 0 };
    int lets[3][CSQ_MAX_RANK + 1], nlets[3] = { 0 };

    memset(q, 0, sizeof *q);
    if (!s)
        return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): attribute equation is required",
                        a->name);
    q->nops = 1;
    /* pass 1: letters of each term, where each ellipsis stands */
    for (p = s; *p; p++) {
        int t = side ? 2 : q->nops - 1;

        if (*p == ' ')
            continue;
        if (*p == ',' && !side) {
            if (++q->nops > 2)
                return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Einsum): more than 2 operands "
                                "in '%s'", a->name, s);
            continue;
        }
        if (p[0] == '-' && p[1] == '>' && !side) {
            side = 1;
            p++;
            continue;
        }
        if (p[0] == '.' && p[1] == '.' && p[2] == '.' && ell[t] < 0) {
            ell[t] = nlets[t];
            p += 2;
            continue;
        }
        if ((l = letter(*p)) < 0 || nlets[t] == CSQ_MAX_RANK)
            return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): bad equation '%s'", a->name, s);
        lets[t][nlets[t]++] = l;
        nexpl[t]++;
    }
    if (a->nin != q->nops)
        return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): %d inputs for %d operands", a->name,
                        a->nin, q->nops);
    for (k = 0; k < q->nops; k++) {
        int r = a->in[k] ? a->in[k]->rank : 0;

        if (ell[k] >= 0 && r - nexpl[k] > maxe)
            maxe = r - nexpl[k];
        if (ell[k] >= 0 && r < nexpl[k])
            return csq_fail(CSQ_ESHAPE, "node '%s' (Einsum): operand %d has rank %d, fewer "
                            "than its letters in '%s'", a->name, k, r, s);
    }
    /* pass 2: terms with the ellipsis dims in place */
    for (k = 0; k < q->nops; k++) {
        int r = a->in[k] ? a->in[k]->rank : 0;

        for (i = 0; i <= nlets[k]; i++) {
            if (i == ell[k])
                add_ellipsis(q->term[k], &q->nterm[k], r, nexpl[k], maxe);
            if (i < nlets[k])
                q->term[k][q->nterm[k]++] = lets[k][i];
        }
        for (i = 0; i < q->nterm[k]; i++)
            cnt[q->term[k][i]]++;
    }
    if (side) {
        for (i = 0; i <= nlets[2]; i++) {
            if (i == ell[2])
                for (l = 0; l < maxe; l++)
                    q->out[q->nout++] = NLET + l;
            if (i < nlets[2]) {
                if (pos(q->out, q->nout, lets[2][i]) >= 0)
                    return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): output letter repeated "
                                    "in '%s'", a->name, s);
                q->out[q->nout++] = lets[2][i];
            }
        }
    } else {
        /* implicit output: the ellipsis dims, then letters seen once in
         * alphabetical order ('A'..'Z' sort before 'a'..'z') */
        for (l = 0; l < maxe; l++)
            q->out[q->nout++] = NLET + l;
        for (l = 0; l < NLET; l++) {
            int c = l < 26 ? l + 26 : l - 26;

            if (cnt[c] == 1)
                q->out[q->nout++] = c;
        }
    }
    if (q->nout > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Einsum): output rank too large", a->name);
    for (i = 0; i < q->nout; i++)
        if (!cnt[q->out[i]])
            return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): output letter of '%s' is in no "
                            "operand", a->name, s);
    return 0;
}

/* Check operands against the equation and fill q->dim. */
static int bind_dims(const struct csq_kargs *a, struct eq *q)
{
    int k, i, rc;

    if ((rc = parse(a, q)) != 0)
        return rc;
    if (a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (Einsum): missing output", a->name);
    for (i = 0; i < NL; i++)
        q->dim[i] = -1;
    for (k = 0; k < q->nops; k++) {
        const struct csq_tensor *x = a->in[k];

        if (!x || x->dtype != CSQ_DT_FLOAT)
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Einsum): operand %d is not float32",
                            a->name, k);
        if (x->rank != q->nterm[k])
            return csq_fail(CSQ_ESHAPE, "node '%s' (Einsum): operand %d has rank %d, the "
                            "equation %d letters", a->name, k, x->rank, q->nterm[k]);
        for (i = 0; i < x->rank; i++) {
            int l = q->term[k][i];

            if (q->dim[l] >= 0 && q->dim[l] != x->dims[i])
                return csq_fail(CSQ_ESHAPE, "node '%s' (Einsum): letter '%c' is %lld and %lld",
                                a->name, l < 26 ? 'a' + l : l < NLET ? 'A' + l - 26 : '.',
                                (long long)q->dim[l], (long long)x->dims[i]);
            q->dim[l] = x->dims[i];
        }
    }
    return 0;
}

int csq_op_einsum_infer(struct csq_kargs *a)
{
    struct eq q;
    int i, rc;

    if ((rc = bind_dims(a, &q)) != 0)
        return rc;
    a->out[0]->dtype = CSQ_DT_FLOAT;
    a->out[0]->rank = q.nout;
    for (i = 0; i < q.nout; i++)
        a->out[0]->dims[i] = q.dim[q.out[i]];
    return 0;
}

/* The sgemm form: batch, M, N, K letters (in output order, K in operand 0's)
 * or 0 when the equation has none. */
struct mmform {
    int nb, nm, nn, nk;
    int b[CSQ_MAX_RANK], m[CSQ_MAX_RANK], n[CSQ_MAX_RANK], k[CSQ_MAX_RANK];
    int64_t batch, M, N, K;
};

static int mm_form(const struct eq *q, struct mmform *f)
{
    int i, l;

    memset(f, 0, sizeof *f);
    if (q->nops != 2)
        return 0;
    for (i = 0; i < q->nterm[0]; i++)
        if (pos(q->term[0], i, q->term[0][i]) >= 0)
            return 0;
    for (i = 0; i < q->nterm[1]; i++)
        if (pos(q->term[1], i, q->term[1][i]) >= 0)
            return 0;
    for (i = 0; i < q->nout; i++) {
        int in0 = pos(q->term[0], q->nterm[0], q->out[i]) >= 0;
        int in1 = pos(q->term[1], q->nterm[1], q->out[i]) >= 0;

        if (in0 && in1)
            f->b[f->nb++] = q->out[i];
        else if (in0)
            f->m[f->nm++] = q->out[i];
        else
            f->n[f->nn++] = q->out[i];
    }
    for (i = 0; i < q->nterm[0]; i++) {
        l = q->term[0][i];
        if (pos(q->out, q->nout, l) >= 0)
            continue;
        if (pos(q->term[1], q->nterm[1], l) < 0)
            return 0;
        f->k[f->nk++] = l;
    }
    for (i = 0; i < q->nterm[1]; i++) {
        l = q->term[1][i];
        if (pos(q->out, q->nout, l) < 0 && pos(q->term[0], q->nterm[0], l) < 0)
            return 0;
    }
    f->batch = f->M = f->N = f->K = 1;
    for (i = 0; i < f->nb; i++) f->batch *= q->dim[f->b[i]];
    for (i = 0; i < f->nm; i++) f->M *= q->dim[f->m[i]];
    for (i = 0; i < f->nn; i++) f->N *= q->dim[f->n[i]];
    for (i = 0; i < f->nk; i++) f->K *= q->dim[f->k[i]];
    return 1;
}

/* Does term equal the concatenation of groups g1 g2 g3? */
static int is_order(const int *term, int nterm, const int *g1, int n1, const int *g2, int n2,
                    const int *g3, int n3)
{
    int i;

    if (nterm != n1 + n2 + n3)
        return 0;
    for (i = 0; i < n1; i++)
        if (term[i] != g1[i])
            return 0;
    for (i = 0; i < n2; i++)
        if (term[n1 + i] != g2[i])
            return 0;
    for (i = 0; i < n3; i++)
        if (term[n1 + n2 + i] != g3[i])
            return 0;
    return 1;
}

/* dst (letters want[nw], contiguous) = src (letters have[], contiguous),
 * a permutation of the same letters. */
static void permute(float *dst, const float *src, const int *want, int nw, const int *have,
                    const int64_t *dim)
{
    int64_t st[CSQ_MAX_RANK], acc = 1, n = 1, i, cnt[CSQ_MAX_RANK] = { 0 }, off = 0;
    int d;

    /* stride in src of each letter of want */
    for (d = nw - 1; d >= 0; d--) {
        int e;

        acc = 1;
        for (e = nw - 1; have[e] != want[d]; e--)
            acc *= dim[have[e]];
        st[d] = acc;
        n *= dim[want[d]];
    }
    for (i = 0; i < n; i++) {
        dst[i] = src[off];
        for (d = nw - 1; d >= 0; d--) {
            off += st[d];
            if (++cnt[d] < dim[want[d]])
                break;
            off -= cnt[d] * st[d];
            cnt[d] = 0;
        }
    }
}

struct mmplan {
    struct mmform f;
    int ta, tb, pa, pb, pc;   /* transposed operand, permute operand / result */
    int wa[CSQ_MAX_RANK], wb[CSQ_MAX_RANK], wc[CSQ_MAX_RANK];
};

static void mm_plan(const struct eq *q, struct mmplan *p)
{
    struct mmform *f = &p->f;

    p->ta = p->tb = p->pa = p->pb = p->pc = 0;
    if (is_order(q->term[0], q->nterm[0], f->b, f->nb, f->k, f->nk, f->m, f->nm) &&
        !is_order(q->term[0], q->nterm[0], f->b, f->nb, f->m, f->nm, f->k, f->nk))
        p->ta = 1;
    else if (!is_order(q->term[0], q->nterm[0], f->b, f->nb, f->m, f->nm, f->k, f->nk))
        p->pa = 1;
    if (is_order(q->term[1], q->nterm[1], f->b, f->nb, f->n, f->nn, f->k, f->nk) &&
        !is_order(q->term[1], q->nterm[1], f->b, f->nb, f->k, f->nk, f->n, f->nn))
        p->tb = 1;
    else if (!is_order(q->term[1], q->nterm[1], f->b, f->nb, f->k, f->nk, f->n, f->nn))
        p->pb = 1;
    p->pc = !is_order(q->out, q->nout, f->b, f->nb, f->m, f->nm, f->n, f->nn);
    memcpy(p->wa, f->b, sizeof(int) * (size_t)f->nb);
    memcpy(p->wa + f->nb, f->m, sizeof(int) * (size_t)f->nm);
    memcpy(p->wa + f->nb + f->nm, f->k, sizeof(int) * (size_t)f->nk);
    memcpy(p->wb, f->b, sizeof(int) * (size_t)f->nb);
    memcpy(p->wb + f->nb, f->k, sizeof(int) * (size_t)f->nk);
    memcpy(p->wb + f->nb + f->nk, f->n, sizeof(int) * (size_t)f->nn);
    memcpy(p->wc, f->b, sizeof(int) * (size_t)f->nb);
    memcpy(p->wc + f->nb, f->m, sizeof(int) * (size_t)f->nm);
    memcpy(p->wc + f->nb + f->nm, f->n, sizeof(int) * (size_t)f->nn);
}

size_t csq_op_einsum_scratch(const struct csq_kargs *a)
{
    struct eq q;
    struct mmplan p;
    size_t s = 0;

    if (bind_dims(a, &q) != 0) {
        csq_errclear();
        return 0;
    }
    if (!mm_form(&q, &p.f))
        return 0;
    mm_plan(&q, &p);
    if (p.pa)
        s += (size_t)(p.f.batch * p.f.M * p.f.K);
    if (p.pb)
        s += (size_t)(p.f.batch * p.f.K * p.f.N);
    if (p.pc)
        s += (size_t)(p.f.batch * p.f.M * p.f.N);
    return s;
}

static void run_mm(struct csq_kargs *a, const struct eq *q, struct mmplan *p)
{
    const struct mmform *f = &p->f;
    const float *A = a->in[0]->data, *B = a->in[1]->data;
    float *C = a->out[0]->data, *sc = a->scratch;
    int64_t bi;

    if (p->pa) {
        permute(sc, A, p->wa, q->nterm[0], q->term[0], q->dim);
        A = sc;
        sc += f->batch * f->M * f->K;
    }
    if (p->pb) {
        permute(sc, B, p->wb, q->nterm[1], q->term[1], q->dim);
        B = sc;
        sc += f->batch * f->K * f->N;
    }
    if (p->pc)
        C = sc;
    if (f->K == 0)
        memset(C, 0, sizeof(float) * (size_t)(f->batch * f->M * f->N));
    else if (f->M > 0 && f->N > 0)
        for (bi = 0; bi < f->batch; bi++)
            cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans,
                        p->tb ? CblasTrans : CblasNoTrans, (int)f->M, (int)f->N, (int)f->K,
                        1.0f, A + bi * f->M * f->K, p->ta ? (int)f->M : (int)f->K,
                        B + bi * f->K * f->N, p->tb ? (int)f->K : (int)f->N, 0.0f,
                        C + bi * f->M * f->N, (int)f->N);
    if (p->pc)
        permute(a->out[0]->data, C, q->out, q->nout, p->wc, q->dim);
}

/* Every letter in an odometer; each output element sums its products. */
static void run_generic(struct csq_kargs *a, const struct eq *q)
{
    int used[NL], nl = 0, l, i, k;
    int64_t cnt[NL] = { 0 }, total = 1, ost[NL] = { 0 }, ist[2][NL], t, acc;
    float *o = a->out[0]->data;

    memset(ist, 0, sizeof ist);
    for (l = 0; l < NL; l++)
        if (q->dim[l] >= 0)
            used[nl++] = l;
    acc = 1;
    for (i = q->nout - 1; i >= 0; i--) {
        ost[q->out[i]] = acc;
        acc *= q->dim[q->out[i]];
    }
    memset(o, 0, sizeof(float) * (size_t)acc);
    for (k = 0; k < q->nops; k++) {
        acc = 1;
        for (i = q->nterm[k] - 1; i >= 0; i--) {
            ist[k][q->term[k][i]] += acc;   /* repeated letters: a diagonal */
            acc *= q->dim[q->term[k][i]];
        }
    }
    for (i = 0; i < nl; i++)
        total *= q->dim[used[i]];
    for (t = 0; t < total; t++) {
        int64_t oo = 0, io[2] = { 0, 0 }, rest = t;
        double v = 1.0;

        for (i = nl - 1; i >= 0; i--) {
            l = used[i];
            cnt[l] = rest % q->dim[l];
            rest /= q->dim[l];
            oo += cnt[l] * ost[l];
            io[0] += cnt[l] * ist[0][l];
            io[1] += cnt[l] * ist[1][l];
        }
        for (k = 0; k < q->nops; k++)
            v *= ((const float *)a->in[k]->data)[io[k]];
        o[oo] += (float)v;
    }
}

int csq_op_einsum_run(struct csq_kargs *a)
{
    struct eq q;
    struct mmplan p;

    if (bind_dims(a, &q) != 0)
        return CSQ_EINVAL;
    if (mm_form(&q, &p.f)) {
        mm_plan(&q, &p);
        run_mm(a, &q, &p);
    } else
        run_generic(a, &q);
    return 0;
}
