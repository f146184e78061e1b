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

#endif
