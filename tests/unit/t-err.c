/* err: first message wins, newlines are flattened, codes map to text. */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "util/err.h"

int main(void)
{
    ok(strcmp(csq_errmsg(), "") == 0, "no message at start");
    is_int(csq_fail(CSQ_EFORMAT, "deep: '%s' bad", "x"), CSQ_EFORMAT, "csq_fail returns the code");
    csq_fail(CSQ_EIO, "shallow");
    ok(strcmp(csq_errmsg(), "deep: 'x' bad") == 0, "first message wins");
    csq_errclear();
    csq_fail(CSQ_EIO, "a\nb");
    ok(strcmp(csq_errmsg(), "a b") == 0, "newline flattened");
    ok(strcmp(csq_strerror(CSQ_EINFEASIBLE), "no assignment fits the budget") == 0, "strerror");
    ok(strcmp(csq_strerror(999), "unknown error") == 0, "unknown code");
    return tap_done();
}
