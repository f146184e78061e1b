/*
 * err: status codes and the one error message of a failed call.
 *
 * Library functions return 0 (CSQ_OK) or a positive enum csq_status and, on
 * failure, record one human-readable line with csq_fail().  The first
 * message recorded wins, because the deepest frame knows the most; callers
 * that only pass a status on add nothing.  Only the CLI reads and clears the
 * message.  The slot is shared by all threads (worker threads fail too) and
 * guarded by a mutex.
 *
 *     if (n < 0)
 *         return csq_fail(CSQ_EFORMAT, "onnx: tensor '%s': negative dim", name);
 */
#ifndef CSQ_ERR_H
#define CSQ_ERR_H

/* Numbers are never reused: scripts may key on them. */
enum csq_status {
    CSQ_OK = 0,
    CSQ_ENOMEM = 1,       /* allocation failed or would exceed a limit */
    CSQ_EIO = 2,          /* cannot open, read or write a file */
    CSQ_EFORMAT = 3,      /* malformed input file */
    CSQ_EUNSUPPORTED = 4, /* valid input we do not handle */
    CSQ_ESHAPE = 5,       /* tensor shapes do not fit together */
    CSQ_EINVAL = 6,       /* bad argument value */
    CSQ_EINFEASIBLE = 7,  /* no bit assignment meets the budget */
    CSQ_EUSAGE = 8,       /* bad command-line usage */
    CSQ_ELIMIT = 9,       /* would need more memory than the limit (util/limits.h) */
    CSQ_STATUS_COUNT
};

#if defined(__GNUC__)
#define CSQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CSQ_PRINTF(a, b)
#endif

/* Record msg (if no message is recorded yet) and return code. */
int csq_fail(int code, const char *fmt, ...) CSQ_PRINTF(2, 3);
/* Prefix the recorded message with "<context>: " (once per call), so an
 * outer frame can add the file name to a kernel's message. */
void csq_err_context(const char *fmt, ...) CSQ_PRINTF(1, 2);
/* The recorded message, or "" when none. */
const char *csq_errmsg(void);
/* Forget the recorded message. */
void csq_errclear(void);
/* A fixed description of a status code. */
const char *csq_strerror(int code);

#endif
