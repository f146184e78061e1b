/*
 * node: attribute lookups on a node and tensor size helpers (graph.h).
 */
#include "config.h"

#include <string.h>

#include "nn/graph.h"

const struct csq_attr *csq_node_attr(const struct csq_node *n, const char *name)
{
    int i;

    for (i = 0; i < n->nattrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t csq_node_int(const struct csq_node *n, const char *name, int64_t def)
{
    const struct csq_attr *at = csq_node_attr(n, name);

    return at && at->type == CSQ_ATTR_INT ? at->i : def;
}

float csq_node_float(const struct csq_node *n, const char *name, float def)
{
    const struct csq_attr *at = csq_node_attr(n, name);

    return at && at->type == CSQ_ATTR_FLOAT ? at->f : def;
}

const char *csq_node_string(const struct csq_node *n, const char *name, const char *def)
{
    const struct csq_attr *at = csq_node_attr(n, name);

    return at && at->type == CSQ_ATTR_STRING && at->s ? at->s : def;
}

int64_t csq_tensor_numel(const struct csq_tensor *t)
{
    int64_t n = 1;
    int i;

    for (i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return -1;
        if (t->dims[i] != 0 && n > INT64_MAX / t->dims[i])
            return -1;
        n *= t->dims[i];
    }
    return n;
}

size_t csq_dtype_size(int dtype)
{
    switch (dtype) {
    case CSQ_DT_FLOAT:
        return 4;
    case CSQ_DT_INT64:
        return 8;
    case CSQ_DT_BOOL:
        return 1;
    default:
        return 0;
    }
}
