/* crit: the criterion names parse and print back, anything else is a
 * usage error; tfidf's table is -score x b at all 16 widths; bad widths
 * and a missing score vector are refused before any image is read. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mpq/alloc.h"
#include "mpq/crit.h"
#include "mpq/werr.h"
#include "tap.h"
#include "util/err.h"

int main(void)
{
    static const char *const names[] = {"tfidf", "noise", "tfidf-noise", "sqnr", "kl"};
    struct csq_graph g;
    struct csq_crit_request r;
    double score[2] = {0.25, -3}, cost[2 * CSQ_ALLOC_MAXBITS];
    enum csq_crit c;
    int i, w[] = {2, 3, 4}, bad[] = {2, 2}, pass = 1;

    for (i = 0; i < 5; i++) {
        ok(csq_crit_parse(names[i], &c) == 0 && strcmp(csq_crit_name(c), names[i]) == 0,
           "'%s' parses and prints back", names[i]);
    }
    csq_errclear();
    ok(csq_crit_parse("hessian", &c) == CSQ_EUSAGE && strstr(csq_errmsg(), "'hessian'") &&
       strstr(csq_errmsg(), "tfidf, noise, tfidf-noise, sqnr, kl or clado"),
       "unknown criterion: usage error naming it and the choices");
    ok(csq_crit_parse("KL", &c) == CSQ_EUSAGE, "names are case-sensitive");
    ok(!csq_crit_name(CSQ_CRIT_COUNT), "no name past the table");
    ok(strcmp(csq_crit_quantizer_name(CSQ_WERR_RTN), "rtn") == 0 &&
       strcmp(csq_crit_quantizer_name(CSQ_WERR_GPTQ), "gptq") == 0 &&
       !csq_crit_quantizer_name(7), "quantizer names");
    ok(csq_crit_uses_scores(CSQ_CRIT_TFIDF) && csq_crit_uses_scores(CSQ_CRIT_TFIDF_NOISE) &&
       !csq_crit_uses_scores(CSQ_CRIT_NOISE) && !csq_crit_uses_scores(CSQ_CRIT_KL),
       "which criteria read the TF-IDF scores");

    /* tfidf needs no images: a graph with two layers and no source. */
    memset(&g, 0, sizeof g);
    g.nlayers = 2;
    memset(&r, 0, sizeof r);
    r.criterion = CSQ_CRIT_TFIDF;
    r.scores = score;
    ok(csq_crit_costs(&g, NULL, &r, w, 3, cost) == 0, "tfidf table");
    for (i = 0; i < 2 * CSQ_ALLOC_MAXBITS; i++)
        pass &= cost[i] == -score[i / CSQ_ALLOC_MAXBITS] * (i % CSQ_ALLOC_MAXBITS + 1);
    ok(pass, "tfidf: cost = -score x b at every width 1..16");
    csq_errclear();
    ok(csq_crit_costs(&g, NULL, &r, bad, 2, cost) == CSQ_EINVAL &&
       strstr(csq_errmsg(), "repeated"), "a repeated width is refused");
    csq_errclear();
    ok(csq_crit_costs(&g, NULL, &r, (int[]){17}, 1, cost) == CSQ_EINVAL, "width 17 refused");
    ok(csq_crit_costs(&g, NULL, &r, w, 0, cost) == CSQ_EINVAL, "no widths refused");
    r.criterion = CSQ_CRIT_TFIDF_NOISE;
    r.scores = NULL;
    csq_errclear();
    ok(csq_crit_costs(&g, NULL, &r, w, 3, cost) == CSQ_EINVAL &&
       strstr(csq_errmsg(), "tfidf-noise: no TF-IDF scores"), "tfidf-noise without scores");
    r.criterion = CSQ_CRIT_SQNR;
    r.quantizer = 5;
    ok(csq_crit_costs(&g, NULL, &r, w, 3, cost) == CSQ_EINVAL, "unknown quantizer refused");
    return tap_done();
}
