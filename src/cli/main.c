/*
 * main: global options, the subcommand table, and the exit status.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/dist.h"
#include "util/units.h"
#include "util/err.h"
#include "util/limits.h"

struct cli_global cli_global;

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "info", cmd_info, "list the quantizable layers of a model, with params and MACs" },
    { "run", cmd_run, "run a .npy batch through the model, write the output as .npy" },
    { "score", cmd_score, "per-layer cost of each width (a criterion) and TF-IDF score, as a table" },
    { "allocate", cmd_allocate, "bit-widths per layer from a score table under a budget" },
    { "analyze", cmd_analyze, "score and allocate in one run (the main job)" },
    { "sweep", cmd_sweep, "allocate for a list or range of budgets, eval and plot each" },
    { "eval", cmd_eval, "top-1 / top-5 accuracy of the model on labeled images" },
    { "export", cmd_export, "the quantized model eval simulates, as an ONNX QDQ model" },
};

static void usage(FILE *fp)
{
    size_t i;

    fputs("usage: csmpq [-q] [--max-memory SIZE] [-h] [-V] <command> [<args>]\n\n"
          "Mixed-precision bit-widths for ONNX CNNs from measured per-layer costs (CSMPQ and beyond).\n\n"
          "commands:\n", fp);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nglobal options:\n"
          "  -q, --quiet    no progress output\n"
          "  --max-memory SIZE\n"
          "                 refuse models, batches and images whose declared sizes\n"
          "                 need more memory than SIZE (e.g. 2GiB; default: half\n"
          "                 the physical RAM)\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n\n"
          "'csmpq <command> --help' describes a command; see csmpq(1).\n", fp);
}

static int run(int argc, char **argv)
{
    int i, rc;
    size_t c;

    csq_limit_set_memory(csq_limit_default_memory());

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            cli_global.quiet = 1;
        else if (strcmp(a, "--max-memory") == 0 || strncmp(a, "--max-memory=", 13) == 0) {
            const char *v = a[12] == '=' ? a + 13 : argv[++i];
            if (!v) {
                fprintf(stderr, "csmpq: option '--max-memory' needs a value\n");
                return EXIT_USAGE;
            }
            if (cli_global_option(NULL, "max-memory", v) != 0)
                return EXIT_USAGE;
        }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("csmpq %s%s\n", PACKAGE_VERSION, csq_dist_enabled() ? " (MPI)" : "");
            return EXIT_OK;
        } else {
            fprintf(stderr, "csmpq: unknown option '%s' (see 'csmpq --help')\n", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(commands[c].name, argv[i]) == 0)
            break;
    if (c == sizeof commands / sizeof commands[0]) {
        fprintf(stderr, "csmpq: '%s' is not a command (see 'csmpq --help')\n", argv[i]);
        return EXIT_USAGE;
    }
    rc = commands[c].fn(argc - i, argv + i);
    /* A full disk must not pass for success (git's run_builtin). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "csmpq: %s: cannot write standard output\n", commands[c].name);
        return rc ? rc : EXIT_ERROR;
    }
    return rc;
}

/* Under mpirun every rank runs the command; rank 0 alone prints (the
 * others' stdout and stderr are /dev/null, their files are not written:
 * util/file.c) and the ranks agree on one status (util/dist.h). */
int main(int argc, char **argv)
{
    int rc;

    /* Before MPI_Init: a singleton MPI_Init (a --with-mpi build run
     * without mpirun) sets the launcher's variables, which would stop the
     * re-exec, and a process must not exec itself after MPI_Init. */
    cli_wait_policy(argv);
    if ((rc = csq_dist_init(&argc, &argv)) != 0) {
        fprintf(stderr, "csmpq: %s\n", csq_errmsg());
        return EXIT_ERROR;
    }
    if (csq_dist_rank() > 0) {
        cli_global.quiet = 1;
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            return EXIT_ERROR;
    }
    rc = run(argc, argv);
    csq_dist_finalize();
    return rc;
}
