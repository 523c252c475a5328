// Float32 products with a reused right operand, for the LSTM's per-step products: OpenBLAS packs
// both operands again at every call (10% of training cycles), this packs B (the weights) once per
// batch and only the small A (one step's rows) per call. The tile is 6 rows x 16 columns: 12 ymm
// accumulators, two loads of B and six broadcasts of A per k. Built without -march: only these
// functions are compiled for AVX2 + FMA, chosen at run time.
#include "panelgemm.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define NN_AVX2 __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16

int nn_panel_gemm_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

size_t nn_panel_packed_b_size(int K, int N) { return (size_t)((N + NR - 1) / NR) * NR * (size_t)K; }

size_t nn_panel_workspace_size(int M, int K) { return (size_t)((M + MR - 1) / MR) * MR * (size_t)K; }

/* Panel p holds columns 16p ... 16p + 15 of op(B), row after row (k rows of 16), zero past N. */
void nn_panel_pack_b(int transposed, int K, int N, const float *B, int ldb, float *packed) {
    for (int j = 0; j < N; j += NR) {
        int width = N - j < NR ? N - j : NR;
        float *panel = packed + (size_t)j * K;
        if (!transposed && width == NR) {  // whole rows of 16
            for (int k = 0; k < K; k++, panel += NR) memcpy(panel, B + (size_t)k * ldb + j, NR * sizeof(float));
            continue;
        }
        for (int k = 0; k < K; k++, panel += NR) {
            for (int t = 0; t < NR; t++) {
                panel[t] = t >= width ? 0 : transposed ? B[(size_t)(j + t) * ldb + k] : B[(size_t)k * ldb + j + t];
            }
        }
    }
}

/* Panel p holds rows 6p ... 6p + 5 of A, column after column (k columns of 6), zero past M. */
NN_AVX2 static void nn_pack_a(int M, int K, const float *A, int lda, float *packed) {
    for (int i = 0; i < M; i += MR) {
        float *panel = packed + (size_t)i * K;
        if (M - i >= MR) {
            const float *r0 = A + (size_t)i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda,
                        *r4 = r3 + lda, *r5 = r4 + lda;
            for (int k = 0; k < K; k++, panel += MR) {
                panel[0] = r0[k]; panel[1] = r1[k]; panel[2] = r2[k];
                panel[3] = r3[k]; panel[4] = r4[k]; panel[5] = r5[k];
            }
        } else {
            for (int k = 0; k < K; k++, panel += MR) {
                for (int t = 0; t < MR; t++) panel[t] = i + t < M ? A[(size_t)(i + t) * lda + k] : 0;
            }
        }
    }
}

/* The first `rows` x `columns` of a finished tile into C (C = tile + beta · C). */
NN_AVX2 static void nn_store_partial(const float tile[MR][NR], float beta, float *C, int ldc, int rows, int columns) {
    for (int r = 0; r < rows; r++) {
        float *row = C + (size_t)r * ldc;
        for (int t = 0; t < columns; t++) row[t] = beta != 0 ? tile[r][t] + beta * row[t] : tile[r][t];
    }
}

/* One 6 x 16 tile over all of K. The twelve accumulators are named so that they stay in registers
   (with an array and the beta handling in the same function, the compiler spilled two of them
   inside the k loop: 2.5x slower); not inlined, so that nothing of the callers takes a register. */
NN_AVX2 __attribute__((noinline)) static void nn_tile(int K, const float *a, const float *b, float beta, float *C, int ldc,
                                   int rows, int columns) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < K; k++, a += MR, b += NR) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
        x = _mm256_broadcast_ss(a);     c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    if (rows == MR && columns == NR && beta == 0) {
        _mm256_storeu_ps(C, c00);           _mm256_storeu_ps(C + 8, c01);
        _mm256_storeu_ps(C + ldc, c10);     _mm256_storeu_ps(C + ldc + 8, c11);
        _mm256_storeu_ps(C + 2 * ldc, c20); _mm256_storeu_ps(C + 2 * ldc + 8, c21);
        _mm256_storeu_ps(C + 3 * ldc, c30); _mm256_storeu_ps(C + 3 * ldc + 8, c31);
        _mm256_storeu_ps(C + 4 * ldc, c40); _mm256_storeu_ps(C + 4 * ldc + 8, c41);
        _mm256_storeu_ps(C + 5 * ldc, c50); _mm256_storeu_ps(C + 5 * ldc + 8, c51);
        return;
    }
    float tile[MR][NR];
    _mm256_storeu_ps(tile[0], c00); _mm256_storeu_ps(tile[0] + 8, c01);
    _mm256_storeu_ps(tile[1], c10); _mm256_storeu_ps(tile[1] + 8, c11);
    _mm256_storeu_ps(tile[2], c20); _mm256_storeu_ps(tile[2] + 8, c21);
    _mm256_storeu_ps(tile[3], c30); _mm256_storeu_ps(tile[3] + 8, c31);
    _mm256_storeu_ps(tile[4], c40); _mm256_storeu_ps(tile[4] + 8, c41);
    _mm256_storeu_ps(tile[5], c50); _mm256_storeu_ps(tile[5] + 8, c51);
    nn_store_partial((const float(*)[NR])tile, beta, C, ldc, rows, columns);
}

NN_AVX2 void nn_panel_gemm(int M, int N, int K, const float *A, int lda, const float *packed, float beta,
                           float *C, int ldc, float *workspace) {
    nn_pack_a(M, K, A, lda, workspace);
    // A's panel (6 x K) stays in L1 while the tile sweeps B's panels.
    for (int i = 0; i < M; i += MR) {
        int rows = M - i < MR ? M - i : MR;
        for (int j = 0; j < N; j += NR) {
            int columns = N - j < NR ? N - j : NR;
            nn_tile(K, workspace + (size_t)i * K, packed + (size_t)j * K, beta, C + (size_t)i * ldc + j, ldc,
                    rows, columns);
        }
    }
}

#else  // Not x86-64: callers use cblas_sgemm.
int nn_panel_gemm_supported(void) { return 0; }
size_t nn_panel_packed_b_size(int K, int N) { (void)K; (void)N; return 0; }
size_t nn_panel_workspace_size(int M, int K) { (void)M; (void)K; return 0; }
void nn_panel_pack_b(int transposed, int K, int N, const float *B, int ldb, float *packed) {
    (void)transposed; (void)K; (void)N; (void)B; (void)ldb; (void)packed;
}
void nn_panel_gemm(int M, int N, int K, const float *A, int lda, const float *packed, float beta, float *C,
                   int ldc, float *workspace) {
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)packed; (void)beta; (void)C; (void)ldc; (void)workspace;
}
#endif
