/*
 * budget: options shared by allocate and analyze (budgets, candidates,
 * pins, ties, solver, output format), and the score options shared by
 * score and analyze.
 */
#ifndef CSQ_CLI_BUDGET_H
#define CSQ_CLI_BUDGET_H

#include "mpq/bitcfg.h"
#include "mpq/clado.h"
#include "mpq/crit.h"
#include "mpq/plan.h"
#include "mpq/tfidf.h"

enum {
    OPT_SIZE = 500, OPT_BOPS, OPT_AVG_BITS, OPT_MODE, OPT_WBITS, OPT_ABITS, OPT_PIN,
    OPT_PIN_FL, OPT_TIE, OPT_TIME_LIMIT, OPT_RELAX, OPT_FORMAT, OPT_DOCS, OPT_COE,
    OPT_CRITERION, OPT_CQUANTIZER, OPT_CACT_ORDER, OPT_CHSAMPLES, OPT_SQNR_IMAGES,
    OPT_CLADO_IMAGES, OPT_SCORE_WBITS, OPT_OUT = 'o'
};

#define CLI_BUDGET_OPTIONS \
    { OPT_SIZE, "size", 1, "SIZE", "weight size budget: bytes, or KB MB GB / KiB MiB GiB" }, \
    { OPT_BOPS, "bops", 1, "N", "bit-operations budget per image (suffixes K M G T)" }, \
    { OPT_AVG_BITS, "avg-bits", 1, "B", "size budget of B bits per weight on average" }, \
    CLI_ALLOC_OPTIONS, \
    { OPT_FORMAT, "format", 1, "tsv|json|list", "bit config format (default tsv)" }, \
    { OPT_OUT, "output", 1, "FILE", "write the bit config to FILE (default stdout)" }

/* The program's options besides the budgets (sweep takes budget lists). */
#define CLI_ALLOC_OPTIONS \
    { OPT_MODE, "mode", 1, "ptq|qat", "ptq: widths 2,3,4 (default); qat: 4..8, first and last pinned to 8" }, \
    { OPT_WBITS, "wbits", 1, "LIST", "candidate weight widths, e.g. 2,3,4" }, \
    { OPT_ABITS, "abits", 1, "N", "activation width for BOPs (default 8)" }, \
    { OPT_PIN, "pin", 1, "NAME=BITS", "fix a layer's width (repeatable)" }, \
    { OPT_PIN_FL, "pin-first-last", 1, "BITS", "fix the first and last layer (0: none)" }, \
    { OPT_TIE, "tie", 1, "A,B[,C..]", "layers that must share one width (repeatable)" }, \
    { OPT_TIME_LIMIT, "time-limit", 1, "S", "stop the exact search after S seconds (default 30)" }, \
    { OPT_RELAX, "relax", 0, NULL, "solve the paper's continuous LP and round down" }

#define CLI_SCORE_OPTIONS \
    { OPT_DOCS, "docs", 1, "classes|samples", "TF-IDF documents: class means (default) or images" }, \
    { OPT_COE, "coe", 1, "N", "TF weight beta = ln(C / N * e) (default 0: beta = 1)" }, \
    { OPT_CRITERION, "criterion", 1, "NAME", "tfidf, noise, tfidf-noise, sqnr, kl or clado (default " CLI_CRIT_DEFAULT ")" }, \
    { OPT_CQUANTIZER, "quantizer", 1, "rtn|gptq", "weight quantizer of the criterion (default gptq)" }, \
    { OPT_CACT_ORDER, "act-order", 0, NULL, "gptq: quantize columns by decreasing diag(H)" }, \
    { OPT_CHSAMPLES, "hessian-samples", 1, "N", "output positions per image in the statistics (default all)" }, \
    { OPT_SQNR_IMAGES, "sqnr-images", 1, "N", "sqnr, kl: images measured (default 128)" }, \
    { OPT_CLADO_IMAGES, "clado-images", 1, "N", "clado: calibration images (default 64)" }

/* The name of CSQ_CRIT_DEFAULT (mpq/crit.h), for the help text. */
#define CLI_CRIT_DEFAULT "kl"

struct cli_budget {
    const char *cmd;
    struct csq_plan_request req;
    enum csq_bitcfg_format format;
    const char *out;
    int have_budget;
};


struct cli_scoreopt {
    enum csq_tfidf_docs docs;
    double coe;
    enum csq_crit criterion;
    int quantizer;          /* -1: not given */
    int act_order;
    long hessian_samples;   /* 0: not given (all) */
    long sqnr_images;       /* 0: not given */
    long clado_images;      /* 0: not given */
    int wbits[16];          /* score's --wbits; nwbits 0: not given */
    int nwbits;
};

void cli_budget_init(struct cli_budget *b, const char *cmd);
/* 1 handled, 0 not a budget option, -1 usage error printed. */
int cli_budget_option(struct cli_budget *b, int id, const char *arg);
void cli_budget_release(struct cli_budget *b);
/* Write a solved config (and the table t to scores_out when not NULL):
 * called only after the solve, so a failed run (no assignment fits, an
 * unwritable file) leaves neither file behind.  A library status. */
struct csq_scoretab;
int cli_budget_write(const struct cli_budget *b, const struct csq_bitcfg *cfg,
                     const struct csq_scoretab *t, const char *scores_out);
void cli_scoreopt_init(struct cli_scoreopt *s);
/* The clado request of these options: loss ce with --docs classes, else
 * kl; widths from pr's candidates or mode (pr NULL: 2, 3, 4). */
void cli_scoreopt_clado(const struct cli_scoreopt *s, const struct csq_plan_request *pr,
                        struct csq_clado_request *r);
int cli_scoreopt_option(struct cli_scoreopt *s, const char *cmd, int id, const char *arg);
/* Options that do not go together (a quantizer for tfidf, --sqnr-images
 * for a criterion that measures no logits, --act-order with rtn): 0, or
 * EXIT_USAGE after printing why.  Then the request from them. */
int cli_scoreopt_check(const struct cli_scoreopt *s, const char *cmd);
struct csq_score_request;
void cli_scoreopt_request(const struct cli_scoreopt *s, struct csq_score_request *r);

#endif
