/*
 * opt: table-driven option parsing.  Help is printed from the same table
 * that parsing uses, so the two cannot drift apart.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mpq/werr.h"
#include "util/units.h"
#include "util/err.h"
#include "util/file.h"
#include "util/limits.h"
#include "mpq/werr.h"

void cli_opt_init(struct cli_parser *p, const char *cmd, const char *usage,
                  const struct cli_opt *opts, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->usage = usage;
    p->opts = opts;
    p->argc = argc;
    p->argv = argv;
    p->index = 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "csmpq: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static const struct cli_opt *find_long(const struct cli_opt *o, const char *s, size_t n)
{
    for (; o->name; o++)
        if (strlen(o->name) == n && strncmp(o->name, s, n) == 0)
            return o;
    return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *o, int c)
{
    for (; o->name; o++)
        if (o->id == c)
            return o;
    return NULL;
}

enum { GOPT_QUIET = 'q', GOPT_MAX_MEMORY = 900 };

/* Accepted before the subcommand and, as users type them, after it too. */
static const struct cli_opt global_options[] = {
    { GOPT_QUIET, "quiet", 0, NULL, "no progress output" },
    { GOPT_MAX_MEMORY, "max-memory", 1, "SIZE", "memory limit (see csmpq --help)" },
    { 0, NULL, 0, NULL, NULL }
};

int cli_global_option(const char *cmd, const char *name, const char *value)
{
    double bytes;

    if (strcmp(name, "q") == 0 || strcmp(name, "quiet") == 0) {
        cli_global.quiet = 1;
        return 0;
    }
    if (strcmp(name, "max-memory") == 0) {
        if (csq_units_parse_size("--max-memory", value, &bytes) != 0) {
            if (cmd)
                fprintf(stderr, "csmpq: %s: %s\n", cmd, csq_errmsg());
            else
                fprintf(stderr, "csmpq: %s\n", csq_errmsg());
            csq_errclear();
            return -1;
        }
        csq_limit_set_memory(bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes);
        return 0;
    }
    return 1;
}

/* A long option's value: after '=' or the next word.  0 or CLI_OPT_ERROR. */
static int long_value(struct cli_parser *p, const struct cli_opt *o, const char *eq)
{
    if (o->has_arg) {
        if (eq)
            p->optarg = eq + 1;
        else if (p->index < p->argc)
            p->optarg = p->argv[p->index++];
        else {
            cli_usage_error(p->cmd, "option '--%s' needs a value", o->name);
            return CLI_OPT_ERROR;
        }
    } else if (eq) {
        cli_usage_error(p->cmd, "option '--%s' takes no value", o->name);
        return CLI_OPT_ERROR;
    }
    return 0;
}

/* A global option's value, then on to the next option. */
static int global(struct cli_parser *p, const struct cli_opt *o, const char *eq)
{
    if (long_value(p, o, eq) != 0 || cli_global_option(p->cmd, o->name, p->optarg) != 0)
        return CLI_OPT_ERROR;
    return cli_opt_next(p);
}

int cli_opt_next(struct cli_parser *p)
{
    const char *s;
    const struct cli_opt *o;

    p->optarg = NULL;
    if (p->index >= p->argc)
        return CLI_OPT_END;
    s = p->argv[p->index++];
    if (p->only_args || s[0] != '-' || s[1] == '\0') {
        p->optarg = s;
        return CLI_OPT_ARG;
    }
    if (strcmp(s, "--") == 0) {
        p->only_args = 1;
        return cli_opt_next(p);
    }
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
        cli_opt_help(p, stdout);
        return CLI_OPT_HELP;
    }
    if (s[1] == '-') {
        const char *eq = strchr(s + 2, '=');
        size_t n = eq ? (size_t)(eq - (s + 2)) : strlen(s + 2);

        o = find_long(p->opts, s + 2, n);
        if (!o && (o = find_long(global_options, s + 2, n)) != NULL)
            return global(p, o, eq);
        if (!o) {
            cli_usage_error(p->cmd, "unknown option '%.*s' (see 'csmpq %s --help')",
                            (int)(n + 2), s, p->cmd);
            return CLI_OPT_ERROR;
        }
        return long_value(p, o, eq) != 0 ? CLI_OPT_ERROR : o->id;
    }
    /* Short options: one letter, value attached (-j2) or next word. */
    o = (unsigned char)s[1] < 128 ? find_short(p->opts, s[1]) : NULL;
    if (!o && s[2] == '\0' && (o = find_short(global_options, s[1])) != NULL)
        return global(p, o, NULL);
    if (!o) {
        cli_usage_error(p->cmd, "unknown option '%s' (see 'csmpq %s --help')", s, p->cmd);
        return CLI_OPT_ERROR;
    }
    if (o->has_arg) {
        if (s[2])
            p->optarg = s + 2;
        else if (p->index < p->argc)
            p->optarg = p->argv[p->index++];
        else {
            cli_usage_error(p->cmd, "option '-%c' needs a value", s[1]);
            return CLI_OPT_ERROR;
        }
    } else if (s[2]) {
        cli_usage_error(p->cmd, "unknown option '%s' (see 'csmpq %s --help')", s, p->cmd);
        return CLI_OPT_ERROR;
    }
    return o->id;
}

void cli_opt_help(const struct cli_parser *p, FILE *fp)
{
    const struct cli_opt *o;
    char left[64];

    fprintf(fp, "%s\n", p->usage);
    if (!p->opts[0].name)
        return;
    fputs("\noptions:\n", fp);
    for (o = p->opts; o->name; o++) {
        if (o->id > 0 && o->id < 128)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->id, o->name,
                     o->has_arg ? " " : "", o->has_arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name,
                     o->has_arg ? " " : "", o->has_arg ? o->arg : "");
        fprintf(fp, "  %-26s %s\n", left, o->help);
    }
    fprintf(fp, "  %-26s %s\n", "-h, --help", "show this help");
    fprintf(fp, "  %-26s %s\n", "-q, --max-memory SIZE", "global options, here too (csmpq --help)");
}

int cli_fail(const char *cmd, int status)
{
    const char *msg = csq_errmsg();

    if (status == CSQ_OK)
        return EXIT_OK;
    /* The library names no flags; the limit's flag is the CLI's to name. */
    fprintf(stderr, "csmpq: %s: %s%s\n", cmd, *msg ? msg : csq_strerror(status),
            status == CSQ_ELIMIT ? "; --max-memory sets the limit" : "");
    csq_errclear();
    if (status == CSQ_EUSAGE)
        return EXIT_USAGE;
    if (status == CSQ_EINFEASIBLE)
        return EXIT_INFEASIBLE;
    return EXIT_ERROR;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s,
                  long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cli_usage_error(cmd, "option '%s': '%s' is not an integer in %ld..%ld",
                        opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_quantizer(const char *cmd, const char *s, int *q)
{
    if (strcmp(s, "rtn") == 0)
        *q = CSQ_WERR_RTN;
    else if (strcmp(s, "gptq") == 0)
        *q = CSQ_WERR_GPTQ;
    else {
        cli_usage_error(cmd, "--quantizer takes rtn or gptq, not '%s'", s);
        return -1;
    }
    return 0;
}

int cli_check_output(const char *cmd, const char *path)
{
    return path && csq_out_check(path) != CSQ_OK ? cli_fail(cmd, CSQ_EIO) : 0;
}
