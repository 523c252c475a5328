#ifndef NN_BF16GEMM_H
#define NN_BF16GEMM_H
#include <stddef.h>
#include <stdint.h>

/* 1 when this CPU has AVX512-BF16 (and the AVX-512 parts the kernel uses). */
int nn_bf16_supported(void);

/* Elements (uint16_t) of a packed op(B) of K x N, and (uint32_t) of the A workspace for M x K. */
size_t nn_bf16_packed_b_size(int K, int N);
size_t nn_bf16_packed_a_size(int M, int K);

/* Packs op(B) (B row-major with leading dimension ldb, transposed if transB) as bfloat16. */
void nn_bf16_pack_b(int transB, int K, int N, const float *B, int ldb, uint16_t *packed);

/* Packs rows first ..< first + count of a K x N op(B) = B (not transposed; `B` points at row
   `first`) into their place in `packed`, for an operand packed a piece at a time as its rows are
   made. Pairs of rows are packed together: `first` is even, and `count` is too unless the piece
   ends at K. Pieces with no row in common may be packed at the same time. */
void nn_bf16_pack_b_rows(int K, int N, int first, int count, const float *B, int ldb, uint16_t *packed);

/* C = alpha * op(A) * B + beta * C, row-major, with op(A) rounded to bfloat16 into Abuf
   (nn_bf16_packed_a_size(M, K) elements) and B packed by nn_bf16_pack_b. */
void nn_bf16_gemm_packed(int transA, int M, int N, int K, float alpha, const float *A, int lda,
                         const uint16_t *Bp, float beta, float *C, int ldc, uint32_t *Abuf);
/* Packs rows first ..< first + count of a K x M matrix A (`A` points at row `first`) as rows of
   op(A) = Aᵀ, M x K, into their place in Abuf (nn_bf16_packed_a_size(M, K) elements), for a left
   operand packed a piece at a time as its rows are made; pieces as for nn_bf16_pack_b_rows. */
void nn_bf16_pack_a_transposed_rows(int M, int K, int first, int count, const float *A, int lda, uint32_t *Abuf);

/* C = alpha * op(A) * B + beta * C with op(A) (M x K) packed already, by nn_bf16_pack_a_transposed_rows. */
void nn_bf16_gemm_prepacked(int M, int N, int K, float alpha, const uint32_t *Abuf, const uint16_t *Bp, float beta,
                            float *C, int ldc);
#endif
