/*
 * cli: the csmpq program.  Each subcommand is cmd_<name>() in its own
 * cmd_<name>.c; main.c holds the table, prints the one error message and
 * maps statuses to exit codes.  Subcommands only parse options, call the
 * library and write output: no math lives here.
 *
 * Adding a subcommand: write cmd_<name>.c with a usage string and an option
 * table, declare it below, add a row to main.c's table, add it to
 * Makefile.am, document it in man/csmpq.1 and add tests/cli tests.
 */
#ifndef CSQ_CLI_H
#define CSQ_CLI_H

#include <stdio.h>

enum cli_exit {
    EXIT_OK = 0,
    EXIT_ERROR = 1,        /* bad input, unreadable file, unsupported model */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_INFEASIBLE = 3    /* no bit assignment fits the budget */
};

/* Global options, set by main.c before a subcommand runs. */
struct cli_global {
    int quiet;
};
extern struct cli_global cli_global;

/* One option of a subcommand; tables end with a zeroed row. */
struct cli_opt {
    int id;                 /* returned by cli_opt_next; short letter or >= 256 */
    const char *name;       /* long name without dashes */
    int has_arg;            /* 0 none, 1 required */
    const char *arg;        /* argument placeholder for help, e.g. "FILE" */
    const char *help;
};

struct cli_parser {
    const char *cmd;        /* subcommand name for messages */
    const char *usage;      /* synopsis lines, printed by -h */
    const struct cli_opt *opts;
    int argc;
    char **argv;
    int index;              /* next argv element */
    const char *optarg;
    int only_args;          /* after "--" */
};

enum { CLI_OPT_END = -1, CLI_OPT_ARG = -2, CLI_OPT_ERROR = -3, CLI_OPT_HELP = -4 };

void cli_opt_init(struct cli_parser *p, const char *cmd, const char *usage,
                  const struct cli_opt *opts, int argc, char **argv);
/* The next option id, CLI_OPT_ARG for a positional argument (in p->optarg),
 * CLI_OPT_HELP after printing help for -h/--help, CLI_OPT_END, or
 * CLI_OPT_ERROR after printing a usage message. */
int cli_opt_next(struct cli_parser *p);
void cli_opt_help(const struct cli_parser *p, FILE *fp);
/* Print "csmpq: CMD: msg" and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Map a library status to an exit code, printing the recorded message. */
int cli_fail(const char *cmd, int status);

/* Idle OpenMP and OpenBLAS threads sleep unless the user chose otherwise:
 * sets OMP_WAIT_POLICY and OPENBLAS_THREAD_TIMEOUT where unset and
 * executes argv again (waitpolicy.c).  Returns only when there is nothing
 * to do or the exec failed. */
void cli_wait_policy(char **argv);
/* A global option by name ("q", "quiet", "max-memory") with its value:
 * 0 applied, 1 not a global option, -1 after a usage message (prefixed by
 * cmd when not NULL). */
int cli_global_option(const char *cmd, const char *name, const char *value);
/* Integer option values with range checks; print a usage error on failure. */
int cli_parse_int(const char *cmd, const char *opt, const char *s,
                  long min, long max, long *out);
/* --quantizer rtn|gptq into *q (CSQ_WERR_RTN / CSQ_WERR_GPTQ); EXIT_USAGE
 * after a usage message. */
int cli_parse_quantizer(const char *cmd, const char *s, int *q);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_allocate(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
/* Refuse an output path before the work (csq_out_check): 0 or EXIT_ERROR
 * after printing why; NULL is fine. */
int cli_check_output(const char *cmd, const char *path);

#endif
