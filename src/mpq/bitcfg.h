/*
 * bitcfg: the bit config file of csmpq-bitcfg(5) (DESIGN.md section 8):
 * per-layer weight and activation widths with the costs and scores they
 * were chosen from.  Written as tsv (default), json, or a bare list of
 * weight widths; tsv and json (and a json list of integers) read back.
 *
 * A struct csq_bitcfg owns all its strings and its layer array;
 * csq_bitcfg_read returns one the caller frees with csq_bitcfg_free.  For
 * writing, fill a struct yourself (pointers are only read).  Output goes
 * through csq_out_* (atomic, "-" = stdout) and is byte-identical for equal
 * input: fixed layouts, scores in the shortest form that reads back to the
 * same double (csq_units_fmt_double).
 *
 *     struct csq_bitcfg c = {.model = "m.onnx", .sha256 = hex, .budget = "size<=4.50MiB",
 *                            .nlayers = n, .layers = rows};
 *     rc = csq_bitcfg_write(&c, "bits.tsv", CSQ_BITCFG_TSV);
 */
#ifndef CSQ_BITCFG_H
#define CSQ_BITCFG_H

#include <stdint.h>

enum csq_bitcfg_format { CSQ_BITCFG_TSV, CSQ_BITCFG_JSON, CSQ_BITCFG_LIST };

struct csq_bitcfg_layer {
    char *name;      /* NULL only for configs read from a bare list */
    int wbits;       /* 1..16 */
    int abits;       /* 1..16; 0 when unknown (bare list) */
    int64_t params;  /* weight elements */
    int64_t macs;    /* per image */
    double score;
    char *node;      /* ONNX node name, or NULL */
};

struct csq_bitcfg {
    char *model;     /* model file name as given, or NULL */
    char *sha256;    /* 64 hex digits of the model file, or NULL */
    char *budget;    /* e.g. "size<=4.50MiB bops<=60G", or NULL for none */
    char *solver;    /* e.g. "proven optimal", or NULL */
    int nlayers;
    struct csq_bitcfg_layer *layers;
};

/* "tsv", "json", "list" -> *fmt; anything else CSQ_EUSAGE. */
int csq_bitcfg_parse_format(const char *s, enum csq_bitcfg_format *fmt);
int csq_bitcfg_write(const struct csq_bitcfg *c, const char *path, enum csq_bitcfg_format fmt);
/* tsv or json, told apart by the first non-blank byte ('{' or '[' = json). */
int csq_bitcfg_read(const char *path, struct csq_bitcfg **out);
void csq_bitcfg_free(struct csq_bitcfg *c);
/* Free what a caller-owned struct points to (every pointer must be owned)
 * and zero it. */
void csq_bitcfg_release(struct csq_bitcfg *c);

/* Achieved totals as written in the header: size in bits, BOPs, and the
 * params-weighted mean weight width. */
void csq_bitcfg_totals(const struct csq_bitcfg *c, int64_t *size_bits, int64_t *bops,
                       double *mean_wbits);

#endif
