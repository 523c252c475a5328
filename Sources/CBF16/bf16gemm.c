// bfloat16 matrix products with float32 accumulation (AVX512-BF16 `vdpbf16ps`), for
// `Precision.bfloat16`. Debian's OpenBLAS 0.3.21 lacks `cblas_sbgemm`, so this small kernel does
// it: B is packed once into 32-column panels of bf16 pairs (a layer packs its weights once per
// batch), A is packed per call into 8-row panels of bf16 pairs, and an 8 x 32 tile of C is
// accumulated in 16 zmm registers, K in blocks that keep B's part in L1. Built without -march: only these functions are compiled for AVX-512, and
// callers check nn_bf16_supported() first.
#include "bf16gemm.h"

#include <immintrin.h>
#include <string.h>

#define NN_AVX512_BF16 __attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw")))

int nn_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}

/* op(B), K x N, packed into 32-column panels of K/2 pairs: panel[p][kp][32][2], zero-padded. */
size_t nn_bf16_packed_b_size(int K, int N) { return (size_t)((N + 31) / 32) * ((K + 1) / 2) * 64; }

size_t nn_bf16_packed_a_size(int M, int K) { return (size_t)((M + 7) / 8 * 8) * ((K + 1) / 2); }

/* The first `count` of 16 lanes (none when count <= 0). */
static inline __mmask16 nn_first(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : (count > 0 ? (__mmask16)((1u << count) - 1) : 0);
}

/* 16 pairs across two rows: (r0[j], r1[j]) for the first `left` of 16 columns; r1 may be NULL
   (an odd K's last pair is padded with zero). */
NN_AVX512_BF16 static inline __m512i nn_pairs_across(const float *r0, const float *r1, int left) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __mmask16 mask = nn_first(left);
    __m512 a = _mm512_maskz_loadu_ps(mask, r0);
    __m512 b = r1 ? _mm512_maskz_loadu_ps(mask, r1) : _mm512_setzero_ps();
    return _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(b, a));
}

/* Eight vectors of 8 words (rows r = 0 … 7, columns j) stored transposed: word r of row j goes to
   out[j * 8 + r], for the first `count` rows j (the usual eight-register transpose). */
NN_AVX512_BF16 static inline void nn_store_transposed8(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5,
                                                       __m256 r6, __m256 r7, uint32_t *out, int count) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
    __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 rows[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                      _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                      _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                      _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
    for (int j = 0; j < count; j++) _mm256_storeu_ps((float *)out + 8 * j, rows[j]);
}

/* 16 floats of a row from x (zero past `left`) as 8 bf16 pairs, in a float vector's clothes. */
NN_AVX512_BF16 static inline __m256 nn_pairs8(const float *x, int left) {
    if (!x) return _mm256_setzero_ps();
    return (__m256)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(nn_first(left), x));
}

NN_AVX512_BF16
void nn_bf16_pack_b_rows(int K, int N, int first, int count, const float *B, int ldb, uint16_t *out) {
    int panels = (N + 31) / 32, pairs = (K + 1) / 2, end = first + count;
    /* Pair by pair of rows (each read once, in order), 16 columns at a time into every panel. */
    for (int k = first; k < end; k += 2) {
        const float *r0 = B + (size_t)(k - first) * ldb, *r1 = k + 1 < end ? r0 + ldb : NULL;
        for (int p = 0; p < panels; p++) {
            uint16_t *dst = out + ((size_t)p * pairs + k / 2) * 64;
            for (int half = 0; half < 2; half++) {
                int start = p * 32 + 16 * half;
                _mm512_storeu_si512(dst + 32 * half, nn_pairs_across(r0 + start, r1 ? r1 + start : NULL, N - start));
            }
        }
    }
}

NN_AVX512_BF16
void nn_bf16_pack_b(int transB, int K, int N, const float *B, int ldb, uint16_t *out) {
    int panels = (N + 31) / 32, pairs = (K + 1) / 2;
    if (!transB) {
        nn_bf16_pack_b_rows(K, N, 0, K, B, ldb, out);
        return;
    }
    /* Transposed: column n of op(B) is row n of B, whose neighbours pair up as they are: 16 floats
       of each of 8 rows convert to 8 pairs each, and an 8 x 8 transpose gives 8 columns' pair kp. */
    for (int n0 = 0; n0 < N; n0 += 8) {
        const float *row[8];
        for (int t = 0; t < 8; t++) row[t] = n0 + t < N ? B + (size_t)(n0 + t) * ldb : NULL;
        uint32_t *panel = (uint32_t *)out + (size_t)(n0 / 32) * pairs * 32 + n0 % 32;
        for (int kp = 0; kp < pairs; kp += 8) {
            int left = K - 2 * kp;
            uint32_t block[64];
#define NN_ROW(t) nn_pairs8(row[t] ? row[t] + 2 * kp : NULL, left)
            nn_store_transposed8(NN_ROW(0), NN_ROW(1), NN_ROW(2), NN_ROW(3), NN_ROW(4), NN_ROW(5), NN_ROW(6), NN_ROW(7),
                                 block, 8);
#undef NN_ROW
            for (int j = 0; j < 8 && kp + j < pairs; j++) memcpy(panel + (size_t)(kp + j) * 32, block + 8 * j, 32);
        }
    }
    /* Columns past N in the last panel are zero. */
    for (int n = (N + 7) / 8 * 8; n < panels * 32; n++)
        for (int kp = 0; kp < pairs; kp++) ((uint32_t *)out)[(size_t)(n / 32) * pairs * 32 + (size_t)kp * 32 + n % 32] = 0;
}

NN_AVX512_BF16
void nn_bf16_pack_a_transposed_rows(int M, int K, int first, int count, const float *A, int lda, uint32_t *Abuf) {
    int pairs = (K + 1) / 2, panels = (M + 7) / 8, end = first + count;
    for (int k = first; k < end; k += 2) {
        const float *r0 = A + (size_t)(k - first) * lda, *r1 = k + 1 < end ? r0 + lda : NULL;
        int kp = k / 2;
        for (int m0 = 0; m0 < panels * 8; m0 += 16) {  // m0 < M: at least one row is real
            __m512i words = nn_pairs_across(r0 + m0, r1 ? r1 + m0 : NULL, M - m0);
            _mm256_storeu_si256((__m256i *)(Abuf + ((size_t)(m0 / 8) * pairs + kp) * 8), _mm512_castsi512_si256(words));
            if (m0 + 8 < panels * 8)
                _mm256_storeu_si256((__m256i *)(Abuf + ((size_t)(m0 / 8 + 1) * pairs + kp) * 8),
                                    _mm512_extracti64x4_epi64(words, 1));
        }
    }
}

NN_AVX512_BF16 static void nn_bf16_pack_a(int transA, int M, int K, const float *A, int lda, uint32_t *Abuf) {
    int pairs = (K + 1) / 2, panels = (M + 7) / 8;
    if (transA) {
        nn_bf16_pack_a_transposed_rows(M, K, 0, K, A, lda, Abuf);
        return;
    }
    for (int q = 0; q < panels; q++) {
        const float *row[8];
        for (int r = 0; r < 8; r++) row[r] = 8 * q + r < M ? A + (size_t)(8 * q + r) * lda : NULL;
        uint32_t *panel = Abuf + (size_t)q * pairs * 8;
        for (int kp = 0; kp < pairs; kp += 8) {
            int left = K - 2 * kp;
#define NN_ROW(r) nn_pairs8(row[r] ? row[r] + 2 * kp : NULL, left)
            nn_store_transposed8(NN_ROW(0), NN_ROW(1), NN_ROW(2), NN_ROW(3), NN_ROW(4), NN_ROW(5), NN_ROW(6), NN_ROW(7),
                                 panel + (size_t)kp * 8, pairs - kp < 8 ? pairs - kp : 8);
#undef NN_ROW
        }
    }
}

/* Pairs of K per block: a block of a B panel (256 pairs x 32 columns, 32 KB) stays in L1 while
   every A panel passes through it, and the A panels' block (8 KB each) in L2 for every B panel. */
enum { NN_BF16_BLOCK_PAIRS = 256 };

NN_AVX512_BF16
void nn_bf16_gemm_packed(int transA, int M, int N, int K, float alpha, const float *A, int lda,
                         const uint16_t *Bp, float beta, float *C, int ldc, uint32_t *Abuf) {
    nn_bf16_pack_a(transA, M, K, A, lda, Abuf);
    nn_bf16_gemm_prepacked(M, N, K, alpha, Abuf, Bp, beta, C, ldc);
}

NN_AVX512_BF16
void nn_bf16_gemm_prepacked(int M, int N, int K, float alpha, const uint32_t *Abuf, const uint16_t *Bp, float beta,
                            float *C, int ldc) {
    int pairs = (K + 1) / 2, panels = (N + 31) / 32, rowPanels = (M + 7) / 8;
    if (pairs == 0) {  /* K = 0: C = beta · C (beta 0 ignores C's contents, as below) */
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) C[(size_t)m * ldc + n] = beta != 0 ? beta * C[(size_t)m * ldc + n] : 0;
        return;
    }
    __m512 va = _mm512_set1_ps(alpha);
    for (int kb = 0; kb < pairs; kb += NN_BF16_BLOCK_PAIRS) {
        int end = pairs - kb < NN_BF16_BLOCK_PAIRS ? pairs : kb + NN_BF16_BLOCK_PAIRS;
        __m512 vb = _mm512_set1_ps(kb == 0 ? beta : 1);  // later blocks add to the first's sums
        int addsC = kb > 0 || beta != 0;
        for (int p = 0; p < panels; p++) {
            const uint16_t *panel = Bp + (size_t)p * pairs * 64;
            int n0 = p * 32;
            __mmask16 mask0 = nn_first(N - n0), mask1 = nn_first(N - n0 - 16);
            for (int q = 0; q < rowPanels; q++) {
                __m512 acc[8][2];
                for (int r = 0; r < 8; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
                const uint32_t *a = Abuf + ((size_t)q * pairs + kb) * 8;
                const uint16_t *b = panel + (size_t)kb * 64;
                for (int kp = kb; kp < end; kp++, a += 8, b += 64) {
                    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 32);
                    for (int r = 0; r < 8; r++) {
                        __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[r]);
                        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, b0);
                        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, b1);
                    }
                }
                for (int r = 0; r < 8 && 8 * q + r < M; r++) {
                    float *c = C + (size_t)(8 * q + r) * ldc + n0;
                    __m512 r0 = _mm512_mul_ps(va, acc[r][0]), r1 = _mm512_mul_ps(va, acc[r][1]);
                    if (addsC) {
                        r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask0, c), r0);
                        r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask1, c + 16), r1);
                    }
                    _mm512_mask_storeu_ps(c, mask0, r0);
                    if (mask1) _mm512_mask_storeu_ps(c + 16, mask1, r1);
                }
            }
        }
    }
}
