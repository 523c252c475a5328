#ifndef NN_PANELGEMM_H
#define NN_PANELGEMM_H

#include <stddef.h>

/* Float32 products C = op(A) · op(B) + beta · C with op(B) packed into column panels (once, when
   it is reused) and op(A) packed per call into row panels; a tile of C accumulates in registers.
   Two kernels, chosen at run time: AVX2 + FMA (6 x 16 tiles, 12 ymm accumulators) and AVX-512
   (8 x 32 tiles, 16 zmm accumulators). Packed B belongs to the kernel that packed it. */

enum { NN_PANEL_AVX2 = 1, NN_PANEL_AVX512 = 2 };

/* The kernels this CPU runs, as a bit set of the values above. */
int nn_panel_kernels_supported(void);

/* Floats needed to pack a K x N op(B), and the workspace of a call with M rows. */
size_t nn_panel_packed_b_size(int kernel, int K, int N);
size_t nn_panel_workspace_size(int kernel, int M, int K);

/* op(B) is K x N: B itself (row-major, leading dimension ldb) or, with transposed, the transpose
   of the row-major N x K matrix B. */
void nn_panel_pack_b(int kernel, int transposed, int K, int N, const float *B, int ldb, float *packed);

/* C (M x N, ldc) = op(A) (M x K) · op(B) + beta · C; beta 0 ignores C's contents. op(A) is A
   (row-major M x K, lda) or, with transposeA, the transpose of the row-major K x M matrix A. */
void nn_panel_gemm(int kernel, int transposeA, int M, int N, int K, const float *A, int lda, const float *packed,
                   float beta, float *C, int ldc, float *workspace);

#endif
