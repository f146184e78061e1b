/*
 * onnx: ModelProto (protobuf-c, generated at build time from Debian's
 * onnx.proto) -> struct csq_graph.  Checks everything the file could get
 * wrong before any pass or kernel sees it: opsets, tensor sizes against
 * their dims, defined inputs, duplicate outputs, supported operators.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"
#include "util/err.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/mem.h"

/* The operator set versions this code was checked against (DESIGN §4). */
#define OPSET_MIN 1
#define OPSET_MAX 21

/* --- name -> value index (open addressing; models have ~1e3 values) --- */

struct names {
    int *slot;          /* value index + 1, 0 = empty */
    size_t cap;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int names_find(const struct names *nm, const struct csq_graph *g, const char *s)
{
    size_t i = (size_t)hash_str(s) & (nm->cap - 1);

    while (nm->slot[i]) {
        if (strcmp(g->vals[nm->slot[i] - 1].name, s) == 0)
            return nm->slot[i] - 1;
        i = (i + 1) & (nm->cap - 1);
    }
    return -1;
}

static void names_put(struct names *nm, const char *s, int v)
{
    size_t i = (size_t)hash_str(s) & (nm->cap - 1);

    while (nm->slot[i])
        i = (i + 1) & (nm->cap - 1);
    nm->slot[i] = v + 1;
}

/* --- loader state --- */

struct loader {
    const char *file;
    struct csq_graph *g;
    struct names nm;
    int capvals;
    uint64_t weight_bytes;  /* initializers and constants converted so far */
};

static int add_value(struct loader *L, const char *name, int kind, int *out)
{
    struct csq_value *v;

    if (L->g->nvals == L->capvals) {
        int cap = L->capvals ? L->capvals * 2 : 64;
        v = csq_mem_rearray(L->g->vals, (size_t)cap, sizeof *v);
        if (!v)
            return CSQ_ENOMEM;
        L->g->vals = v;
        L->capvals = cap;
    }
    v = &L->g->vals[L->g->nvals];
    memset(v, 0, sizeof *v);
    v->name = csq_mem_strdup(name);
    if (!v->name)
        return CSQ_ENOMEM;
    v->kind = kind;
    v->producer = -1;
    v->t.rank = -1;
    names_put(&L->nm, v->name, L->g->nvals);
    *out = L->g->nvals++;
    return CSQ_OK;
}

/* Product of dims with overflow and sign checks. */
static int dims_numel(const char *file, const char *what, const int64_t *dims,
                      size_t n, int64_t *numel)
{
    int64_t p = 1;
    size_t i;

    if (n > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': tensor '%s' has rank %zu (at most %d supported)",
                        file, what, n, CSQ_MAX_RANK);
    for (i = 0; i < n; i++) {
        if (dims[i] < 0)
            return csq_fail(CSQ_EFORMAT, "'%s': tensor '%s' has a negative dimension",
                            file, what);
        if (dims[i] != 0 && p > INT64_MAX / 8 / dims[i])
            return csq_fail(CSQ_EFORMAT, "'%s': tensor '%s': dimensions overflow", file, what);
        p *= dims[i];
    }
    *numel = p;
    return CSQ_OK;
}

/*
 * TensorProto -> csq_tensor with owned data.  int32 / double / bool are
 * widened or narrowed to the three types kernels handle; anything else is
 * refused, since no supported operator reads it.
 */
static int convert_tensor(const char *file, const Onnx__TensorProto *tp,
                          struct csq_tensor *t, uint64_t *used)
{
    const char *nm = tp->name && *tp->name ? tp->name : "(unnamed)";
    int64_t numel = 0, i;
    int src = tp->has_data_type ? tp->data_type : 0;
    size_t esize, have;
    const unsigned char *raw = tp->has_raw_data ? tp->raw_data.data : NULL;
    size_t rawlen = tp->has_raw_data ? tp->raw_data.len : 0;
    int rc;

    memset(t, 0, sizeof *t);
    if (tp->has_data_location &&
        tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': tensor '%s' keeps its data in an external file",
                        file, nm);
    if ((rc = dims_numel(file, nm, tp->dims, tp->n_dims, &numel)) != 0)
        return rc;
    t->rank = (int)tp->n_dims;
    for (i = 0; i < t->rank; i++)
        t->dims[i] = tp->dims[i];

    switch (src) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        t->dtype = CSQ_DT_FLOAT; esize = 4; have = tp->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        t->dtype = CSQ_DT_FLOAT; esize = 8; have = tp->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        t->dtype = CSQ_DT_INT64; esize = 8; have = tp->n_int64_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
        t->dtype = CSQ_DT_INT64; esize = 4; have = tp->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        t->dtype = CSQ_DT_BOOL; esize = 1; have = tp->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        t->dtype = CSQ_DT_UINT8; esize = 1; have = tp->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        t->dtype = CSQ_DT_INT8; esize = 1; have = tp->n_int32_data; break;
    case CSQ_DT_UINT4:
    case CSQ_DT_INT4:
        /* onnx.proto of ONNX 1.12 predates the 4-bit types: the numbers
         * are ONNX 1.16's; two values per byte, low nibble first */
        t->dtype = src; esize = 0; have = tp->n_int32_data; break;
    default:
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': tensor '%s' has data type %d "
                        "(float, double, int8, uint8, int4, uint4, int32, int64 and bool "
                        "are supported)", file, nm, src);
    }
    if (esize == 0) {
        /* packed 4-bit data: int32_data also holds two per entry */
        uint64_t need = ((uint64_t)numel + 1) / 2;
        if ((raw ? (uint64_t)rawlen : (uint64_t)have) != need)
            return csq_fail(CSQ_EFORMAT, "'%s': tensor '%s' has %zu bytes of 4-bit data, "
                            "its dims need %lld", file, nm, raw ? rawlen : have,
                            (long long)need);
    } else if (raw) {
        if ((uint64_t)rawlen != (uint64_t)numel * esize)
            return csq_fail(CSQ_EFORMAT, "'%s': tensor '%s' has %zu bytes of data, "
                            "its dims need %lld", file, nm, rawlen,
                            (long long)((uint64_t)numel * esize));
    } else if ((int64_t)have != numel) {
        return csq_fail(CSQ_EFORMAT, "'%s': tensor '%s' has %zu values, its dims need %lld",
                        file, nm, have, (long long)numel);
    }
    /* *used sums the model's weights so far: refuse before allocating the
     * copy that would cross the memory limit. */
    *used += (uint64_t)numel * csq_dtype_size(t->dtype);
    if (*used > csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "'%s': model needs at least %.2f MiB for its weights, over "
                        "the memory limit of %.2f MiB", file, *used / 1048576.0,
                        csq_limit_memory() / 1048576.0);
    t->data = csq_mem_array((size_t)(numel ? numel : 1), csq_dtype_size(t->dtype));
    if (!t->data)
        return CSQ_ENOMEM;
    /* Little-endian raw data, as ONNX specifies; memcpy avoids unaligned reads. */
    for (i = 0; i < numel; i++) {
        switch (src) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
            float f;
            if (raw) memcpy(&f, raw + 4 * i, 4); else f = tp->float_data[i];
            ((float *)t->data)[i] = f;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
            double d;
            if (raw) memcpy(&d, raw + 8 * i, 8); else d = tp->double_data[i];
            ((float *)t->data)[i] = (float)d;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
            int64_t v;
            if (raw) memcpy(&v, raw + 8 * i, 8); else v = tp->int64_data[i];
            ((int64_t *)t->data)[i] = v;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
            int32_t v;
            if (raw) memcpy(&v, raw + 4 * i, 4); else v = tp->int32_data[i];
            ((int64_t *)t->data)[i] = v;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
            ((unsigned char *)t->data)[i] = raw ? raw[i] : (unsigned char)tp->int32_data[i];
            break;
        case CSQ_DT_UINT4:
        case CSQ_DT_INT4: {
            unsigned b = raw ? raw[i / 2] : (unsigned)tp->int32_data[i / 2];
            unsigned nib = (i & 1 ? b >> 4 : b) & 15u;
            ((int8_t *)t->data)[i] = (int8_t)(src == CSQ_DT_INT4 && nib > 7 ? (int)nib - 16
                                                                           : (int)nib);
            break;
        }
        default:
            ((unsigned char *)t->data)[i] = raw ? raw[i] != 0 : tp->int32_data[i] != 0;
        }
    }
    return CSQ_OK;
}

static int convert_attr(struct loader *L, const char *node, const Onnx__AttributeProto *ap,
                        struct csq_attr *a)
{
    size_t i;

    memset(a, 0, sizeof *a);
    a->name = csq_mem_strdup(ap->name ? ap->name : "");
    if (!a->name)
        return CSQ_ENOMEM;
    a->type = ap->has_type ? (int)ap->type : 0;
    switch (a->type) {
    case CSQ_ATTR_FLOAT:
        a->f = ap->f;
        break;
    case CSQ_ATTR_INT:
        a->i = ap->i;
        break;
    case CSQ_ATTR_STRING:
        a->s = malloc(ap->s.len + 1);
        if (!a->s)
            return csq_fail(CSQ_ENOMEM, "out of memory");
        if (ap->s.len)
            memcpy(a->s, ap->s.data, ap->s.len);
        a->s[ap->s.len] = '\0';
        break;
    case CSQ_ATTR_TENSOR:
        if (!ap->t)
            return csq_fail(CSQ_EFORMAT, "'%s': node '%s': attribute '%s' has no tensor",
                            L->file, node, a->name);
        return convert_tensor(L->file, ap->t, &a->t, &L->weight_bytes);
    case CSQ_ATTR_FLOATS:
        a->n = ap->n_floats;
        a->floats = csq_mem_array(a->n ? a->n : 1, sizeof(float));
        if (!a->floats)
            return CSQ_ENOMEM;
        for (i = 0; i < a->n; i++)
            a->floats[i] = ap->floats[i];
        break;
    case CSQ_ATTR_INTS:
        a->n = ap->n_ints;
        a->ints = csq_mem_array(a->n ? a->n : 1, sizeof(int64_t));
        if (!a->ints)
            return CSQ_ENOMEM;
        for (i = 0; i < a->n; i++)
            a->ints[i] = ap->ints[i];
        break;
    default:
        /* Graph-, string-list- and sparse-valued attributes belong to
         * operators we refuse anyway; keep the name only. */
        a->type = 0;
        break;
    }
    return CSQ_OK;
}

/*
 * Constant nodes become initializers: folding and the engine then need no
 * special case for them.
 */
static int load_constant(struct loader *L, const Onnx__NodeProto *np)
{
    const Onnx__AttributeProto *ap = np->n_attribute == 1 ? np->attribute[0] : NULL;
    const char *nm = np->name && *np->name ? np->name
                     : np->n_output > 0 && np->output[0] ? np->output[0] : "";
    struct csq_tensor t;
    int rc, v;
    size_t i;

    memset(&t, 0, sizeof t);
    if (!ap || !ap->name)
        return csq_fail(CSQ_EFORMAT, "'%s': Constant node '%s' needs exactly one attribute",
                        L->file, nm);
    if (strcmp(ap->name, "value") == 0 && ap->t) {
        if ((rc = convert_tensor(L->file, ap->t, &t, &L->weight_bytes)) != 0)
            return rc;
    } else if (strcmp(ap->name, "value_float") == 0 || strcmp(ap->name, "value_int") == 0) {
        int isf = ap->name[6] == 'f';
        t.dtype = isf ? CSQ_DT_FLOAT : CSQ_DT_INT64;
        t.rank = 0;
        t.data = csq_mem_array(1, 8);
        if (!t.data)
            return CSQ_ENOMEM;
        if (isf)
            *(float *)t.data = ap->f;
        else
            *(int64_t *)t.data = ap->i;
    } else if (strcmp(ap->name, "value_floats") == 0 || strcmp(ap->name, "value_ints") == 0) {
        int isf = ap->name[6] == 'f';
        size_t n = isf ? ap->n_floats : ap->n_ints;
        t.dtype = isf ? CSQ_DT_FLOAT : CSQ_DT_INT64;
        t.rank = 1;
        t.dims[0] = (int64_t)n;
        t.data = csq_mem_array(n ? n : 1, 8);
        if (!t.data)
            return CSQ_ENOMEM;
        for (i = 0; i < n; i++) {
            if (isf)
                ((float *)t.data)[i] = ap->floats[i];
            else
                ((int64_t *)t.data)[i] = ap->ints[i];
        }
    } else {
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': Constant node '%s': attribute '%s' "
                        "is not supported", L->file, nm, ap->name);
    }
    if (np->n_output != 1 || !np->output[0] || !*np->output[0]) {
        free(t.data);
        return csq_fail(CSQ_EFORMAT, "'%s': Constant node '%s' needs one output", L->file, nm);
    }
    if (names_find(&L->nm, L->g, np->output[0]) >= 0) {
        free(t.data);
        return csq_fail(CSQ_EFORMAT, "'%s': value '%s' is defined twice", L->file,
                        np->output[0]);
    }
    if ((rc = add_value(L, np->output[0], CSQ_VAL_INIT, &v)) != 0) {
        free(t.data);
        return rc;
    }
    L->g->vals[v].t = t;
    return CSQ_OK;
}

static int load_initializers(struct loader *L, const Onnx__GraphProto *gp)
{
    size_t i;
    int rc, v;

    for (i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        struct csq_tensor t;

        if (!tp->name || !*tp->name)
            return csq_fail(CSQ_EFORMAT, "'%s': initializer %zu has no name", L->file, i);
        if (names_find(&L->nm, L->g, tp->name) >= 0)
            return csq_fail(CSQ_EFORMAT, "'%s': initializer '%s' is defined twice",
                            L->file, tp->name);
        if ((rc = convert_tensor(L->file, tp, &t, &L->weight_bytes)) != 0)
            return rc;
        if ((rc = add_value(L, tp->name, CSQ_VAL_INIT, &v)) != 0) {
            free(t.data);
            return rc;
        }
        L->g->vals[v].t = t;
    }
    return CSQ_OK;
}

static int load_inputs(struct loader *L, const Onnx__GraphProto *gp)
{
    size_t i, d;
    int rc, v;

    L->g->inputs = csq_mem_array(gp->n_input ? gp->n_input : 1, sizeof(int));
    if (!L->g->inputs)
        return CSQ_ENOMEM;
    for (i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const Onnx__TypeProto__Tensor *tt;
        struct csq_value *val;

        if (!vi->name || !*vi->name)
            return csq_fail(CSQ_EFORMAT, "'%s': graph input %zu has no name", L->file, i);
        /* Old exporters list initializers as inputs too: those are weights. */
        if (names_find(&L->nm, L->g, vi->name) >= 0)
            continue;
        if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !(tt = vi->type->tensor_type))
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': input '%s' is not a tensor",
                            L->file, vi->name);
        if (tt->shape && tt->shape->n_dim > CSQ_MAX_RANK)
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': input '%s' has rank %zu", L->file,
                            vi->name, tt->shape->n_dim);
        if ((rc = add_value(L, vi->name, CSQ_VAL_INPUT, &v)) != 0)
            return rc;
        val = &L->g->vals[v];
        switch (tt->has_elem_type ? tt->elem_type : 0) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: val->t.dtype = CSQ_DT_FLOAT; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: val->t.dtype = CSQ_DT_INT64; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: val->t.dtype = CSQ_DT_BOOL; break;
        /* held as initializers of these types are (convert_tensor) */
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: val->t.dtype = CSQ_DT_INT64; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: val->t.dtype = CSQ_DT_FLOAT; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        case CSQ_DT_UINT4: case CSQ_DT_INT4:
            val->t.dtype = tt->elem_type;
            break;
        default:
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': input '%s' has data type %d "
                            "(float, double, int8, uint8, int4, uint4, int32, int64 and bool "
                            "are supported)", L->file, vi->name,
                            tt->has_elem_type ? tt->elem_type : 0);
        }
        /* No shape at all: rank and dims come from what is fed. */
        val->t.rank = tt->shape ? (int)tt->shape->n_dim : -1;
        val->decl_rank = val->t.rank;
        for (d = 0; tt->shape && d < tt->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[d];
            int64_t x = -1;
            if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                x = dm->dim_value;
            if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && x < 0)
                return csq_fail(CSQ_EFORMAT, "'%s': input '%s' has a negative dimension",
                                L->file, vi->name);
            val->decl_dims[d] = x;
        }
        L->g->inputs[L->g->ninputs++] = v;
    }
    return CSQ_OK;
}

static int load_nodes(struct loader *L, const Onnx__GraphProto *gp)
{
    struct csq_graph *g = L->g;
    size_t i, j;
    int rc, v;

    g->nodes = csq_mem_zarray(gp->n_node ? gp->n_node : 1, sizeof *g->nodes);
    if (!g->nodes)
        return CSQ_ENOMEM;
    /* Pass 1: every output becomes a value, so inputs may refer forward
     * (the file need not be sorted; csq_graph_check sorts it). */
    for (i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        const char *dom = np->domain ? np->domain : "";
        const char *label = np->name && *np->name ? np->name : np->op_type;
        struct csq_node *n;

        if (!np->op_type)
            return csq_fail(CSQ_EFORMAT, "'%s': node %zu has no op_type", L->file, i);
        if (*dom && strcmp(dom, "ai.onnx") != 0)
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': node '%s': operator '%s' of domain '%s' "
                            "is not supported", L->file, label, np->op_type, dom);
        if (strcmp(np->op_type, "Constant") == 0) {
            if ((rc = load_constant(L, np)) != 0)
                return rc;
            continue;
        }
        n = &g->nodes[g->nnodes];
        n->layer = -1;
        n->name = csq_mem_strdup(np->name ? np->name : "");
        n->op_type = csq_mem_strdup(np->op_type);
        if (!n->name || !n->op_type)
            return CSQ_ENOMEM;
        g->nnodes++;
        n->op = csq_ops_find(np->op_type);
        if (n->op < 0)
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': node '%s': operator '%s' (opset %lld) "
                            "is not supported", L->file, label, np->op_type,
                            (long long)g->opset);
        /* Every supported operator's first output is required, and
         * kernels write out[0] without checking. */
        if (np->n_output < 1 || !np->output[0] || !*np->output[0])
            return csq_fail(CSQ_EFORMAT, "'%s': node '%s' has no output", L->file, label);
        /* Before opset 7, Add / Sub / Mul / Div / Gemm broadcast only with
         * broadcast=1, aligning B at `axis`; without an axis that is the
         * numpy rule our kernels follow, with one it is not. */
        if (g->opset < 7) {
            size_t k;
            for (k = 0; k < np->n_attribute; k++)
                if (np->attribute[k]->name && strcmp(np->attribute[k]->name, "axis") == 0 &&
                    (!strcmp(np->op_type, "Add") || !strcmp(np->op_type, "Sub") ||
                     !strcmp(np->op_type, "Mul") || !strcmp(np->op_type, "Div")))
                    return csq_fail(CSQ_EUNSUPPORTED, "'%s': node '%s': legacy broadcasting "
                                    "with an axis (opset %lld) is not supported", L->file,
                                    label, (long long)g->opset);
        }
        if (np->n_input > CSQ_MAX_IO || np->n_output > CSQ_MAX_IO)
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': node '%s' has more than %d inputs "
                            "or outputs", L->file, label, CSQ_MAX_IO);
        n->nin = (int)np->n_input;
        n->nout = (int)np->n_output;
        n->in = csq_mem_array(np->n_input ? np->n_input : 1, sizeof(int));
        n->out = csq_mem_array(np->n_output ? np->n_output : 1, sizeof(int));
        n->attrs = csq_mem_zarray(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs);
        if (!n->in || !n->out || !n->attrs)
            return CSQ_ENOMEM;
        for (j = 0; j < np->n_attribute; j++) {
            n->nattrs++;
            if ((rc = convert_attr(L, label, np->attribute[j], &n->attrs[j])) != 0)
                return rc;
        }
        for (j = 0; j < np->n_output; j++) {
            const char *o = np->output[j];
            if (!o || !*o) {
                n->out[j] = -1;     /* optional output not requested */
                continue;
            }
            if (names_find(&L->nm, g, o) >= 0)
                return csq_fail(CSQ_EFORMAT, "'%s': node '%s': value '%s' is defined twice",
                                L->file, label, o);
            if ((rc = add_value(L, o, CSQ_VAL_RUNTIME, &v)) != 0)
                return rc;
            g->vals[v].producer = g->nnodes - 1;
            n->out[j] = v;
        }
    }
    /* Pass 2: resolve inputs. */
    for (i = 0, j = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        struct csq_node *n;
        size_t k;

        if (strcmp(np->op_type, "Constant") == 0)
            continue;
        n = &g->nodes[j++];
        for (k = 0; k < np->n_input; k++) {
            const char *s = np->input[k];
            if (!s || !*s) {
                n->in[k] = -1;
                continue;
            }
            v = names_find(&L->nm, g, s);
            if (v < 0)
                return csq_fail(CSQ_EFORMAT, "'%s': node '%s' reads undefined input '%s'",
                                L->file, *n->name ? n->name : n->op_type, s);
            n->in[k] = v;
            g->vals[v].nconsumers++;
        }
    }
    return CSQ_OK;
}

static int load_outputs(struct loader *L, const Onnx__GraphProto *gp)
{
    size_t i;
    int v;

    if (gp->n_output == 0)
        return csq_fail(CSQ_EFORMAT, "'%s': the graph has no output", L->file);
    L->g->outputs = csq_mem_array(gp->n_output, sizeof(int));
    if (!L->g->outputs)
        return CSQ_ENOMEM;
    for (i = 0; i < gp->n_output; i++) {
        const char *s = gp->output[i]->name;
        v = s ? names_find(&L->nm, L->g, s) : -1;
        if (v < 0)
            return csq_fail(CSQ_EFORMAT, "'%s': graph output '%s' is never computed",
                            L->file, s ? s : "");
        L->g->vals[v].nconsumers++;
        L->g->outputs[L->g->noutputs++] = v;
    }
    return CSQ_OK;
}

static int load_meta(struct loader *L, const Onnx__ModelProto *mp)
{
    size_t i;

    if (!mp->n_metadata_props)
        return CSQ_OK;
    L->g->meta = csq_mem_zarray(mp->n_metadata_props, sizeof *L->g->meta);
    if (!L->g->meta)
        return CSQ_ENOMEM;
    for (i = 0; i < mp->n_metadata_props; i++) {
        struct csq_meta *m = &L->g->meta[L->g->nmeta++];
        m->key = csq_mem_strdup(mp->metadata_props[i]->key ? mp->metadata_props[i]->key : "");
        m->value = csq_mem_strdup(mp->metadata_props[i]->value ?
                                  mp->metadata_props[i]->value : "");
        if (!m->key || !m->value)
            return CSQ_ENOMEM;
    }
    return CSQ_OK;
}

static int find_opset(struct loader *L, const Onnx__ModelProto *mp)
{
    size_t i;

    const char *other = NULL;

    for (i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0)
            L->g->opset = o->has_version ? o->version : 0;
        else
            other = o->domain;
    }
    if (L->g->opset == 0 && other)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': the model uses only operators of domain "
                        "'%s'", L->file, other);
    if (L->g->opset == 0)
        return csq_fail(CSQ_EFORMAT, "'%s': the model imports no ai.onnx operator set", L->file);
    if (L->g->opset < OPSET_MIN || L->g->opset > OPSET_MAX)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': operator set %lld is not supported "
                        "(%d to %d are)", L->file, (long long)L->g->opset, OPSET_MIN, OPSET_MAX);
    return CSQ_OK;
}

int csq_onnx_load_mem(const unsigned char *buf, size_t len, const char *name,
                      unsigned flags, struct csq_graph **out)
{
    struct loader L;
    Onnx__ModelProto *mp;
    const Onnx__GraphProto *gp;
    size_t cap = 16, nv;
    int rc;

    *out = NULL;
    if (len == 0)
        return csq_fail(CSQ_EFORMAT, "'%s': empty file", name);
    mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp)
        return csq_fail(CSQ_EFORMAT, "'%s': not an ONNX model (cannot decode it; "
                        "truncated or another kind of file)", name);
    gp = mp->graph;
    if (!gp || !mp->has_ir_version || mp->n_opset_import == 0) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return csq_fail(CSQ_EFORMAT, "'%s': not an ONNX model (no graph, IR version "
                        "or operator set)", name);
    }
    memset(&L, 0, sizeof L);
    L.file = name;
    L.g = csq_mem_zarray(1, sizeof *L.g);
    if (!L.g) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return CSQ_ENOMEM;
    }
    nv = gp->n_initializer + gp->n_input + gp->n_node * 2 + 16;
    while (cap < nv * 2)
        cap *= 2;
    L.nm.cap = cap;
    L.nm.slot = csq_mem_zarray(cap, sizeof(int));
    L.g->path = csq_mem_strdup(name);
    L.g->producer = csq_mem_strdup(mp->producer_name ? mp->producer_name : "");
    if (!L.nm.slot || !L.g->path || !L.g->producer) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = find_opset(&L, mp)) != 0 ||
        (rc = load_meta(&L, mp)) != 0 ||
        (rc = load_initializers(&L, gp)) != 0 ||
        (rc = load_inputs(&L, gp)) != 0 ||
        (rc = load_nodes(&L, gp)) != 0 ||
        (rc = load_outputs(&L, gp)) != 0)
        goto out;
    /* Bind once before folding BN and finding layers: torch sometimes
     * feeds weights through Identity nodes, constant only after folding. */
    if ((rc = csq_graph_check(L.g)) != 0)
        goto out;
    if (flags & CSQ_ONNX_NO_BIND) {
        if ((rc = csq_graph_fold_bn(L.g)) != 0 ||
            (rc = csq_graph_find_layers(L.g)) != 0 ||
            (rc = csq_graph_fuse(L.g)) != 0)
            goto out;
    } else if ((rc = csq_graph_bind(L.g, 1)) != 0 ||
               (rc = csq_graph_freeze(L.g)) != 0 ||
               (rc = csq_graph_fold_bn(L.g)) != 0 ||
               (rc = csq_graph_find_layers(L.g)) != 0 ||
               (rc = csq_graph_fuse(L.g)) != 0 ||
               (rc = csq_graph_bind(L.g, 1)) != 0) {
        goto out;
    }
out:
    free(L.nm.slot);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (rc != CSQ_OK) {
        csq_graph_free(L.g);
        return rc;
    }
    *out = L.g;
    return CSQ_OK;
}

int csq_onnx_load(const char *path, struct csq_graph **out)
{
    return csq_onnx_load_flags(path, 0, out);
}

int csq_onnx_load_flags(const char *path, unsigned flags, struct csq_graph **out)
{
    unsigned char *buf;
    size_t len;
    int rc;

    *out = NULL;
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    rc = csq_onnx_load_mem(buf, len, path, flags, out);
    free(buf);
    return rc;
}

int csq_onnx_read_tensor(const char *path, struct csq_tensor *t, char **name,
                         int *file_dtype)
{
    unsigned char *buf;
    size_t len;
    Onnx__TensorProto *tp;
    uint64_t used = 0;
    int rc;

    memset(t, 0, sizeof *t);
    if (name)
        *name = NULL;
    if ((rc = csq_file_read(path, &buf, &len)) != 0)
        return rc;
    tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp)
        return csq_fail(CSQ_EFORMAT, "'%s': not a serialized ONNX tensor", path);
    if (file_dtype)
        *file_dtype = tp->has_data_type ? tp->data_type : 0;
    rc = convert_tensor(path, tp, t, &used);
    if (rc == CSQ_OK && name) {
        *name = csq_mem_strdup(tp->name ? tp->name : "");
        if (!*name) {
            free(t->data);
            t->data = NULL;
            rc = CSQ_ENOMEM;
        }
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return rc;
}

/* --- writer: graph -> ModelProto (see onnx.h) --- */

/* Every message and array of one write comes from this pool, freed at once. */
struct wpool {
    void **p;
    size_t n, cap;
    int failed;
};

static void *palloc(struct wpool *P, size_t n, size_t size)
{
    void *q;

    if (P->failed)
        return NULL;
    if (P->n == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 256;
        void **np = csq_mem_rearray(P->p, cap, sizeof *np);
        if (!np) {
            P->failed = 1;
            return NULL;
        }
        P->p = np;
        P->cap = cap;
    }
    q = csq_mem_zarray(n ? n : 1, size);
    if (!q) {
        P->failed = 1;
        return NULL;
    }
    P->p[P->n++] = q;
    return q;
}

static char *pstr(struct wpool *P, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = palloc(P, n, 1);

    if (d)
        memcpy(d, s, n);
    return d;
}

static void pool_free(struct wpool *P)
{
    size_t i;

    for (i = 0; i < P->n; i++)
        free(P->p[i]);
    free(P->p);
}

/* The IR version a reader needs for an opset (onnx/helper.py's table). */
static int64_t ir_for_opset(int64_t opset)
{
    return opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 12 ? 7 : 6;
}

static Onnx__TensorProto *w_tensor(struct wpool *P, const char *name,
                                   const struct csq_tensor *t)
{
    Onnx__TensorProto *tp = palloc(P, 1, sizeof *tp);
    int64_t n = csq_tensor_numel(t), i;
    size_t bytes;
    unsigned char *raw;
    int d;

    if (!tp)
        return NULL;
    onnx__tensor_proto__init(tp);
    tp->name = pstr(P, name);
    tp->has_data_type = 1;
    tp->data_type = t->dtype;
    tp->n_dims = (size_t)t->rank;
    tp->dims = palloc(P, (size_t)t->rank, sizeof(int64_t));
    for (d = 0; tp->dims && d < t->rank; d++)
        tp->dims[d] = t->dims[d];
    if (t->dtype == CSQ_DT_INT4 || t->dtype == CSQ_DT_UINT4)
        bytes = (size_t)(n + 1) / 2;
    else
        bytes = (size_t)n * csq_dtype_size(t->dtype);
    raw = palloc(P, bytes, 1);
    if (!raw)
        return NULL;
    if (t->dtype == CSQ_DT_INT4 || t->dtype == CSQ_DT_UINT4) {
        /* two per byte, element 2k in the low nibble */
        for (i = 0; i < n; i++)
            raw[i / 2] |= (unsigned char)((((const uint8_t *)t->data)[i] & 15u) << (i & 1 ? 4 : 0));
    } else if (bytes) {
        memcpy(raw, t->data, bytes);   /* little-endian, as the reader assumes */
    }
    tp->has_raw_data = 1;
    tp->raw_data.data = raw;
    tp->raw_data.len = bytes;
    return P->failed ? NULL : tp;
}

static Onnx__AttributeProto *w_attr(struct wpool *P, const struct csq_attr *a)
{
    Onnx__AttributeProto *ap = palloc(P, 1, sizeof *ap);
    size_t i;

    if (!ap)
        return NULL;
    onnx__attribute_proto__init(ap);
    ap->name = pstr(P, a->name);
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    switch (a->type) {
    case CSQ_ATTR_FLOAT: ap->has_f = 1; ap->f = a->f; break;
    case CSQ_ATTR_INT: ap->has_i = 1; ap->i = a->i; break;
    case CSQ_ATTR_STRING:
        ap->has_s = 1;
        ap->s.data = (uint8_t *)pstr(P, a->s ? a->s : "");
        ap->s.len = a->s ? strlen(a->s) : 0;
        break;
    case CSQ_ATTR_TENSOR: ap->t = w_tensor(P, "", &a->t); break;
    case CSQ_ATTR_FLOATS:
        ap->n_floats = a->n;
        ap->floats = palloc(P, a->n, sizeof(float));
        for (i = 0; ap->floats && i < a->n; i++)
            ap->floats[i] = a->floats[i];
        break;
    case CSQ_ATTR_INTS:
        ap->n_ints = a->n;
        ap->ints = palloc(P, a->n, sizeof(int64_t));
        for (i = 0; ap->ints && i < a->n; i++)
            ap->ints[i] = a->ints[i];
        break;
    default:
        return NULL;
    }
    return ap;
}

static Onnx__NodeProto *w_node(struct wpool *P, const char *op, const char *name, int nin,
                               int nout)
{
    Onnx__NodeProto *np = palloc(P, 1, sizeof *np);

    if (!np)
        return NULL;
    onnx__node_proto__init(np);
    np->op_type = pstr(P, op);
    np->name = pstr(P, name);
    np->domain = pstr(P, "");
    np->n_input = (size_t)nin;
    np->input = palloc(P, (size_t)nin, sizeof(char *));
    np->n_output = (size_t)nout;
    np->output = palloc(P, (size_t)nout, sizeof(char *));
    return np;
}

/* A tensor value_info with the dims of t, dim 0 symbolic when sym. */
static Onnx__ValueInfoProto *w_valueinfo(struct wpool *P, const char *name, int dtype,
                                         int rank, const int64_t *dims, int sym0)
{
    Onnx__ValueInfoProto *vi = palloc(P, 1, sizeof *vi);
    Onnx__TypeProto *tp = palloc(P, 1, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = palloc(P, 1, sizeof *tt);
    Onnx__TensorShapeProto *sh = palloc(P, 1, sizeof *sh);
    int d;

    if (!vi || !tp || !tt || !sh)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    vi->name = pstr(P, name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    if (rank < 0)
        return vi;              /* no shape declared */
    tt->shape = sh;
    sh->n_dim = (size_t)rank;
    sh->dim = palloc(P, (size_t)rank, sizeof *sh->dim);
    for (d = 0; sh->dim && d < rank; d++) {
        Onnx__TensorShapeProto__Dimension *dm = palloc(P, 1, sizeof *dm);
        if (!dm)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(dm);
        if (dims[d] < 0 || (d == 0 && sym0)) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = pstr(P, d == 0 ? "batch" : "dim");
        } else {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = dims[d];
        }
        sh->dim[d] = dm;
    }
    return vi;
}

/* The dead Relu or Clip a fused node absorbed (csq_graph_fuse): its first
 * input is the value between. */
static const struct csq_node *fused_act_of(const struct csq_graph *g, const struct csq_node *p)
{
    const char *op = p->fused_relu == 2 ? "Clip" : "Relu";
    int i;

    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *r = &g->nodes[i];
        if (r->dead && strcmp(r->op_type, op) == 0 && r->nout == 1 &&
            r->out[0] == p->out[0] && r->nin >= 1 && r->in[0] >= 0)
            return r;
    }
    return NULL;
}

/* Node n's attributes into np; a status. */
static int w_attrs(struct wpool *P, Onnx__NodeProto *np, const struct csq_node *n)
{
    int k;

    np->attribute = palloc(P, (size_t)n->nattrs, sizeof *np->attribute);
    for (k = 0; np->attribute && k < n->nattrs; k++) {
        if (n->attrs[k].type == 0)
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s': attribute '%s' cannot be written",
                            n->name, n->attrs[k].name);
        np->attribute[np->n_attribute++] = w_attr(P, &n->attrs[k]);
    }
    return CSQ_OK;
}

static int w_add(struct wpool *P, Onnx__GraphProto *gp, const struct csq_onnx_add *a)
{
    Onnx__NodeProto *np = w_node(P, a->op_type, a->name, a->nin, 1);
    int k;

    if (!np)
        return CSQ_ENOMEM;
    for (k = 0; k < a->nin; k++)
        np->input[k] = pstr(P, a->in[k] ? a->in[k] : "");
    np->output[0] = pstr(P, a->out);
    if (a->axis >= 0) {
        struct csq_attr ax = { .name = (char *)"axis", .type = CSQ_ATTR_INT, .i = a->axis };
        np->n_attribute = 1;
        np->attribute = palloc(P, 1, sizeof *np->attribute);
        if (np->attribute)
            np->attribute[0] = w_attr(P, &ax);
    }
    gp->node[gp->n_node++] = np;
    return P->failed ? CSQ_ENOMEM : CSQ_OK;
}

static int w_graph_node(struct wpool *P, Onnx__GraphProto *gp, const struct csq_graph *g,
                        int i, const struct csq_onnx_edits *e)
{
    const struct csq_node *n = &g->nodes[i];
    const struct csq_node *r = n->fused_relu ? fused_act_of(g, n) : NULL;
    Onnx__NodeProto *np;
    int k, j, rc;

    if (n->fused_relu && !r)
        return csq_fail(CSQ_EINVAL, "node '%s': its fused %s is lost", n->name,
                        n->fused_relu == 2 ? "Clip" : "Relu");
    if (!(np = w_node(P, n->op_type, n->name, n->nin, n->nout)))
        return CSQ_ENOMEM;
    for (k = 0; k < n->nin; k++) {
        const char *nm = n->in[k] >= 0 ? g->vals[n->in[k]].name : "";
        for (j = 0; e && j < e->nrenames; j++)
            if (e->renames[j].node == i && e->renames[j].input == k)
                nm = e->renames[j].name;
        np->input[k] = pstr(P, nm);
    }
    for (k = 0; k < n->nout; k++)
        np->output[k] = pstr(P, n->out[k] < 0 ? "" :
                             k == 0 && r ? g->vals[r->in[0]].name : g->vals[n->out[k]].name);
    if ((rc = w_attrs(P, np, n)) != 0)
        return rc;
    gp->node[gp->n_node++] = np;
    if (r) {
        /* written back as it was read: a Clip keeps its bound inputs */
        Onnx__NodeProto *rp = w_node(P, r->op_type, r->name, r->nin, 1);
        if (!rp)
            return CSQ_ENOMEM;
        for (k = 0; k < r->nin; k++)
            rp->input[k] = pstr(P, r->in[k] >= 0 ? g->vals[r->in[k]].name : "");
        rp->output[0] = pstr(P, g->vals[r->out[0]].name);
        if ((rc = w_attrs(P, rp, r)) != 0)
            return rc;
        gp->node[gp->n_node++] = rp;
    }
    return P->failed ? CSQ_ENOMEM : CSQ_OK;
}

static int w_model(struct wpool *P, const struct csq_graph *g, const struct csq_onnx_edits *e,
                   Onnx__ModelProto *mp)
{
    Onnx__GraphProto *gp = palloc(P, 1, sizeof *gp);
    Onnx__OperatorSetIdProto *os = palloc(P, 1, sizeof *os);
    unsigned char *used = palloc(P, (size_t)g->nvals, 1);
    int nadds = e ? e->nadds : 0, ninits = e ? e->ninits : 0, nmeta = e ? e->nmeta : 0;
    int i, k, a, sym0 = 0, rc;
    int64_t opset = e && e->opset ? e->opset : g->opset;

    if (!gp || !os || !used)
        return CSQ_ENOMEM;
    onnx__model_proto__init(mp);
    onnx__graph_proto__init(gp);
    onnx__operator_set_id_proto__init(os);
    mp->has_ir_version = 1;
    mp->ir_version = ir_for_opset(opset);
    mp->producer_name = pstr(P, "csmpq");
    mp->producer_version = pstr(P, PACKAGE_VERSION);
    os->domain = pstr(P, "");
    os->has_version = 1;
    os->version = opset;
    mp->n_opset_import = 1;
    mp->opset_import = palloc(P, 1, sizeof *mp->opset_import);
    if (!mp->opset_import)
        return CSQ_ENOMEM;
    mp->opset_import[0] = os;
    mp->graph = gp;
    gp->name = pstr(P, "csmpq");

    /* nodes, with the adds in front of the node they precede */
    gp->node = palloc(P, (size_t)(2 * g->nnodes + nadds), sizeof *gp->node);
    if (!gp->node)
        return CSQ_ENOMEM;
    for (i = 0; i <= g->nnodes; i++) {
        for (a = 0; a < nadds; a++)
            if (e->adds[a].before == i && (rc = w_add(P, gp, &e->adds[a])) != 0)
                return rc;
        if (i == g->nnodes || g->nodes[i].dead)
            continue;
        if ((rc = w_graph_node(P, gp, g, i, e)) != 0)
            return rc;
        for (k = 0; k < g->nodes[i].nin; k++)
            if (g->nodes[i].in[k] >= 0)
                used[g->nodes[i].in[k]] = 1;
        if (g->nodes[i].fused_relu) {
            const struct csq_node *r = fused_act_of(g, &g->nodes[i]);
            for (k = 1; r && k < r->nin; k++)
                if (r->in[k] >= 0)
                    used[r->in[k]] = 1;
        }
    }
    for (i = 0; i < g->noutputs; i++)
        used[g->outputs[i]] = 1;

    /* initializers: the constants a live node reads, then the extra ones */
    gp->initializer = palloc(P, (size_t)(g->nvals + ninits), sizeof *gp->initializer);
    if (!gp->initializer)
        return CSQ_ENOMEM;
    for (i = 0; i < g->nvals; i++) {
        const struct csq_value *v = &g->vals[i];
        if (!used[i] || v->kind != CSQ_VAL_INIT || (e && e->skip && e->skip[i]))
            continue;
        if (!(gp->initializer[gp->n_initializer++] = w_tensor(P, v->name, &v->t)))
            return CSQ_ENOMEM;
    }
    for (i = 0; i < ninits; i++)
        if (!(gp->initializer[gp->n_initializer++] = w_tensor(P, e->inits[i].name,
                                                              e->inits[i].t)))
            return CSQ_ENOMEM;

    gp->input = palloc(P, (size_t)g->ninputs, sizeof *gp->input);
    gp->output = palloc(P, (size_t)g->noutputs, sizeof *gp->output);
    if (!gp->input || !gp->output)
        return CSQ_ENOMEM;
    for (i = 0; i < g->ninputs; i++) {
        const struct csq_value *v = &g->vals[g->inputs[i]];
        if (v->decl_rank > 0 && v->decl_dims[0] < 0)
            sym0 = 1;
        if (!(gp->input[gp->n_input++] = w_valueinfo(P, v->name, v->t.dtype, v->decl_rank,
                                                     v->decl_dims, 0)))
            return CSQ_ENOMEM;
    }
    for (i = 0; i < g->noutputs; i++) {
        const struct csq_value *v = &g->vals[g->outputs[i]];
        if (!(gp->output[gp->n_output++] = w_valueinfo(P, v->name, v->t.dtype, v->t.rank,
                                                       v->t.dims, sym0 && !v->shape_dep)))
            return CSQ_ENOMEM;
    }

    /* metadata: the model's, each key replaced by an edit of the same key */
    mp->metadata_props = palloc(P, (size_t)(g->nmeta + nmeta), sizeof *mp->metadata_props);
    if (!mp->metadata_props)
        return CSQ_ENOMEM;
    for (i = 0; i < g->nmeta + nmeta; i++) {
        const struct csq_meta *m = i < g->nmeta ? &g->meta[i] : &e->meta[i - g->nmeta];
        Onnx__StringStringEntryProto *kv;
        for (k = 0; i < g->nmeta && k < nmeta; k++)
            if (strcmp(e->meta[k].key, m->key) == 0)
                break;
        if (i < g->nmeta && k < nmeta)
            continue;
        if (!(kv = palloc(P, 1, sizeof *kv)))
            return CSQ_ENOMEM;
        onnx__string_string_entry_proto__init(kv);
        kv->key = pstr(P, m->key);
        kv->value = pstr(P, m->value);
        mp->metadata_props[mp->n_metadata_props++] = kv;
    }
    return P->failed ? CSQ_ENOMEM : CSQ_OK;
}

int csq_onnx_write(const struct csq_graph *g, const struct csq_onnx_edits *e,
                   const char *path)
{
    struct wpool P;
    Onnx__ModelProto mp;
    struct csq_out o;
    unsigned char *buf = NULL;
    size_t len;
    int rc;

    memset(&P, 0, sizeof P);
    if ((rc = w_model(&P, g, e, &mp)) != 0)
        goto out;
    len = onnx__model_proto__get_packed_size(&mp);
    if (!(buf = malloc(len ? len : 1))) {
        rc = csq_fail(CSQ_ENOMEM, "out of memory");
        goto out;
    }
    onnx__model_proto__pack(&mp, buf);
    if ((rc = csq_out_open(&o, path)) != 0)
        goto out;
    if (fwrite(buf, 1, len, o.fp) != len) {
        csq_out_abort(&o);
        rc = csq_fail(CSQ_EIO, "'%s': cannot write", path);
        goto out;
    }
    rc = csq_out_commit(&o);
out:
    free(buf);
    pool_free(&P);
    if (rc == CSQ_ENOMEM && !*csq_errmsg())
        rc = csq_fail(CSQ_ENOMEM, "out of memory");
    return rc;
}
