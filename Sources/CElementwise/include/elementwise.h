#ifndef NN_ELEMENTWISE_H
#define NN_ELEMENTWISE_H

#include <stddef.h>

/* The element-wise kernels of recurrent cells (LSTM, GRU) and activations (exp, sigmoid, hard sigmoid, tanh:
   the polynomials of the Swift VectorMath, same coefficients), compiled three times from one
   template (cell_template.h): AVX-512 (16 lanes), AVX2 + FMA (8 lanes) and portable (4 lanes:
   SSE2 on any x86-64, NEON on ARM), chosen at run time. The package is built without -march
   when used as a dependency, where Swift's own vector code is SSE2 with library calls for fused
   multiply-adds; these run at the CPU's width either way. Kernel codes are the panel kernels'. */

enum { NN_VECTOR_AVX2 = 1, NN_VECTOR_AVX512 = 2, NN_VECTOR_PORTABLE = 4 };

/* The functions these kernels compute (other activations stay in Swift). */
enum { NN_FUNCTION_LINEAR = 0, NN_FUNCTION_RELU = 1, NN_FUNCTION_SIGMOID = 2, NN_FUNCTION_HARD_SIGMOID = 3,
       NN_FUNCTION_TANH = 4 };

/* The kernels this CPU runs, as a bit set of the values above (portable is always there). */
int nn_vector_kernels_supported(void);

/* y = f(x) for count values; y may be x. */
void nn_vector_activate(int kernel, int function, const float *x, float *y, size_t count);

/* dx = dy · f'(y) from the output y; dx may be dy. */
void nn_vector_activation_gradient(int kernel, int function, const float *y, const float *dy, float *dx,
                                   size_t count);

/* One LSTM step's element-wise half for rows x units cells, gates i, f, g, o in rows of 4 · units.
   Forward: pre-activations in `gates` become the activated gates; cell = f·c₋₁ + i·g (cell may be
   previous_cell), cell_act = act(cell), hidden (rows hidden_stride apart) = o · cell_act. */
void nn_lstm_step_forward(int kernel, int gate, int activation, int rows, int units, float *gates,
                          const float *previous_cell, float *cell, float *cell_act, float *hidden,
                          int hidden_stride);

/* Backward: dc = dc₊ + dh·o·act'(cell_act); the activated gates become their pre-activations'
   gradients; dc becomes dc·f, carried to the step before. */
void nn_lstm_step_backward(int kernel, int gate, int activation, int rows, int units, float *gates,
                           const float *previous_cell, const float *cell_act, const float *dh, float *dc);

/* One GRU step's element-wise half (reset after: Keras' reset_after, PyTorch's convention) for rows x
   units, gates z, r, n in rows of 3 · units. Forward: from the input side's pre-activations in `gates`
   and h₋₁·U + b′ in `recurrent`, the activated z, r, n into `gates` and h = z·h₋₁ + (1 − z)·n into
   `next`. Backward: the gates' pre-activation gradients replace z, r, n in `gates` (input side) and
   `recurrent` (h₋₁·U + b′: dz, dr, dn·r); carry = dh·z. */
void nn_gru_step_forward(int kernel, int gate, int activation, int rows, int units, float *gates,
                         const float *recurrent, const float *previous, float *next);
void nn_gru_step_backward(int kernel, int gate, int activation, int rows, int units, float *gates, float *recurrent,
                          const float *previous, const float *dh, float *carry);

#endif
