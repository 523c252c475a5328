import CCUDA

/// The CUDA kernels of the GPU backend (issue 16): CUDA C source (`Sources/CCUDA/nn_kernels.cuh`,
/// where each kernel's formulas and activation codes are written up) that ``NVRTC`` compiles on
/// first use for the device's architecture, and that the simulator runs compiled as C.
public enum CUDAKernels {
    /// Every kernel's entry point (`extern "C"`, so these are the symbols in the binary).
    public static let names = ["nn_lstm_step_forward", "nn_lstm_step_backward",
                               "nn_categorical_cross_entropy", "nn_binary_cross_entropy", "nn_mean_squared_error",
                               "nn_mean_absolute_error", "nn_huber", "nn_ctc_loss",
                               "nn_fill_rows", "nn_sgd_update", "nn_adam_update", "nn_rmsprop_update",
                               "nn_adagrad_update", "nn_adamax_update", "nn_nadam_update", "nn_clip_values", "nn_block_squares", "nn_clip_norm_scale",
                               "nn_scale_by", "nn_softmax_rows_gradient", "nn_apply_activation",
                               "nn_apply_activation_gradient", "nn_apply_activation_gradient_from_input", "nn_softmax_rows", "nn_lstm_gather_inputs", "nn_lstm_outputs",
                               "nn_add_step_gradient", "nn_scatter_time_major", "nn_gather_time_major",
                               "nn_gru_step_forward", "nn_gru_step_backward", "nn_gru_gates_original",
                               "nn_gru_candidate_original", "nn_gru_candidate_backward_original",
                               "nn_gru_gates_backward_original", "nn_merge_directions",
                               "nn_unmerge_directions", "nn_correct_classes", "nn_find_nonfinite",
                               "nn_gather_samples", "nn_add_values", "nn_multiply_values", "nn_scale_values", "nn_copy_block", "nn_normalize_features", "nn_im2col", "nn_col2im",
                               "nn_max_pool", "nn_max_pool_backward", "nn_average_pool", "nn_average_pool_backward",
                               "nn_global_average", "nn_global_average_backward",
                               "nn_batch_norm_center", "nn_batch_norm_statistics", "nn_batch_norm_forward",
                               "nn_batch_norm_inference", "nn_batch_norm_backward", "nn_layer_norm_forward",
                               "nn_layer_norm_backward", "nn_embedding_forward", "nn_embedding_backward", "nn_depthwise_forward",
                               "nn_depthwise_kernel_gradient", "nn_depthwise_input_gradient", "nn_upsample", "nn_upsample_backward", "nn_shift_images"]

    /// The source (`Sources/CCUDA/nn_kernels.cuh`, compiled into the library).
    public static let source = String(cString: nn_cuda_kernel_source())
}

extension Activation {
    /// The function's code in the CUDA kernels: the CPU's element-wise kernels' (``vectorFunction``),
    /// then those only Swift computes on the CPU; nil for softmax (not element-wise).
    var deviceFunction: Int32? {
        switch self {
        case .elu: 5
        case .leakyRelu: 6
        case .gelu: 7
        case .softplus: 8
        case .swish: 9
        default: vectorFunction
        }
    }
}
