/* fuzz-jpeg: bytes through the libjpeg adapter, then preprocessing. */
#include "fuzz-image.h"

#include "data/jpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_image img = {0};
    struct csq_image_msg m = {0};

    fuzz_image(csq_jpeg_decode(&img, data, size, "fuzz.jpg", FUZZ_MAX_PIXELS, &m), &img);
    return 0;
}
