// Element-wise kernels at the CPU's vector width, whatever the build's target (see elementwise.h).
#include "elementwise.h"

#include <string.h>

// No contraction of a·b + c into fused multiply-adds beyond the explicit ones: the same rounding as
// Swift's VectorMath (which never contracts), so the Swift cell and these give the same values.
#pragma clang fp contract(off)

#define NN_LANES 4
#define NN_SUFFIX portable
#define NN_TARGET
#define NN_FUSED 0
#include "cell_template.h"
#undef NN_LANES
#undef NN_SUFFIX
#undef NN_TARGET
#undef NN_FUSED

#if defined(__x86_64__)
#define NN_LANES 8
#define NN_SUFFIX avx2
#define NN_TARGET __attribute__((target("avx2,fma")))
#define NN_FUSED 1
#include "cell_template.h"
#undef NN_LANES
#undef NN_SUFFIX
#undef NN_TARGET
#undef NN_FUSED

#define NN_LANES 16
#define NN_SUFFIX avx512
#define NN_TARGET __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define NN_FUSED 1
#include "cell_template.h"
#undef NN_LANES
#undef NN_SUFFIX
#undef NN_TARGET
#undef NN_FUSED
#endif

int nn_vector_kernels_supported(void) {
    int kernels = NN_VECTOR_PORTABLE;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels |= NN_VECTOR_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && (kernels & NN_VECTOR_AVX2))
        kernels |= NN_VECTOR_AVX512;
#endif
    return kernels;
}

/* A kernel this CPU does not run (a caller's mistake) gets the portable one rather than SIGILL. The
   CPU's kernels are looked up once (every LSTM step calls here; a race only repeats the lookup). */
static int nn_usable(int kernel) {
    static int cached;
    int supported = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!supported) {
        supported = nn_vector_kernels_supported();
        __atomic_store_n(&cached, supported, __ATOMIC_RELAXED);
    }
    return (supported & kernel) ? kernel : NN_VECTOR_PORTABLE;
}

void nn_vector_activate(int kernel, int function, const float *x, float *y, size_t count) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512: activate_avx512(function, x, y, count); return;
    case NN_VECTOR_AVX2: activate_avx2(function, x, y, count); return;
#endif
    default: activate_portable(function, x, y, count);
    }
}

void nn_vector_activation_gradient(int kernel, int function, const float *y, const float *dy, float *dx,
                                   size_t count) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512: activation_gradient_avx512(function, y, dy, dx, count); return;
    case NN_VECTOR_AVX2: activation_gradient_avx2(function, y, dy, dx, count); return;
#endif
    default: activation_gradient_portable(function, y, dy, dx, count);
    }
}

void nn_lstm_step_forward(int kernel, int gate, int activation, int rows, int units, float *gates,
                          const float *previous_cell, float *cell, float *cell_act, float *hidden,
                          int hidden_stride) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512:
        lstm_forward_avx512(gate, activation, rows, units, gates, previous_cell, cell, cell_act, hidden, hidden_stride);
        return;
    case NN_VECTOR_AVX2:
        lstm_forward_avx2(gate, activation, rows, units, gates, previous_cell, cell, cell_act, hidden, hidden_stride);
        return;
#endif
    default:
        lstm_forward_portable(gate, activation, rows, units, gates, previous_cell, cell, cell_act, hidden,
                              hidden_stride);
    }
}

void nn_lstm_step_backward(int kernel, int gate, int activation, int rows, int units, float *gates,
                           const float *previous_cell, const float *cell_act, const float *dh, float *dc) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512:
        lstm_backward_avx512(gate, activation, rows, units, gates, previous_cell, cell_act, dh, dc);
        return;
    case NN_VECTOR_AVX2:
        lstm_backward_avx2(gate, activation, rows, units, gates, previous_cell, cell_act, dh, dc);
        return;
#endif
    default: lstm_backward_portable(gate, activation, rows, units, gates, previous_cell, cell_act, dh, dc);
    }
}

void nn_gru_step_forward(int kernel, int gate, int activation, int rows, int units, float *gates,
                         const float *recurrent, const float *previous, float *next) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512: gru_forward_avx512(gate, activation, rows, units, gates, recurrent, previous, next); return;
    case NN_VECTOR_AVX2: gru_forward_avx2(gate, activation, rows, units, gates, recurrent, previous, next); return;
#endif
    default: gru_forward_portable(gate, activation, rows, units, gates, recurrent, previous, next);
    }
}

void nn_gru_step_backward(int kernel, int gate, int activation, int rows, int units, float *gates, float *recurrent,
                          const float *previous, const float *dh, float *carry) {
    switch (nn_usable(kernel)) {
#if defined(__x86_64__)
    case NN_VECTOR_AVX512:
        gru_backward_avx512(gate, activation, rows, units, gates, recurrent, previous, dh, carry);
        return;
    case NN_VECTOR_AVX2: gru_backward_avx2(gate, activation, rows, units, gates, recurrent, previous, dh, carry); return;
#endif
    default: gru_backward_portable(gate, activation, rows, units, gates, recurrent, previous, dh, carry);
    }
}
