// NeuralNetworks' CUDA kernels: compiled by NVRTC for the GPU at run time (CUDAKernels.swift),
// and as C for the CPU by the CUDA simulator (simulator.c), which runs them in the tests.
//
// Each mirrors a Backend requirement or an update of the CPU path, with the same formulas, so
// that the two agree to rounding (1e-4 in float32). Activation codes (`act`) are the CPU's
// element-wise kernels' (NN_FUNCTION_* in elementwise.h): 0 linear, 1 relu, 2 sigmoid, 3 hard
// sigmoid (Keras 2's clip(0.2x + 0.5, 0, 1)), 4 tanh, and past those the ones only the CPU's
// Swift computes (`Activation.deviceFunction`): 5 elu, 6 leaky relu (slope 0.01), 7 gelu (tanh
// form), 8 softplus, 9 swish. Derivatives are taken from the activation's output, as the CPU
// path does, but for gelu's and swish's, which need the input too.
//
// Rules that let the simulator run them: C, not C++ (no templates, references or overloads);
// one thread per value or row with grid-stride loops, so any launch size works and no thread
// waits for another (no __syncthreads, no shared memory).
#ifdef __CUDACC_RTC__
#define NN_KERNEL extern "C" __global__
#define NN_DEVICE static __device__ __forceinline__
#define NN_INFINITY __longlong_as_double(0x7ff0000000000000LL)  // NVRTC has no math.h and its INFINITY
#define NN_NAN __int_as_float(0x7fc00000)
#endif

#define NN_GRID_STRIDE(i, n) \
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long)blockDim.x * gridDim.x)

NN_DEVICE float nn_activate(int act, float x) {
    switch (act) {
    case 1: return fmaxf(x, 0.0f);
    case 2: return 1.0f / (1.0f + expf(-x));
    case 3: return fminf(fmaxf(0.2f * x + 0.5f, 0.0f), 1.0f);
    case 4: return tanhf(x);
    case 5: return x > 0.0f ? x : expf(fminf(x, 0.0f)) - 1.0f;
    case 6: return x > 0.0f ? x : 0.01f * x;
    case 7: return 0.5f * x * (1.0f + tanhf(0.79788456f * (x + 0.044715f * x * x * x)));
    case 8: return fmaxf(x, 0.0f) + log1pf(expf(-fmaxf(x, 0.0f) + fminf(x, 0.0f)));
    case 9: return x * (1.0f / (1.0f + expf(-x)));
    default: return x;
    }
}

// The derivative from the activation's output y.
NN_DEVICE float nn_derivative(int act, float y) {
    switch (act) {
    case 1: return y > 0.0f ? 1.0f : 0.0f;
    case 2: return y * (1.0f - y);
    case 3: return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
    case 4: return 1.0f - y * y;
    case 5: return y > 0.0f ? 1.0f : y + 1.0f;
    case 6: return y > 0.0f ? 1.0f : 0.01f;
    case 8: return 1.0f - expf(-y);
    default: return 1.0f;
    }
}

// The derivative from the activation's input x and output y (gelu's and swish's need x).
NN_DEVICE float nn_derivative_from_input(int act, float x, float y) {
    if (act == 7) {
        const float t = tanhf(0.79788456f * (x + 0.044715f * x * x * x));
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * (0.79788456f * (1.0f + 3.0f * 0.044715f * x * x));
    }
    if (act == 9) {
        const float s = 1.0f / (1.0f + expf(-x));
        return s + y * (1.0f - s);
    }
    return nn_derivative(act, y);
}

// One LSTM step forward, element-wise half: gates [rows, 4·units] (pre-activations of i, f, g, o,
// activated in place), c = f·c_prev + i·g, cell_act = act(c), hidden = o·cell_act (rows hidden_stride apart).
NN_KERNEL void nn_lstm_step_forward(float *gates, const float *previous_cell, float *cell, float *cell_activation,
                                    float *hidden, int hidden_stride, int rows, int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 4 * units;
        const float i = nn_activate(gate_act, g[unit]);
        const float f = nn_activate(gate_act, g[units + unit]);
        const float candidate = nn_activate(act, g[2 * units + unit]);
        const float o = nn_activate(gate_act, g[3 * units + unit]);
        g[unit] = i; g[units + unit] = f; g[2 * units + unit] = candidate; g[3 * units + unit] = o;
        const float c = f * previous_cell[index] + i * candidate;
        const float ca = nn_activate(act, c);
        cell[index] = c;
        cell_activation[index] = ca;
        hidden[row * hidden_stride + unit] = o * ca;
    }
}

// One LSTM step backward: the activated gates replaced by their pre-activations' gradients,
// dc (the cell gradient carried from the step after) replaced by the one carried to the step before.
NN_KERNEL void nn_lstm_step_backward(float *gates, const float *previous_cell, const float *cell_activation,
                                     const float *dh, float *dc, int rows, int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 4 * units;
        const float i = g[unit], f = g[units + unit], candidate = g[2 * units + unit], o = g[3 * units + unit];
        const float ca = cell_activation[index], h_grad = dh[index];
        const float c_grad = dc[index] + h_grad * o * nn_derivative(act, ca);
        g[unit] = c_grad * candidate * nn_derivative(gate_act, i);
        g[units + unit] = c_grad * previous_cell[index] * nn_derivative(gate_act, f);
        g[2 * units + unit] = c_grad * i * nn_derivative(act, candidate);
        g[3 * units + unit] = h_grad * ca * nn_derivative(gate_act, o);
        dc[index] = c_grad * f;
    }
}

// ---- Losses on class labels, each a CUDALoss's kernel (Sources/NeuralNetworks/CUDA/*OnDevice.swift) ----
// Every loss kernel is called as (outputs, labels, targets, dense, row_loss, gradient, rows,
// width, fused, settings): outputs [rows, width] are the last layer's logits when `fused` (the loss's own
// activation not applied: softmax for cross-entropy, sigmoid for binary cross-entropy), else its
// activated outputs. The targets are dense rows [rows, width] in `targets` when `dense`, else
// class labels (one per row) in `labels`: a label stands for a one-hot row, or with one output,
// for the target value itself (Keras' binary targets), as `Targets.dense(like:)`. Each row's
// loss goes to row_loss, so that the batch's loss is their mean (a row's mean over its outputs
// for element-wise losses); gradient is that mean's, with respect to what `outputs` holds.
// `settings` holds the loss's own values (its CUDALoss.cudaSettings, such as a label smoothing
// amount or Huber's delta), written before each step. The formulas are the CPU losses'.

NN_DEVICE float nn_target(const int *labels, const float *targets, int dense, long row, int j, int width) {
    if (dense) return targets[row * width + j];
    return width == 1 ? (float)labels[row] : (j == labels[row] ? 1.0f : 0.0f);
}

// The target moved `amount` of the way towards `uniform` (label smoothing: t (1 − ε) + ε u).
NN_DEVICE float nn_smoothed(float t, float amount, float uniform) { return t * (1.0f - amount) + amount * uniform; }

// Fused: softmax cross-entropy, Σ t · (log Σ e^z − z) and (softmax(z) · Σ t − t) / rows. Unfused:
// −Σ t · log p with p clipped to [1e-7, 1 − 1e-7], gradient −t / (p · rows) where p is not
// clipped. The targets are smoothed by settings[0] towards 1 / width (a label's row: 1 − ε + ε/K
// at the label, ε/K elsewhere).
NN_KERNEL void nn_categorical_cross_entropy(const float *outputs, const int *labels, const float *targets, int dense,
                                            float *row_loss, float *gradient, int rows, int width, int fused,
                                            const float *settings) {
    const float smoothing = settings[0], uniform = 1.0f / (float)width;
    NN_GRID_STRIDE(row, rows) {
        const float *z = outputs + row * width;
        float *dz = gradient + row * width;
        if (fused) {
            float largest = z[0];
            for (int j = 1; j < width; j++) largest = fmaxf(largest, z[j]);
            float sum = 0.0f;
            for (int j = 0; j < width; j++) sum += expf(z[j] - largest);
            const float log_sum = logf(sum);
            if (dense || smoothing > 0.0f) {
                float mass = 0.0f, loss = 0.0f;
                for (int j = 0; j < width; j++) mass += nn_smoothed(nn_target(labels, targets, dense, row, j, width), smoothing, uniform);
                for (int j = 0; j < width; j++) {
                    const float t = nn_smoothed(nn_target(labels, targets, dense, row, j, width), smoothing, uniform);
                    loss += t * (log_sum - (z[j] - largest));
                    dz[j] = (expf(z[j] - largest - log_sum) * mass - t) / (float)rows;
                }
                row_loss[row] = loss;
            } else {
                const int label = labels[row];
                row_loss[row] = log_sum - (z[label] - largest);
                for (int j = 0; j < width; j++) {
                    dz[j] = (expf(z[j] - largest - log_sum) - (j == label ? 1.0f : 0.0f)) / (float)rows;
                }
            }
        } else {
            float loss = 0.0f;
            for (int j = 0; j < width; j++) {
                const float t = nn_smoothed(nn_target(labels, targets, dense, row, j, width), smoothing, uniform), p = z[j];
                const float clipped = fminf(fmaxf(p, 1e-7f), 1.0f - 1e-7f);
                dz[j] = 0.0f;
                if (t != 0.0f) {
                    loss -= t * logf(clipped);
                    if (p == clipped) dz[j] = -t / (clipped * (float)rows);
                }
            }
            row_loss[row] = loss;
        }
    }
}

// Fused with a sigmoid: max(z, 0) − z·t + log(1 + e^−|z|), gradient (σ(z) − t) / n. Unfused:
// −[t · log p + (1 − t) · log(1 − p)], p clipped to [1e-7, 1 − 1e-7], gradient
// (p − t) / (p (1 − p) n) where p is not clipped. n = rows · width (the mean over every output).
// The targets are smoothed by settings[0] towards 1/2.
NN_KERNEL void nn_binary_cross_entropy(const float *outputs, const int *labels, const float *targets, int dense,
                                       float *row_loss, float *gradient, int rows, int width, int fused,
                                       const float *settings) {
    const float n = (float)rows * (float)width, smoothing = settings[0];
    NN_GRID_STRIDE(row, rows) {
        float loss = 0.0f;
        for (int j = 0; j < width; j++) {
            const long k = row * width + j;
            const float t = nn_smoothed(nn_target(labels, targets, dense, row, j, width), smoothing, 0.5f);
            if (fused) {
                const float z = outputs[k];
                loss += fmaxf(z, 0.0f) - z * t + log1pf(expf(-fabsf(z)));
                const float sigmoid = z >= 0.0f ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
                gradient[k] = (sigmoid - t) / n;
            } else {
                const float p = outputs[k], clipped = fminf(fmaxf(p, 1e-7f), 1.0f - 1e-7f);
                loss -= t * logf(clipped) + (1.0f - t) * logf(1.0f - clipped);
                gradient[k] = p == clipped ? (clipped - t) / (clipped * (1.0f - clipped) * n) : 0.0f;
            }
        }
        row_loss[row] = loss / (float)width;
    }
}

// (p − t)², gradient 2 (p − t) / n, n = rows · width (no activation to fuse with, no settings).
NN_KERNEL void nn_mean_squared_error(const float *outputs, const int *labels, const float *targets, int dense,
                                     float *row_loss, float *gradient, int rows, int width, int fused,
                                     const float *settings) {
    const float n = (float)rows * (float)width;
    NN_GRID_STRIDE(row, rows) {
        float loss = 0.0f;
        for (int j = 0; j < width; j++) {
            const long k = row * width + j;
            const float difference = outputs[k] - nn_target(labels, targets, dense, row, j, width);
            loss += difference * difference;
            gradient[k] = 2.0f * difference / n;
        }
        row_loss[row] = loss / (float)width;
    }
}

// |p − t|, gradient sign(p − t) / n (0 where p = t), n = rows · width.
NN_KERNEL void nn_mean_absolute_error(const float *outputs, const int *labels, const float *targets, int dense,
                                      float *row_loss, float *gradient, int rows, int width, int fused,
                                      const float *settings) {
    const float n = (float)rows * (float)width;
    NN_GRID_STRIDE(row, rows) {
        float loss = 0.0f;
        for (int j = 0; j < width; j++) {
            const long k = row * width + j;
            const float difference = outputs[k] - nn_target(labels, targets, dense, row, j, width);
            loss += fabsf(difference);
            gradient[k] = difference > 0.0f ? 1.0f / n : difference < 0.0f ? -1.0f / n : 0.0f;
        }
        row_loss[row] = loss / (float)width;
    }
}

// Huber, δ = settings[0], x = p − t: x²/2 and x / n where |x| ≤ δ, else δ (|x| − δ/2) and
// δ sign(x) / n; n = rows · width.
NN_KERNEL void nn_huber(const float *outputs, const int *labels, const float *targets, int dense, float *row_loss,
                        float *gradient, int rows, int width, int fused, const float *settings) {
    const float n = (float)rows * (float)width, delta = settings[0];
    NN_GRID_STRIDE(row, rows) {
        float loss = 0.0f;
        for (int j = 0; j < width; j++) {
            const long k = row * width + j;
            const float x = outputs[k] - nn_target(labels, targets, dense, row, j, width), size = fabsf(x);
            if (size <= delta) {
                loss += 0.5f * x * x;
                gradient[k] = x / n;
            } else {
                loss += delta * (size - 0.5f * delta);
                gradient[k] = (x > 0.0f ? delta : -delta) / n;
            }
        }
        row_loss[row] = loss / (float)width;
    }
}

// Every row of m [rows, width] set to vector (a bias, before a product adds to it).
NN_KERNEL void nn_fill_rows(float *m, const float *vector, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) { m[index] = vector[index % width]; }
}

// CTC (the CPU's CTCLoss and CTCAlignment, in double as they are), one thread per sample: the
// per-step log-probabilities (log-softmax of the logits when fused, else the log of the outputs
// clipped at 1e-7), α over the label sequence with blanks between and around (l′, 2L + 1
// symbols), then β from the last step, two rows at a time, each step's posteriors γ_t(k)
// gathered as β reaches it. Gradient (of the batch's mean loss): fused,
// (y − γ) · scale; else −γ / y (0 where y was clipped) · scale; scale = 1/L (reduction "mean")
// or 1, over the batch. sequences: per sample, steps + 1 ints: the label count (−1: more labels
// than steps, which no alignment fits), then the labels' output indices. options: bit 0 "mean",
// bit 1 zero_infinity, the blank's output index from bit 2. Each of a sample's `steps` rows of
// row_loss gets its loss (infinite without an alignment, or 0 with zero_infinity), so that
// their mean is the batch's. work: per sample, steps · (width + 2·steps + 1) + 2 · (2·steps + 1)
// + width doubles (log-probabilities, α, two rows of β, γ of a step).
NN_DEVICE double nn_log_add(double a, double b) {
    if (a == -NN_INFINITY) return b;
    if (b == -NN_INFINITY) return a;
    return fmax(a, b) + log1p(exp(-fabs(a - b)));
}

NN_KERNEL void nn_ctc_loss(const float *outputs, const int *sequences, float *row_loss, float *gradient, double *work,
                           int batch, int steps, int width, int fused, int options) {
    const int most = 2 * steps + 1, blank = options >> 2, mean = options & 1, zero_infinity = (options >> 1) & 1;
    NN_GRID_STRIDE(b, batch) {
        const int *sequence = sequences + b * (steps + 1);
        const int labels = sequence[0];
        const float *z = outputs + b * (long)steps * width;
        float *dz = gradient + b * (long)steps * width;
        double *logp = work + b * ((long)steps * width + (long)steps * most + 2L * most + width);
        double *alpha = logp + (long)steps * width, *beta = alpha + (long)steps * most, *gamma = beta + 2 * most;
        for (long i = 0; i < (long)steps * width; i++) dz[i] = 0.0f;
        double loss = NN_INFINITY;
        if (labels >= 0) {
            const int symbols = 2 * labels + 1;
            for (int t = 0; t < steps; t++) {
                const float *zt = z + (long)t * width;
                double *lt = logp + (long)t * width;
                if (fused) {
                    float largest = zt[0];
                    for (int k = 1; k < width; k++) largest = fmaxf(largest, zt[k]);
                    double sum = 0.0;
                    for (int k = 0; k < width; k++) sum += exp((double)zt[k] - largest);
                    const double log_sum = log(sum) + largest;
                    for (int k = 0; k < width; k++) lt[k] = (double)zt[k] - log_sum;
                } else {
                    // A NaN stays NaN (fmaxf would drop it), as the CPU's max keeps it.
                    for (int k = 0; k < width; k++) {
                        lt[k] = zt[k] != zt[k] ? (double)zt[k] : log((double)fmaxf(zt[k], 1e-7f));
                    }
                }
            }
#define NN_CTC_SYMBOL(s) ((s) % 2 == 0 ? blank : sequence[1 + (s) / 2])
#define NN_CTC_SKIPS(s) ((s) >= 2 && NN_CTC_SYMBOL(s) != blank && NN_CTC_SYMBOL(s) != NN_CTC_SYMBOL((s) - 2))
            for (int s = 0; s < symbols; s++) alpha[s] = -NN_INFINITY;
            alpha[0] = logp[NN_CTC_SYMBOL(0)];
            if (symbols > 1) alpha[1] = logp[NN_CTC_SYMBOL(1)];
            for (int t = 1; t < steps; t++) {
                const double *previous = alpha + (long)(t - 1) * symbols;
                for (int s = 0; s < symbols; s++) {
                    double sum = previous[s];
                    if (s >= 1) sum = nn_log_add(sum, previous[s - 1]);
                    if (NN_CTC_SKIPS(s)) sum = nn_log_add(sum, previous[s - 2]);
                    alpha[(long)t * symbols + s] = sum + logp[(long)t * width + NN_CTC_SYMBOL(s)];
                }
            }
            const long end = (long)(steps - 1) * symbols + symbols - 1;
            const double likelihood = symbols > 1 ? nn_log_add(alpha[end], alpha[end - 1]) : alpha[end];
            if (isfinite(likelihood)) {
                const double scale = (mean ? 1.0 / (labels > 1 ? labels : 1) : 1.0) / batch;
                loss = -likelihood * (mean ? 1.0 / (labels > 1 ? labels : 1) : 1.0);
                // β, the row of step t in beta[(t % 2) · most …]; γ_t gathered in dz's row t.
                for (int t = steps - 1; t >= 0; t--) {
                    double *current = beta + (t % 2) * most;
                    const double *after = beta + ((t + 1) % 2) * most;
                    const double *lt = logp + (long)t * width;
                    for (int s = 0; s < symbols; s++) {
                        double sum;
                        if (t == steps - 1) {
                            sum = s >= symbols - 2 ? 0.0 : -NN_INFINITY;
                        } else {
                            sum = after[s];
                            if (s + 1 < symbols) sum = nn_log_add(sum, after[s + 1]);
                            if (s + 2 < symbols && NN_CTC_SKIPS(s + 2)) sum = nn_log_add(sum, after[s + 2]);
                        }
                        current[s] = sum + lt[NN_CTC_SYMBOL(s)];
                    }
                    for (int k = 0; k < width; k++) gamma[k] = 0.0;
                    for (int s = 0; s < symbols; s++) {
                        const int k = NN_CTC_SYMBOL(s);
                        const double value = alpha[(long)t * symbols + s] + current[s] - lt[k] - likelihood;
                        if (value > -700.0) gamma[k] += exp(value);
                    }
                    float *dt = dz + (long)t * width;
                    for (int k = 0; k < width; k++) {
                        const double probability = exp(lt[k]), posterior = gamma[k];
                        const double derivative = fused ? probability - posterior
                                                        : (lt[k] <= log((double)1e-7f) ? 0.0 : -posterior / probability);
                        dt[k] = (float)(derivative * scale);
                    }
                }
            } else if (zero_infinity) {
                loss = 0.0;
            }
#undef NN_CTC_SYMBOL
#undef NN_CTC_SKIPS
        } else if (zero_infinity) {
            loss = 0.0;
        }
        for (int t = 0; t < steps; t++) row_loss[(long)b * steps + t] = (float)loss;
    }
}

// ---- Optimizers, each a CUDAOptimizer's kernel (Sources/NeuralNetworks/CUDA/*OnDevice.swift) ----
// Every update kernel is called as (parameter, gradient, first slot, second slot, settings, skip,
// count): the slots are the optimizer's state (its slotNames in order, each laid out as the
// parameter; an unused one may be any buffer), settings the floats its `cudaSettings` worked out
// on the host for this update (so that a recorded step, a CUDA graph, takes each batch's learning
// rate), and nothing changes while skip[0] is set (a loss or gradient that is not finite). Each
// applies the CPU optimizer's formulas in the same order.

// SGD (Keras 2), settings [lr, momentum, weight decay, nesterov (0 or 1)]: g += decay · p;
// v = momentum · v − lr · g; p += nesterov ? momentum · v − lr · g : v. Without momentum,
// p −= lr · g (v untouched).
NN_KERNEL void nn_sgd_update(float *parameter, const float *gradient, float *velocity, float *unused,
                             const float *settings, const int *skip, long count) {
    if (skip[0]) return;
    const float lr = settings[0], momentum = settings[1], weight_decay = settings[2];
    const int nesterov = settings[3] != 0.0f;
    NN_GRID_STRIDE(index, count) {
        float g = gradient[index];
        if (weight_decay > 0.0f) g += weight_decay * parameter[index];
        if (momentum == 0.0f) {
            parameter[index] -= lr * g;
        } else {
            const float v = momentum * velocity[index] - lr * g;
            velocity[index] = v;
            parameter[index] += nesterov ? momentum * v - lr * g : v;
        }
    }
}

// Adam and AdamW, settings [lr_t / (1 − β1ᵗ), √(1 − β2ᵗ), β1, β2, ε, weight decay added to the
// gradient (Adam's), shrink 1 − lr_t · weight decay (AdamW's, else 1)]: g += decay · p;
// m = β1 m + (1 − β1) g; v = β2 v + (1 − β2) g²; p = p · shrink − step · m / (√v / √(1 − β2ᵗ) + ε).
NN_KERNEL void nn_adam_update(float *parameter, const float *gradient, float *m, float *v, const float *settings,
                              const int *skip, long count) {
    if (skip[0]) return;
    const float step = settings[0], root_correction = settings[1], b1 = settings[2], b2 = settings[3];
    const float eps = settings[4], coupled = settings[5], shrink = settings[6];
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index] + coupled * parameter[index];
        const float mi = b1 * m[index] + (1.0f - b1) * g, vi = b2 * v[index] + (1.0f - b2) * g * g;
        m[index] = mi;
        v[index] = vi;
        parameter[index] = parameter[index] * shrink - step * mi / (sqrtf(vi) / root_correction + eps);
    }
}

// RMSprop, settings [lr, ρ, ε, momentum, weight decay]: g += decay · p; s = ρ s + (1 − ρ) g²;
// b = momentum · b + g / (√s + ε); p −= lr · b.
NN_KERNEL void nn_rmsprop_update(float *parameter, const float *gradient, float *square_average,
                                 float *momentum_buffer, const float *settings, const int *skip, long count) {
    if (skip[0]) return;
    const float lr = settings[0], rho = settings[1], eps = settings[2], momentum = settings[3];
    const float weight_decay = settings[4];
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index] + weight_decay * parameter[index];
        const float s = rho * square_average[index] + (1.0f - rho) * g * g;
        square_average[index] = s;
        const float b = momentum * momentum_buffer[index] + g / (sqrtf(s) + eps);
        momentum_buffer[index] = b;
        parameter[index] -= lr * b;
    }
}

// Adagrad, settings [lr, ε, weight decay, initial accumulator (first update only, else 0)]:
// g += decay · p; s += g² (s starting from the initial accumulator); p −= lr · g / (√s + ε).
NN_KERNEL void nn_adagrad_update(float *parameter, const float *gradient, float *sum, float *unused,
                                 const float *settings, const int *skip, long count) {
    if (skip[0]) return;
    const float lr = settings[0], eps = settings[1], weight_decay = settings[2], initial = settings[3];
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index] + weight_decay * parameter[index];
        const float s = (initial > 0.0f ? initial : sum[index]) + g * g;
        sum[index] = s;
        parameter[index] -= lr * g / (sqrtf(s) + eps);
    }
}

// Adamax, settings [lr_t / (1 − β1ᵗ), β1, β2, ε, weight decay]: g += decay · p;
// m = β1 m + (1 − β1) g; u = max(β2 u, |g| + ε); p −= step · m / u.
NN_KERNEL void nn_adamax_update(float *parameter, const float *gradient, float *m, float *u, const float *settings,
                                const int *skip, long count) {
    if (skip[0]) return;
    const float step = settings[0], b1 = settings[1], b2 = settings[2], eps = settings[3], weight_decay = settings[4];
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index] + weight_decay * parameter[index];
        m[index] = b1 * m[index] + (1.0f - b1) * g;
        u[index] = fmaxf(b2 * u[index], fabsf(g) + eps);
        parameter[index] -= step * m[index] / u[index];
    }
}

// Nadam, settings [the gradient's factor, the moment's factor, √(1 − β2ᵗ), β1, β2, ε, weight
// decay] (the factors from the momentum schedule, worked out on the host): g += decay · p;
// m = β1 m + (1 − β1) g; v = β2 v + (1 − β2) g²; d = √v / √(1 − β2ᵗ) + ε;
// p −= a · g / d; p −= b · m / d.
NN_KERNEL void nn_nadam_update(float *parameter, const float *gradient, float *m, float *v, const float *settings,
                               const int *skip, long count) {
    if (skip[0]) return;
    const float a = settings[0], b = settings[1], root = settings[2], b1 = settings[3], b2 = settings[4];
    const float eps = settings[5], weight_decay = settings[6];
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index] + weight_decay * parameter[index];
        m[index] = b1 * m[index] + (1.0f - b1) * g;
        v[index] = b2 * v[index] + (1.0f - b2) * g * g;
        const float d = sqrtf(v[index]) / root + eps;
        float p = parameter[index] - a * g / d;
        parameter[index] = p - b * m[index] / d;
    }
}

// ---- Clipping gradients (fit's clipValue and clipNorm), the limits in device memory ----
// Nothing changes while skip[0] is set (a loss or gradient that is not finite): the gradients
// stay as they were, so that the host can name the parameter whose gradient is not finite.

// Each value clamped to [−limit[0], limit[0]] (Keras' clipvalue, PyTorch's clip_grad_value_).
NN_KERNEL void nn_clip_values(float *values, const float *limit, const int *skip, long count) {
    if (skip[0]) return;
    const float bound = limit[0];
    NN_GRID_STRIDE(index, count) { values[index] = fminf(fmaxf(values[index], -bound), bound); }
}

// partial[b] = the sum of the squares of values' block b of 256, in double (which no float
// gradient's squares overflow): one thread per block, the first step of a norm.
NN_KERNEL void nn_block_squares(const float *values, double *partial, long count) {
    NN_GRID_STRIDE(block, (count + 255) / 256) {
        double sum = 0.0;
        const long end = block * 256 + 256 < count ? block * 256 + 256 : count;
        for (long i = block * 256; i < end; i++) sum += (double)values[i] * values[i];
        partial[block] = sum;
    }
}

// scale[0] = max_norm[0] / (norm + 1e-6) when the norm, the square root of the partial sums'
// total (added in order in double, by one thread), is above max_norm[0]; else 1 (PyTorch's
// clip_grad_norm_, Keras' global_clipnorm).
NN_KERNEL void nn_clip_norm_scale(const double *partial, int blocks, const float *max_norm, float *scale) {
    NN_GRID_STRIDE(index, 1) {
        double total = 0.0;
        for (int b = 0; b < blocks; b++) total += partial[b];
        const double norm = sqrt(total);
        scale[0] = norm > max_norm[0] ? (float)(max_norm[0] / (norm + 1e-6)) : 1.0f;
    }
}

// values ·= scale[0] (a factor in device memory).
NN_KERNEL void nn_scale_by(float *values, const float *scale, const int *skip, long count) {
    if (skip[0]) return;
    const float factor = scale[0];
    NN_GRID_STRIDE(index, count) { values[index] *= factor; }
}

// ---- The passes of a model that lives on the device (CUDAModel.swift and the layers' device forms). ----

// y = act(x) for count values (y may be x).
NN_KERNEL void nn_apply_activation(const float *x, float *y, int act, long count) {
    NN_GRID_STRIDE(index, count) { y[index] = nn_activate(act, x[index]); }
}

// dz = dy · act'(y), from the activation's output y (dz may be dy).
NN_KERNEL void nn_apply_activation_gradient(const float *y, const float *dy, float *dz, int act, long count) {
    NN_GRID_STRIDE(index, count) { dz[index] = dy[index] * nn_derivative(act, y[index]); }
}

// dz = dy · act'(x, y), from the activation's input x and output y (dz may be dy).
NN_KERNEL void nn_apply_activation_gradient_from_input(const float *x, const float *y, const float *dy, float *dz, int act,
                                                       long count) {
    NN_GRID_STRIDE(index, count) { dz[index] = dy[index] * nn_derivative_from_input(act, x[index], y[index]); }
}

// Softmax along each row of z [rows, width].
NN_KERNEL void nn_softmax_rows(const float *z, float *y, int rows, int width) {
    NN_GRID_STRIDE(row, rows) {
        const float *in = z + row * width;
        float *out = y + row * width;
        float largest = in[0];
        for (int j = 1; j < width; j++) largest = fmaxf(largest, in[j]);
        float sum = 0.0f;
        for (int j = 0; j < width; j++) sum += expf(in[j] - largest);
        const float log_sum = logf(sum);
        for (int j = 0; j < width; j++) out[j] = expf(in[j] - largest - log_sum);
    }
}

// dz = y ⊙ (dy − ⟨dy, y⟩) along each row: softmax's backward from its output y (dz may be dy).
NN_KERNEL void nn_softmax_rows_gradient(const float *y, const float *dy, float *dz, int rows, int width) {
    NN_GRID_STRIDE(row, rows) {
        const float *yr = y + row * width, *dyr = dy + row * width;
        float dot = 0.0f;
        for (int j = 0; j < width; j++) dot += dyr[j] * yr[j];
        for (int j = 0; j < width; j++) dz[row * width + j] = yr[j] * (dyr[j] - dot);
    }
}

// The LSTM's time-major step inputs [steps + 1, batch, width = features + units + 1] from the
// batch-major input x [batch, steps, features], in processing order (reversed: the last time
// first): row r of step s is [x_t | h_{s−1} | 1]. The h part of step 0 is zeroed (h_{−1} = 0);
// the steps write the others (step `steps` holds the last h).
NN_KERNEL void nn_lstm_gather_inputs(const float *x, float *step_inputs, int batch, int steps, int features,
                                     int units, int reversed) {
    const int width = features + units + 1;
    NN_GRID_STRIDE(index, (long)steps * batch * width) {
        const long s = index / ((long)batch * width), row = index / width % batch, j = index % width;
        const long t = reversed ? steps - 1 - s : s;
        if (j < features) step_inputs[index] = x[(row * steps + t) * features + j];
        else if (j == width - 1) step_inputs[index] = 1.0f;
        else if (s == 0) step_inputs[index] = 0.0f;
    }
}

// The LSTM's output from the h parts of its step inputs: every step's, y [batch, steps, units] in
// processing order (as Keras returns a go_backwards layer's), or the last, y [batch, units].
NN_KERNEL void nn_lstm_outputs(const float *step_inputs, float *y, int batch, int steps, int features, int units,
                               int return_sequences) {
    const int width = features + units + 1;
    const long count = (long)batch * (return_sequences ? steps : 1) * units;
    NN_GRID_STRIDE(index, count) {
        const long j = index % units, position = index / units;
        const long row = return_sequences ? position / steps : position;
        const long s = return_sequences ? position % steps : steps - 1;
        y[index] = step_inputs[((s + 1) * batch + row) * width + features + j];
    }
}

// dh [batch, units] += dy's processing step s (dy [batch, steps, units]): a returned sequence's
// gradient, added at each step of the backward pass.
NN_KERNEL void nn_add_step_gradient(const float *dy, float *dh, int batch, int steps, int units, int s) {
    NN_GRID_STRIDE(index, (long)batch * units) {
        const long row = index / units, j = index % units;
        dh[index] += dy[(row * steps + s) * units + j];
    }
}

// Time-major rows [steps, batch, width] (processing order: with reversed, the last time first)
// to batch-major y [batch, steps, width]; added to y with accumulate. A recurrent layer's input
// gradient (reversed as its inputs were read), or its returned sequence (not reversed: Keras
// returns a go_backwards layer's outputs in processing order).
NN_KERNEL void nn_scatter_time_major(const float *time_major, float *y, int batch, int steps, int width, int reversed,
                                     int accumulate) {
    NN_GRID_STRIDE(index, (long)steps * batch * width) {
        const long s = index / ((long)batch * width), row = index / width % batch, j = index % width;
        const long t = reversed ? steps - 1 - s : s;
        float *target = y + (row * steps + t) * width + j;
        *target = accumulate ? *target + time_major[index] : time_major[index];
    }
}

// Batch-major x [batch, steps, width] to time-major rows [steps, batch, width] in processing order.
NN_KERNEL void nn_gather_time_major(const float *x, float *time_major, int batch, int steps, int width, int reversed) {
    NN_GRID_STRIDE(index, (long)steps * batch * width) {
        const long s = index / ((long)batch * width), row = index / width % batch, j = index % width;
        const long t = reversed ? steps - 1 - s : s;
        time_major[index] = x[(row * steps + t) * width + j];
    }
}

// One GRU step forward in the reset-after form (the CPU's GRUCell): from the input side's
// pre-activations in gates [rows, 3·units] (z, r, n; replaced by the activated z, r, n) and
// recurrent = h_{t−1}·U + b′: z = σ(g_z + q_z), r = σ(g_r + q_r), n = φ(g_n + r·q_n),
// h_t = z·(h_{t−1} − n) + n into next.
NN_KERNEL void nn_gru_step_forward(float *gates, const float *recurrent, const float *previous, float *next, int rows,
                                   int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units;
        const float *q = recurrent + row * 3 * units;
        const float z = nn_activate(gate_act, g[unit] + q[unit]);
        const float r = nn_activate(gate_act, g[units + unit] + q[units + unit]);
        const float n = nn_activate(act, g[2 * units + unit] + r * q[2 * units + unit]);
        g[unit] = z; g[units + unit] = r; g[2 * units + unit] = n;
        next[index] = z * (previous[index] - n) + n;
    }
}

// One GRU step backward from dh (the step's hidden gradient): z, r, n in gates replaced by the
// gradients of their pre-activations on the input side, recurrent by the gradient of
// h_{t−1}·U + b′, and carry = dh·z (the part of dh_{t−1} that skips the product).
NN_KERNEL void nn_gru_step_backward(float *gates, float *recurrent, const float *previous, const float *dh,
                                    float *carry, int rows, int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units, *q = recurrent + row * 3 * units;
        const float z = g[unit], r = g[units + unit], n = g[2 * units + unit], d = dh[index];
        const float dz = d * (previous[index] - n) * nn_derivative(gate_act, z);
        const float dn = d * (1.0f - z) * nn_derivative(act, n);
        const float dr = dn * q[2 * units + unit] * nn_derivative(gate_act, r);
        g[unit] = dz; g[units + unit] = dr; g[2 * units + unit] = dn;
        q[unit] = dz; q[units + unit] = dr; q[2 * units + unit] = dn * r;
        carry[index] = d * z;
    }
}

// The GRU's original convention (reset before, Keras' reset_after=False), whose candidate's
// recurrent product waits for the reset gate: each step is two halves around it (the CPU's
// stepGatesOriginal and stepCandidateOriginal). First: z and r activated in place from their
// pre-activations in gates [rows, 3·units] (the input side plus h_{t−1}·U_zr), and r ⊙ h_{t−1}
// into reset_hidden.
NN_KERNEL void nn_gru_gates_original(float *gates, const float *previous, float *reset_hidden, int rows, int units,
                                     int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units;
        g[unit] = nn_activate(gate_act, g[unit]);
        const float r = nn_activate(gate_act, g[units + unit]);
        g[units + unit] = r;
        reset_hidden[index] = r * previous[index];
    }
}

// Then n = φ(its pre-activation, (r ⊙ h_{t−1})·U_h added) in place, and h_t = z·(h_{t−1} − n) + n into next.
NN_KERNEL void nn_gru_candidate_original(float *gates, const float *previous, float *next, int rows, int units,
                                         int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units;
        const float z = g[unit], n = nn_activate(act, g[2 * units + unit]);
        g[2 * units + unit] = n;
        next[index] = z * (previous[index] - n) + n;
    }
}

// Backward, first half, from dh: z's and n's pre-activation gradients in their slots, and
// carry = dh·z (the part of dh_{t−1} that skips the products).
NN_KERNEL void nn_gru_candidate_backward_original(float *gates, const float *previous, const float *dh, float *carry,
                                                  int rows, int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units;
        const float z = g[unit], n = g[2 * units + unit], d = dh[index];
        g[unit] = d * (previous[index] - n) * nn_derivative(gate_act, z);
        g[2 * units + unit] = d * (1.0f - z) * nn_derivative(act, n);
        carry[index] = d * z;
    }
}

// Backward, second half, from d(r ⊙ h_{t−1}) = dn_pre · U_hᵀ (reset_gradient): r's
// pre-activation gradient in its slot, and carry += r ⊙ d(r ⊙ h_{t−1}).
NN_KERNEL void nn_gru_gates_backward_original(float *gates, const float *previous, const float *reset_gradient,
                                              float *carry, int rows, int units, int gate_act, int act) {
    NN_GRID_STRIDE(index, (long)rows * units) {
        const long row = index / units, unit = index % units;
        float *g = gates + row * 3 * units;
        const float r = g[units + unit], d = reset_gradient[index];
        g[units + unit] = d * previous[index] * nn_derivative(gate_act, r);
        carry[index] += d * r;
    }
}

// A Bidirectional layer's merge of its directions' outputs a and b ([batch, steps, units], or
// steps 1): mode 0 concat (y is 2·units wide), 1 sum, 2 average, 3 product. The backward
// direction's sequence is in its processing order, so its step steps − 1 − t meets a's step t.
NN_KERNEL void nn_merge_directions(const float *a, const float *b, float *y, int batch, int steps, int units,
                                   int mode, int return_sequences) {
    NN_GRID_STRIDE(index, (long)batch * steps * units) {
        const long j = index % units, t = index / units % steps, row = index / ((long)units * steps);
        const float forwards = a[index];
        const float backwards = b[(row * steps + (return_sequences ? steps - 1 - t : t)) * units + j];
        if (mode == 0) {
            y[(row * steps + t) * 2 * units + j] = forwards;
            y[(row * steps + t) * 2 * units + units + j] = backwards;
        } else {
            y[index] = mode == 1 ? forwards + backwards : mode == 2 ? 0.5f * (forwards + backwards) : forwards * backwards;
        }
    }
}

// The merge's backward pass: each direction's output gradient (da, db) from dy, for the modes
// above (the product's needs the outputs a and b).
NN_KERNEL void nn_unmerge_directions(const float *dy, const float *a, const float *b, float *da, float *db, int batch,
                                     int steps, int units, int mode, int return_sequences) {
    NN_GRID_STRIDE(index, (long)batch * steps * units) {
        const long j = index % units, t = index / units % steps, row = index / ((long)units * steps);
        const long backward_index = (row * steps + (return_sequences ? steps - 1 - t : t)) * units + j;
        if (mode == 0) {
            da[index] = dy[(row * steps + t) * 2 * units + j];
            db[backward_index] = dy[(row * steps + t) * 2 * units + units + j];
        } else {
            const float g = dy[index];
            da[index] = mode == 1 ? g : mode == 2 ? 0.5f * g : g * b[backward_index];
            db[backward_index] = mode == 1 ? g : mode == 2 ? 0.5f * g : g * a[index];
        }
    }
}

// Whether each row's class is its label (1 or 0 in correct): its largest output, first largest
// wins (as the CPU's argmax), or with one output, 1 where it is above 0.5.
NN_KERNEL void nn_correct_classes(const float *outputs, const int *labels, int *correct, int rows, int classes) {
    NN_GRID_STRIDE(row, rows) {
        const float *p = outputs + row * classes;
        int best = 0;
        if (classes == 1) {
            best = p[0] > 0.5f ? 1 : 0;
        } else {
            for (int j = 1; j < classes; j++) if (p[j] > p[best]) best = j;
        }
        correct[row] = best == labels[row];
    }
}

// flag[0] = 1 when any of the count values is not finite (a batch's losses, its gradients).
NN_KERNEL void nn_find_nonfinite(const float *values, int *flag, long count) {
    NN_GRID_STRIDE(index, count) {
        if (!isfinite(values[index])) flag[0] = 1;
    }
}

// A batch from a data set staged in device memory: row r of target (width values) and its label
// are those of sample indices[r] of source.
NN_KERNEL void nn_gather_samples(const float *source, const int *source_labels, const int *indices, float *target,
                                 int *target_labels, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const long row = index / width, j = index % width, sample = indices[row];
        target[index] = source[sample * width + j];
        if (j == 0) target_labels[row] = source_labels[sample];
    }
}

// y += x for count values.
NN_KERNEL void nn_add_values(const float *x, float *y, long count) {
    NN_GRID_STRIDE(index, count) { y[index] += x[index]; }
}

// A block of rows × width values: y[row · y_stride + y_offset + j] = x[row · x_stride + x_offset + j]
// (a branch's columns into a concatenation, and its gradient's back out).
NN_KERNEL void nn_copy_block(const float *x, float *y, int rows, int width, int x_stride, int x_offset, int y_stride,
                             int y_offset) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const long row = index / width, j = index % width;
        y[row * y_stride + y_offset + j] = x[row * x_stride + x_offset + j];
    }
}

// Normalization (features last, `width` of them): y = (x − mean) · s with s = 1 / max(√variance,
// epsilon); with `centred` 0, the gradient dy · s.
NN_KERNEL void nn_normalize_features(const float *x, const float *mean, const float *variance, float *y, int width,
                                     float epsilon, int centred, long count) {
    NN_GRID_STRIDE(index, count) {
        const int j = (int)(index % width);
        const float scale = 1.0f / fmaxf(sqrtf(variance[j]), epsilon);
        y[index] = (centred ? x[index] - mean[j] : x[index]) * scale;
    }
}

// y = x · scale + offset for count values (Rescaling; its gradient with offset 0).
NN_KERNEL void nn_scale_values(const float *x, float *y, float scale, float offset, long count) {
    NN_GRID_STRIDE(index, count) { y[index] = x[index] * scale + offset; }
}

// y = x · scale, value by value, for count values (a dropout mask: 0 or 1 / (1 − rate)).
NN_KERNEL void nn_multiply_values(const float *x, const float *scale, float *y, long count) {
    NN_GRID_STRIDE(index, count) { y[index] = x[index] * scale[index]; }
}

// ---- Windows over channels-last images (convolutions, pooling) ----
// `g` is a ConvolutionGeometry in device memory, 13 ints: input height, width, channels; window
// height, width; strides (height, width); dilation (height, width); padding top, left; output
// height, width. Every kernel here gathers: one thread per value it writes, which reads the
// values that feed it, so no two threads write one place (no atomics, any launch size). Those
// that gather an input value's gradient run its window taps backwards, which meets the windows
// first to last: the CPU's order of additions, so the same floats.
enum { NN_IN_H, NN_IN_W, NN_CHANNELS, NN_WIN_H, NN_WIN_W, NN_STRIDE_H, NN_STRIDE_W, NN_DIL_H, NN_DIL_W, NN_PAD_TOP,
       NN_PAD_LEFT, NN_OUT_H, NN_OUT_W };

// The output index along one axis whose window has tap k on input index i, or −1.
NN_DEVICE int nn_window_of(int i, int k, int stride, int pad, int dilation, int outputs) {
    const int t = i + pad - k * dilation;
    if (t < 0 || t % stride != 0 || t / stride >= outputs) return -1;
    return t / stride;
}

// The taps of output o's window that fall inside an axis of `size` (pooling counts only these).
NN_DEVICE int nn_taps_inside(int o, int window, int stride, int pad, int dilation, int size) {
    int inside = 0;
    for (int k = 0; k < window; k++) {
        const int i = o * stride - pad + k * dilation;
        if (i >= 0 && i < size) inside++;
    }
    return inside;
}

// Where value `index` of a batch of channels-last images of height × width × channels lies.
typedef struct { long sample; int row, column, channel; } nn_pixel;
NN_DEVICE nn_pixel nn_pixel_of(long index, int height, int width, int channels) {
    const long image = (long)height * width * channels;
    const int within = (int)(index % image), pixel = within / channels;
    nn_pixel p = { index / image, pixel / width, pixel % width, within % channels };
    return p;
}

// im2col: patch row (n, oh, ow) holds the window's taps in order (ki, kj), each its channels,
// zeros outside the image; patches [samples · outH · outW, winH · winW · C].
NN_KERNEL void nn_im2col(const float *x, float *patches, const int *g, int samples) {
    const int c = g[NN_CHANNELS], taps = g[NN_WIN_W], patch = g[NN_WIN_H] * taps * c;
    const long positions = (long)g[NN_OUT_H] * g[NN_OUT_W];
    NN_GRID_STRIDE(index, samples * positions * patch) {
        const long row = index / patch, n = row / positions, position = row % positions;
        const int within = (int)(index % patch), tap = within / c, channel = within % c;
        const int oh = (int)(position / g[NN_OUT_W]), ow = (int)(position % g[NN_OUT_W]);
        const int ih = oh * g[NN_STRIDE_H] - g[NN_PAD_TOP] + (tap / taps) * g[NN_DIL_H];
        const int iw = ow * g[NN_STRIDE_W] - g[NN_PAD_LEFT] + (tap % taps) * g[NN_DIL_W];
        const int inside = ih >= 0 && ih < g[NN_IN_H] && iw >= 0 && iw < g[NN_IN_W];
        patches[index] = inside ? x[((n * g[NN_IN_H] + ih) * g[NN_IN_W] + iw) * c + channel] : 0.0f;
    }
}

// col2im: each input value's gradient, the sum of the patch-row values that came from it.
NN_KERNEL void nn_col2im(const float *patches, float *dx, const int *g, int samples) {
    const int c = g[NN_CHANNELS], patch = g[NN_WIN_H] * g[NN_WIN_W] * c;
    NN_GRID_STRIDE(index, samples * ((long)g[NN_IN_H] * g[NN_IN_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_IN_H], g[NN_IN_W], c);
        const long n = p.sample;
        const int ih = p.row, iw = p.column, channel = p.channel;
        float sum = 0.0f;
        for (int ki = g[NN_WIN_H] - 1; ki >= 0; ki--) {
            const int oh = nn_window_of(ih, ki, g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_OUT_H]);
            if (oh < 0) continue;
            for (int kj = g[NN_WIN_W] - 1; kj >= 0; kj--) {
                const int ow = nn_window_of(iw, kj, g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_OUT_W]);
                if (ow < 0) continue;
                sum += patches[((n * g[NN_OUT_H] + oh) * g[NN_OUT_W] + ow) * patch + (ki * g[NN_WIN_W] + kj) * c + channel];
            }
        }
        dx[index] = sum;
    }
}

// Max pooling: each window's largest value per channel inside the image (the first of equals),
// and in `largest` its index in x (as the CPU layer keeps it).
NN_KERNEL void nn_max_pool(const float *x, float *y, int *largest, const int *g, int samples) {
    const int c = g[NN_CHANNELS];
    const long image = (long)g[NN_IN_H] * g[NN_IN_W] * c;
    NN_GRID_STRIDE(index, samples * ((long)g[NN_OUT_H] * g[NN_OUT_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_OUT_H], g[NN_OUT_W], c);
        const long n = p.sample;
        const int oh = p.row, ow = p.column, channel = p.channel;
        float best = 0.0f;
        long at = -1;
        for (int ki = 0; ki < g[NN_WIN_H]; ki++) {
            const int ih = oh * g[NN_STRIDE_H] - g[NN_PAD_TOP] + ki * g[NN_DIL_H];
            if (ih < 0 || ih >= g[NN_IN_H]) continue;
            for (int kj = 0; kj < g[NN_WIN_W]; kj++) {
                const int iw = ow * g[NN_STRIDE_W] - g[NN_PAD_LEFT] + kj * g[NN_DIL_W];
                if (iw < 0 || iw >= g[NN_IN_W]) continue;
                const long source = n * image + ((long)ih * g[NN_IN_W] + iw) * c + channel;
                if (at < 0 || x[source] > best) { best = x[source]; at = source; }
            }
        }
        y[index] = best;
        largest[index] = (int)at;
    }
}

// Max pooling backward: each input value's gradient, the sum of the output gradients of the
// windows whose largest value it was.
NN_KERNEL void nn_max_pool_backward(const float *dy, const int *largest, float *dx, const int *g, int samples) {
    const int c = g[NN_CHANNELS];
    NN_GRID_STRIDE(index, samples * ((long)g[NN_IN_H] * g[NN_IN_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_IN_H], g[NN_IN_W], c);
        const long n = p.sample;
        const int ih = p.row, iw = p.column, channel = p.channel;
        float sum = 0.0f;
        for (int ki = g[NN_WIN_H] - 1; ki >= 0; ki--) {
            const int oh = nn_window_of(ih, ki, g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_OUT_H]);
            if (oh < 0) continue;
            for (int kj = g[NN_WIN_W] - 1; kj >= 0; kj--) {
                const int ow = nn_window_of(iw, kj, g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_OUT_W]);
                if (ow < 0) continue;
                const long out = ((n * g[NN_OUT_H] + oh) * g[NN_OUT_W] + ow) * c + channel;
                if (largest[out] == index) sum += dy[out];
            }
        }
        dx[index] = sum;
    }
}

// Average pooling: each window's mean per channel over its taps inside the image (Keras' `same`
// leaves the padding out of the count), as share · x summed (share = 1 / taps), the CPU's order.
NN_KERNEL void nn_average_pool(const float *x, float *y, const int *g, int samples) {
    const int c = g[NN_CHANNELS];
    const long image = (long)g[NN_IN_H] * g[NN_IN_W] * c;
    NN_GRID_STRIDE(index, samples * ((long)g[NN_OUT_H] * g[NN_OUT_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_OUT_H], g[NN_OUT_W], c);
        const long n = p.sample;
        const int oh = p.row, ow = p.column, channel = p.channel;
        const float share = 1.0f / (float)(nn_taps_inside(oh, g[NN_WIN_H], g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_IN_H])
                                           * nn_taps_inside(ow, g[NN_WIN_W], g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_IN_W]));
        float sum = 0.0f;
        for (int ki = 0; ki < g[NN_WIN_H]; ki++) {
            const int ih = oh * g[NN_STRIDE_H] - g[NN_PAD_TOP] + ki * g[NN_DIL_H];
            if (ih < 0 || ih >= g[NN_IN_H]) continue;
            for (int kj = 0; kj < g[NN_WIN_W]; kj++) {
                const int iw = ow * g[NN_STRIDE_W] - g[NN_PAD_LEFT] + kj * g[NN_DIL_W];
                if (iw >= 0 && iw < g[NN_IN_W]) sum += share * x[n * image + ((long)ih * g[NN_IN_W] + iw) * c + channel];
            }
        }
        y[index] = sum;
    }
}

// Average pooling backward: each input value's gradient, share · dy summed over the windows it is in.
NN_KERNEL void nn_average_pool_backward(const float *dy, float *dx, const int *g, int samples) {
    const int c = g[NN_CHANNELS];
    NN_GRID_STRIDE(index, samples * ((long)g[NN_IN_H] * g[NN_IN_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_IN_H], g[NN_IN_W], c);
        const long n = p.sample;
        const int ih = p.row, iw = p.column, channel = p.channel;
        float sum = 0.0f;
        for (int ki = g[NN_WIN_H] - 1; ki >= 0; ki--) {
            const int oh = nn_window_of(ih, ki, g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_OUT_H]);
            if (oh < 0) continue;
            const int rows = nn_taps_inside(oh, g[NN_WIN_H], g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_IN_H]);
            for (int kj = g[NN_WIN_W] - 1; kj >= 0; kj--) {
                const int ow = nn_window_of(iw, kj, g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_OUT_W]);
                if (ow < 0) continue;
                const int columns = nn_taps_inside(ow, g[NN_WIN_W], g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_IN_W]);
                sum += 1.0f / (float)(rows * columns) * dy[((n * g[NN_OUT_H] + oh) * g[NN_OUT_W] + ow) * c + channel];
            }
        }
        dx[index] = sum;
    }
}

// Global average pooling: y[n, ch] = (Σ over the image's positions x[n, ·, ch]) / positions.
NN_KERNEL void nn_global_average(const float *x, float *y, int positions, int channels, int samples) {
    NN_GRID_STRIDE(index, (long)samples * channels) {
        const long n = index / channels;
        const int ch = (int)(index % channels);
        float sum = 0.0f;
        for (int p = 0; p < positions; p++) sum += x[(n * positions + p) * channels + ch];
        y[index] = sum / (float)positions;
    }
}

// Its gradient: dx[n, p, ch] = dy[n, ch] / positions.
NN_KERNEL void nn_global_average_backward(const float *dy, float *dx, int positions, int channels, int samples) {
    NN_GRID_STRIDE(index, (long)samples * positions * channels) {
        const long n = index / ((long)positions * channels);
        dx[index] = dy[n * channels + index % channels] / (float)positions;
    }
}

// ---- Batch normalisation over rows of `width` channels (channels last) ----
// The sums over rows are cuBLAS products by a vector of ones (onesᵀ · X): every row at once.

// squares = (x − μ)², μ = sums[j] / rows (sums[j] = Σ x of channel j).
NN_KERNEL void nn_batch_norm_center(const float *x, const float *sums, float *squares, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const float d = x[index] - sums[index % width] / (float)rows;
        squares[index] = d * d;
    }
}

// Per channel, from sums [Σ x; Σ (x − μ)²]: 1/√(σ² + ε) with the biased variance, and the
// moving averages moved (moving = momentum · moving + (1 − momentum) · batch; variance unbiased).
NN_KERNEL void nn_batch_norm_statistics(const float *sums, float *inverse, float *moving_mean, float *moving_variance,
                                        int rows, int width, float epsilon, float momentum) {
    NN_GRID_STRIDE(j, width) {
        const float mean = sums[j] / (float)rows, biased = sums[width + j] / (float)rows;
        const float unbiased = rows > 1 ? sums[width + j] / (float)(rows - 1) : biased;
        inverse[j] = 1.0f / sqrtf(biased + epsilon);
        moving_mean[j] = momentum * moving_mean[j] + (1.0f - momentum) * mean;
        moving_variance[j] = momentum * moving_variance[j] + (1.0f - momentum) * unbiased;
    }
}

// x̂ = (x − μ) / √(σ² + ε), kept for backward, and y = γ x̂ + β.
NN_KERNEL void nn_batch_norm_forward(const float *x, const float *sums, const float *inverse, const float *gamma,
                                     const float *beta, float *normalized, float *y, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const int j = (int)(index % width);
        const float x_hat = (x[index] - sums[j] / (float)rows) * inverse[j];
        normalized[index] = x_hat;
        y[index] = gamma[j] * x_hat + beta[j];
    }
}

// Inference: y = x · γ/√(moving σ² + ε) + (β − moving μ · that scale), the CPU's formula.
NN_KERNEL void nn_batch_norm_inference(const float *x, const float *gamma, const float *beta, const float *moving_mean,
                                       const float *moving_variance, float *y, int rows, int width, float epsilon) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const int j = (int)(index % width);
        const float scale = gamma[j] / sqrtf(moving_variance[j] + epsilon);
        y[index] = x[index] * scale + (beta[j] - moving_mean[j] * scale);
    }
}

// dx = γ / √(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy · x̂)), from sums [Σ dy · x̂; Σ dy].
NN_KERNEL void nn_batch_norm_backward(const float *dy, const float *normalized, const float *sums, const float *gamma,
                                      const float *inverse, float *dx, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) {
        const int j = (int)(index % width);
        const float mean_dy = sums[width + j] / (float)rows, mean_dy_x = sums[j] / (float)rows;
        dx[index] = gamma[j] * inverse[j] * (dy[index] - mean_dy - normalized[index] * mean_dy_x);
    }
}

// ---- Layer normalisation: each row of `width` features by its own statistics ----
// One thread per row, the mean and variance in double as on the CPU.

// x̂ = (x − μ) / √(σ² + ε), kept for backward with 1/√(σ² + ε) per row, and y = γ x̂ + β.
NN_KERNEL void nn_layer_norm_forward(const float *x, const float *gamma, const float *beta, float *normalized,
                                     float *inverse, float *y, int rows, int width, float epsilon) {
    NN_GRID_STRIDE(row, rows) {
        const long start = row * (long)width;
        double sum = 0.0, squares = 0.0;
        for (int k = 0; k < width; k++) sum += (double)x[start + k];
        const double mean = sum / (double)width;
        for (int k = 0; k < width; k++) {
            const double d = (double)x[start + k] - mean;
            squares += d * d;
        }
        const double scale = 1.0 / sqrt(squares / (double)width + (double)epsilon);
        inverse[row] = (float)scale;
        for (int k = 0; k < width; k++) {
            const float n = (float)(((double)x[start + k] - mean) * scale);
            normalized[start + k] = n;
            y[start + k] = gamma[k] * n + beta[k];
        }
    }
}

// dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(σ² + ε), g = dy · γ, the means over the row.
NN_KERNEL void nn_layer_norm_backward(const float *dy, const float *normalized, const float *gamma, const float *inverse,
                                      float *dx, int rows, int width) {
    NN_GRID_STRIDE(row, rows) {
        const long start = row * (long)width;
        float mean_g = 0.0f, mean_gn = 0.0f;
        for (int k = 0; k < width; k++) {
            const float g = dy[start + k] * gamma[k];
            mean_g += g;
            mean_gn += g * normalized[start + k];
        }
        mean_g /= (float)width;
        mean_gn /= (float)width;
        for (int k = 0; k < width; k++) {
            dx[start + k] = (dy[start + k] * gamma[k] - mean_g - normalized[start + k] * mean_gn) * inverse[row];
        }
    }
}

// ---- Embedding: a table row of `width` values per id, the ids being the inputs' values ----

// Whether `id` is a row of a table of `rows` (a whole number in 0..<rows).
NN_DEVICE int nn_embedding_row(float id, int rows) { return id >= 0.0f && id < (float)rows && floorf(id) == id; }

// y[p, j] = table[id_p, j]; a value that is no row reads NaN, as on the CPU.
NN_KERNEL void nn_embedding_forward(const float *ids, const float *table, float *y, long positions, int rows, int width) {
    NN_GRID_STRIDE(index, positions * width) {
        const float id = ids[index / width];
        y[index] = nn_embedding_row(id, rows) ? table[(long)id * width + index % width] : NN_NAN;
    }
}

// table_gradient[id_p, j] += dy[p, j] for every position p in order, one thread per column j:
// the CPU's sums in its order, and no two threads add into one value.
NN_KERNEL void nn_embedding_backward(const float *ids, const float *dy, float *table_gradient, long positions, int rows,
                                     int width) {
    NN_GRID_STRIDE(j, width) {
        for (long p = 0; p < positions; p++) {
            const float id = ids[p];
            if (nn_embedding_row(id, rows)) table_gradient[(long)id * width + j] += dy[p * width + j];
        }
    }
}

// ---- Depthwise convolution: each channel c its own windows, m filters each (outputs c·m + k) ----
// The kernel is [winH, winW, C, m]: w[tap · C·m + q] for output channel q of tap (ki, kj).

// z[n, oh, ow, q] += Σ over the window's taps inside the image x[n, ih, iw, q / m] · w[tap, q].
NN_KERNEL void nn_depthwise_forward(const float *x, const float *w, float *z, const int *g, int samples, int m) {
    const int c = g[NN_CHANNELS], width = c * m;
    const long image = (long)g[NN_IN_H] * g[NN_IN_W] * c;
    NN_GRID_STRIDE(index, samples * ((long)g[NN_OUT_H] * g[NN_OUT_W] * width)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_OUT_H], g[NN_OUT_W], width);
        float sum = 0.0f;
        for (int ki = 0; ki < g[NN_WIN_H]; ki++) {
            const int ih = p.row * g[NN_STRIDE_H] - g[NN_PAD_TOP] + ki * g[NN_DIL_H];
            if (ih < 0 || ih >= g[NN_IN_H]) continue;
            for (int kj = 0; kj < g[NN_WIN_W]; kj++) {
                const int iw = p.column * g[NN_STRIDE_W] - g[NN_PAD_LEFT] + kj * g[NN_DIL_W];
                if (iw < 0 || iw >= g[NN_IN_W]) continue;
                sum += x[p.sample * image + ((long)ih * g[NN_IN_W] + iw) * c + p.channel / m]
                     * w[(ki * g[NN_WIN_W] + kj) * width + p.channel];
            }
        }
        z[index] += sum;
    }
}

// Each sample's part of the kernel's gradient, partial[n, tap, q] = Σ over the windows whose
// tap is inside the image x[n, …, q / m] · dz[n, …, q] (a sum over samples, a product by ones,
// then adds the parts: one thread per weight and sample, not per weight over the whole batch).
NN_KERNEL void nn_depthwise_kernel_gradient(const float *x, const float *dz, float *partial, const int *g, int samples,
                                            int m) {
    const int c = g[NN_CHANNELS], width = c * m;
    const long image = (long)g[NN_IN_H] * g[NN_IN_W] * c, weights = (long)g[NN_WIN_H] * g[NN_WIN_W] * width;
    NN_GRID_STRIDE(index, samples * weights) {
        const long n = index / weights;
        const int q = (int)(index % width), tap = (int)(index % weights / width);
        const int ki = tap / g[NN_WIN_W], kj = tap % g[NN_WIN_W];
        float sum = 0.0f;
        for (int oh = 0; oh < g[NN_OUT_H]; oh++) {
            const int ih = oh * g[NN_STRIDE_H] - g[NN_PAD_TOP] + ki * g[NN_DIL_H];
            if (ih < 0 || ih >= g[NN_IN_H]) continue;
            for (int ow = 0; ow < g[NN_OUT_W]; ow++) {
                const int iw = ow * g[NN_STRIDE_W] - g[NN_PAD_LEFT] + kj * g[NN_DIL_W];
                if (iw < 0 || iw >= g[NN_IN_W]) continue;
                sum += x[n * image + ((long)ih * g[NN_IN_W] + iw) * c + q / m]
                     * dz[((n * g[NN_OUT_H] + oh) * g[NN_OUT_W] + ow) * width + q];
            }
        }
        partial[index] = sum;
    }
}

// dx[n, ih, iw, ch] = Σ over the windows it is in, Σ over its m outputs: w[tap, ch·m + k] · dz[…, ch·m + k].
NN_KERNEL void nn_depthwise_input_gradient(const float *dz, const float *w, float *dx, const int *g, int samples, int m) {
    const int c = g[NN_CHANNELS], width = c * m;
    NN_GRID_STRIDE(index, samples * ((long)g[NN_IN_H] * g[NN_IN_W] * c)) {
        const nn_pixel p = nn_pixel_of(index, g[NN_IN_H], g[NN_IN_W], c);
        float sum = 0.0f;
        for (int ki = g[NN_WIN_H] - 1; ki >= 0; ki--) {
            const int oh = nn_window_of(p.row, ki, g[NN_STRIDE_H], g[NN_PAD_TOP], g[NN_DIL_H], g[NN_OUT_H]);
            if (oh < 0) continue;
            for (int kj = g[NN_WIN_W] - 1; kj >= 0; kj--) {
                const int ow = nn_window_of(p.column, kj, g[NN_STRIDE_W], g[NN_PAD_LEFT], g[NN_DIL_W], g[NN_OUT_W]);
                if (ow < 0) continue;
                const float *dy = dz + ((p.sample * g[NN_OUT_H] + oh) * g[NN_OUT_W] + ow) * width + p.channel * m;
                const float *taps = w + (ki * g[NN_WIN_W] + kj) * width + p.channel * m;
                for (int k = 0; k < m; k++) sum += taps[k] * dy[k];
            }
        }
        dx[index] = sum;
    }
}

// ---- Up-sampling by whole factors (UpSampling2D): nearest repeats each pixel over its block;
// bilinear interpolates at the output pixel's centre, source s = (o + ½)/factor − ½ clamped to
// the image, between rows ⌊s⌋ and ⌊s⌋ + 1 (the last row at the end) with weights 1 − w, w ----

NN_DEVICE void nn_upsample_source(int o, int factor, int count, int *first, int *second, float *weight) {
    float s = ((float)o + 0.5f) * (1.0f / (float)factor) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    int f = (int)s;
    if (f > count - 1) f = count - 1;
    *first = f;
    *second = f + 1 < count ? f + 1 : count - 1;
    *weight = s - (float)f;
}

// Input row (or column) i's weight in output row o (both taps, where they are the same row).
NN_DEVICE float nn_upsample_weight(int o, int i, int factor, int count) {
    int first, second;
    float w;
    nn_upsample_source(o, factor, count, &first, &second, &w);
    return (first == i ? 1.0f - w : 0.0f) + (second == i ? w : 0.0f);
}

// One thread per output value of x [samples, height, width, channels] enlarged size_h × size_w.
NN_KERNEL void nn_upsample(const float *x, float *y, int samples, int height, int width, int channels, int size_h,
                           int size_w, int bilinear) {
    const int out_h = height * size_h, out_w = width * size_w;
    NN_GRID_STRIDE(index, (long)samples * out_h * out_w * channels) {
        const nn_pixel p = nn_pixel_of(index, out_h, out_w, channels);
        const float *image = x + p.sample * ((long)height * width * channels) + p.channel;
        if (!bilinear) {
            y[index] = image[((long)(p.row / size_h) * width + p.column / size_w) * channels];
            continue;
        }
        int r0, r1, c0, c1;
        float wy, wx;
        nn_upsample_source(p.row, size_h, height, &r0, &r1, &wy);
        nn_upsample_source(p.column, size_w, width, &c0, &c1, &wx);
        y[index] = (1.0f - wy) * ((1.0f - wx) * image[((long)r0 * width + c0) * channels]
                                  + wx * image[((long)r0 * width + c1) * channels])
                   + wy * ((1.0f - wx) * image[((long)r1 * width + c0) * channels]
                           + wx * image[((long)r1 * width + c1) * channels]);
    }
}

// One thread per input value: the sum of the output gradients that came from it, by their
// weights (nearest: its block; bilinear: the outputs whose taps reach it, within 1.5 factors).
NN_KERNEL void nn_upsample_backward(const float *dy, float *dx, int samples, int height, int width, int channels,
                                    int size_h, int size_w, int bilinear) {
    const int out_h = height * size_h, out_w = width * size_w;
    NN_GRID_STRIDE(index, (long)samples * height * width * channels) {
        const nn_pixel p = nn_pixel_of(index, height, width, channels);
        const float *g = dy + p.sample * ((long)out_h * out_w * channels) + p.channel;
        float sum = 0.0f;
        if (!bilinear) {
            for (int oh = p.row * size_h; oh < (p.row + 1) * size_h; oh++) {
                for (int ow = p.column * size_w; ow < (p.column + 1) * size_w; ow++) {
                    sum += g[((long)oh * out_w + ow) * channels];
                }
            }
        } else {
            const int first_h = (p.row - 1) * size_h - 1, last_h = (p.row + 2) * size_h + 1;
            const int first_w = (p.column - 1) * size_w - 1, last_w = (p.column + 2) * size_w + 1;
            for (int oh = first_h > 0 ? first_h : 0; oh < (last_h < out_h ? last_h : out_h); oh++) {
                const float wy = nn_upsample_weight(oh, p.row, size_h, height);
                if (wy == 0.0f) continue;
                for (int ow = first_w > 0 ? first_w : 0; ow < (last_w < out_w ? last_w : out_w); ow++) {
                    const float wx = nn_upsample_weight(ow, p.column, size_w, width);
                    if (wx != 0.0f) sum += g[((long)oh * out_w + ow) * channels] * (wy * wx);
                }
            }
        }
        dx[index] = sum;
    }
}

// Images [samples, in_h, in_w, channels] placed into [samples, out_h, out_w, channels], moved down
// `down` rows and right `right` columns (negative: up, left), zeros where nothing lands: zero
// padding (ZeroPadding2D), cropping (Cropping2D), and each one's backward pass with the other's.
NN_KERNEL void nn_shift_images(const float *x, float *y, int samples, int in_h, int in_w, int channels, int out_h,
                               int out_w, int down, int right) {
    NN_GRID_STRIDE(index, (long)samples * out_h * out_w * channels) {
        const nn_pixel p = nn_pixel_of(index, out_h, out_w, channels);
        const int ih = p.row - down, iw = p.column - right;
        const int inside = ih >= 0 && ih < in_h && iw >= 0 && iw < in_w;
        y[index] = inside ? x[((p.sample * in_h + ih) * (long)in_w + iw) * channels + p.channel] : 0.0f;
    }
}
