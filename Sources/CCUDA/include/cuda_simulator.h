#ifndef NN_CUDA_SIMULATOR_H
#define NN_CUDA_SIMULATOR_H

#include <stddef.h>

/* The CUDA kernels' source (nn_kernels.cuh), which NVRTC compiles for the GPU. */
const char *nn_cuda_kernel_source(void);

/* A CUDA driver and cuBLAS simulated on the CPU, so the GPU backend's host code and its kernels
   run in the tests of a machine without a GPU (NN_CUDA_DRIVER=simulator for the command line).
   Each function has the signature of the driver call it stands for (cuInit, cuMemAlloc_v2, …);
   "device memory" is host memory with a guard band after each allocation, checked at every
   synchronization, so a kernel that writes past a buffer's end fails as on a GPU (error 700),
   and a copy past a buffer's end is an invalid value (error 1). Kernels run one thread after
   another (kernels must not wait for each other's threads: see nn_kernels.cuh); the product is
   a column-major reference loop with cuBLAS's meaning of every argument. Slow, exact, for tests. */
typedef struct nn_sim_context *nn_sim_context_t;
typedef struct nn_sim_module *nn_sim_module_t;
typedef struct nn_sim_function *nn_sim_function_t;
typedef struct nn_sim_stream *nn_sim_stream_t;
typedef struct nn_sim_blas *nn_sim_blas_t;

int nn_sim_init(unsigned flags);
int nn_sim_driver_get_version(int *version);
int nn_sim_device_get_count(int *count);
int nn_sim_device_get(int *device, int ordinal);
int nn_sim_device_get_name(char *name, int length, int device);
int nn_sim_device_get_attribute(int *value, int attribute, int device);
int nn_sim_device_total_mem(size_t *bytes, int device);
int nn_sim_primary_ctx_retain(nn_sim_context_t *context, int device);
int nn_sim_ctx_set_current(nn_sim_context_t context);
int nn_sim_ctx_synchronize(void);
int nn_sim_module_load_data(nn_sim_module_t *module, const void *image);
int nn_sim_module_unload(nn_sim_module_t module);
int nn_sim_module_get_function(nn_sim_function_t *function, nn_sim_module_t module, const char *name);
int nn_sim_mem_alloc(unsigned long long *address, size_t bytes);
int nn_sim_mem_free(unsigned long long address);
int nn_sim_memcpy_htod(unsigned long long destination, const void *source, size_t bytes);
int nn_sim_memcpy_dtoh(void *destination, unsigned long long source, size_t bytes);
int nn_sim_memcpy_dtod(unsigned long long destination, unsigned long long source, size_t bytes);
int nn_sim_memset_d32(unsigned long long destination, unsigned value, size_t count);
int nn_sim_launch_kernel(nn_sim_function_t function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                         unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                         nn_sim_stream_t stream, void **parameters, void **extra);
int nn_sim_get_error_string(int status, const char **text);

int nn_sim_cublas_create(nn_sim_blas_t *handle);
int nn_sim_cublas_destroy(nn_sim_blas_t handle);
int nn_sim_cublas_sgemm(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const float *alpha,
                        unsigned long long a, int lda, unsigned long long b, int ldb, const float *beta,
                        unsigned long long c, int ldc);

/* Device memory the simulator holds (allocations not yet freed): a test's check for leaks. */
size_t nn_sim_allocation_count(void);

#endif
