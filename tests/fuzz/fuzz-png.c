/* fuzz-png: bytes through the libpng adapter, then preprocessing. */
#include "fuzz-image.h"

#include "data/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_image img = {0};
    struct csq_image_msg m = {0};

    fuzz_image(csq_png_decode(&img, data, size, "fuzz.png", FUZZ_MAX_PIXELS, &m), &img);
    return 0;
}
