/*
 * budget: parsing of the allocation and score options (see budget.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/budget.h"
#include "mpq/alloc.h"
#include "cli/cli.h"
#include "mpq/score.h"
#include "mpq/werr.h"
#include "util/units.h"
#include "util/err.h"

void cli_budget_init(struct cli_budget *b, const char *cmd)
{
    memset(b, 0, sizeof *b);
    b->cmd = cmd;
    b->req.pin_first_last = -1;
    b->req.abits = 8;
    /* Exact search almost always ends in well under a second; the limit
     * only guards against pathological (subset-sum like) instances. */
    b->req.time_limit = 30;
    b->format = CSQ_BITCFG_TSV;
    b->out = "-";
}

/* A library parse failure is a usage error: print it and say so. */
static int parse_failed(struct cli_budget *b, int rc)
{
    cli_fail(b->cmd, rc);
    return -1;
}

int cli_budget_option(struct cli_budget *b, int id, const char *arg)
{
    struct csq_plan_request *r = &b->req;
    int rc, bits;
    char *name;

    switch (id) {
    case OPT_SIZE:
        if ((rc = csq_units_parse_size("--size", arg, &r->size_bytes)) != 0)
            return parse_failed(b, rc);
        b->have_budget = 1;
        return 1;
    case OPT_BOPS:
        if ((rc = csq_units_parse_bops("--bops", arg, &r->bops)) != 0)
            return parse_failed(b, rc);
        b->have_budget = 1;
        return 1;
    case OPT_AVG_BITS:
        if ((rc = csq_units_parse_real("--avg-bits", arg, &r->avg_bits)) != 0)
            return parse_failed(b, rc);
        b->have_budget = 1;
        return 1;
    case OPT_MODE:
        if (strcmp(arg, "ptq") != 0 && strcmp(arg, "qat") != 0) {
            cli_usage_error(b->cmd, "option '--mode': '%s' is not ptq or qat", arg);
            return -1;
        }
        r->mode = arg;
        return 1;
    case OPT_WBITS:
        if ((rc = csq_units_parse_wbits("--wbits", arg, r->wbits, &r->nwbits)) != 0)
            return parse_failed(b, rc);
        return 1;
    case OPT_ABITS:
        if ((rc = csq_units_parse_bits("--abits", arg, &r->abits)) != 0)
            return parse_failed(b, rc);
        return 1;
    case OPT_PIN_FL:
        if (strcmp(arg, "0") == 0)
            r->pin_first_last = 0;
        else if ((rc = csq_units_parse_bits("--pin-first-last", arg, &r->pin_first_last)) != 0)
            return parse_failed(b, rc);
        return 1;
    case OPT_PIN: {
        char **nn;
        int *nb;
        if ((rc = csq_units_parse_pin("--pin", arg, &name, &bits)) != 0)
            return parse_failed(b, rc);
        nn = realloc(r->pin_names, (size_t)(r->npins + 1) * sizeof *nn);
        if (nn)
            r->pin_names = nn;
        nb = nn ? realloc(r->pin_bits, (size_t)(r->npins + 1) * sizeof *nb) : NULL;
        if (!nb) {
            free(name);
            return parse_failed(b, csq_fail(CSQ_ENOMEM, "out of memory"));
        }
        r->pin_bits = nb;
        r->pin_names[r->npins] = name;
        r->pin_bits[r->npins++] = bits;
        return 1;
    }
    case OPT_TIE: {
        char ***nt, **names;
        int *nc, n;
        if ((rc = csq_units_parse_tie("--tie", arg, &names, &n)) != 0)
            return parse_failed(b, rc);
        nt = realloc(r->tie_names, (size_t)(r->nties + 1) * sizeof *nt);
        if (nt)
            r->tie_names = nt;
        nc = nt ? realloc(r->tie_counts, (size_t)(r->nties + 1) * sizeof *nc) : NULL;
        if (!nc) {
            csq_units_free_names(names, n);
            return parse_failed(b, csq_fail(CSQ_ENOMEM, "out of memory"));
        }
        r->tie_counts = nc;
        r->tie_names[r->nties] = names;
        r->tie_counts[r->nties++] = n;
        return 1;
    }
    case OPT_TIME_LIMIT:
        if ((rc = csq_units_parse_real("--time-limit", arg, &r->time_limit)) != 0)
            return parse_failed(b, rc);
        return 1;
    case OPT_RELAX:
        r->relax = 1;
        return 1;
    case OPT_FORMAT:
        if ((rc = csq_bitcfg_parse_format(arg, &b->format)) != 0) {
            csq_errclear();
            cli_usage_error(b->cmd, "--format '%s': expected tsv, json or list", arg);
            return -1;
        }
        return 1;
    case OPT_OUT:
        b->out = arg;
        return 1;
    default:
        return 0;
    }
}

void cli_budget_release(struct cli_budget *b)
{
    int i;

    for (i = 0; i < b->req.npins; i++)
        free(b->req.pin_names[i]);
    free(b->req.pin_names);
    free(b->req.pin_bits);
    for (i = 0; i < b->req.nties; i++)
        csq_units_free_names(b->req.tie_names[i], b->req.tie_counts[i]);
    free(b->req.tie_names);
    free(b->req.tie_counts);
}

void cli_scoreopt_init(struct cli_scoreopt *s)
{
    memset(s, 0, sizeof *s);
    s->docs = CSQ_TFIDF_CLASSES;
    s->criterion = CSQ_CRIT_DEFAULT;
    s->quantizer = -1;
}

int cli_scoreopt_check(const struct cli_scoreopt *s, const char *cmd)
{
    int sens = s->criterion == CSQ_CRIT_SQNR || s->criterion == CSQ_CRIT_KL;

    if (s->criterion == CSQ_CRIT_TFIDF &&
        (s->quantizer >= 0 || s->act_order || s->hessian_samples || s->nwbits))
        return cli_usage_error(cmd, "--quantizer, --act-order, --hessian-samples and "
                               "score's --wbits need a criterion other than tfidf");
    if (s->sqnr_images && !sens)
        return cli_usage_error(cmd, "--sqnr-images needs --criterion sqnr or kl");
    if (s->clado_images && s->criterion != CSQ_CRIT_CLADO)
        return cli_usage_error(cmd, "--clado-images needs --criterion clado");
    if (s->act_order && s->quantizer == CSQ_WERR_RTN)
        return cli_usage_error(cmd, "--act-order needs --quantizer gptq");
    return 0;
}

void cli_scoreopt_request(const struct cli_scoreopt *s, struct csq_score_request *r)
{
    memset(r, 0, sizeof *r);
    r->docs = s->docs;
    r->coe = s->coe;
    r->criterion = s->criterion;
    r->quantizer = s->quantizer >= 0 ? s->quantizer : CSQ_WERR_GPTQ;
    r->act_order = s->act_order;
    r->hessian_samples = s->hessian_samples;
    r->sqnr_images = s->sqnr_images;
    memcpy(r->widths, s->wbits, sizeof r->widths);
    r->nwidths = s->nwbits;
}

int cli_scoreopt_option(struct cli_scoreopt *s, const char *cmd, int id, const char *arg)
{
    char *end;
    int rc;

    switch (id) {
    case OPT_DOCS:
        if (strcmp(arg, "classes") == 0)
            s->docs = CSQ_TFIDF_CLASSES;
        else if (strcmp(arg, "samples") == 0)
            s->docs = CSQ_TFIDF_SAMPLES;
        else {
            cli_usage_error(cmd, "option '--docs': '%s' is not classes or samples", arg);
            return -1;
        }
        return 1;
    case OPT_COE:
        s->coe = strtod(arg, &end);
        if (end == arg || *end || !isfinite(s->coe) || s->coe < 0) {
            cli_usage_error(cmd, "option '--coe': '%s' is not a number >= 0", arg);
            return -1;
        }
        return 1;
    case OPT_CRITERION:
        if ((rc = csq_crit_parse(arg, &s->criterion)) != 0) {
            cli_fail(cmd, rc);
            return -1;
        }
        return 1;
    case OPT_CQUANTIZER:
        return cli_parse_quantizer(cmd, arg, &s->quantizer) ? -1 : 1;
    case OPT_CACT_ORDER:
        s->act_order = 1;
        return 1;
    case OPT_CHSAMPLES:
        return cli_parse_int(cmd, "--hessian-samples", arg, 1, 1L << 30,
                             &s->hessian_samples) ? -1 : 1;
    case OPT_CLADO_IMAGES:
        return cli_parse_int(cmd, "--clado-images", arg, 1, 1000000, &s->clado_images) ? -1 : 1;
    case OPT_SQNR_IMAGES:
        return cli_parse_int(cmd, "--sqnr-images", arg, 1, 1L << 30, &s->sqnr_images) ? -1 : 1;
    case OPT_SCORE_WBITS:
        if ((rc = csq_units_parse_wbits("--wbits", arg, s->wbits, &s->nwbits)) != 0) {
            cli_fail(cmd, rc);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

void cli_scoreopt_clado(const struct cli_scoreopt *s, const struct csq_plan_request *pr,
                        struct csq_clado_request *r)
{
    int pfl;

    csq_clado_request_init(r);
    r->images = s->clado_images;
    r->loss = s->docs == CSQ_TFIDF_CLASSES ? CSQ_CLADO_CE : CSQ_CLADO_KL;
    if (s->quantizer >= 0)
        r->quantizer = s->quantizer;
    r->act_order = s->act_order;
    r->hessian_samples = s->hessian_samples;
    if (s->nwbits > 0) {
        memcpy(r->widths, s->wbits, (size_t)s->nwbits * sizeof(int));
        r->nwidths = s->nwbits;
    } else if (pr && pr->nwbits > 0) {
        memcpy(r->widths, pr->wbits, (size_t)pr->nwbits * sizeof(int));
        r->nwidths = pr->nwbits;
    } else if (pr && csq_alloc_preset(pr->mode ? pr->mode : "ptq", r->widths, &r->nwidths,
                                      &pfl) != 0) {
        r->nwidths = 0;
    }
}

int cli_budget_write(const struct cli_budget *b, const struct csq_bitcfg *cfg,
                     const struct csq_scoretab *t, const char *scores_out)
{
    int rc;

    if (scores_out && (rc = csq_scoretab_write(t, scores_out)) != 0)
        return rc;
    rc = csq_bitcfg_write(cfg, b->out, b->format);
    if (rc != 0 && scores_out && strcmp(scores_out, "-") != 0)
        unlink(scores_out);
    return rc;
}
