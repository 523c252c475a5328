// NeuralNetworks' CUDA kernels: compiled by NVRTC for the GPU at run time (CUDAKernels.swift),
// and as C for the CPU by the CUDA simulator (simulator.c), which runs them in the tests.
//
// Each mirrors a Backend requirement or an update of the CPU path, with the same formulas, so
// that the two agree to rounding (1e-4 in float32). Activation codes (`act`) are the CPU's
// element-wise kernels' (NN_FUNCTION_* in elementwise.h): 0 linear, 1 relu, 2 sigmoid, 3 hard
// sigmoid (Keras 2's clip(0.2x + 0.5, 0, 1)), 4 tanh; derivatives are taken from the
// activation's output, as the CPU path does.
//
// Rules that let the simulator run them: C, not C++ (no templates, references or overloads);
// one thread per value or row with grid-stride loops, so any launch size works and no thread
// waits for another (no __syncthreads, no shared memory).
#ifdef __CUDACC_RTC__
#define NN_KERNEL extern "C" __global__
#define NN_DEVICE static __device__ __forceinline__
#endif

#define NN_GRID_STRIDE(i, n) \
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long)blockDim.x * gridDim.x)

NN_DEVICE float nn_activate(int act, float x) {
    switch (act) {
    case 1: return fmaxf(x, 0.0f);
    case 2: return 1.0f / (1.0f + expf(-x));
    case 3: return fminf(fmaxf(0.2f * x + 0.5f, 0.0f), 1.0f);
    case 4: return tanhf(x);
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
    default: return 1.0f;
    }
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

// Softmax cross-entropy on logits [rows, classes] with class labels: probabilities, each row's
// loss (−log p[label]), and the gradient of the batch's mean loss, (p − onehot) / rows.
NN_KERNEL void nn_softmax_cross_entropy(const float *logits, const int *labels, float *probabilities, float *row_loss,
                                        float *gradient, int rows, int classes) {
    NN_GRID_STRIDE(row, rows) {
        const float *z = logits + row * classes;
        float largest = z[0];
        for (int j = 1; j < classes; j++) largest = fmaxf(largest, z[j]);
        float sum = 0.0f;
        for (int j = 0; j < classes; j++) sum += expf(z[j] - largest);
        const float log_sum = logf(sum);
        const int label = labels[row];
        row_loss[row] = log_sum - (z[label] - largest);
        for (int j = 0; j < classes; j++) {
            const float p = expf(z[j] - largest - log_sum);
            probabilities[row * classes + j] = p;
            gradient[row * classes + j] = (p - (j == label ? 1.0f : 0.0f)) / (float)rows;
        }
    }
}

// Every row of m [rows, width] set to vector (a bias, before a product adds to it).
NN_KERNEL void nn_fill_rows(float *m, const float *vector, int rows, int width) {
    NN_GRID_STRIDE(index, (long)rows * width) { m[index] = vector[index % width]; }
}

// sum[j] += Σ_row m[row, j] (a bias gradient), one thread per column.
NN_KERNEL void nn_add_column_sums(const float *m, float *sum, int rows, int width) {
    NN_GRID_STRIDE(column, width) {
        float total = 0.0f;
        for (int row = 0; row < rows; row++) total += m[(long)row * width + column];
        sum[column] += total;
    }
}

// SGD as the CPU's (Keras 2): v = momentum·v − lr·g; p += nesterov ? momentum·v − lr·g : v.
// Without momentum, p −= lr·g (v untouched).
NN_KERNEL void nn_sgd_update(float *parameter, const float *gradient, float *velocity, float lr, float momentum,
                             int nesterov, long count) {
    NN_GRID_STRIDE(index, count) {
        const float g = gradient[index];
        if (momentum == 0.0f) {
            parameter[index] -= lr * g;
        } else {
            const float v = momentum * velocity[index] - lr * g;
            velocity[index] = v;
            parameter[index] += nesterov ? momentum * v - lr * g : v;
        }
    }
}
