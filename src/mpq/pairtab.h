/*
 * pairtab: the CLADO pair table, written by `csmpq score --criterion
 * clado` and read by `csmpq allocate` to re-solve budgets without new
 * passes (format in csmpq-bitcfg(5)):
 *
 *   # csmpq pairs 1
 *   # model: NAME sha256=HEX
 *   # criterion: clado quantizer: gptq loss: ce images: 64
 *   #layer  op  params  macs  dL@2  dL@3  dL@4
 *   <one row per quantizable layer, in model order>
 *   #cross  layer_i  bits_i  layer_j  bits_j  value
 *   cross  <layer_i>  <b>  <layer_j>  <b'>  <dL(i,b; j,b') - dL(i,b) - dL(j,b')>
 *
 * with layer_i before layer_j.  Numbers are written with 17 significant
 * digits, so they read back as the same doubles.
 *
 * Ownership: a table owns its strings and arrays; csq_pairtab_read returns
 * one freed with csq_pairtab_free; csq_pairtab_release empties a
 * caller-owned one.
 *
 *     struct csq_pairtab *t;
 *     if ((rc = csq_pairtab_read("pairs.tsv", &t)) != 0) return rc;
 *     ... CSQ_PAIRTAB_CROSS(t, i, k, j, k2) ...; csq_pairtab_free(t);
 */
#ifndef CSQ_PAIRTAB_H
#define CSQ_PAIRTAB_H

#include <stdint.h>

struct csq_pairtab_row {
    char *layer, *op;
    int64_t params, macs;
};

struct csq_pairtab {
    char *model, *sha256;       /* both NULL when absent */
    char *quantizer, *loss;     /* "gptq" / "rtn", "ce" / "kl" */
    long images;
    int n;                      /* layers */
    int nw;                     /* widths measured */
    int widths[16];             /* ascending */
    struct csq_pairtab_row *rows;   /* [n] */
    double *single;             /* [n][nw] dL(l, widths[k]) */
    double *cross;              /* [n nw][n nw], entry (a, b) with a's layer < b's */
};

#define CSQ_PAIRTAB_SINGLE(t, l, k) ((t)->single[(size_t)(l) * (size_t)(t)->nw + (size_t)(k)])
#define CSQ_PAIRTAB_CROSS(t, i, k, j, k2)                                              \
    ((t)->cross[((size_t)(i) * (size_t)(t)->nw + (size_t)(k)) * (size_t)(t)->n *       \
                (size_t)(t)->nw + (size_t)(j) * (size_t)(t)->nw + (size_t)(k2)])

/* Arrays for n layers and nw widths, zeroed (rows' strings NULL). */
int csq_pairtab_alloc(struct csq_pairtab *t, int n, int nw);
int csq_pairtab_write(const struct csq_pairtab *t, const char *path);
int csq_pairtab_read(const char *path, struct csq_pairtab **out);
/* 1 when the file at path (not "-") starts with "# csmpq pairs ". */
int csq_pairtab_sniff(const char *path);
void csq_pairtab_release(struct csq_pairtab *t);
void csq_pairtab_free(struct csq_pairtab *t);

#endif
