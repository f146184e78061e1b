/* scores: a good table (with comments and CRLF), write -> read round trip,
 * the same with cost@B columns and a criterion line, and every malformed
 * table refused with file and line in the message. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpq/scoretab.h"
#include "tap.h"
#include "util/err.h"

static char dir[] = "/tmp/t-scores-XXXXXX";
static char file[300];

static void spit(const char *text)
{
    FILE *fp = fopen(file, "wb");
    fputs(text, fp);
    fclose(fp);
}

#define HDR "#layer\top\tparams\tmacs\tscore\n"

static void good(void)
{
    struct csq_scoretab *t = NULL, *u = NULL;

    spit("# csmpq scores 1\n# model: tiny.onnx sha256=00ff\n# images: 120\n# classes: 3\n"
         "# docs: samples\n# coe: 2.5\n# a free comment\n" HDR
         "conv1\tConv\t432\t110592\t0.0132\r\n"
         "\n"
         "fc\tGemm\t640\t640\t-1.5e-3\n");
    ok(csq_scoretab_read(file, &t) == 0, "good table reads");
    ok(t && t->n == 2 && strcmp(t->rows[0].layer, "conv1") == 0
       && strcmp(t->rows[1].op, "Gemm") == 0 && t->rows[0].params == 432
       && t->rows[0].macs == 110592 && t->rows[0].score == 0.0132
       && t->rows[1].score == -1.5e-3, "rows parsed");
    ok(t && strcmp(t->model, "tiny.onnx") == 0 && strcmp(t->sha256, "00ff") == 0
       && t->images == 120 && t->classes == 3 && strcmp(t->docs, "samples") == 0
       && t->coe == 2.5, "comment header parsed");
    ok(t && csq_scoretab_find(t, "fc") == 1 && csq_scoretab_find(t, "nope") == -1, "find");
    if (t) {
        t->rows[0].score = 1.0 / 3.0;
        ok(csq_scoretab_write(t, file) == 0 && csq_scoretab_read(file, &u) == 0, "write and read");
        ok(u && u->n == 2 && u->rows[0].score == 1.0 / 3.0 && u->rows[1].score == -1.5e-3
           && u->rows[1].params == 640 && strcmp(u->docs, "samples") == 0 && u->images == 120,
           "round trip is exact");
    }
    csq_scoretab_free(t);
    csq_scoretab_free(u);
}

#define CHDR "#layer\top\tparams\tmacs\tscore\tcost@2\tcost@4\tcost@3\n"

static void costs(void)
{
    struct csq_scoretab *t = NULL, *u = NULL;
    FILE *fp;
    char buf[2048];
    size_t n;

    spit("# csmpq scores 1\n# criterion: noise quantizer: gptq\n" CHDR
         "conv1\tConv\t432\t110592\t0.0132\t0.5\t0.03\t0.125\n"
         "fc\tGemm\t640\t640\t0.25\t-1\t2e-3\t0\n");
    ok(csq_scoretab_read(file, &t) == 0, "cost table reads: %s", csq_errmsg());
    ok(t && t->nwidths == 3 && t->widths[0] == 2 && t->widths[1] == 4 && t->widths[2] == 3,
       "widths in column order");
    ok(t && t->rows[0].cost[1] == 0.5 && t->rows[0].cost[3] == 0.03 &&
       t->rows[0].cost[2] == 0.125 && t->rows[1].cost[1] == -1 && t->rows[1].cost[3] == 2e-3
       && t->rows[1].cost[2] == 0 && isnan(t->rows[0].cost[0]) && isnan(t->rows[1].cost[4]),
       "cells by width, NAN elsewhere");
    ok(t && t->criterion && strcmp(t->criterion, "noise") == 0 && t->quantizer &&
       strcmp(t->quantizer, "gptq") == 0, "criterion line parsed");
    if (t) {
        t->rows[1].cost[2] = 1.0 / 3.0;
        ok(csq_scoretab_write(t, file) == 0 && csq_scoretab_read(file, &u) == 0,
           "cost table write and read");
        ok(u && u->nwidths == 3 && u->rows[1].cost[2] == 1.0 / 3.0 && u->rows[0].cost[3] == 0.03
           && strcmp(u->criterion, "noise") == 0, "cost round trip is exact");
        fp = fopen(file, "rb");
        n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
        buf[n] = '\0';
        if (fp)
            fclose(fp);
        ok(strstr(buf, "# criterion: noise quantizer: gptq\n" CHDR) != NULL,
           "criterion line and cost header written");
        t->rows[0].cost[4 - 1] = NAN;
        csq_errclear();
        ok(csq_scoretab_write(t, file) == CSQ_EINVAL && strstr(csq_errmsg(), "cost@4"),
           "a NaN cost is not written: %s", csq_errmsg());
    }
    csq_scoretab_free(t);
    csq_scoretab_free(u);
}

static void bad(void)
{
    static const struct {
        const char *text, *line, *what;
    } cases[] = {
        {HDR "conv1\tConv\t432\t110592\n", "line 2", "columns"},
        {HDR "conv1\tConv\t432\n", "line 2", "columns"},
        {"# c\n" HDR "a\tConv\t1\t1\t0.5\nb\tConv\tx\t1\t0.5\n", "line 4", "params 'x'"},
        {HDR "a\tConv\t1\t1e3\t0.5\n", "line 2", "macs '1e3'"},
        {HDR "a\tConv\t1\t1\tabc\n", "line 2", "score 'abc'"},
        {HDR "a\tConv\t1\t1\t0.5x\n", "line 2", "score '0.5x'"},
        {HDR "a\tConv\t-1\t1\t0.5\n", "line 2", "negative"},
        {HDR "a\tConv\t1\t-5\t0.5\n", "line 2", "negative"},
        {HDR "a\tConv\t1\t1\t0.5\n\na\tGemm\t1\t1\t0.25\n", "line 4", "'a' appears twice"},
        {"# only comments\n" HDR, "line 2", "no layers"},
        {"", "line 1", "header"},
        {"a\tConv\t1\t1\t0.5\n", "line 1", "header"},
        {HDR "a\tConv\t1\t1\tnan\n", "line 2", "not finite"},
        {HDR "a\tConv\t1\t1\tNaN\n", "line 2", "not finite"},
        {HDR "a\tConv\t1\t1\tinf\n", "line 2", "not finite"},
        {HDR "a\tConv\t1\t1\t0.5\textra\n", "line 2", "more than 5"},
        {HDR "\tConv\t1\t1\t0.5\n", "line 2", "empty layer"},
        {CHDR "a\tConv\t1\t1\t0.5\t1\t2\n", "line 2", "a cost@ cell is missing"},
        {CHDR "a\tConv\t1\t1\t0.5\t1\t2\t\n", "line 2", "cost@3 '' is not a finite"},
        {CHDR "a\tConv\t1\t1\t0.5\tnan\t2\t3\n", "line 2", "cost@2 'nan' is not a finite"},
        {CHDR "a\tConv\t1\t1\t0.5\t1\tNaN\t3\n", "line 2", "cost@4 'NaN'"},
        {CHDR "a\tConv\t1\t1\t0.5\t1\t2\tinf\n", "line 2", "cost@3 'inf'"},
        {CHDR "a\tConv\t1\t1\t0.5\t1\t2\t3\t4\n", "line 2", "more than 8"},
        {HDR "a\tConv\t1\t1\t0.5\t1\n", "line 2", "more than 5"},
        {"#layer\top\tparams\tmacs\tscore\tcost@2\tcost@2\n", "line 1", "cost@2 appears twice"},
        {"#layer\top\tparams\tmacs\tscore\tcost@17\n", "line 1", "'cost@17'"},
        {"#layer\top\tparams\tmacs\tscore\tbits\n", "line 1", "'bits' is not cost@"},
        {"#layer\top\tparams\tmacs\tscore\tcost@x\n", "line 1", "'cost@x'"},
        {"# criterion: sqnr quantizer: rtn\n" HDR "a\tConv\t1\t1\t0.5\n", "", "criterion sqnr but no cost@"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct csq_scoretab *t = NULL;
        int rc;
        spit(cases[i].text);
        csq_errclear();
        rc = csq_scoretab_read(file, &t);
        ok(rc == CSQ_EFORMAT && !t && strstr(csq_errmsg(), file)
           && strstr(csq_errmsg(), cases[i].line) && strstr(csq_errmsg(), cases[i].what),
           "bad table %zu: %s", i, csq_errmsg());
    }
    csq_errclear();
    ok(csq_scoretab_read("/nonexistent/scores.tsv", &(struct csq_scoretab *){NULL}) == CSQ_EIO,
       "missing file is EIO");
}

int main(void)
{
    char cmd[400];

    if (!mkdtemp(dir))
        return 1;
    snprintf(file, sizeof file, "%s/scores.tsv", dir);
    good();
    costs();
    bad();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return tap_done();
}
