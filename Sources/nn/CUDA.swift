import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn cuda`: the NVIDIA GPUs the driver sees, and with `--check` every GPU kernel and the
/// cuBLAS product against the CPU path (the CUDA backend's parity check; scripts/device-check.sh
/// runs it on a lent GPU). Without a GPU or driver: one error line.
struct CUDA: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda",
        abstract: "Show the CUDA devices; with --check, compare every GPU kernel with the CPU path.",
        discussion: "NN_CUDA_DRIVER=simulator runs this (and --device cuda) on the CUDA simulator: the same kernels and host code on the CPU, slow, for tests without a GPU.")

    @Flag(help: "Compile the kernels for the device (NVRTC), compare each with the CPU on random inputs (1e-4), then 2 epochs on the GPU (the model there, and layer by layer) with the CPU's (1e-3), and in bf16 (1e-3 against a CPU with AVX512-BF16, else 2e-2 against float32).")
    var check = false

    @Option(help: "The device to use (0 is the first).")
    var device = 0

    func execute() throws {
        let gpu: CUDADevice, driver: CUDADriver
        do {
            driver = try CUDADriver.fromEnvironment()
            gpu = try CUDADevice(ordinal: device, driver: driver)
        } catch {
            throw CommandError("\(error)")
        }
        let version = "\(gpu.driverVersion / 1000).\(gpu.driverVersion % 1000 / 10)"
        print("device \(gpu.ordinal): \(gpu.name), compute capability \(gpu.computeCapability.major)."
              + "\(gpu.computeCapability.minor) (\(gpu.architecture)), \(gpu.totalMemory >> 20) MiB; CUDA driver \(version); "
              + "\(CUDADevice.count(driver: driver)) device(s)")
        guard check else { return }
        if gpu.isSimulated {
            print("kernels compiled into the simulator (NN_CUDA_DRIVER=simulator): no NVRTC")
        } else {
            let compiler: NVRTC
            do { compiler = try NVRTC() } catch { throw CommandError("\(error)") }
            print("NVRTC \(compiler.version.major).\(compiler.version.minor) (\(compiler.library))")
            try gpu.loadKernels(compiler: compiler)
        }
        var results = try CUDASelfCheck.run(gpu)
        for result in results {
            print(String(format: "%@  %-58@ max |GPU − CPU| %.2e", result.passed ? "ok  " : "FAIL", result.name,
                         result.maximumDifference))
        }
        print("training 2 epochs through the CUDA backend and on the CPU …")
        let training = try CUDASelfCheck.training(gpu)
        results += training
        for result in training {
            print(String(format: "%@  %-58@ %.2e", result.passed ? "ok  " : "FAIL", result.name, result.maximumDifference))
        }
        let failed = results.filter { !$0.passed }.count
        guard failed == 0 else { throw CommandError("\(failed) of \(results.count) GPU checks differ from the CPU by more than their tolerance") }
        print("all \(results.count) GPU checks within tolerance of the CPU (1e-4 per kernel, 1e-3 per epoch's loss and trained parameter, 2e-2 for bf16 against float32)")
    }
}
