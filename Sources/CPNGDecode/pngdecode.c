#include "pngdecode.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct source { const uint8_t *data; size_t size, offset; char *message; };

static void read_bytes(png_structp png, png_bytep out, size_t count) {
    struct source *s = png_get_io_ptr(png);
    if (count > s->size - s->offset) png_error(png, "truncated PNG data");
    memcpy(out, s->data + s->offset, count);
    s->offset += count;
}

static void on_error(png_structp png, png_const_charp text) {
    struct source *s = png_get_error_ptr(png);
    strncpy(s->message, text, 199);
    s->message[199] = 0;
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

int nn_png_decode(const uint8_t *data, size_t size, float *pixels, int out_channels, long max_pixels,
                  int *width, int *height, int *colour, char *message) {
    struct source s = { data, size, 0, message };
    message[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    if (!png) { strcpy(message, "out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    png_bytep volatile row = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        free(row);
        free(rows);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        if (!message[0]) strcpy(message, "corrupt PNG");
        return -1;
    }
    png_set_read_fn(png, &s, read_bytes);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    *width = (int)w;
    *height = (int)h;
    *colour = (png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) != 0;
    if ((double)w * (double)h > (double)max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return -2;
    }
    if (!pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    int color = png_get_color_type(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info), depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    double top = depth == 16 ? 65535.0 : 255.0;
    /* Interlaced images need every pass over the whole image: keep all rows. */
    row = malloc(rowbytes * h);
    if (!row) png_error(png, "out of memory");
    rows = malloc(sizeof(png_bytep) * (h > 0 ? h : 1));
    if (!rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = row + y * rowbytes;
    png_read_image(png, rows);
    for (png_uint_32 y = 0; y < h; y++) {
        for (png_uint_32 x = 0; x < w; x++) {
            double v[4];
            for (int c = 0; c < channels; c++) {
                png_bytep p = rows[y] + ((size_t)x * channels + c) * (depth == 16 ? 2 : 1);
                v[c] = (depth == 16 ? (p[0] << 8 | p[1]) : p[0]) / top;
            }
            double alpha = channels == 2 ? v[1] : channels == 4 ? v[3] : 1.0;
            if (out_channels == 3) {
                float *out = pixels + ((size_t)y * w + x) * 3;
                for (int c = 0; c < 3; c++) out[c] = (float)((channels >= 3 ? v[c] : v[0]) * alpha);
            } else {
                double grey = channels >= 3 ? 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2] : v[0];
                pixels[(size_t)y * w + x] = (float)(grey * alpha);
            }
        }
    }
    free(row);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int nn_png_decode_grey(const uint8_t *data, size_t size, float *pixels, long max_pixels,
                       int *width, int *height, char *message) {
    int colour = 0;
    return nn_png_decode(data, size, pixels, 1, max_pixels, width, height, &colour, message);
}
