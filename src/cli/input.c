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
#include "nn/ops.h"
#include "util/err.h"

void cli_input_init(struct cli_input *in, const char *cmd)
{
    memset(in, 0, sizeof *in);
    in->cmd = cmd;
    in->batch = 32;
}

int cli_input_option(struct cli_input *in, int id, const char *arg)
{
    long v;
    char *end;

    switch (id) {
    case OPT_LIST: in->list = arg; return 1;
    case OPT_LABELS: in->labels = arg; return 1;
    case OPT_PER_CLASS:
        return cli_parse_int(in->cmd, "--per-class", arg, 1, 1L << 30, &in->per_class) ? -1 : 1;
    case OPT_SEED:
        errno = 0;
        in->seed = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-') {
            cli_usage_error(in->cmd, "option '--seed': '%s' is not a non-negative integer", arg);
            return -1;
        }
        in->seeded = 1;
        return 1;
    case OPT_BATCH:
        return cli_parse_int(in->cmd, "--batch", arg, 1, 65536, &in->batch) ? -1 : 1;
    case OPT_THREADS:
        return cli_parse_int(in->cmd, "-j", arg, 1, 1024, &in->threads) ? -1 : 1;
    case OPT_SKIP_BAD: in->skip_bad = 1; return 1;
    case OPT_MAX_PIXELS:
        if (cli_parse_int(in->cmd, "--max-pixels", arg, 1, 1L << 40, &v) != 0)
            return -1;
        in->prep.max_pixels = (size_t)v;
        return 1;
    case OPT_RESIZE:
        if (cli_parse_int(in->cmd, "--resize", arg, 1, 65536, &v) != 0)
            return -1;
        in->prep.resize = (int)v;
        return 1;
    case OPT_CROP:
        if (csq_modelprep_parse_hw(arg, &in->prep.crop_h, &in->prep.crop_w) != 0) {
            cli_usage_error(in->cmd, "option '--crop': '%s' is not H or HxW", arg);
            return -1;
        }
        return 1;
    case OPT_MEAN: in->prep.mean = arg; return 1;
    case OPT_STD: in->prep.std = arg; return 1;
    default:
        return 0;
    }
}

int cli_input_arg(struct cli_input *in, const char *arg)
{
    if (in->dir) {
        cli_usage_error(in->cmd, "more than one image folder given ('%s' and '%s')",
                        in->dir, arg);
        return -1;
    }
    in->dir = arg;
    return 0;
}

int cli_input_check(const struct cli_input *in, const char *model)
{
    if (!model)
        return cli_usage_error(in->cmd, "no model given (-m MODEL)");
    if (!in->dir && !in->list)
        return cli_usage_error(in->cmd, "no images given (an image folder or --list FILE)");
    if (in->dir && in->list)
        return cli_usage_error(in->cmd, "give an image folder or --list, not both");
    return 0;
}

static void warn(void *ctx, const char *msg)
{
    const struct cli_input *in = ctx;

    fprintf(stderr, "csmpq: %s: warning: %s\n", in->cmd, msg);
}

int cli_input_scan(struct cli_input *in, const struct csq_graph *g, int need_labels)
{
    struct csq_dataset_opts o;
    int rc;

    csq_dataset_opts_init(&o);
    o.need_labels = need_labels;
    o.labels_file = in->labels;
    o.per_class = in->per_class;
    o.seeded = in->seeded;
    o.seed = in->seed;
    rc = in->dir ? csq_dataset_scan(&in->ds, in->dir, &o)
                 : csq_dataset_read_list(&in->ds, in->list, &o);
    if (rc != CSQ_OK)
        return rc;
    in->have_ds = 1;
    if (in->ds.n == 0)
        return csq_fail(CSQ_EINVAL, "'%s': no images (.png, .jpg, .jpeg) found",
                        in->dir ? in->dir : in->list);
    csq_ops_set_threads((int)in->threads);
    return csq_modelprep_resolve(g, &in->prep, &in->ip);
}

int cli_input_open_loader(struct cli_input *in)
{
    struct csq_loader_opts lo;

    csq_loader_opts_init(&lo);
    lo.batch = (int)in->batch;
    lo.threads = (int)in->threads;
    lo.skip_bad = in->skip_bad;
    lo.warn = warn;
    lo.warn_ctx = in;
    return csq_loader_open(&in->loader, &in->ds, &in->ip, &lo);
}

void cli_input_close_loader(struct cli_input *in)
{
    if (in->loader && in->skip_bad && csq_loader_skipped(in->loader))
        fprintf(stderr, "csmpq: %s: skipped %zu unreadable image(s)\n", in->cmd,
                csq_loader_skipped(in->loader));
    csq_loader_close(in->loader);
    in->loader = NULL;
}

void cli_input_release(struct cli_input *in)
{
    cli_input_close_loader(in);
    if (in->have_ds)
        csq_dataset_release(&in->ds);
    in->have_ds = 0;
}

static int show_progress(void)
{
    return !cli_global.quiet && isatty(STDERR_FILENO);
}

void cli_input_progress(void *ctx, size_t done)
{
    struct cli_input *in = ctx;

    if (show_progress())
        fprintf(stderr, "\rcsmpq: %s: %zu / %zu images", in->cmd, done, in->ds.n);
}

void cli_input_progress_end(struct cli_input *in)
{
    if (show_progress())
        fputc('\n', stderr);
}
