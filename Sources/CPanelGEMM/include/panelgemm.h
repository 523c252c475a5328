#ifndef NN_PANELGEMM_H
#define NN_PANELGEMM_H

#include <stddef.h>

/* Float32 products C = A · B + beta · C whose B is reused: B packed once into 16-column panels,
   A packed per call into 6-row panels, a 6 x 16 tile of C accumulated in 12 ymm registers
   (AVX2 + FMA). Callers check nn_panel_gemm_supported() first. */

int nn_panel_gemm_supported(void);

/* Floats needed to pack a K x N op(B), and the workspace of a call with M rows. */
size_t nn_panel_packed_b_size(int K, int N);
size_t nn_panel_workspace_size(int M, int K);

/* op(B) is K x N: B itself (row-major, leading dimension ldb) or, with transposed, the transpose
   of the row-major N x K matrix B. */
void nn_panel_pack_b(int transposed, int K, int N, const float *B, int ldb, float *packed);

/* C (M x N, ldc) = A (M x K, row-major, lda) · op(B) + beta · C; beta 0 ignores C's contents. */
void nn_panel_gemm(int M, int N, int K, const float *A, int lda, const float *packed, float beta,
                   float *C, int ldc, float *workspace);

#endif
