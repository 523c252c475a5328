// libpng's simplified API (Debian: libpng-dev). The format macros are composed, so they are
// restated as constants Swift can import.
#include <png.h>

static const unsigned int nn_png_format_rgba = PNG_FORMAT_RGBA;
static const int nn_png_image_version = PNG_IMAGE_VERSION;
