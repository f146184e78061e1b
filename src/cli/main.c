/*
 * main: global options, the subcommand table, and the exit status.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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
    { "score", cmd_score, "TF-IDF class separability of every layer, as a score table" },
    { "allocate", cmd_allocate, "bit-widths per layer from a score table under a budget" },
    { "analyze", cmd_analyze, "score and allocate in one run (the main job)" },
    { "eval", cmd_eval, "top-1 / top-5 accuracy of the model on labeled images" },
};

static void usage(FILE *fp)
{
    size_t i;

    fputs("usage: csmpq [-q] [--max-memory SIZE] [-h] [-V] <command> [<args>]\n\n"
          "Mixed-precision bit-widths for ONNX CNNs from class separability (CSMPQ).\n\n"
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

int main(int argc, char **argv)
{
    int i, rc;
    size_t c;

    cli_wait_policy(argv);
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
            printf("csmpq %s\n", PACKAGE_VERSION);
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
