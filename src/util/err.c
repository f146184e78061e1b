/*
 * err: the first-failure-wins message slot (see err.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char err_msg[1024];
static int err_set;

int csq_fail(int code, const char *fmt, ...)
{
    va_list ap;
    char *nl;

    pthread_mutex_lock(&err_lock);
    if (!err_set) {
        va_start(ap, fmt);
        vsnprintf(err_msg, sizeof err_msg, fmt, ap);
        va_end(ap);
        /* The CLI prints one line: never let a message carry a newline. */
        while ((nl = strpbrk(err_msg, "\r\n")) != NULL)
            *nl = ' ';
        err_set = 1;
    }
    pthread_mutex_unlock(&err_lock);
    return code;
}

void csq_err_context(const char *fmt, ...)
{
    char ctx[256], tmp[sizeof err_msg + sizeof ctx + 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&err_lock);
    /* Only when the message does not already carry the context. */
    if (err_set && strncmp(err_msg, ctx, strlen(ctx)) != 0) {
        snprintf(tmp, sizeof tmp, "%s: %s", ctx, err_msg);
        tmp[sizeof err_msg - 1] = '\0';    /* truncation is fine for a message */
        memcpy(err_msg, tmp, sizeof err_msg);
    }
    pthread_mutex_unlock(&err_lock);
}

const char *csq_errmsg(void)
{
    const char *m;

    pthread_mutex_lock(&err_lock);
    m = err_set ? err_msg : "";
    pthread_mutex_unlock(&err_lock);
    return m;
}

void csq_errclear(void)
{
    pthread_mutex_lock(&err_lock);
    err_set = 0;
    err_msg[0] = '\0';
    pthread_mutex_unlock(&err_lock);
}

static const char *const status_text[] = {
    "success",
    "out of memory",
    "input/output error",
    "malformed input",
    "unsupported input",
    "shape mismatch",
    "invalid argument",
    "no assignment fits the budget",
    "bad usage",
    "over the memory limit",
};
_Static_assert(sizeof status_text / sizeof status_text[0] == CSQ_STATUS_COUNT,
               "status_text must cover enum csq_status");

const char *csq_strerror(int code)
{
    if (code < 0 || code >= CSQ_STATUS_COUNT)
        return "unknown error";
    return status_text[code];
}
