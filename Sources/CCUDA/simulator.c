// The CUDA driver and cuBLAS simulated on the CPU (see include/cuda_simulator.h), and the
// kernels' source text for NVRTC.
#include "cuda_simulator.h"

#include <math.h>
#include <pthread.h>
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
static void run_softmax_cross_entropy(void **parameters) {
    nn_softmax_cross_entropy(P(0, const float *), P(1, const int *), P(2, float *), P(3, float *), P(4, float *),
                             P(5, int), P(6, int));
}
static void run_fill_rows(void **parameters) {
    nn_fill_rows(P(0, float *), P(1, const float *), P(2, int), P(3, int));
}
static void run_add_column_sums(void **parameters) {
    nn_add_column_sums(P(0, const float *), P(1, float *), P(2, int), P(3, int));
}
static void run_sgd_update(void **parameters) {
    nn_sgd_update(P(0, float *), P(1, const float *), P(2, float *), P(3, float), P(4, float), P(5, int), P(6, float),
                  P(7, long));
}
static void run_apply_activation(void **parameters) {
    nn_apply_activation(P(0, const float *), P(1, float *), P(2, int), P(3, long));
}
static void run_apply_activation_gradient(void **parameters) {
    nn_apply_activation_gradient(P(0, const float *), P(1, const float *), P(2, float *), P(3, int), P(4, long));
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
static void run_lstm_add_step_gradient(void **parameters) {
    nn_lstm_add_step_gradient(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int));
}
static void run_lstm_scatter_input_gradient(void **parameters) {
    nn_lstm_scatter_input_gradient(P(0, const float *), P(1, float *), P(2, int), P(3, int), P(4, int), P(5, int),
                                   P(6, int));
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
static void run_find_nonfinite(void **parameters) {
    nn_find_nonfinite(P(0, const float *), P(1, int *), P(2, long));
}
#undef P

struct nn_sim_function {
    const char *name;
    void (*run)(void **parameters);
};
static struct nn_sim_function kernels[] = {
    {"nn_lstm_step_forward", run_lstm_step_forward},
    {"nn_lstm_step_backward", run_lstm_step_backward},
    {"nn_softmax_cross_entropy", run_softmax_cross_entropy},
    {"nn_fill_rows", run_fill_rows},
    {"nn_add_column_sums", run_add_column_sums},
    {"nn_sgd_update", run_sgd_update},
    {"nn_apply_activation", run_apply_activation},
    {"nn_apply_activation_gradient", run_apply_activation_gradient},
    {"nn_softmax_rows", run_softmax_rows},
    {"nn_lstm_gather_inputs", run_lstm_gather_inputs},
    {"nn_lstm_outputs", run_lstm_outputs},
    {"nn_lstm_add_step_gradient", run_lstm_add_step_gradient},
    {"nn_lstm_scatter_input_gradient", run_lstm_scatter_input_gradient},
    {"nn_merge_directions", run_merge_directions},
    {"nn_unmerge_directions", run_unmerge_directions},
    {"nn_correct_classes", run_correct_classes},
    {"nn_find_nonfinite", run_find_nonfinite},
};

// ---- Memory: every allocation with a guard band after it. ----

enum { GUARD_BYTES = 64, GUARD_BYTE = 0xA5 };
enum { SUCCESS = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_FOUND = 500, ILLEGAL_ADDRESS = 700 };

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

// Whether every guard band is as it was written.
static int guards_intact(void) {
    int intact = 1;
    pthread_mutex_lock(&memory_lock);
    for (size_t i = 0; i < allocation_total && intact; i++) {
        const unsigned char *guard = allocations[i].base + allocations[i].bytes;
        for (int j = 0; j < GUARD_BYTES; j++) intact &= guard[j] == GUARD_BYTE;
    }
    pthread_mutex_unlock(&memory_lock);
    return intact;
}

int nn_sim_memcpy_htod(unsigned long long destination, const void *source, size_t bytes) {
    if (!in_device_memory(destination, bytes)) return INVALID_VALUE;
    memcpy((void *)(size_t)destination, source, bytes);
    return SUCCESS;
}

int nn_sim_memcpy_dtoh(void *destination, unsigned long long source, size_t bytes) {
    if (!in_device_memory(source, bytes)) return INVALID_VALUE;
    memcpy(destination, (const void *)(size_t)source, bytes);
    return SUCCESS;
}

int nn_sim_memcpy_dtod(unsigned long long destination, unsigned long long source, size_t bytes) {
    if (!in_device_memory(source, bytes) || !in_device_memory(destination, bytes)) return INVALID_VALUE;
    memmove((void *)(size_t)destination, (const void *)(size_t)source, bytes);
    return SUCCESS;
}

int nn_sim_memset_d32(unsigned long long destination, unsigned value, size_t count) {
    if (!in_device_memory(destination, 4 * count)) return INVALID_VALUE;
    unsigned *words = (unsigned *)(size_t)destination;
    for (size_t i = 0; i < count; i++) words[i] = value;
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
int nn_sim_ctx_synchronize(void) { return guards_intact() ? SUCCESS : ILLEGAL_ADDRESS; }

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

int nn_sim_launch_kernel(nn_sim_function_t function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                         unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                         nn_sim_stream_t stream, void **parameters, void **extra) {
    (void)stream;
    (void)extra;
    // The limits a GPU has: a launch a GPU refuses, the simulator refuses.
    if (!function || grid_x == 0 || block_x == 0 || block_x > 1024 || grid_y != 1 || grid_z != 1 || block_y != 1 ||
        block_z != 1 || shared_bytes != 0 || grid_x > 2147483647u)
        return INVALID_VALUE;
    gridDim = (nn_dim3){grid_x, 1, 1};
    blockDim = (nn_dim3){block_x, 1, 1};
    for (unsigned block = 0; block < grid_x; block++) {
        blockIdx = (nn_dim3){block, 0, 0};
        for (unsigned thread = 0; thread < block_x; thread++) {
            threadIdx = (nn_dim3){thread, 0, 0};
            function->run(parameters);
        }
    }
    return SUCCESS;
}

int nn_sim_get_error_string(int status, const char **text) {
    switch (status) {
    case SUCCESS: *text = "no error"; return SUCCESS;
    case INVALID_VALUE: *text = "invalid argument"; return SUCCESS;
    case OUT_OF_MEMORY: *text = "out of memory"; return SUCCESS;
    case NOT_FOUND: *text = "named symbol not found"; return SUCCESS;
    case ILLEGAL_ADDRESS: *text = "an illegal memory access was encountered (a kernel wrote past a buffer's end)"; return SUCCESS;
    default: *text = 0; return INVALID_VALUE;
    }
}

// ---- cuBLAS: the column-major product, every argument as cuBLAS reads it. ----

static struct nn_sim_blas { int unused; } the_blas;
int nn_sim_cublas_create(nn_sim_blas_t *handle) { *handle = &the_blas; return 0; }
int nn_sim_cublas_destroy(nn_sim_blas_t handle) { return handle == &the_blas ? 0 : 1; }

int nn_sim_cublas_sgemm(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const float *alpha,
                        unsigned long long a, int lda, unsigned long long b, int ldb, const float *beta,
                        unsigned long long c, int ldc) {
    enum { NOT_INITIALIZED = 1, BAD_VALUE = 7 };
    if (handle != &the_blas) return NOT_INITIALIZED;
    if (m < 0 || n < 0 || k < 0 || transa < 0 || transa > 1 || transb < 0 || transb > 1 || ldc < (m > 1 ? m : 1) ||
        lda < ((transa ? k : m) > 1 ? (transa ? k : m) : 1) || ldb < ((transb ? n : k) > 1 ? (transb ? n : k) : 1))
        return BAD_VALUE;
    const float *A = (const float *)(size_t)a, *B = (const float *)(size_t)b;
    float *C = (float *)(size_t)c;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float sum = 0.0f;
            for (int l = 0; l < k; l++) {
                const float x = transa ? A[l + (size_t)i * lda] : A[i + (size_t)l * lda];
                const float y = transb ? B[j + (size_t)l * ldb] : B[l + (size_t)j * ldb];
                sum += x * y;
            }
            float *out = &C[i + (size_t)j * ldc];
            *out = *beta == 0.0f ? *alpha * sum : *alpha * sum + *beta * *out;
        }
    }
    return 0;
}
