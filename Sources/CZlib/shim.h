// zlib (Debian: zlib1g-dev). inflateInit2 is a macro, so it is wrapped for Swift.
#include <zlib.h>

/// Starts inflating a gzip or zlib stream (window bits 15, +32: detect the header).
static inline int nn_inflate_init_auto(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}

/// Starts inflating raw deflate data, with no header (a zip archive's members).
static inline int nn_inflate_init_raw(z_streamp stream) {
    return inflateInit2(stream, -15);
}
