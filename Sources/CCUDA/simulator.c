// The CUDA driver and cuBLAS simulated on the CPU (see include/cuda_simulator.h), and the
// kernels' source text for NVRTC.
#include "cuda_simulator.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char kernel_source[] = {
#embed "nn_kernels.cuh"
    , 0};

const char *nn_cuda_kernel_source(void) { return kernel_source; }

// ---- The kernels, compiled as C: CUDA's built-in indices are this thread's globals. ----

typedef struct { unsigned x, y, z; } nn_dim3;
static _Thread_local nn_dim3 threadIdx, blockIdx, blockDim, gridDim;
#define NN_KERNEL static
#define NN_DEVICE static inline
#define NN_INFINITY INFINITY
#define NN_NAN NAN
// A kernel that waits for other threads cannot run one thread after another: do not compile it.
#define __syncthreads() nn_simulated_kernels_cannot_wait_for_other_threads()
#include "nn_kernels.cuh"

// Each kernel's parameters from cuLaunchKernel's array of pointers to values.
#define P(i, type) (*(type *)parameters[i])
static void run_lstm_step_forward(void **parameters) {
    nn_lstm_step_forward(P(0, float *), P(1, const float *), P(2, float *), P(3, float *), P(4, float *), P(5, int),
                         P(6, int), P(7, int), P(8, int), P(9, int));
}
static void run_lstm_step_backward(void **parameters) {
    nn_lstm_step_backward(P(0, float *), P(1, const float *), P(2, const float *), P(3, const float *), P(4, float *),
                          P(5, int), P(6, int), P(7, int), P(8, int));
}
#define LOSS_RUNNER(kernel)                                                                                      \
    static void run_##kernel(void **parameters) {                                                               \
        nn_##kernel(P(0, const float *), P(1, const int *), P(2, const float *), P(3, int), P(4, float *),            \
                    P(5, float *), P(6, int), P(7, int), P(8, int), P(9, const float *));                         \
    }
LOSS_RUNNER(categorical_cross_entropy)
LOSS_RUNNER(binary_cross_entropy)
LOSS_RUNNER(mean_squared_error)
LOSS_RUNNER(mean_absolute_error)
LOSS_RUNNER(huber)
#undef LOSS_RUNNER
static void run_fill_rows(void **parameters) {
    nn_fill_rows(P(0, float *), P(1, const float *), P(2, int), P(3, int));
}
#define UPDATE_RUNNER(kernel)                                                                                    \
    static void run_##kernel(void **parameters) {                                                               \
        nn_##kernel(P(0, float *), P(1, const float *), P(2, float *), P(3, float *), P(4, const float *),            \
                    P(5, const int *), P(6, long));                                                               \
    }
UPDATE_RUNNER(sgd_update)
UPDATE_RUNNER(adam_update)
UPDATE_RUNNER(rmsprop_update)
UPDATE_RUNNER(adagrad_update)
UPDATE_RUNNER(adamax_update)
UPDATE_RUNNER(nadam_update)
#undef UPDATE_RUNNER
static void run_clip_values(void **parameters) {
    nn_clip_values(P(0, float *), P(1, const float *), P(2, const int *), P(3, long));
}
static void run_block_squares(void **parameters) {
    nn_block_squares(P(0, const float *), P(1, double *), P(2, long));
}
static void run_clip_norm_scale(void **parameters) {
    nn_clip_norm_scale(P(0, const double *), P(1, int), P(2, const float *), P(3, float *));
}
static void run_scale_by(void **parameters) {
    nn_scale_by(P(0, float *), P(1, const float *), P(2, const int *), P(3, long));
}
static void run_softmax_rows_gradient(void **parameters) {
    nn_softmax_rows_gradient(P(0, const float *), P(1, const float *), P(2, float *), P(3, int), P(4, int));
}
static void run_apply_activation(void **parameters) {
    nn_apply_activation(P(0, const float *), P(1, float *), P(2, int), P(3, long));
}
static void run_apply_activation_gradient(void **parameters) {
    nn_apply_activation_gradient(P(0, const float *), P(1, const float *), P(2, float *), P(3, int), P(4, long));
}
static void run_apply_activation_gradient_from_input(void **parameters) {
    nn_apply_activation_gradient_from_input(P(0, const float *), P(1, const float *), P(2, const float *), P(3, float *),
                                            P(4, int), P(5, long));
}
static void run_ctc_loss(void **parameters) {
    nn_ctc_loss(P(0, const float *), P(1, const int *), P(2, float *), P(3, float *), P(4, double *), P(5, int), P(6, int),
                P(7, int), P(8, int), P(9, int));
}
static void run_softmax_rows(void **parameters) {
    nn_softmax_rows(P(0, const float *), P(1, float *), P(2, int), P(3, int));
}
static void run_lstm_gather_inputs(void **parameters) {
    nn_lstm_gather_inputs(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int));
}
static void run_lstm_outputs(void **parameters) {
    nn_lstm_outputs(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int));
}
static void run_add_step_gradient(void **parameters) {
    nn_add_step_gradient(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int));
}
static void run_scatter_time_major(void **parameters) {
    nn_scatter_time_major(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int));
}
static void run_gather_time_major(void **parameters) {
    nn_gather_time_major(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int));
}
static void run_gru_step_forward(void **parameters) {
    nn_gru_step_forward(P(0, float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, int), P(5, int),
                        P(6, int), P(7, int));
}
static void run_gru_step_backward(void **parameters) {
    nn_gru_step_backward(P(0, float *), P(1, float *), P(2, const float *), P(3, const float *), P(4, float *), P(5, int),
                         P(6, int), P(7, int), P(8, int));
}
static void run_gru_gates_original(void **parameters) {
    nn_gru_gates_original(P(0, float *), P(1, const float *), P(2, float *), P(3, int), P(4, int), P(5, int), P(6, int));
}
static void run_gru_candidate_original(void **parameters) {
    nn_gru_candidate_original(P(0, float *), P(1, const float *), P(2, float *), P(3, int), P(4, int), P(5, int), P(6, int));
}
static void run_gru_candidate_backward_original(void **parameters) {
    nn_gru_candidate_backward_original(P(0, float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, int),
                                       P(5, int), P(6, int), P(7, int));
}
static void run_gru_gates_backward_original(void **parameters) {
    nn_gru_gates_backward_original(P(0, float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, int),
                                   P(5, int), P(6, int), P(7, int));
}
static void run_merge_directions(void **parameters) {
    nn_merge_directions(P(0, const float *), P(1, const float *), P(2, float *), P(3, int), P(4, int), P(5, int),
                        P(6, int), P(7, int));
}
static void run_unmerge_directions(void **parameters) {
    nn_unmerge_directions(P(0, const float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, float *),
                          P(5, int), P(6, int), P(7, int), P(8, int), P(9, int));
}
static void run_correct_classes(void **parameters) {
    nn_correct_classes(P(0, const float *), P(1, const int *), P(2, int *), P(3, int), P(4, int));
}
static void run_gather_samples(void **parameters) {
    nn_gather_samples(P(0, const float *), P(1, const int *), P(2, const int *), P(3, float *), P(4, int *), P(5, int),
                      P(6, int));
}
static void run_add_values(void **parameters) {
    nn_add_values(P(0, const float *), P(1, float *), P(2, long));
}
static void run_multiply_values(void **parameters) {
    nn_multiply_values(P(0, const float *), P(1, const float *), P(2, float *), P(3, long));
}
static void run_im2col(void **parameters) {
    nn_im2col(P(0, const float *), P(1, float *), P(2, const int *), P(3, int));
}
static void run_col2im(void **parameters) {
    nn_col2im(P(0, const float *), P(1, float *), P(2, const int *), P(3, int));
}
static void run_max_pool(void **parameters) {
    nn_max_pool(P(0, const float *), P(1, float *), P(2, int *), P(3, const int *), P(4, int));
}
static void run_max_pool_backward(void **parameters) {
    nn_max_pool_backward(P(0, const float *), P(1, const int *), P(2, float *), P(3, const int *), P(4, int));
}
static void run_average_pool(void **parameters) {
    nn_average_pool(P(0, const float *), P(1, float *), P(2, const int *), P(3, int));
}
static void run_average_pool_backward(void **parameters) {
    nn_average_pool_backward(P(0, const float *), P(1, float *), P(2, const int *), P(3, int));
}
static void run_batch_norm_center(void **parameters) {
    nn_batch_norm_center(P(0, const float *), P(1, const float *), P(2, float *), P(3, int), P(4, int));
}
static void run_batch_norm_statistics(void **parameters) {
    nn_batch_norm_statistics(P(0, const float *), P(1, float *), P(2, float *), P(3, float *), P(4, int), P(5, int),
                             P(6, float), P(7, float));
}
static void run_batch_norm_forward(void **parameters) {
    nn_batch_norm_forward(P(0, const float *), P(1, const float *), P(2, const float *), P(3, const float *),
                          P(4, const float *), P(5, float *), P(6, float *), P(7, int), P(8, int));
}
static void run_batch_norm_inference(void **parameters) {
    nn_batch_norm_inference(P(0, const float *), P(1, const float *), P(2, const float *), P(3, const float *),
                            P(4, const float *), P(5, float *), P(6, int), P(7, int), P(8, float));
}
static void run_batch_norm_backward(void **parameters) {
    nn_batch_norm_backward(P(0, const float *), P(1, const float *), P(2, const float *), P(3, const float *),
                           P(4, const float *), P(5, float *), P(6, int), P(7, int));
}
static void run_layer_norm_forward(void **parameters) {
    nn_layer_norm_forward(P(0, const float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, float *),
                          P(5, float *), P(6, int), P(7, int), P(8, float));
}
static void run_layer_norm_backward(void **parameters) {
    nn_layer_norm_backward(P(0, const float *), P(1, const float *), P(2, const float *), P(3, const float *),
                           P(4, float *), P(5, int), P(6, int));
}
static void run_embedding_forward(void **parameters) {
    nn_embedding_forward(P(0, const float *), P(1, const float *), P(2, float *), P(3, long), P(4, int), P(5, int));
}
static void run_embedding_backward(void **parameters) {
    nn_embedding_backward(P(0, const float *), P(1, const float *), P(2, float *), P(3, long), P(4, int), P(5, int));
}
static void run_scale_values(void **parameters) {
    nn_scale_values(P(0, const float *), P(1, float *), P(2, float), P(3, float), P(4, long));
}
static void run_copy_block(void **parameters) {
    nn_copy_block(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int), P(7, int));
}
static void run_depthwise_forward(void **parameters) {
    nn_depthwise_forward(P(0, const float *), P(1, const float *), P(2, float *), P(3, const int *), P(4, int), P(5, int));
}
static void run_depthwise_kernel_gradient(void **parameters) {
    nn_depthwise_kernel_gradient(P(0, const float *), P(1, const float *), P(2, float *), P(3, const int *), P(4, int),
                                 P(5, int));
}
static void run_depthwise_input_gradient(void **parameters) {
    nn_depthwise_input_gradient(P(0, const float *), P(1, const float *), P(2, float *), P(3, const int *), P(4, int),
                                P(5, int));
}
static void run_normalize_features(void **parameters) {
    nn_normalize_features(P(0, const float *), P(1, const float *), P(2, const float *), P(3, float *), P(4, int),
                          P(5, float), P(6, int), P(7, long));
}
static void run_global_average(void **parameters) {
    nn_global_average(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int));
}
static void run_global_average_backward(void **parameters) {
    nn_global_average_backward(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int));
}
static void run_find_nonfinite(void **parameters) {
    nn_find_nonfinite(P(0, const float *), P(1, int *), P(2, long));
}
static void run_upsample(void **parameters) {
    nn_upsample(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int), P(7, int),
                P(8, int));
}
static void run_upsample_backward(void **parameters) {
    nn_upsample_backward(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int),
                         P(7, int), P(8, int));
}
static void run_shift_images(void **parameters) {
    nn_shift_images(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int), P(6, int), P(7, int),
                    P(8, int), P(9, int));
}
#undef P

struct nn_sim_function {
    const char *name;
    void (*run)(void **parameters);
    int parameter_count;  // what a captured launch copies (8 bytes each, the slots nn's launches fill)
};
static struct nn_sim_function kernels[] = {
    {"nn_lstm_step_forward", run_lstm_step_forward, 10},
    {"nn_lstm_step_backward", run_lstm_step_backward, 9},
    {"nn_categorical_cross_entropy", run_categorical_cross_entropy, 10},
    {"nn_binary_cross_entropy", run_binary_cross_entropy, 10},
    {"nn_mean_squared_error", run_mean_squared_error, 10},
    {"nn_mean_absolute_error", run_mean_absolute_error, 10},
    {"nn_huber", run_huber, 10},
    {"nn_ctc_loss", run_ctc_loss, 10},
    {"nn_fill_rows", run_fill_rows, 4},
    {"nn_sgd_update", run_sgd_update, 7},
    {"nn_adam_update", run_adam_update, 7},
    {"nn_rmsprop_update", run_rmsprop_update, 7},
    {"nn_adamax_update", run_adamax_update, 7},
    {"nn_nadam_update", run_nadam_update, 7},
    {"nn_adagrad_update", run_adagrad_update, 7},
    {"nn_clip_values", run_clip_values, 4},
    {"nn_block_squares", run_block_squares, 3},
    {"nn_clip_norm_scale", run_clip_norm_scale, 4},
    {"nn_scale_by", run_scale_by, 4},
    {"nn_softmax_rows_gradient", run_softmax_rows_gradient, 5},
    {"nn_apply_activation", run_apply_activation, 4},
    {"nn_apply_activation_gradient", run_apply_activation_gradient, 5},
    {"nn_apply_activation_gradient_from_input", run_apply_activation_gradient_from_input, 6},
    {"nn_softmax_rows", run_softmax_rows, 4},
    {"nn_lstm_gather_inputs", run_lstm_gather_inputs, 7},
    {"nn_lstm_outputs", run_lstm_outputs, 7},
    {"nn_add_step_gradient", run_add_step_gradient, 6},
    {"nn_scatter_time_major", run_scatter_time_major, 7},
    {"nn_gather_time_major", run_gather_time_major, 6},
    {"nn_gru_step_forward", run_gru_step_forward, 8},
    {"nn_gru_step_backward", run_gru_step_backward, 9},
    {"nn_gru_gates_original", run_gru_gates_original, 7},
    {"nn_gru_candidate_original", run_gru_candidate_original, 7},
    {"nn_gru_candidate_backward_original", run_gru_candidate_backward_original, 8},
    {"nn_gru_gates_backward_original", run_gru_gates_backward_original, 8},
    {"nn_merge_directions", run_merge_directions, 8},
    {"nn_unmerge_directions", run_unmerge_directions, 10},
    {"nn_correct_classes", run_correct_classes, 5},
    {"nn_find_nonfinite", run_find_nonfinite, 3},
    {"nn_gather_samples", run_gather_samples, 7},
    {"nn_add_values", run_add_values, 3},
    {"nn_multiply_values", run_multiply_values, 4},
    {"nn_scale_values", run_scale_values, 5},
    {"nn_copy_block", run_copy_block, 8},
    {"nn_normalize_features", run_normalize_features, 8},
    {"nn_depthwise_forward", run_depthwise_forward, 6},
    {"nn_depthwise_kernel_gradient", run_depthwise_kernel_gradient, 6},
    {"nn_depthwise_input_gradient", run_depthwise_input_gradient, 6},
    {"nn_im2col", run_im2col, 4},
    {"nn_col2im", run_col2im, 4},
    {"nn_max_pool", run_max_pool, 5},
    {"nn_max_pool_backward", run_max_pool_backward, 5},
    {"nn_average_pool", run_average_pool, 4},
    {"nn_average_pool_backward", run_average_pool_backward, 4},
    {"nn_global_average", run_global_average, 5},
    {"nn_global_average_backward", run_global_average_backward, 5},
    {"nn_upsample", run_upsample, 9},
    {"nn_upsample_backward", run_upsample_backward, 9},
    {"nn_shift_images", run_shift_images, 10},
    {"nn_batch_norm_center", run_batch_norm_center, 5},
    {"nn_batch_norm_statistics", run_batch_norm_statistics, 8},
    {"nn_batch_norm_forward", run_batch_norm_forward, 9},
    {"nn_batch_norm_inference", run_batch_norm_inference, 9},
    {"nn_batch_norm_backward", run_batch_norm_backward, 8},
    {"nn_layer_norm_forward", run_layer_norm_forward, 9},
    {"nn_layer_norm_backward", run_layer_norm_backward, 7},
    {"nn_embedding_forward", run_embedding_forward, 6},
    {"nn_embedding_backward", run_embedding_backward, 6},
};

// ---- Memory: every allocation with a guard band after it. ----

enum { GUARD_BYTES = 64, GUARD_BYTE = 0xA5 };
enum {
    SUCCESS = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, INVALID_HANDLE = 400, NOT_FOUND = 500, ILLEGAL_ADDRESS = 700,
    CAPTURE_UNSUPPORTED = 900, CAPTURE_INVALIDATED = 901, CAPTURE_UNJOINED = 904
};

typedef struct { unsigned char *base; size_t bytes; } allocation;
static allocation *allocations;
static size_t allocation_total, allocation_capacity;
static pthread_mutex_t memory_lock = PTHREAD_MUTEX_INITIALIZER;

size_t nn_sim_allocation_count(void) {
    pthread_mutex_lock(&memory_lock);
    size_t count = allocation_total;
    pthread_mutex_unlock(&memory_lock);
    return count;
}

int nn_sim_mem_alloc(unsigned long long *address, size_t bytes) {
    if (bytes == 0) return INVALID_VALUE;
    unsigned char *base = malloc(bytes + GUARD_BYTES);
    if (!base) return OUT_OF_MEMORY;
    memset(base, 0x7F, bytes);  // not zero: device memory starts as whatever was there
    memset(base + bytes, GUARD_BYTE, GUARD_BYTES);
    pthread_mutex_lock(&memory_lock);
    if (allocation_total == allocation_capacity) {
        size_t capacity = allocation_capacity ? 2 * allocation_capacity : 64;
        allocation *grown = realloc(allocations, capacity * sizeof(allocation));
        if (!grown) {
            pthread_mutex_unlock(&memory_lock);
            free(base);
            return OUT_OF_MEMORY;
        }
        allocations = grown;
        allocation_capacity = capacity;
    }
    allocations[allocation_total++] = (allocation){base, bytes};
    pthread_mutex_unlock(&memory_lock);
    *address = (unsigned long long)(size_t)base;
    return SUCCESS;
}

int nn_sim_mem_free(unsigned long long address) {
    pthread_mutex_lock(&memory_lock);
    for (size_t i = 0; i < allocation_total; i++) {
        if ((unsigned long long)(size_t)allocations[i].base == address) {
            free(allocations[i].base);
            allocations[i] = allocations[--allocation_total];
            pthread_mutex_unlock(&memory_lock);
            return SUCCESS;
        }
    }
    pthread_mutex_unlock(&memory_lock);
    return INVALID_VALUE;
}

// Whether [address, address + bytes) lies in one allocation.
static int in_device_memory(unsigned long long address, size_t bytes) {
    int found = 0;
    pthread_mutex_lock(&memory_lock);
    for (size_t i = 0; i < allocation_total && !found; i++) {
        unsigned long long base = (unsigned long long)(size_t)allocations[i].base;
        found = address >= base && address + bytes <= base + allocations[i].bytes;
    }
    pthread_mutex_unlock(&memory_lock);
    return found;
}

// Whether the guard band after the allocation that holds `address` (if any) is as it was
// written; a broken one is written again, so that each overflow is reported once.
static int guard_intact(unsigned long long address) {
    int intact = 1;
    pthread_mutex_lock(&memory_lock);
    for (size_t i = 0; i < allocation_total; i++) {
        unsigned long long base = (unsigned long long)(size_t)allocations[i].base;
        if (address < base || address > base + allocations[i].bytes) continue;
        unsigned char *guard = allocations[i].base + allocations[i].bytes;
        for (int j = 0; j < GUARD_BYTES; j++) intact &= guard[j] == GUARD_BYTE;
        if (!intact) memset(guard, GUARD_BYTE, GUARD_BYTES);
        break;
    }
    pthread_mutex_unlock(&memory_lock);
    return intact;
}

// ---- Streams, and the graphs their captures make. ----

enum { MAX_PARAMETERS = 16 };
typedef enum { KERNEL, FILL, COPY, PRODUCT } operation_kind;
// One recorded operation, every argument by value.
typedef struct {
    operation_kind kind;
    struct nn_sim_function *function;
    unsigned grid, block;
    unsigned long long values[MAX_PARAMETERS];
    unsigned long long destination, source;
    size_t count;  // bytes of a copy, words of a fill
    unsigned word;
    int transa, transb, m, n, k, lda, ldb, ldc, bfloat16;
    float alpha, beta;
    unsigned long long a, b, c;
} operation;

struct nn_sim_graph { operation *operations; size_t count, capacity; };
struct nn_sim_graph_exec { struct nn_sim_graph graph; };
// A stream's error is a kernel's write past a buffer's end, reported (once) by its next
// synchronization. A stream capturing for another (`origin`, which it joined by waiting for an
// event recorded there) records into the origin's graph; `joined` says whether the origin has
// since waited for an event recorded after this stream's last work.
struct nn_sim_stream {
    int capturing, invalidated, error;
    struct nn_sim_graph *graph;
    struct nn_sim_stream *origin;
    unsigned long operations;  // work recorded so far
    int joined;
    struct nn_sim_stream *members[8];  // an origin's joined streams
    int member_count;
};
// An event remembers where it was recorded, and how much work that stream had recorded by then.
struct nn_sim_event { struct nn_sim_stream *stream; unsigned long operations; };

// Where an operation on `stream` goes: null to run it now, or the graph it is recorded in.
static struct nn_sim_graph *recording(nn_sim_stream_t stream) {
    return stream && stream->capturing ? stream->graph : 0;
}

static int record(nn_sim_stream_t stream, operation op) {
    struct nn_sim_graph *graph = stream->graph;
    stream->operations++;
    stream->joined = 0;
    if (graph->count == graph->capacity) {
        size_t capacity = graph->capacity ? 2 * graph->capacity : 64;
        operation *grown = realloc(graph->operations, capacity * sizeof(operation));
        if (!grown) return OUT_OF_MEMORY;
        graph->operations = grown;
        graph->capacity = capacity;
    }
    graph->operations[graph->count++] = op;
    return SUCCESS;
}

// What a capture cannot hold: it fails, and invalidates the capture.
static int refuse_in_capture(nn_sim_stream_t stream) {
    if (!recording(stream)) return SUCCESS;
    stream->invalidated = 1;
    return CAPTURE_UNSUPPORTED;
}

int nn_sim_memcpy_htod_async(unsigned long long destination, const void *source, size_t bytes, nn_sim_stream_t stream) {
    if (refuse_in_capture(stream)) return CAPTURE_UNSUPPORTED;
    if (!in_device_memory(destination, bytes)) return INVALID_VALUE;
    memcpy((void *)(size_t)destination, source, bytes);
    return SUCCESS;
}

int nn_sim_memcpy_dtoh_async(void *destination, unsigned long long source, size_t bytes, nn_sim_stream_t stream) {
    if (refuse_in_capture(stream)) return CAPTURE_UNSUPPORTED;
    if (!in_device_memory(source, bytes)) return INVALID_VALUE;
    memcpy(destination, (const void *)(size_t)source, bytes);
    return SUCCESS;
}

static int copy_now(unsigned long long destination, unsigned long long source, size_t bytes) {
    if (!in_device_memory(source, bytes) || !in_device_memory(destination, bytes)) return INVALID_VALUE;
    memmove((void *)(size_t)destination, (const void *)(size_t)source, bytes);
    return SUCCESS;
}

int nn_sim_memcpy_dtod_async(unsigned long long destination, unsigned long long source, size_t bytes,
                             nn_sim_stream_t stream) {
    if (recording(stream)) {
        if (!in_device_memory(source, bytes) || !in_device_memory(destination, bytes)) return INVALID_VALUE;
        return record(stream, (operation){.kind = COPY, .destination = destination, .source = source, .count = bytes});
    }
    return copy_now(destination, source, bytes);
}

static int fill_now(unsigned long long destination, unsigned value, size_t count) {
    if (!in_device_memory(destination, 4 * count)) return INVALID_VALUE;
    unsigned *words = (unsigned *)(size_t)destination;
    for (size_t i = 0; i < count; i++) words[i] = value;
    return SUCCESS;
}

int nn_sim_memset_d32_async(unsigned long long destination, unsigned value, size_t count, nn_sim_stream_t stream) {
    if (recording(stream)) {
        if (!in_device_memory(destination, 4 * count)) return INVALID_VALUE;
        return record(stream, (operation){.kind = FILL, .destination = destination, .word = value, .count = count});
    }
    return fill_now(destination, value, count);
}

int nn_sim_stream_create(nn_sim_stream_t *stream, unsigned flags) {
    if (flags > 1) return INVALID_VALUE;
    *stream = calloc(1, sizeof(struct nn_sim_stream));
    return *stream ? SUCCESS : OUT_OF_MEMORY;
}

int nn_sim_stream_destroy(nn_sim_stream_t stream) {
    if (!stream) return INVALID_HANDLE;
    if (stream->graph && !stream->origin) nn_sim_graph_destroy(stream->graph);
    free(stream);
    return SUCCESS;
}

int nn_sim_stream_synchronize(nn_sim_stream_t stream) {
    if (refuse_in_capture(stream)) return CAPTURE_UNSUPPORTED;
    if (!stream || !stream->error) return SUCCESS;
    stream->error = 0;
    return ILLEGAL_ADDRESS;
}

int nn_sim_event_create(nn_sim_event_t *event, unsigned flags) {
    if (flags > 15) return INVALID_VALUE;
    *event = calloc(1, sizeof(struct nn_sim_event));
    return *event ? SUCCESS : OUT_OF_MEMORY;
}

int nn_sim_event_destroy(nn_sim_event_t event) {
    if (!event) return INVALID_HANDLE;
    free(event);
    return SUCCESS;
}

int nn_sim_event_record(nn_sim_event_t event, nn_sim_stream_t stream) {
    if (!event) return INVALID_HANDLE;
    event->stream = stream;
    event->operations = stream ? stream->operations : 0;
    return SUCCESS;
}

// Outside captures the work has already run, in order: waiting only matters to captures.
int nn_sim_stream_wait_event(nn_sim_stream_t stream, nn_sim_event_t event, unsigned flags) {
    if (!stream || !event || flags != 0) return INVALID_VALUE;
    struct nn_sim_stream *source = event->stream;
    if (!source || !source->capturing) return SUCCESS;
    struct nn_sim_stream *origin = source->origin ? source->origin : source;
    if (stream == origin) {  // a join: the member's work so far comes before what follows
        if (source != origin && event->operations == source->operations) source->joined = 1;
        return SUCCESS;
    }
    if (stream->capturing) return stream->graph == origin->graph ? SUCCESS : INVALID_VALUE;
    if (origin->member_count == 8) return OUT_OF_MEMORY;
    stream->capturing = 1;  // a fork: this stream records into the origin's graph from now on
    stream->graph = origin->graph;
    stream->origin = origin;
    stream->joined = 1;
    origin->members[origin->member_count++] = stream;
    return SUCCESS;
}

int nn_sim_stream_begin_capture(nn_sim_stream_t stream, int mode) {
    if (!stream || stream->capturing || mode < 0 || mode > 2) return INVALID_VALUE;
    stream->graph = calloc(1, sizeof(struct nn_sim_graph));
    if (!stream->graph) return OUT_OF_MEMORY;
    stream->capturing = 1;
    stream->invalidated = 0;
    return SUCCESS;
}

int nn_sim_stream_end_capture(nn_sim_stream_t stream, nn_sim_graph_t *graph) {
    if (!stream || !stream->capturing || stream->origin) return INVALID_VALUE;
    stream->capturing = 0;
    struct nn_sim_graph *captured = stream->graph;
    stream->graph = 0;
    int unjoined = 0;
    for (int i = 0; i < stream->member_count; i++) {
        struct nn_sim_stream *member = stream->members[i];
        unjoined |= !member->joined;
        stream->invalidated |= member->invalidated;
        member->capturing = member->invalidated = 0;
        member->graph = 0;
        member->origin = 0;
    }
    stream->member_count = 0;
    if (unjoined) {
        nn_sim_graph_destroy(captured);
        *graph = 0;
        return CAPTURE_UNJOINED;
    }
    if (stream->invalidated) {
        nn_sim_graph_destroy(captured);
        *graph = 0;
        return CAPTURE_INVALIDATED;
    }
    *graph = captured;
    return SUCCESS;
}

int nn_sim_graph_instantiate(nn_sim_graph_exec_t *exec, nn_sim_graph_t graph, unsigned long long flags) {
    if (!graph || flags != 0) return INVALID_VALUE;
    struct nn_sim_graph_exec *made = calloc(1, sizeof(struct nn_sim_graph_exec));
    if (!made) return OUT_OF_MEMORY;
    made->graph.count = made->graph.capacity = graph->count;
    made->graph.operations = malloc((graph->count ? graph->count : 1) * sizeof(operation));
    if (!made->graph.operations) {
        free(made);
        return OUT_OF_MEMORY;
    }
    memcpy(made->graph.operations, graph->operations, graph->count * sizeof(operation));
    *exec = made;
    return SUCCESS;
}

static void run_kernel(struct nn_sim_function *function, unsigned grid, unsigned block, void **parameters,
                       nn_sim_stream_t stream);
static void product_now(int transa, int transb, int m, int n, int k, float alpha, unsigned long long a, int lda,
                        unsigned long long b, int ldb, float beta, unsigned long long c, int ldc, int bfloat16,
                        nn_sim_stream_t stream);

int nn_sim_graph_launch(nn_sim_graph_exec_t exec, nn_sim_stream_t stream) {
    if (!exec) return INVALID_HANDLE;
    if (recording(stream)) return CAPTURE_UNSUPPORTED;
    for (size_t i = 0; i < exec->graph.count; i++) {
        operation *op = &exec->graph.operations[i];
        int status = SUCCESS;
        switch (op->kind) {
        case KERNEL: {
            void *parameters[MAX_PARAMETERS];
            for (int j = 0; j < op->function->parameter_count; j++) parameters[j] = &op->values[j];
            run_kernel(op->function, op->grid, op->block, parameters, stream);
            break;
        }
        case FILL: status = fill_now(op->destination, op->word, op->count); break;
        case COPY: status = copy_now(op->destination, op->source, op->count); break;
        case PRODUCT:
            product_now(op->transa, op->transb, op->m, op->n, op->k, op->alpha, op->a, op->lda, op->b, op->ldb, op->beta,
                        op->c, op->ldc, op->bfloat16, stream);
            break;
        }
        if (status != SUCCESS) return status;
    }
    return SUCCESS;
}

int nn_sim_graph_exec_destroy(nn_sim_graph_exec_t exec) {
    if (!exec) return INVALID_HANDLE;
    free(exec->graph.operations);
    free(exec);
    return SUCCESS;
}

int nn_sim_graph_destroy(nn_sim_graph_t graph) {
    if (!graph) return INVALID_HANDLE;
    free(graph->operations);
    free(graph);
    return SUCCESS;
}

// ---- The driver's other calls: one device, compute capability 9.0. ----

static struct nn_sim_context { int unused; } the_context;
static struct nn_sim_module { int unused; } the_module;

int nn_sim_init(unsigned flags) { return flags == 0 ? SUCCESS : INVALID_VALUE; }
int nn_sim_driver_get_version(int *version) { *version = 13000; return SUCCESS; }
int nn_sim_device_get_count(int *count) { *count = 1; return SUCCESS; }
int nn_sim_device_get(int *device, int ordinal) {
    if (ordinal != 0) return INVALID_VALUE;
    *device = 0;
    return SUCCESS;
}
int nn_sim_device_get_name(char *name, int length, int device) {
    (void)device;
    if (length < 1) return INVALID_VALUE;
    strncpy(name, "CUDA simulator on the CPU", (size_t)length - 1);
    name[length - 1] = 0;
    return SUCCESS;
}
int nn_sim_device_get_attribute(int *value, int attribute, int device) {
    (void)device;
    switch (attribute) {
    case 75: *value = 9; return SUCCESS;  // compute capability major
    case 76: *value = 0; return SUCCESS;  // minor
    default: return INVALID_VALUE;
    }
}
int nn_sim_device_total_mem(size_t *bytes, int device) {
    (void)device;
    *bytes = (size_t)4 << 30;
    return SUCCESS;
}
int nn_sim_primary_ctx_retain(nn_sim_context_t *context, int device) {
    (void)device;
    *context = &the_context;
    return SUCCESS;
}
int nn_sim_ctx_set_current(nn_sim_context_t context) { return context == &the_context ? SUCCESS : INVALID_VALUE; }
int nn_sim_primary_ctx_release(int device) { return device == 0 ? SUCCESS : INVALID_VALUE; }
int nn_sim_mem_alloc_host(void **pointer, size_t bytes) {
    *pointer = malloc(bytes ? bytes : 1);
    return *pointer ? SUCCESS : OUT_OF_MEMORY;
}
int nn_sim_mem_free_host(void *pointer) {
    free(pointer);
    return SUCCESS;
}

int nn_sim_module_load_data(nn_sim_module_t *module, const void *image) {
    (void)image;  // the kernels are compiled in
    *module = &the_module;
    return SUCCESS;
}
int nn_sim_module_unload(nn_sim_module_t module) { return module == &the_module ? SUCCESS : INVALID_VALUE; }
int nn_sim_module_get_function(nn_sim_function_t *function, nn_sim_module_t module, const char *name) {
    if (module != &the_module) return INVALID_VALUE;
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        if (strcmp(kernels[i].name, name) == 0) {
            *function = &kernels[i];
            return SUCCESS;
        }
    }
    return NOT_FOUND;
}

// Runs a kernel, then checks the guard band of every buffer an argument points into: an
// overflow becomes `stream`'s error.
static void run_kernel(struct nn_sim_function *function, unsigned grid, unsigned block, void **parameters,
                       nn_sim_stream_t stream) {
    gridDim = (nn_dim3){grid, 1, 1};
    blockDim = (nn_dim3){block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = (nn_dim3){b, 0, 0};
        for (unsigned thread = 0; thread < block; thread++) {
            threadIdx = (nn_dim3){thread, 0, 0};
            function->run(parameters);
        }
    }
    for (int j = 0; j < function->parameter_count; j++) {
        unsigned long long value;
        memcpy(&value, parameters[j], 8);
        if (!guard_intact(value) && stream) stream->error = 1;
    }
}

int nn_sim_launch_kernel(nn_sim_function_t function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                         unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                         nn_sim_stream_t stream, void **parameters, void **extra) {
    (void)extra;
    // The limits a GPU has: a launch a GPU refuses, the simulator refuses.
    if (!function || grid_x == 0 || block_x == 0 || block_x > 1024 || grid_y != 1 || grid_z != 1 || block_y != 1 ||
        block_z != 1 || shared_bytes != 0 || grid_x > 2147483647u)
        return INVALID_VALUE;
    if (recording(stream)) {
        operation op = {.kind = KERNEL, .function = function, .grid = grid_x, .block = block_x};
        for (int j = 0; j < function->parameter_count; j++) memcpy(&op.values[j], parameters[j], 8);
        return record(stream, op);
    }
    run_kernel(function, grid_x, block_x, parameters, stream);
    return SUCCESS;
}

int nn_sim_get_error_string(int status, const char **text) {
    switch (status) {
    case SUCCESS: *text = "no error"; return SUCCESS;
    case INVALID_VALUE: *text = "invalid argument"; return SUCCESS;
    case OUT_OF_MEMORY: *text = "out of memory"; return SUCCESS;
    case NOT_FOUND: *text = "named symbol not found"; return SUCCESS;
    case ILLEGAL_ADDRESS: *text = "an illegal memory access was encountered (a kernel wrote past a buffer's end)"; return SUCCESS;
    case INVALID_HANDLE: *text = "invalid resource handle"; return SUCCESS;
    case CAPTURE_UNSUPPORTED: *text = "operation not permitted when stream is capturing"; return SUCCESS;
    case CAPTURE_INVALIDATED: *text = "operation failed due to a previous error during capture"; return SUCCESS;
    case CAPTURE_UNJOINED: *text = "capture was not joined: a forked stream's work was not waited for"; return SUCCESS;
    default: *text = 0; return INVALID_VALUE;
    }
}

// ---- cuBLAS: the column-major product, every argument as cuBLAS reads it. ----

struct nn_sim_blas { nn_sim_stream_t stream; };
int nn_sim_cublas_create(nn_sim_blas_t *handle) {
    *handle = calloc(1, sizeof(struct nn_sim_blas));
    return *handle ? 0 : 3;  // CUBLAS_STATUS_ALLOC_FAILED
}
int nn_sim_cublas_destroy(nn_sim_blas_t handle) {
    free(handle);
    return 0;
}
// The workspace must be device memory; the reference product needs none.
int nn_sim_cublas_set_workspace(nn_sim_blas_t handle, unsigned long long workspace, size_t bytes) {
    if (!handle) return 1;
    return bytes == 0 || in_device_memory(workspace, bytes) ? 0 : 7;
}

int nn_sim_cublas_set_stream(nn_sim_blas_t handle, nn_sim_stream_t stream) {
    if (!handle) return 1;
    handle->stream = stream;
    return 0;
}

// A float rounded to the nearest bfloat16 (ties to even), as tensor cores read float32 operands
// under CUBLAS_COMPUTE_32F_FAST_16BF; NaN stays NaN.
static float to_bfloat16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu)) return x;
    bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
    memcpy(&x, &bits, 4);
    return x;
}

static void product_now(int transa, int transb, int m, int n, int k, float alpha, unsigned long long a, int lda,
                        unsigned long long b, int ldb, float beta, unsigned long long c, int ldc, int bfloat16,
                        nn_sim_stream_t stream) {
    const float *A = (const float *)(size_t)a, *B = (const float *)(size_t)b;
    float *C = (float *)(size_t)c;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float sum = 0.0f;
            for (int l = 0; l < k; l++) {
                float x = transa ? A[l + (size_t)i * lda] : A[i + (size_t)l * lda];
                float y = transb ? B[j + (size_t)l * ldb] : B[l + (size_t)j * ldb];
                if (bfloat16) x = to_bfloat16(x), y = to_bfloat16(y);
                sum += x * y;
            }
            float *out = &C[i + (size_t)j * ldc];
            *out = beta == 0.0f ? alpha * sum : alpha * sum + beta * *out;
        }
    }
    if (!guard_intact(c) && stream) stream->error = 1;
}

enum { NOT_INITIALIZED = 1, BAD_VALUE = 7, NOT_SUPPORTED = 15 };

static int product(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const float *alpha,
                   unsigned long long a, int lda, unsigned long long b, int ldb, const float *beta,
                   unsigned long long c, int ldc, int bfloat16) {
    if (!handle) return NOT_INITIALIZED;
    if (m < 0 || n < 0 || k < 0 || transa < 0 || transa > 1 || transb < 0 || transb > 1 || ldc < (m > 1 ? m : 1) ||
        lda < ((transa ? k : m) > 1 ? (transa ? k : m) : 1) || ldb < ((transb ? n : k) > 1 ? (transb ? n : k) : 1))
        return BAD_VALUE;
    // The scalars are read now (host pointer mode), as cuBLAS does when a capture records the call.
    if (recording(handle->stream)) {
        return record(handle->stream, (operation){.kind = PRODUCT, .transa = transa, .transb = transb, .m = m, .n = n,
                                                  .k = k, .alpha = *alpha, .a = a, .lda = lda, .b = b, .ldb = ldb,
                                                  .beta = *beta, .c = c, .ldc = ldc, .bfloat16 = bfloat16});
    }
    product_now(transa, transb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc, bfloat16, handle->stream);
    return 0;
}

int nn_sim_cublas_sgemm(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const float *alpha,
                        unsigned long long a, int lda, unsigned long long b, int ldb, const float *beta,
                        unsigned long long c, int ldc) {
    return product(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0);
}

// cublasGemmEx for what the library asks of it: float32 matrices (CUDA_R_32F, 0) with float32
// compute (CUBLAS_COMPUTE_32F, 68) or bfloat16 tensor-core compute (CUBLAS_COMPUTE_32F_FAST_16BF,
// 75: each operand rounded to bfloat16, sums in float32), the default algorithm (-1).
int nn_sim_cublas_gemm_ex(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const void *alpha,
                          unsigned long long a, int a_type, int lda, unsigned long long b, int b_type, int ldb,
                          const void *beta, unsigned long long c, int c_type, int ldc, int compute_type, int algorithm) {
    if (!handle) return NOT_INITIALIZED;
    if (a_type != 0 || b_type != 0 || c_type != 0 || (compute_type != 68 && compute_type != 75) || algorithm != -1)
        return NOT_SUPPORTED;
    return product(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, compute_type == 75);
}
