import CCUDA
import Foundation
import Testing
@testable import NeuralNetworks

/// The GPU path on the CUDA simulator (`Sources/CCUDA`): the same kernels, compiled as C, and the
/// same host code, with device memory that catches writes and copies past a buffer's end. These
/// are the device checks that `nn cuda --check` runs on a GPU, run here on every commit.
struct CUDASimulatorTests {
    static func device() throws -> CUDADevice { try CUDADevice(driver: .simulator) }

    @Test func theSimulatorIsOneDeviceOfComputeCapability9() throws {
        let device = try Self.device()
        #expect(device.isSimulated && device.name == "CUDA simulator on the CPU" && device.architecture == "sm_90")
        #expect(CUDADevice.count(driver: .simulator) == 1)
        #expect(throws: CUDAError.self) { try CUDADevice(ordinal: 1, driver: .simulator) }
    }

    @Test func everyKernelAndTheProductAgreeWithTheCPU() throws {
        let results = try CUDASelfCheck.run(Self.device())
        #expect(results.count >= 16)
        for result in results { #expect(result.passed, "\(result.name): \(result.maximumDifference)") }
    }

    /// Two epochs through ``CUDABackend`` give the CPU's losses and parameters (1e-3), with no
    /// call falling back to the CPU.
    @Test func theCUDABackendTrainsAsTheCPUDoes() throws {
        let results = try CUDASelfCheck.training(Self.device())
        #expect(results.count > 2)
        for result in results { #expect(result.passed, "\(result.name): \(result.maximumDifference)") }
    }

    /// The kernels the source defines are the ones ``CUDAKernels/names`` lists, and the simulator
    /// runs every one of them (loading looks each up by name).
    @Test func theSimulatorRunsEveryKernelOfTheSource() throws {
        let defined = CUDAKernels.source.matches(of: /NN_KERNEL void (\w+)\(/).map { String($0.1) }
        #expect(defined.sorted() == CUDAKernels.names.sorted())
        try Self.device().loadKernels()
    }

    /// A kernel that writes past its buffer's end fails at the next synchronization, as on a GPU.
    @Test func aWritePastABuffersEndIsAnIllegalAddress() throws {
        let device = try Self.device()
        let matrix = try CUDABuffer(device, count: 10), bias = try CUDABuffer(device, [Float](repeating: 1, count: 5))
        #expect {
            try device.launch("nn_fill_rows", count: 15, [.buffer(matrix), .buffer(bias), .int(3), .int(5)])
        } throws: { "\($0)".contains("an illegal memory access") }
    }

    @Test func aCopyPastABuffersEndOrIntoHostMemoryIsAnInvalidValue() throws {
        let device = try Self.device()
        let buffer = try CUDABuffer(device, count: 4)
        var host = [Float](repeating: 0, count: 8)
        #expect(nn_sim_memcpy_dtoh_async(&host, buffer.address, 4 * 8, nil) == 1)
        #expect(nn_sim_memcpy_dtoh_async(&host, buffer.address, 4 * 4, nil) == 0)
        let source: [Float] = [1, 2, 3, 4]
        #expect(host.withUnsafeMutableBytes { nn_sim_memcpy_htod_async(UInt64(UInt(bitPattern: $0.baseAddress!)), source, 16, nil) } == 1)
    }

    @Test func deviceToDeviceCopiesAndFillsStayInTheirBuffers() throws {
        let device = try Self.device()
        let source = try CUDABuffer(device, [1, 2, 3, 4, 5] as [Float]), target = try CUDABuffer(device, count: 6)
        try target.fill(-1)
        try target.copy(from: source, sourceOffset: 1, count: 3, offset: 2)
        #expect(try target.download() == [-1, -1, 2, 3, 4, -1])
    }

    /// A recorded graph runs nothing until launched, then what it recorded each launch, with the
    /// arguments it was recorded with.
    @Test func aGraphReplaysWhatItRecorded() throws {
        let device = try Self.device()
        let matrix = try CUDABuffer(device, count: 6), bias = try CUDABuffer(device, [1, 2, 3] as [Float])
        let sums = try CUDABuffer(device, count: 3), ones = try CUDABuffer(device, [1, 1] as [Float])
        let blas = try CUBLAS(device)
        try matrix.fill(0)
        try sums.fill(0)
        let graph = try CUDAGraph(recording: device) {
            try device.launch("nn_fill_rows", count: 6, [.buffer(matrix), .buffer(bias), .int(2), .int(3)], wait: false)
            try blas.addColumnSums(of: matrix, rows: 2, width: 3, into: sums, ones: ones)
        }
        #expect(try matrix.download() == [0, 0, 0, 0, 0, 0] && sums.download() == [0, 0, 0])
        try graph.launch()
        try graph.launch()
        #expect(try matrix.download() == [1, 2, 3, 1, 2, 3])
        #expect(try sums.download() == [4, 8, 12])
    }

    /// A copy to the host cannot be recorded: the recording fails naming the call, and the
    /// device goes on working.
    @Test func aGraphCannotRecordACopyToTheHost() throws {
        let device = try Self.device()
        let buffer = try CUDABuffer(device, [1, 2] as [Float])
        #expect {
            _ = try CUDAGraph(recording: device) { _ = try buffer.download() }
        } throws: { "\($0)".contains("cuMemcpyDtoHAsync failed") && "\($0)".contains("capturing") }
        #expect(try buffer.download() == [1, 2])
    }

    /// Work forked to a second stream inside a recording is part of the graph once the first
    /// stream waits for it again (the join); a recording that ends without the join fails, as on a GPU.
    @Test func aForkedStreamJoinsTheRecording() throws {
        let device = try Self.device()
        let second = try CUDAStream(device), fork = try CUDAEvent(device), join = try CUDAEvent(device)
        let a = try CUDABuffer(device, count: 2), b = try CUDABuffer(device, count: 2), one = try CUDABuffer(device, [1] as [Float])
        func record(joining: Bool) throws -> CUDAGraph {
            try CUDAGraph(recording: device) {
                try fork.order(second.handle, after: device.stream)
                try device.launch("nn_fill_rows", count: 2, [.buffer(a), .buffer(one), .int(2), .int(1)], wait: false)
                try device.launch("nn_fill_rows", count: 2, [.buffer(b), .buffer(one), .int(2), .int(1)], wait: false,
                                  on: second.handle)
                if joining { try join.order(device.stream, after: second.handle) }
            }
        }
        #expect { _ = try record(joining: false) } throws: { "\($0)".contains("not joined") }
        try a.fill(0)
        try b.fill(0)
        try record(joining: true).launch()
        #expect(try a.download() == [1, 1] && b.download() == [1, 1])
    }

    /// `NN_CUDA_DRIVER=simulator nn cuda --check`: the command a lent GPU runs, on the simulator.
    @Test func nnCudaCheckPassesOnTheSimulator() throws {
        let result = try CLI.run(["cuda", "--check"], environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("device 0: CUDA simulator on the CPU, compute capability 9.0 (sm_90)"))
        #expect(result.stdout.contains(/all \d+ GPU checks within tolerance/), "\(result.stdout)")
        #expect(!result.stdout.contains("FAIL"))
    }

    /// `nn bench --device cuda`: the reference model's epochs on the GPU, here the simulator's.
    @Test func benchOnDeviceCudaReportsTheEpochsOnTheGPU() throws {
        let result = try CLI.run(["bench", "--device", "cuda", "--train-limit", "48", "--test-limit", "16", "--gpu-epochs", "2",
                                  "--output", ""], environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("| GPU | CUDA simulator on the CPU, compute capability 9.0 |"), "\(result.stdout)")
        #expect(result.stdout.contains(/\| one epoch after the first \(median\) \| \d+\.\d\d s \|/))
        #expect(result.stdout.contains(/\| bf16: one epoch after the first \(median\); speed-up over float32 \| \d+\.\d\d s; \d+\.\d\d× \|/),
                "\(result.stdout)")
        #expect(!result.stdout.contains("the GPU failed"))
    }

    /// bf16 on the GPU runs on tensor cores whatever the CPU has: no warning, and the run trains.
    @Test func bf16OnTheGPUTrainsWithoutAWarning() throws {
        let result = try CLI.run(["train", "--epochs", "1", "--units", "4", "--train-limit", "32", "--test-limit", "16",
                                  "--device", "cuda", "--precision", "bf16"], environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("bf16") && !result.stderr.contains("float32"), "\(result.stderr)")
        #expect(result.stdout.contains(/loss: \d+\.\d+/), "\(result.stdout)")
    }

    /// A model that cannot train as a whole on the GPU still trains, with a note that says why.
    @Test func aModelThatTrainsLayerByLayerGetsANoteSayingWhy() throws {
        let result = try CLI.run(["train", "--epochs", "1", "--model", "lstm(4, batch_normalization=true) dense(10, softmax)",
                                  "--train-limit", "32", "--test-limit", "16", "--device", "cuda"],
                                 environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("nn: note: the model trains layer by layer through the GPU"), "\(result.stderr)")
        #expect(result.stderr.contains("batch normalisation inside"))
        let whole = try CLI.run(["train", "--epochs", "1", "--units", "4", "--train-limit", "32", "--test-limit", "16",
                                 "--device", "cuda"], environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(whole.status == 0 && !whole.stderr.contains("layer by layer"), "\(whole.stderr)")
    }

    @Test func anUnknownDriverNameIsOneErrorLine() throws {
        let result = try CLI.run(["cuda"], environment: ["NN_CUDA_DRIVER": "gpu"])
        #expect(result.status == 1)
        #expect(result.stderr == "nn: error: NN_CUDA_DRIVER=gpu is neither system nor simulator\n")
    }

    /// `nn train --device cuda` trains through the GPU path and prints the CPU's losses (to rounding).
    @Test func trainOnDeviceCudaGivesTheCPUsLosses() throws {
        let arguments = ["train", "--epochs", "1", "--units", "8", "--train-limit", "128", "--test-limit", "64", "--seed", "3"]
        let cpu = try CLI.run(arguments)
        let gpu = try CLI.run(arguments + ["--device", "cuda"], environment: ["NN_CUDA_DRIVER": "simulator"])
        #expect(cpu.status == 0 && gpu.status == 0, "\(gpu.stderr)")
        func losses(_ output: String) -> [Double] {
            output.matches(of: /loss: (\d+\.\d+)/).compactMap { Double($0.1) }
        }
        #expect(losses(gpu.stdout).count == 1)
        #expect(zip(losses(cpu.stdout), losses(gpu.stdout)).allSatisfy { abs($0 - $1) < 1e-3 }, "\(cpu.stdout)\n\(gpu.stdout)")
    }
    /// A GPU run's checkpoint keeps its device: `--resume DIR` alone (what Ctrl-C prints)
    /// continues on the GPU and ends with the uninterrupted run's model, bit for bit (it went on
    /// on the CPU, close but not equal); `--device cpu` moves it there, with a note; without a GPU
    /// the error says how to continue on the CPU.
    @Test func aResumedGPURunContinuesOnTheGPUBitForBit() throws {
        let directory = try IDXBytes.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulator = ["NN_CUDA_DRIVER": "simulator"]
        let run = ["train", "--model", "flatten dense(16, relu) dense(classes, softmax)", "--optimizer", "adam",
                   "--train-limit", "256", "--test-limit", "64", "--seed", "1", "--device", "cuda"]
        let straight = try CLI.run(run + ["--epochs", "2", "--save", directory + "/straight.safetensors"], environment: simulator)
        let first = try CLI.run(run + ["--epochs", "1", "--checkpoint", directory + "/run"], environment: simulator)
        #expect(straight.status == 0 && first.status == 0, "\(straight.stderr)\(first.stderr)")
        try FileManager.default.copyItem(atPath: directory + "/run", toPath: directory + "/copy")

        let resumed = try CLI.run(["train", "--resume", directory + "/run", "--epochs", "2",
                                   "--save", directory + "/resumed.safetensors"], environment: simulator)
        #expect(resumed.status == 0 && resumed.stderr.isEmpty, "\(resumed.stderr)")
        let model = { (name: String) in FileManager.default.contents(atPath: directory + "/\(name).safetensors") }
        #expect(model("resumed") != nil && model("resumed") == model("straight"))

        if CUDADevice.count() == 0 {
            let noGPU = try CLI.run(["train", "--resume", directory + "/copy", "--epochs", "3"])
            #expect(noGPU.status == 1, "\(noGPU.stderr)")
            #expect(noGPU.stderr.hasPrefix("nn: error: \(directory)/copy trained with --device cuda: add --device cpu to "
                                           + "continue it on the CPU ("), "\(noGPU.stderr)")
        }
        let moved = try CLI.run(["train", "--resume", directory + "/copy", "--epochs", "2", "--device", "cpu"],
                                environment: simulator)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("nn: note: the run trained with --device cuda and continues with --device cpu"),
                "\(moved.stderr)")
    }
}
