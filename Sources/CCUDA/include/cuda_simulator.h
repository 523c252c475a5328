#ifndef NN_CUDA_SIMULATOR_H
#define NN_CUDA_SIMULATOR_H

#include <stddef.h>

/* The CUDA kernels' source (nn_kernels.cuh), which NVRTC compiles for the GPU. */
const char *nn_cuda_kernel_source(void);

/* A CUDA driver and cuBLAS simulated on the CPU, so the GPU backend's host code and its kernels
   run in the tests of a machine without a GPU (NN_CUDA_DRIVER=simulator for the command line).
   Each function has the signature of the driver call it stands for (cuInit, cuMemAlloc_v2, …);
   "device memory" is host memory with a guard band after each allocation, checked after every
   kernel and product in the buffers its arguments point into, so a kernel that writes past a
   buffer's end fails at its stream's next synchronization as on a GPU (error 700),
   and a copy past a buffer's end is an invalid value (error 1). Kernels run one thread after
   another (kernels must not wait for each other's threads: see nn_kernels.cuh); the product is
   a column-major reference loop with cuBLAS's meaning of every argument. Slow, exact, for tests.

   Streams run their work at once, in order; a stream being captured records it instead (kernel
   arguments, fills, device copies and products, by value, as a CUDA graph holds them), and
   launching the instantiated graph runs the record. As on a GPU, a capture refuses what a graph
   cannot hold (copies from or to host memory, synchronizations): error 900, and the capture is
   invalidated (ending it fails with 901). A stream that waits for an event recorded in a capture
   joins it (a fork); ending the capture fails with 904 unless the capturing stream has waited for
   an event recorded after each joined stream's last work (the join). */
typedef struct nn_sim_context *nn_sim_context_t;
typedef struct nn_sim_module *nn_sim_module_t;
typedef struct nn_sim_function *nn_sim_function_t;
typedef struct nn_sim_stream *nn_sim_stream_t;
typedef struct nn_sim_blas *nn_sim_blas_t;
typedef struct nn_sim_graph *nn_sim_graph_t;
typedef struct nn_sim_graph_exec *nn_sim_graph_exec_t;
typedef struct nn_sim_event *nn_sim_event_t;

int nn_sim_init(unsigned flags);
int nn_sim_driver_get_version(int *version);
int nn_sim_device_get_count(int *count);
int nn_sim_device_get(int *device, int ordinal);
int nn_sim_device_get_name(char *name, int length, int device);
int nn_sim_device_get_attribute(int *value, int attribute, int device);
int nn_sim_device_total_mem(size_t *bytes, int device);
int nn_sim_primary_ctx_retain(nn_sim_context_t *context, int device);
int nn_sim_ctx_set_current(nn_sim_context_t context);
int nn_sim_primary_ctx_release(int device);
int nn_sim_mem_alloc_host(void **pointer, size_t bytes);
int nn_sim_mem_free_host(void *pointer);
int nn_sim_module_load_data(nn_sim_module_t *module, const void *image);
int nn_sim_module_unload(nn_sim_module_t module);
int nn_sim_module_get_function(nn_sim_function_t *function, nn_sim_module_t module, const char *name);
int nn_sim_mem_alloc(unsigned long long *address, size_t bytes);
int nn_sim_mem_free(unsigned long long address);
int nn_sim_memcpy_htod_async(unsigned long long destination, const void *source, size_t bytes, nn_sim_stream_t stream);
int nn_sim_memcpy_dtoh_async(void *destination, unsigned long long source, size_t bytes, nn_sim_stream_t stream);
int nn_sim_memcpy_dtod_async(unsigned long long destination, unsigned long long source, size_t bytes,
                             nn_sim_stream_t stream);
int nn_sim_memset_d32_async(unsigned long long destination, unsigned value, size_t count, nn_sim_stream_t stream);
int nn_sim_stream_create(nn_sim_stream_t *stream, unsigned flags);
int nn_sim_stream_destroy(nn_sim_stream_t stream);
int nn_sim_stream_synchronize(nn_sim_stream_t stream);
int nn_sim_event_create(nn_sim_event_t *event, unsigned flags);
int nn_sim_event_destroy(nn_sim_event_t event);
int nn_sim_event_record(nn_sim_event_t event, nn_sim_stream_t stream);
int nn_sim_stream_wait_event(nn_sim_stream_t stream, nn_sim_event_t event, unsigned flags);
int nn_sim_stream_begin_capture(nn_sim_stream_t stream, int mode);
int nn_sim_stream_end_capture(nn_sim_stream_t stream, nn_sim_graph_t *graph);
int nn_sim_graph_instantiate(nn_sim_graph_exec_t *exec, nn_sim_graph_t graph, unsigned long long flags);
int nn_sim_graph_launch(nn_sim_graph_exec_t exec, nn_sim_stream_t stream);
int nn_sim_graph_exec_destroy(nn_sim_graph_exec_t exec);
int nn_sim_graph_destroy(nn_sim_graph_t graph);
int nn_sim_launch_kernel(nn_sim_function_t function, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                         unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                         nn_sim_stream_t stream, void **parameters, void **extra);
int nn_sim_get_error_string(int status, const char **text);

int nn_sim_cublas_create(nn_sim_blas_t *handle);
int nn_sim_cublas_destroy(nn_sim_blas_t handle);
int nn_sim_cublas_set_stream(nn_sim_blas_t handle, nn_sim_stream_t stream);
int nn_sim_cublas_set_workspace(nn_sim_blas_t handle, unsigned long long workspace, size_t bytes);
int nn_sim_cublas_sgemm(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const float *alpha,
                        unsigned long long a, int lda, unsigned long long b, int ldb, const float *beta,
                        unsigned long long c, int ldc);
int nn_sim_cublas_gemm_ex(nn_sim_blas_t handle, int transa, int transb, int m, int n, int k, const void *alpha,
                          unsigned long long a, int a_type, int lda, unsigned long long b, int b_type, int ldb,
                          const void *beta, unsigned long long c, int c_type, int ldc, int compute_type, int algorithm);

/* Device memory the simulator holds (allocations not yet freed): a test's check for leaks. */
size_t nn_sim_allocation_count(void);

#endif
