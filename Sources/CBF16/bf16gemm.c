// bfloat16 matrix products with float32 accumulation (AVX512-BF16 `vdpbf16ps`), for
// `Precision.bfloat16`. Debian's OpenBLAS 0.3.21 lacks `cblas_sbgemm`, so this small kernel does
// it: B is packed once into 32-column panels of bf16 pairs (a layer packs its weights once per
// batch), A is packed per call into rows of bf16 pairs, and an 8 x 32 tile of C is accumulated in
// 16 zmm registers. Built without -march: only these functions are compiled for AVX-512, and
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

/* 16 pairs from one row: floats x[0..31] (zero past `left`) become (x[0], x[1]), (x[2], x[3]), …,
   since a row converted in order is already a row of pairs. */
NN_AVX512_BF16 static inline __m512i nn_pairs_along(const float *x, int left) {
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(nn_first(left - 16), x + 16),
                                        _mm512_maskz_loadu_ps(nn_first(left), x));
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

/* Lane i of `values` goes to base[i * stride] (for the lanes in `mask`). */
NN_AVX512_BF16 static inline void nn_scatter(uint32_t *base, int stride, __mmask16 mask, __m512i values) {
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32(stride));
    _mm512_mask_i32scatter_epi32(base, mask, lanes, values, 4);
}

NN_AVX512_BF16
void nn_bf16_pack_b(int transB, int K, int N, const float *B, int ldb, uint16_t *out) {
    int panels = (N + 31) / 32, pairs = (K + 1) / 2;
    if (!transB) {
        /* Pair by pair of rows (each read once, in order), 16 columns at a time into every panel. */
        for (int kp = 0; kp < pairs; kp++) {
            const float *r0 = B + (size_t)(2 * kp) * ldb, *r1 = 2 * kp + 1 < K ? r0 + ldb : NULL;
            for (int p = 0; p < panels; p++) {
                uint16_t *dst = out + ((size_t)p * pairs + kp) * 64;
                for (int half = 0; half < 2; half++) {
                    int start = p * 32 + 16 * half;
                    _mm512_storeu_si512(dst + 32 * half, nn_pairs_across(r0 + start, r1 ? r1 + start : NULL, N - start));
                }
            }
        }
        return;
    }
    /* Transposed: a pair is two neighbours in row n of B, so a row converts 16 pairs at a time,
       scattered to 16 consecutive pair slots of column n's panel. */
    memset(out, 0, nn_bf16_packed_b_size(K, N) * sizeof(uint16_t));
    for (int n = 0; n < N; n++) {
        uint32_t *column = (uint32_t *)out + (size_t)(n / 32) * pairs * 32 + n % 32;
        const float *row = B + (size_t)n * ldb;
        for (int kp = 0; kp < pairs; kp += 16)
            nn_scatter(column + (size_t)kp * 32, 32, nn_first(pairs - kp), nn_pairs_along(row + 2 * kp, K - 2 * kp));
    }
}

NN_AVX512_BF16
void nn_bf16_gemm_packed(int transA, int M, int N, int K, float alpha, const float *A, int lda,
                         const uint16_t *Bp, float beta, float *C, int ldc, uint32_t *Abuf) {
    int pairs = (K + 1) / 2, panels = (N + 31) / 32;
    int Mp = (M + 7) / 8 * 8;
    /* Pack op(A), M x K, into rows of bf16 pairs, zero-padded to a multiple of 8 rows. */
    memset(Abuf + (size_t)M * pairs, 0, sizeof(uint32_t) * (size_t)(Mp - M) * pairs);
    if (!transA) {
        for (int m = 0; m < M; m++) {
            uint32_t *row = Abuf + (size_t)m * pairs;
            for (int kp = 0; kp < pairs; kp += 16)
                _mm512_mask_storeu_epi32(row + kp, nn_first(pairs - kp), nn_pairs_along(A + (size_t)m * lda + 2 * kp, K - 2 * kp));
        }
    } else {
        /* Rows 2kp and 2kp+1 of A hold pair kp of 16 rows of op(A): pair them, scatter down. */
        for (int kp = 0; kp < pairs; kp++) {
            const float *r0 = A + (size_t)(2 * kp) * lda, *r1 = 2 * kp + 1 < K ? r0 + lda : NULL;
            for (int m0 = 0; m0 < M; m0 += 16)
                nn_scatter(Abuf + (size_t)m0 * pairs + kp, pairs, nn_first(M - m0),
                           nn_pairs_across(r0 + m0, r1 ? r1 + m0 : NULL, M - m0));
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int p = 0; p < panels; p++) {
        const uint16_t *panel = Bp + (size_t)p * pairs * 64;
        int n0 = p * 32;
        __mmask16 mask0 = nn_first(N - n0), mask1 = nn_first(N - n0 - 16);
        for (int m0 = 0; m0 < Mp; m0 += 8) {
            __m512 acc[8][2];
            for (int r = 0; r < 8; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
            const uint32_t *a = Abuf + (size_t)m0 * pairs;
            for (int kp = 0; kp < pairs; kp++) {
                __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + (size_t)kp * 64);
                __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + (size_t)kp * 64 + 32);
                for (int r = 0; r < 8; r++) {
                    __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[(size_t)r * pairs + kp]);
                    acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, b0);
                    acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, b1);
                }
            }
            for (int r = 0; r < 8 && m0 + r < M; r++) {
                float *c = C + (size_t)(m0 + r) * ldc + n0;
                __m512 r0 = _mm512_mul_ps(va, acc[r][0]), r1 = _mm512_mul_ps(va, acc[r][1]);
                if (beta != 0) {
                    r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask0, c), r0);
                    r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask1, c + 16), r1);
                }
                _mm512_mask_storeu_ps(c, mask0, r0);
                if (mask1) _mm512_mask_storeu_ps(c + 16, mask1, r1);
            }
        }
    }
}
