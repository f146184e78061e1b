/*
 * input: shared data options, dataset scan and loader set-up for the
 * commands that read images.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "util/err.h"

static void warn(void *ctx, const char *msg)
{
    const struct cli_input *in = ctx;

    fprintf(stderr, "csmpq: %s: warning: %s\n", in->cmd, msg);
}

void cli_input_init(struct cli_input *in, const char *cmd)
{
    memset(in, 0, sizeof *in);
    in->cmd = cmd;
    csq_source_opts_init(&in->o);
    in->o.loader.warn = warn;
    in->o.loader.warn_ctx = in;
}

int cli_input_option(struct cli_input *in, int id, const char *arg)
{
    struct csq_source_opts *o = &in->o;
    long v;
    char *end;

    switch (id) {
    case OPT_LIST: o->list = arg; return 1;
    case OPT_LABELS: o->labels = arg; return 1;
    case OPT_PER_CLASS:
        return cli_parse_int(in->cmd, "--per-class", arg, 1, 1L << 30, &o->per_class) ? -1 : 1;
    case OPT_SEED:
        errno = 0;
        o->seed = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-') {
            cli_usage_error(in->cmd, "option '--seed': '%s' is not a non-negative integer", arg);
            return -1;
        }
        o->seeded = 1;
        return 1;
    case OPT_BATCH:
        if (cli_parse_int(in->cmd, "--batch", arg, 1, 65536, &v) != 0)
            return -1;
        o->loader.batch = (int)v;
        return 1;
    case OPT_THREADS:
        if (cli_parse_int(in->cmd, "-j", arg, 1, 1024, &in->threads) != 0)
            return -1;
        o->loader.threads = (int)in->threads;
        return 1;
    case OPT_SKIP_BAD: o->loader.skip_bad = 1; return 1;
    case OPT_MAX_PIXELS:
        if (cli_parse_int(in->cmd, "--max-pixels", arg, 1, 1L << 40, &v) != 0)
            return -1;
        o->prep.max_pixels = (size_t)v;
        return 1;
    case OPT_RESIZE:
        if (cli_parse_int(in->cmd, "--resize", arg, 1, 65536, &v) != 0)
            return -1;
        o->prep.resize = (int)v;
        return 1;
    case OPT_CROP:
        if (csq_modelprep_parse_hw(arg, &o->prep.crop_h, &o->prep.crop_w) != 0) {
            cli_usage_error(in->cmd, "option '--crop': '%s' is not H or HxW", arg);
            return -1;
        }
        return 1;
    case OPT_MEAN: o->prep.mean = arg; return 1;
    case OPT_STD: o->prep.std = arg; return 1;
    default:
        return 0;
    }
}

int cli_input_arg(struct cli_input *in, const char *arg)
{
    if (in->o.dir) {
        cli_usage_error(in->cmd, "more than one image folder given ('%s' and '%s')",
                        in->o.dir, arg);
        return -1;
    }
    in->o.dir = arg;
    return 0;
}

int cli_input_rest(struct cli_input *in, int id, const char *arg)
{
    if (id == CLI_OPT_ARG)
        return cli_input_arg(in, arg) != 0 ? EXIT_USAGE : -1;
    return id == CLI_OPT_HELP ? EXIT_OK : EXIT_USAGE;
}

int cli_input_check(const struct cli_input *in, const char *model)
{
    if (!model)
        return cli_usage_error(in->cmd, "no model given (-m MODEL)");
    if (!in->o.dir && !in->o.list)
        return cli_usage_error(in->cmd, "no images given (an image folder or --list FILE)");
    if (in->o.dir && in->o.list)
        return cli_usage_error(in->cmd, "give an image folder or --list, not both");
    return 0;
}

int cli_input_open(struct cli_input *in, const struct csq_graph *g, int need_labels)
{
    int rc = csq_source_open(&in->src, g, &in->o, need_labels);

    in->opened = rc == CSQ_OK;
    return rc;
}

void cli_input_like(struct cli_input *second, const struct cli_input *in)
{
    second->o.prep = in->o.prep;
    second->o.loader = in->o.loader;
    second->o.loader.warn_ctx = second;
}

void cli_input_skipped(const struct cli_input *in, size_t skipped)
{
    if (in->o.loader.skip_bad && skipped)
        fprintf(stderr, "csmpq: %s: skipped %zu unreadable image(s)\n", in->cmd, skipped);
}

void cli_input_release(struct cli_input *in)
{
    if (in->opened)
        csq_source_release(&in->src);
    in->opened = 0;
}
