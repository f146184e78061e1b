/*
 * file: whole-file reads and atomic writes.
 *
 * Output files are written to a temporary name in the same directory and
 * renamed into place by csq_out_commit(), so a failure never leaves a
 * partial or empty file.  The path "-" means stdout (no rename; write
 * errors are still caught on commit).
 *
 *     struct csq_out o;
 *     if ((rc = csq_out_open(&o, path)) != 0) return rc;
 *     fprintf(o.fp, ...);
 *     return csq_out_commit(&o);      (or csq_out_abort(&o) on error)
 */
#ifndef CSQ_FILE_H
#define CSQ_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Read all of path ("-" = stdin) into *buf (caller frees); *len bytes.
 * A NUL is appended after the data so text parsers may use it. */
int csq_file_read(const char *path, unsigned char **buf, size_t *len);

/* csq_file_read for a text format: a NUL byte is refused as "WHAT:
 * 'PATH': binary file". */
int csq_file_read_text(const char *what, const char *path, char **buf, size_t *len);

struct csq_out {
    FILE *fp;
    char *path;     /* final name, NULL for stdout */
    char *tmp;      /* temporary name */
};

int csq_out_open(struct csq_out *o, const char *path);
/* Flush, check for write errors, rename into place. */
int csq_out_commit(struct csq_out *o);
/* Close and remove the temporary file. */
void csq_out_abort(struct csq_out *o);
/* Whether path could be written now (its folder exists and is writable,
 * it is not a folder), with csq_out_open's message, so commands refuse a
 * bad output before their long work.  Leaves nothing behind. */
int csq_out_check(const char *path);

#endif
