/*
 * sha256: FIPS 180-4 SHA-256, small and dependency-free, for naming the
 * model a bit config was made for.  The context is caller-owned.
 *
 *     struct csq_sha256 c; unsigned char d[32];
 *     csq_sha256_init(&c); csq_sha256_update(&c, buf, n); csq_sha256_final(&c, d);
 */
#ifndef CSQ_SHA256_H
#define CSQ_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct csq_sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
};

void csq_sha256_init(struct csq_sha256 *c);
void csq_sha256_update(struct csq_sha256 *c, const void *data, size_t n);
void csq_sha256_final(struct csq_sha256 *c, unsigned char digest[32]);
/* digest of n bytes as 64 lowercase hex digits plus NUL into hex[65] */
void csq_sha256_hex(const void *data, size_t n, char hex[65]);
/* the same for the contents of a file ("-" = stdin) */
int csq_sha256_file(const char *path, char hex[65]);

#endif
