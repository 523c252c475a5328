#ifndef NN_PANELGEMM_H
#define NN_PANELGEMM_H

#include <stddef.h>

/* Float32 products C = op(A) · op(B) + beta · C with op(B) packed into column panels (once, when
   it is reused) and op(A) packed per call into row panels; a tile of C accumulates in registers.
   Three kernels, chosen at run time: AVX2 + FMA (6 x 16 tiles, 12 ymm accumulators), AVX-512
   (8 x 32 tiles, 16 zmm accumulators) and portable C vectors of 4 (4 x 8 tiles) for any other CPU.
   Packed B belongs to the kernel that packed it. */

enum { NN_PANEL_AVX2 = 1, NN_PANEL_AVX512 = 2, NN_PANEL_PORTABLE = 4 };

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

/* C (M x N, ldc) = alpha · op(A) · op(B) + beta · C with both operands packed here, block by block
   (GotoBLAS's order: a block of op(B) that stays in L2, blocks of op(A) passing through it), for
   products that use their operands once. op(B) is B (row-major K x N, ldb) or, with transposeB, the
   transpose of the row-major N x K matrix B. `workspace` holds nn_panel_unpacked_workspace_size floats. */
size_t nn_panel_unpacked_workspace_size(int kernel);
void nn_panel_gemm_unpacked(int kernel, int transposeA, int transposeB, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,
                            float *workspace);

#endif
