import Foundation
import Testing
@testable import NeuralNetworks

/// The CUDA kernels compile, without a GPU: NVRTC from PyPI's nvidia-cuda-nvrtc wheel, which
/// scripts/setup.sh installs in .venv-nvrtc (or any libnvrtc named by NN_NVRTC).
struct CUDAKernelTests {
    /// NN_NVRTC if set, else the wheel setup.sh installs in this checkout.
    static func nvrtc() throws -> NVRTC {
        if ProcessInfo.processInfo.environment["NN_NVRTC"] != nil { return try NVRTC() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lib = root.appendingPathComponent(".venv-nvrtc/lib")
        let python = try #require(try? FileManager.default.contentsOfDirectory(atPath: lib.path).first { $0.hasPrefix("python3") },
                                  "no .venv-nvrtc: bash scripts/setup.sh installs NVRTC for this test")
        return try NVRTC(path: lib.appendingPathComponent("\(python)/site-packages/nvidia/cu13/lib/libnvrtc.so.13").path)
    }

    /// Ampere (A100) and Hopper (H100, H200): every kernel compiles without a warning, and each
    /// entry point is in the binary under its C name.
    @Test(arguments: ["sm_80", "sm_90"])
    func everyKernelCompilesWithoutWarnings(architecture: String) throws {
        let compiler = try Self.nvrtc()
        #expect(compiler.version.major >= 12)
        let result = try compiler.compile(CUDAKernels.source, name: "nn_kernels.cu", architecture: architecture)
        #expect(!result.hasWarnings, "\(result.log)")
        #expect(Array(result.cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], "an ELF binary")
        let text = String(decoding: result.cubin.map { $0 == 0 ? 0x0A : $0 }, as: UTF8.self)
        for name in CUDAKernels.names {
            #expect(text.split(separator: "\n").contains { $0 == name }, "\(name) is missing from the \(architecture) binary")
        }
    }

    @Test func aCompileErrorNamesTheFileAndTheArchitecture() throws {
        let compiler = try Self.nvrtc()
        #expect {
            _ = try compiler.compile("extern \"C\" __global__ void k() { undeclared(); }", name: "broken.cu", architecture: "sm_90")
        } throws: { error in
            let text = "\(error)"
            return text.contains("broken.cu does not compile for sm_90") && text.contains("undeclared")
        }
    }

    /// `nn cuda` shows the GPUs where a driver is; without one (these machines) it is one error line.
    @Test func nnCudaShowsTheDevicesOrSaysThereIsNoDriver() throws {
        let result = try CLI.run(["cuda"])
        if let driver = dlopen("libcuda.so.1", RTLD_NOW) {
            dlclose(driver)
            #expect(result.status == 0 && result.stdout.hasPrefix("device 0: "), "\(result.stderr)")
        } else {
            #expect(result.status == 1)
            #expect(result.stderr == "nn: error: no CUDA driver here (libcuda.so.1 cannot be loaded): a machine with an NVIDIA GPU and its driver is needed\n")
            #expect(CUDADevice.count() == 0)
        }
    }

    @Test func aMissingLibraryIsAOneLineError() {
        #expect {
            _ = try NVRTC(path: "/nonexistent/libnvrtc.so.13")
        } throws: { error in
            ProcessInfo.processInfo.environment["NN_NVRTC"] != nil || "\(error)".contains("/nonexistent/libnvrtc.so.13")
        }
    }

    /// The run `nn cuda --check` trains through the GPU and the CPU learns (its loss falls well
    /// below ln 10 ≈ 2.3, or for binary cross-entropy ln 2), so comparing the two compares
    /// backward passes that matter; on the CPU it gives the same run twice.
    @Test(arguments: CUDASelfCheck.ParityModel.allCases)
    func theGPUParityRunLearnsAndIsReproducible(model: CUDASelfCheck.ParityModel) throws {
        let first = try CUDASelfCheck.parityRun(on: CPUBackend(), model: model)
        #expect(first.losses.count == 2 && first.losses[1] < (model.loss.typeName == BinaryCrossEntropy.typeName ? 0.3 : 1.5),
                "\(first.losses)")
        let second = try CUDASelfCheck.parityRun(on: CPUBackend(), model: model)
        #expect(first.losses == second.losses)
        #expect(zip(first.parameters, second.parameters).allSatisfy { $0.1 == $1.1 })
        if model.clipping != nil {  // the clipping changes the run: the check compares clipping kernels that work
            let unclipped = try CUDASelfCheck.parityRun(on: CPUBackend(), model: model, clipping: false)
            #expect(abs(unclipped.losses[0] - first.losses[0]) > 1e-3 * first.losses[0], "\(unclipped.losses) \(first.losses)")
        }
    }
}
