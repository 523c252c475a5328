// Float32 products with a packed right operand. The LSTM's per-step products reuse B (the
// weights) for every step: OpenBLAS packs both operands again at every call (10% of training
// cycles), this packs B once per batch and only the small A (one step's rows) per call. Dense
// layers pack both per call, each thread its own columns of B. Built without -march: only these
// functions are compiled for AVX2 + FMA or AVX-512, chosen at run time.
#include "panelgemm.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define NN_AVX2 __attribute__((target("avx2,fma")))
#define NN_AVX512 __attribute__((target("avx512f,avx2,fma")))

int nn_panel_kernels_supported(void) {
    __builtin_cpu_init();
    int kernels = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels |= NN_PANEL_AVX2;
    if (__builtin_cpu_supports("avx512f") && (kernels & NN_PANEL_AVX2)) kernels |= NN_PANEL_AVX512;
    return kernels;
}

static int rows_of(int kernel) { return kernel == NN_PANEL_AVX512 ? 8 : 6; }
static int columns_of(int kernel) { return kernel == NN_PANEL_AVX512 ? 32 : 16; }

size_t nn_panel_packed_b_size(int kernel, int K, int N) {
    int nr = columns_of(kernel);
    return (size_t)((N + nr - 1) / nr) * nr * (size_t)K;
}

size_t nn_panel_workspace_size(int kernel, int M, int K) {
    int mr = rows_of(kernel);
    return (size_t)((M + mr - 1) / mr) * mr * (size_t)K;
}

/* Panel p holds columns nr·p ... nr·p + nr − 1 of op(B), row after row (K rows of nr), zero past N. */
void nn_panel_pack_b(int kernel, int transposed, int K, int N, const float *B, int ldb, float *packed) {
    int nr = columns_of(kernel);
    for (int j = 0; j < N; j += nr) {
        int width = N - j < nr ? N - j : nr;
        float *panel = packed + (size_t)j * K;
        if (!transposed && width == nr) {  // whole rows of nr: fixed-size copies the compiler unrolls
            const float *source = B + j;
            if (nr == 32) {
                for (int k = 0; k < K; k++, panel += 32, source += ldb) memcpy(panel, source, 32 * sizeof(float));
            } else {
                for (int k = 0; k < K; k++, panel += 16, source += ldb) memcpy(panel, source, 16 * sizeof(float));
            }
            continue;
        }
        if (transposed) {  // column j + t of op(B) is row j + t of B: in blocks of 64 k, so that the
                           // part of the panel being written stays in L1
            for (int kb = 0; kb < K; kb += 64) {
                int end = K - kb < 64 ? K : kb + 64;
                for (int t = 0; t < nr; t++) {
                    const float *row = B + (size_t)(j + t) * ldb;
                    for (int k = kb; k < end; k++) panel[(size_t)k * nr + t] = t < width ? row[k] : 0;
                }
            }
            continue;
        }
        for (int k = 0; k < K; k++, panel += nr) {
            for (int t = 0; t < nr; t++) panel[t] = t < width ? B[(size_t)k * ldb + j + t] : 0;
        }
    }
}

/* Panel p holds rows mr·p ... mr·p + mr − 1 of op(A), column after column (K columns of mr), zero past M. */
static void nn_pack_a(int mr, int transposeA, int M, int K, const float *A, int lda, float *packed) {
    for (int i = 0; i < M; i += mr) {
        float *panel = packed + (size_t)i * K;
        int rows = M - i < mr ? M - i : mr;
        if (transposeA) {  // row i + t of op(A) is column i + t of A: rows of A are contiguous here
            for (int k = 0; k < K; k++, panel += mr) {
                const float *source = A + (size_t)k * lda + i;
                for (int t = 0; t < mr; t++) panel[t] = t < rows ? source[t] : 0;
            }
            continue;
        }
        if (rows == 8) {  // eight rows read side by side, the panel written in order
            const float *r0 = A + (size_t)i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda,
                        *r5 = r4 + lda, *r6 = r5 + lda, *r7 = r6 + lda;
            for (int k = 0; k < K; k++, panel += 8) {
                panel[0] = r0[k]; panel[1] = r1[k]; panel[2] = r2[k]; panel[3] = r3[k];
                panel[4] = r4[k]; panel[5] = r5[k]; panel[6] = r6[k]; panel[7] = r7[k];
            }
            continue;
        }
        if (rows == 6 && mr == 6) {
            const float *r0 = A + (size_t)i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda,
                        *r5 = r4 + lda;
            for (int k = 0; k < K; k++, panel += 6) {
                panel[0] = r0[k]; panel[1] = r1[k]; panel[2] = r2[k]; panel[3] = r3[k]; panel[4] = r4[k]; panel[5] = r5[k];
            }
            continue;
        }
        for (int t = 0; t < mr; t++) {
            const float *row = A + (size_t)(i + t) * lda;
            for (int k = 0; k < K; k++) panel[(size_t)k * mr + t] = t < rows ? row[k] : 0;
        }
    }
}

/* The first `rows` x `columns` of a finished tile (`nr` wide) into C (C = tile + beta · C). */
static void nn_store_partial(const float *tile, int nr, float beta, float *C, int ldc, int rows, int columns) {
    for (int r = 0; r < rows; r++) {
        float *row = C + (size_t)r * ldc;
        for (int t = 0; t < columns; t++) row[t] = beta != 0 ? tile[r * nr + t] + beta * row[t] : tile[r * nr + t];
    }
}

/* One 6 x 16 tile over all of K. The accumulators are named so that they stay in registers
   (with an array and the beta handling in the same function, the compiler spilled two of them
   inside the k loop: 2.5x slower); not inlined, so that nothing of the callers takes a register. */
NN_AVX2 __attribute__((noinline)) static void nn_tile_avx2(int K, const float *a, const float *b, float beta, float *C,
                                                           int ldc, int rows, int columns) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < K; k++, a += 6, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
        x = _mm256_broadcast_ss(a);     c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    __m256 tile[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (rows == 6 && columns == 16) {
        __m256 scale = _mm256_set1_ps(beta);
        for (int r = 0; r < 6; r++) {
            float *row = C + (size_t)r * ldc;
            __m256 low = tile[2 * r], high = tile[2 * r + 1];
            if (beta != 0) {
                low = _mm256_fmadd_ps(scale, _mm256_loadu_ps(row), low);
                high = _mm256_fmadd_ps(scale, _mm256_loadu_ps(row + 8), high);
            }
            _mm256_storeu_ps(row, low);
            _mm256_storeu_ps(row + 8, high);
        }
        return;
    }
    float values[6 * 16];
    for (int v = 0; v < 12; v++) _mm256_storeu_ps(values + 8 * v, tile[v]);
    nn_store_partial(values, 16, beta, C, ldc, rows, columns);
}

/* One 8 x 32 tile over all of K: 16 zmm accumulators, two loads of B and eight broadcasts of A
   (folded into the multiply-adds) per k. */
NN_AVX512 __attribute__((noinline)) static void nn_tile_avx512(int K, const float *a, const float *b, float beta,
                                                               float *C, int ldc, int rows, int columns) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int k = 0; k < K; k++, a += 8, b += 32) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), x;
        x = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(a[6]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        x = _mm512_set1_ps(a[7]); c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71);
    }
    __m512 tile[16] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71};
    if (rows == 8 && columns == 32) {
        __m512 scale = _mm512_set1_ps(beta);
        for (int r = 0; r < 8; r++) {
            float *row = C + (size_t)r * ldc;
            __m512 low = tile[2 * r], high = tile[2 * r + 1];
            if (beta != 0) {
                low = _mm512_fmadd_ps(scale, _mm512_loadu_ps(row), low);
                high = _mm512_fmadd_ps(scale, _mm512_loadu_ps(row + 16), high);
            }
            _mm512_storeu_ps(row, low);
            _mm512_storeu_ps(row + 16, high);
        }
        return;
    }
    float values[8 * 32];
    for (int v = 0; v < 16; v++) _mm512_storeu_ps(values + 16 * v, tile[v]);
    nn_store_partial(values, 32, beta, C, ldc, rows, columns);
}

void nn_panel_gemm(int kernel, int transposeA, int M, int N, int K, const float *A, int lda, const float *packed,
                   float beta, float *C, int ldc, float *workspace) {
    int mr = rows_of(kernel), nr = columns_of(kernel);
    nn_pack_a(mr, transposeA, M, K, A, lda, workspace);
    // K in blocks of KC: one block of a B panel (nr x KC, 32 KiB at most) stays in L1 while the
    // tiles sweep the rows of A, whose panels' blocks come from L2. A K of KC or less (the LSTM's
    // steps) is one block, summed in the same order as without blocks.
    enum { KC = 256 };
    for (int kb = 0; kb < K; kb += KC) {
        int depth = K - kb < KC ? K - kb : KC;
        float blockBeta = kb == 0 ? beta : 1;
        for (int j = 0; j < N; j += nr) {
            int columns = N - j < nr ? N - j : nr;
            const float *b = packed + (size_t)j * K + (size_t)kb * nr;
            for (int i = 0; i < M; i += mr) {
                int rows = M - i < mr ? M - i : mr;
                const float *a = workspace + (size_t)i * K + (size_t)kb * mr;
                float *c = C + (size_t)i * ldc + j;
                if (kernel == NN_PANEL_AVX512) nn_tile_avx512(depth, a, b, blockBeta, c, ldc, rows, columns);
                else nn_tile_avx2(depth, a, b, blockBeta, c, ldc, rows, columns);
            }
        }
    }
    if (K == 0) {  // no block: C = beta · C
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta != 0 ? beta * C[(size_t)i * ldc + j] : 0;
        }
    }
}

#else  // Not x86-64: callers use cblas_sgemm.
int nn_panel_kernels_supported(void) { return 0; }
size_t nn_panel_packed_b_size(int kernel, int K, int N) { (void)kernel; (void)K; (void)N; return 0; }
size_t nn_panel_workspace_size(int kernel, int M, int K) { (void)kernel; (void)M; (void)K; return 0; }
void nn_panel_pack_b(int kernel, int transposed, int K, int N, const float *B, int ldb, float *packed) {
    (void)kernel; (void)transposed; (void)K; (void)N; (void)B; (void)ldb; (void)packed;
}
void nn_panel_gemm(int kernel, int transposeA, int M, int N, int K, const float *A, int lda, const float *packed,
                   float beta, float *C, int ldc, float *workspace) {
    (void)kernel; (void)transposeA; (void)M; (void)N; (void)K; (void)A; (void)lda; (void)packed; (void)beta;
    (void)C; (void)ldc; (void)workspace;
}
#endif
