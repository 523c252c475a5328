// Float32 products with a packed right operand. The LSTM's per-step products reuse B (the
// weights) for every step: OpenBLAS packs both operands again at every call (10% of training
// cycles), this packs B once per batch and only the small A (one step's rows) per call. Dense
// layers pack both per call, each thread its own columns of B. Built without -march: only these
// functions are compiled for AVX2 + FMA or AVX-512, chosen at run time; the portable kernel is
// plain C vectors of 4 (SSE2 on any x86-64, NEON on ARM) for every other CPU.
#include "panelgemm.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define NN_AVX2 __attribute__((target("avx2,fma")))
#define NN_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

int nn_panel_kernels_supported(void) {
    int kernels = NN_PANEL_PORTABLE;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels |= NN_PANEL_AVX2;
    if (__builtin_cpu_supports("avx512f") && (kernels & NN_PANEL_AVX2)) kernels |= NN_PANEL_AVX512;
#endif
    return kernels;
}

static int rows_of(int kernel) { return kernel == NN_PANEL_AVX512 ? 8 : kernel == NN_PANEL_AVX2 ? 6 : 4; }
static int columns_of(int kernel) { return kernel == NN_PANEL_AVX512 ? 32 : kernel == NN_PANEL_AVX2 ? 16 : 8; }

size_t nn_panel_packed_b_size(int kernel, int K, int N) {
    int nr = columns_of(kernel);
    return (size_t)((N + nr - 1) / nr) * nr * (size_t)K;
}

size_t nn_panel_workspace_size(int kernel, int M, int K) {
    int mr = rows_of(kernel);
    return (size_t)((M + mr - 1) / mr) * mr * (size_t)K;
}

#if defined(__x86_64__)
/* Rows j ... j + 7 of B, columns k ... k + 7, transposed into rows k ... k + 7 of a panel (nr wide,
   at column t0): the usual eight-register AVX transpose. */
NN_AVX2 static void nn_transpose8(const float *B, int ldb, float *panel, int nr) {
    __m256 r0 = _mm256_loadu_ps(B), r1 = _mm256_loadu_ps(B + ldb), r2 = _mm256_loadu_ps(B + 2 * (size_t)ldb);
    __m256 r3 = _mm256_loadu_ps(B + 3 * (size_t)ldb), r4 = _mm256_loadu_ps(B + 4 * (size_t)ldb);
    __m256 r5 = _mm256_loadu_ps(B + 5 * (size_t)ldb), r6 = _mm256_loadu_ps(B + 6 * (size_t)ldb);
    __m256 r7 = _mm256_loadu_ps(B + 7 * (size_t)ldb);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
    __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(panel, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(panel + nr, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(panel + 2 * nr, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(panel + 3 * nr, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(panel + 4 * nr, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(panel + 5 * nr, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(panel + 6 * nr, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(panel + 7 * nr, _mm256_permute2f128_ps(s3, s7, 0x31));
}
#endif

/* Panel p holds columns nr·p ... nr·p + nr − 1 of op(B), row after row (K rows of nr), zero past N. */
void nn_panel_pack_b(int kernel, int transposed, int K, int N, const float *B, int ldb, float *packed) {
    int nr = columns_of(kernel), whole = N - N % nr;
    if (!transposed) {  // row by row of B, read once in order, nr values to every panel
        for (int k = 0; k < K; k++) {
            const float *row = B + (size_t)k * ldb;
            float *panel = packed + (size_t)k * nr;
            // whole panels: fixed-size copies the compiler unrolls
            if (nr == 32) for (int j = 0; j < whole; j += 32) memcpy(panel + (size_t)j * K, row + j, 32 * sizeof(float));
            else if (nr == 16) for (int j = 0; j < whole; j += 16) memcpy(panel + (size_t)j * K, row + j, 16 * sizeof(float));
            else for (int j = 0; j < whole; j += 8) memcpy(panel + (size_t)j * K, row + j, 8 * sizeof(float));
            for (int t = 0; t < nr && whole < N; t++) panel[(size_t)whole * K + t] = whole + t < N ? row[whole + t] : 0;
        }
        return;
    }
    // Column j + t of op(B) is row j + t of B.
    for (int j = 0; j < N; j += nr) {
        int width = N - j < nr ? N - j : nr, k = 0;
        float *panel = packed + (size_t)j * K;
#if defined(__x86_64__)
        if (kernel != NN_PANEL_PORTABLE && width == nr) {  // 8 x 8 blocks through registers
            for (; k + 8 <= K; k += 8) {
                for (int t = 0; t < nr; t += 8) nn_transpose8(B + (size_t)(j + t) * ldb + k, ldb, panel + (size_t)k * nr + t, nr);
            }
        }
#endif
        // The rest in blocks of 64 k, so that the part of the panel being written stays in L1.
        for (int kb = k; kb < K; kb += 64) {
            int end = K - kb < 64 ? K : kb + 64;
            for (int t = 0; t < nr; t++) {
                const float *row = B + (size_t)(j + t) * ldb;
                for (int kk = kb; kk < end; kk++) panel[(size_t)kk * nr + t] = t < width ? row[kk] : 0;
            }
        }
    }
}

/* Panel p holds rows mr·p ... mr·p + mr − 1 of op(A), column after column (K columns of mr), zero past M. */
static void nn_pack_a(int mr, int transposeA, int M, int K, const float *A, int lda, float *packed) {
    if (transposeA) {  // row i + t of op(A) is column i + t of A: each row of A, read once in order,
                       // gives mr values to every panel (panel by panel, a large K re-read A mr-wide
                       // strips from memory: 27 passes over 2 MB for the LSTM's weight gradients)
        for (int k = 0; k < K; k++) {
            const float *source = A + (size_t)k * lda;
            for (int i = 0; i < M; i += mr) {
                float *panel = packed + (size_t)i * K + (size_t)k * mr;
                int rows = M - i < mr ? M - i : mr;
                if (rows == mr) memcpy(panel, source + i, (size_t)mr * sizeof(float));
                else for (int t = 0; t < mr; t++) panel[t] = t < rows ? source[i + t] : 0;
            }
        }
        return;
    }
    for (int i = 0; i < M; i += mr) {
        float *panel = packed + (size_t)i * K;
        int rows = M - i < mr ? M - i : mr;
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

/* One 4 x 8 tile over all of K in vectors of 4 (16 bytes: SSE2, NEON), for CPUs without the
   kernels below: 8 accumulators, two vectors of B and one broadcast of A per k (with 6 rows, SSE2's
   16 registers were too few: the compiler spilled accumulators inside the k loop). */
typedef float nn_v4 __attribute__((vector_size(16)));

static inline nn_v4 nn_load4(const float *p) {
    nn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline nn_v4 nn_splat4(float x) { return (nn_v4){x, x, x, x}; }

__attribute__((noinline)) static void nn_tile_portable(int K, const float *a, const float *b, float beta, float *C,
                                                       int ldc, int rows, int columns) {
    nn_v4 c00 = {0}, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int k = 0; k < K; k++, a += 4, b += 8) {
        nn_v4 b0 = nn_load4(b), b1 = nn_load4(b + 4), x;
        x = nn_splat4(a[0]); c00 += x * b0; c01 += x * b1;
        x = nn_splat4(a[1]); c10 += x * b0; c11 += x * b1;
        x = nn_splat4(a[2]); c20 += x * b0; c21 += x * b1;
        x = nn_splat4(a[3]); c30 += x * b0; c31 += x * b1;
    }
    nn_v4 tile[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
    float values[4 * 8];
    memcpy(values, tile, sizeof values);
    nn_store_partial(values, 8, beta, C, ldc, rows, columns);
}

#if defined(__x86_64__)
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

#endif

/* The tiles of an M x N block of C over a depth of K: row panel i of A starts at a + i·strideA, column
   panel j of B at b + j·strideB (strides in floats per row or column: the panels' full depth).
   Each tile C = tile + beta · C. */
static void nn_macro_kernel(int kernel, int M, int N, int K, const float *a, size_t strideA, const float *b,
                            size_t strideB, float beta, float *C, int ldc) {
    int mr = rows_of(kernel), nr = columns_of(kernel);
    for (int j = 0; j < N; j += nr) {
        int columns = N - j < nr ? N - j : nr;
        for (int i = 0; i < M; i += mr) {
            int rows = M - i < mr ? M - i : mr;
            const float *ai = a + (size_t)i * strideA, *bj = b + (size_t)j * strideB;
            float *c = C + (size_t)i * ldc + j;
#if defined(__x86_64__)
            if (kernel == NN_PANEL_AVX512) nn_tile_avx512(K, ai, bj, beta, c, ldc, rows, columns);
            else if (kernel == NN_PANEL_AVX2) nn_tile_avx2(K, ai, bj, beta, c, ldc, rows, columns);
            else
#endif
            nn_tile_portable(K, ai, bj, beta, c, ldc, rows, columns);
        }
    }
}

/* C = beta · C (a product with K = 0). */
static void nn_scale_c(int M, int N, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta != 0 ? beta * C[(size_t)i * ldc + j] : 0;
    }
}

/* Block sizes of the products packed per call: a KC x NC block of B (512 KiB) streams from L2 while
   MC x KC blocks of A (192 KiB) pass through it; KC as in nn_panel_gemm, so a K of KC or less is one
   block and both paths sum in the same order. Measured on Zen 3 (512 KiB L2) at the LSTM's and the
   mlp's shapes: NC 256 → 512 took the weight-gradient product from 69 to 80 GFLOP/s (OpenBLAS: 81). */
enum { NN_KC = 256, NN_MC = 192, NN_NC = 512 };

size_t nn_panel_unpacked_workspace_size(int kernel) {
    (void)kernel;
    return (size_t)NN_KC * (NN_MC + NN_NC);
}

void nn_panel_gemm_unpacked(int kernel, int transposeA, int transposeB, int M, int N, int K, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,
                            float *workspace) {
    if (K == 0) return nn_scale_c(M, N, beta, C, ldc);
    float *packedB = workspace, *packedA = workspace + (size_t)NN_KC * NN_NC;
    int mr = rows_of(kernel);
    for (int jb = 0; jb < N; jb += NN_NC) {
        int columns = N - jb < NN_NC ? N - jb : NN_NC;
        for (int kb = 0; kb < K; kb += NN_KC) {
            int depth = K - kb < NN_KC ? K - kb : NN_KC;
            const float *b = transposeB ? B + (size_t)jb * ldb + kb : B + (size_t)kb * ldb + jb;
            nn_panel_pack_b(kernel, transposeB, depth, columns, b, ldb, packedB);
            for (int ib = 0; ib < M; ib += NN_MC) {
                int rows = M - ib < NN_MC ? M - ib : NN_MC;
                const float *a = transposeA ? A + (size_t)kb * lda + ib : A + (size_t)ib * lda + kb;
                nn_pack_a(mr, transposeA, rows, depth, a, lda, packedA);
                if (alpha != 1) {
                    size_t count = (size_t)((rows + mr - 1) / mr) * mr * depth;
                    for (size_t v = 0; v < count; v++) packedA[v] *= alpha;
                }
                nn_macro_kernel(kernel, rows, columns, depth, packedA, depth, packedB, depth, kb == 0 ? beta : 1,
                                C + (size_t)ib * ldc + jb, ldc);
            }
        }
    }
}

void nn_panel_gemm(int kernel, int transposeA, int M, int N, int K, const float *A, int lda, const float *packed,
                   float beta, float *C, int ldc, float *workspace) {
    if (K == 0) return nn_scale_c(M, N, beta, C, ldc);
    nn_pack_a(rows_of(kernel), transposeA, M, K, A, lda, workspace);
    // K in blocks of KC: one block of a B panel (nr x KC, 32 KiB at most) stays in L1 while the
    // tiles sweep the rows of A, whose panels' blocks come from L2. A K of KC or less (the LSTM's
    // steps) is one block, summed in the same order as without blocks.
    for (int kb = 0; kb < K; kb += NN_KC) {
        int depth = K - kb < NN_KC ? K - kb : NN_KC;
        nn_macro_kernel(kernel, M, N, depth, workspace + (size_t)kb * rows_of(kernel), (size_t)K,
                        packed + (size_t)kb * columns_of(kernel), (size_t)K, kb == 0 ? beta : 1, C, ldc);
    }
}
