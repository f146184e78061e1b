/*
 * pass_check: the first pass over a loaded graph: every node reachable in
 * topological order (Kahn's algorithm, keeping the file's order where it
 * can), a cycle is an error naming a node on it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "util/err.h"
#include "util/mem.h"

int csq_graph_check(struct csq_graph *g)
{
    int *indeg = NULL, *order = NULL, *newpos = NULL, *start = NULL, *cons = NULL;
    char *done = NULL;
    struct csq_node *sorted = NULL;
    int i, j, k, total = 0, first = 0, rc = CSQ_OK;

    for (i = 0; i < g->nnodes; i++)
        total += g->nodes[i].nin;
    indeg = csq_mem_zarray((size_t)g->nnodes + 1, sizeof(int));
    order = csq_mem_array((size_t)g->nnodes + 1, sizeof(int));
    newpos = csq_mem_array((size_t)g->nnodes + 1, sizeof(int));
    start = csq_mem_zarray((size_t)g->nvals + 2, sizeof(int));
    cons = csq_mem_array((size_t)total + 1, sizeof(int));
    done = csq_mem_zarray((size_t)g->nnodes + 1, 1);
    sorted = csq_mem_array((size_t)g->nnodes + 1, sizeof *sorted);
    if (!indeg || !order || !newpos || !start || !cons || !done || !sorted) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    /* Consumers of each value, as compressed rows. */
    for (i = 0; i < g->nnodes; i++)
        for (j = 0; j < g->nodes[i].nin; j++)
            if (g->nodes[i].in[j] >= 0) {
                start[g->nodes[i].in[j] + 1]++;
                if (g->vals[g->nodes[i].in[j]].producer >= 0)
                    indeg[i]++;
            }
    for (i = 0; i < g->nvals; i++)
        start[i + 1] += start[i];
    {
        int *cur = csq_mem_array((size_t)g->nvals + 1, sizeof(int));
        if (!cur) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        memcpy(cur, start, (size_t)g->nvals * sizeof(int));
        for (i = 0; i < g->nnodes; i++)
            for (j = 0; j < g->nodes[i].nin; j++)
                if (g->nodes[i].in[j] >= 0)
                    cons[cur[g->nodes[i].in[j]]++] = i;
        free(cur);
    }
    /* Kahn's algorithm, always taking the ready node that comes first in
     * the file: a sorted file keeps its order, so layers are listed in
     * the order the exporter (and PyTorch's forward) ran them. */
    for (k = 0; k < g->nnodes; k++) {
        int n = -1;
        while (first < g->nnodes && done[first])
            first++;
        for (i = first; i < g->nnodes; i++)
            if (!done[i] && indeg[i] == 0) {
                n = i;
                break;
            }
        if (n < 0)
            break;
        done[n] = 1;
        order[k] = n;
        for (j = 0; j < g->nodes[n].nout; j++) {
            int v = g->nodes[n].out[j], q;
            if (v < 0)
                continue;
            for (q = start[v]; q < start[v + 1]; q++)
                indeg[cons[q]]--;
        }
    }
    if (k < g->nnodes) {
        char buf[64];
        for (i = 0; i < g->nnodes; i++)
            if (!done[i])
                break;
        rc = csq_fail(CSQ_EFORMAT, "'%s': the graph has a cycle through node '%s'",
                      g->path, csq_node_label(g, i, buf, sizeof buf));
        goto out;
    }
    for (i = 0; i < g->nnodes; i++) {
        sorted[i] = g->nodes[order[i]];
        newpos[order[i]] = i;
    }
    memcpy(g->nodes, sorted, (size_t)g->nnodes * sizeof *sorted);
    for (i = 0; i < g->nvals; i++)
        if (g->vals[i].producer >= 0)
            g->vals[i].producer = newpos[g->vals[i].producer];
out:
    free(indeg);
    free(order);
    free(newpos);
    free(start);
    free(cons);
    free(done);
    free(sorted);
    return rc;
}
