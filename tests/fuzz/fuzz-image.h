/*
 * fuzz-image: the body shared by fuzz-png and fuzz-jpeg: decode, then
 * preprocess the picture the way the loader does (resize, crop,
 * normalize), so the resampler sees every size the decoders accept.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "data/image.h"
#include "util/err.h"

/* Small enough that a hostile header cannot make one run take seconds;
 * the limit logic itself is the same at any value. */
#define FUZZ_MAX_PIXELS ((size_t)1 << 18)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_image(int rc, struct csq_image *img)
{
    struct csq_image_prep p;
    struct csq_image_msg m = {0};
    float *out;

    if (rc == 0) {
        csq_image_prep_init(&p, img->c == 1 ? 3 : 1, 8, 6);
        p.resize = 7;
        out = malloc(csq_image_prep_size(&p) * sizeof *out);
        if (out)
            (void)csq_image_preprocess(img, &p, out, "fuzz", &m);
        free(out);
    }
    csq_image_release(img);
    csq_errclear();
}
