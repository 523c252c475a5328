#ifndef NN_PNGDECODE_H
#define NN_PNGDECODE_H

#include <stddef.h>
#include <stdint.h>

/* Reads a PNG's stored samples without any colour-space conversion (no gamma, sRGB or ICC
   handling: a gAMA chunk or a 16-bit depth does not change the values), as grey in [0, 1]:
   value / (2^depth - 1); colour by luminance 0.299 R + 0.587 G + 0.114 B; alpha composited
   over black. Palettes, tRNS and 1/2/4-bit grey are expanded first.

   First call with pixels == NULL to learn the size (width, height); then with room for
   width * height floats. Returns 0 on success, -1 with a message (at most 200 bytes) on a
   corrupt file, -2 when width * height exceeds max_pixels. */
int nn_png_decode_grey(const uint8_t *data, size_t size, float *pixels, long max_pixels,
                       int *width, int *height, char *message);

/* The same, into out_channels (1: grey as above; 3: RGB, grey replicated) values per pixel,
   alpha composited over black; colour tells whether the file stores colour. */
int nn_png_decode(const uint8_t *data, size_t size, float *pixels, int out_channels, long max_pixels,
                  int *width, int *height, int *colour, char *message);

#endif
