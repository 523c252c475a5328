// bfloat16 matrix products with float32 accumulation (AVX512-BF16 `vdpbf16ps`), for
// `Precision.bfloat16`. Debian's OpenBLAS 0.3.21 lacks `cblas_sbgemm`, so this small kernel does
// it: B is packed once into 32-column panels of bf16 pairs (a layer packs its weights once per
// batch), A is packed per call into rows of bf16 pairs, and an 8 x 32 tile of C is accumulated in
// 16 zmm registers. Built without -march: only the kernel is compiled for AVX-512, and callers
// check nn_bf16_supported() first.
#include "bf16gemm.h"

#include <immintrin.h>
#include <string.h>

int nn_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}

/* Round to nearest even, as the hardware conversion does. */
static inline uint16_t to_bf16(float f) {
    uint32_t bits; memcpy(&bits, &f, 4);
    bits += 0x7FFF + ((bits >> 16) & 1);
    return (uint16_t)(bits >> 16);
}

/* op(B), K x N, packed into 32-column panels of K/2 pairs: panel[p][kp][32][2], zero-padded. */
size_t nn_bf16_packed_b_size(int K, int N) { return (size_t)((N + 31) / 32) * ((K + 1) / 2) * 64; }

size_t nn_bf16_packed_a_size(int M, int K) { return (size_t)((M + 7) / 8 * 8) * ((K + 1) / 2); }

/* Interleaves the two 16-element halves of 32 bf16: (x0[0], x1[0], x0[1], x1[1], ...) = pairs. */
__attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw")))
static inline __m512i nn_interleave_halves(__m512bh halves) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(order, (__m512i)halves);
}

__attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw")))
void nn_bf16_pack_b(int transB, int K, int N, const float *B, int ldb, uint16_t *out) {
    int panels = (N + 31) / 32, pairs = (K + 1) / 2;
    if (!transB) {
        /* Pair by pair of rows (each read once, in order), 16 columns at a time into every panel. */
        for (int kp = 0; kp < pairs; kp++) {
            int k0 = 2 * kp, k1 = 2 * kp + 1;
            for (int p = 0; p < panels; p++) {
                uint16_t *dst = out + ((size_t)p * pairs + kp) * 64;
                for (int half = 0; half < 2; half++) {
                    int start = p * 32 + 16 * half, left = N - start;
                    __mmask16 mask = left >= 16 ? 0xFFFF : (left > 0 ? (__mmask16)((1u << left) - 1) : 0);
                    __m512 r0 = _mm512_maskz_loadu_ps(mask, B + (size_t)k0 * ldb + start);
                    __m512 r1 = k1 < K ? _mm512_maskz_loadu_ps(mask, B + (size_t)k1 * ldb + start) : _mm512_setzero_ps();
                    _mm512_storeu_si512(dst + 32 * half, nn_interleave_halves(_mm512_cvtne2ps_pbh(r1, r0)));
                }
            }
        }
        return;
    }
    /* Transposed: a pair is two neighbours in row n of B, so a row converts 32 floats (16 pairs)
       at a time, scattered to 16 consecutive pair slots of column n's panel. */
    const __m512i slots = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32(32));
    memset(out, 0, nn_bf16_packed_b_size(K, N) * sizeof(uint16_t));
    for (int n = 0; n < N; n++) {
        uint32_t *column = (uint32_t *)out + (size_t)(n / 32) * pairs * 32 + n % 32;
        const float *row = B + (size_t)n * ldb;
        for (int kp = 0; kp < pairs; kp += 16) {
            int left = K - 2 * kp;
            __mmask16 lo = left >= 16 ? 0xFFFF : (left > 0 ? (__mmask16)((1u << left) - 1) : 0);
            __mmask16 hi = left >= 32 ? 0xFFFF : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0);
            __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, row + 2 * kp + 16),
                                                  _mm512_maskz_loadu_ps(lo, row + 2 * kp));
            int count = pairs - kp < 16 ? pairs - kp : 16;
            _mm512_mask_i32scatter_epi32(column + (size_t)kp * 32, (__mmask16)((1u << count) - 1), slots, (__m512i)packed, 4);
        }
    }
}

__attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw")))
void nn_bf16_gemm_packed(int transA, int M, int N, int K, float alpha, const float *A, int lda,
                         const uint16_t *Bp, float beta, float *C, int ldc, uint32_t *Abuf) {
    int pairs = (K + 1) / 2, panels = (N + 31) / 32;
    int Mp = (M + 7) / 8 * 8;
    /* Pack op(A), M x K, into rows of bf16 pairs, zero-padded to a multiple of 8 rows. A row of
       pairs is the row converted in order, so an untransposed A converts 32 floats at a time. */
    for (int m = 0; m < Mp; m++) {
        uint32_t *row = Abuf + (size_t)m * pairs;
        if (m >= M) {
            memset(row, 0, sizeof(uint32_t) * pairs);
        } else if (!transA) {
            const float *x = A + (size_t)m * lda;
            for (int k = 0; k < 2 * pairs; k += 32) {
                int left = K - k;
                __mmask16 lo = left >= 16 ? 0xFFFF : (left > 0 ? (__mmask16)((1u << left) - 1) : 0);
                __mmask16 hi = left >= 32 ? 0xFFFF : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0);
                __m512bh packed = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + k + 16), _mm512_maskz_loadu_ps(lo, x + k));
                int words = 2 * pairs - k < 32 ? (2 * pairs - k) / 2 : 16;
                _mm512_mask_storeu_epi32(row + k / 2, (__mmask16)((1u << words) - 1), (__m512i)packed);
            }
        }
    }
    if (transA) {
        /* Rows k0 and k1 of A hold column kp of 16 rows of op(A): convert, pair, scatter. */
        const __m512i stride = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                  _mm512_set1_epi32(pairs));
        for (int kp = 0; kp < pairs; kp++) {
            int k0 = 2 * kp, k1 = 2 * kp + 1;
            for (int m0 = 0; m0 < M; m0 += 16) {
                int left = M - m0;
                __mmask16 mask = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
                __m512 r0 = _mm512_maskz_loadu_ps(mask, A + (size_t)k0 * lda + m0);
                __m512 r1 = k1 < K ? _mm512_maskz_loadu_ps(mask, A + (size_t)k1 * lda + m0) : _mm512_setzero_ps();
                __m512i packed = nn_interleave_halves(_mm512_cvtne2ps_pbh(r1, r0));
                _mm512_mask_i32scatter_epi32(Abuf + (size_t)m0 * pairs + kp, mask, stride, packed, 4);
            }
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int p = 0; p < panels; p++) {
        const uint16_t *panel = Bp + (size_t)p * pairs * 64;
        int n0 = p * 32, cols = N - n0 < 32 ? N - n0 : 32;
        __mmask16 mask0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
        __mmask16 mask1 = cols >= 32 ? 0xFFFF : (cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0);
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
