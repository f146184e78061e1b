/*
 * node: attribute look-ups shared by the passes
 * and the kernels.
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
    const struct csq_attr *a = csq_node_attr(n, name);

    return a && a->type == CSQ_ATTR_INT ? a->i : def;
}

float csq_node_float(const struct csq_node *n, const char *name, float def)
{
    const struct csq_attr *a = csq_node_attr(n, name);

    return a && a->type == CSQ_ATTR_FLOAT ? a->f : def;
}

const char *csq_node_string(const struct csq_node *n, const char *name, const char *def)
{
    const struct csq_attr *a = csq_node_attr(n, name);

    return a && a->type == CSQ_ATTR_STRING ? a->s : def;
}
