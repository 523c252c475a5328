import Foundation
import Testing
@testable import NeuralNetworks

/// `--precision bf16` on the GPU (on the CUDA simulator): cuBLAS's products on bfloat16 tensor
/// cores read each operand rounded to bf16 and sum in float32, as the CPU's AVX512-BF16 products do.
struct CUDABFloat16Tests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Float(generator.nextUnitDouble() * 2 - 1) }
    }

    @Test(arguments: [(false, false), (true, false), (false, true)])
    func theBF16ProductReadsEachOperandRoundedToBFloat16(transposeA: Bool, transposeB: Bool) throws {
        let device = try CUDADevice(driver: .simulator)
        let blas = try CUBLAS(device)
        let (m, n, k) = (9, 13, 40)
        let a = Self.random(m * k, seed: 1), b = Self.random(k * n, seed: 2), c0 = Self.random(m * n, seed: 3)
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        func product(rounding round: (Float) -> Float) -> [Float] {
            (0..<(m * n)).map { index in
                let (i, j) = (index / n, index % n)
                let sum = (0..<k).reduce(0.0) { sum, p in
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p], y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    return sum + Double(round(x)) * Double(round(y))
                }
                return Float(sum) + 0.5 * c0[index]
            }
        }
        var results: [Precision: [Float]] = [:]
        for precision in Precision.allCases {
            let ga = try CUDABuffer(device, a), gb = try CUDABuffer(device, b), gc = try CUDABuffer(device, c0)
            try blas.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: ga, lda: lda, b: gb,
                              ldb: ldb, beta: 0.5, c: gc, ldc: n, precision: precision)
            results[precision] = try gc.download()
        }
        let rounded = product(rounding: Precision.roundedToBFloat16), exact = product(rounding: { $0 })
        #expect(CUDASelfCheck.largestDifference(results[.bfloat16]!, rounded) < 1e-5)
        #expect(CUDASelfCheck.largestDifference(results[.float32]!, exact) < 1e-5)
        // The two differ by bf16's rounding, far more than float32's.
        #expect(CUDASelfCheck.largestDifference(results[.bfloat16]!, exact) > 1e-3)
    }

    static func model(precision: Precision) throws -> Sequential {
        let model = Sequential {
            Bidirectional(LSTM(units: 8, recurrentActivation: .hardSigmoid))
            Dense(units: 5, activation: .softmax)
        }
        try model.build(inputShape: [6, 5], seed: 4)
        model.precision = precision
        return model
    }

    /// A bf16 model runs whole on the device, close to float32 (bf16 keeps 8 bits of mantissa) but
    /// not the same; and setting the precision of a model already on the device takes effect.
    @Test func aBF16ModelTrainsOnTheDeviceCloseToFloat32() throws {
        let data = try CUDAModelTests.data()
        var losses: [Precision: [Float]] = [:], predictions: [Precision: [Float]] = [:]
        for precision in Precision.allCases {
            let model = try Self.model(precision: precision), backend = try CUDAModelTests.backend()
            model.backend = backend
            let history = try model.fit(data, optimizer: SGD(learningRate: 0.1, momentum: 0.9), epochs: 2, batchSize: 16, seed: 9)
            #expect(try backend.modelExecution(for: model, batchSize: 16) != nil)
            #expect(backend.failure == nil)
            losses[precision] = history.map(\.trainLoss)
            predictions[precision] = try model.predict(data.inputs, batchSize: 16).scalars
        }
        for (f32, bf16) in zip(losses[.float32]!, losses[.bfloat16]!) {
            #expect(f32 != bf16)
            #expect(abs(f32 - bf16) / f32 < 2e-2, "\(f32) against \(bf16)")
        }
        let difference = CUDASelfCheck.largestDifference(predictions[.float32]!, predictions[.bfloat16]!)
        #expect(difference > 0 && difference < 2e-2)
    }

    @Test func changingThePrecisionOfAModelOnTheDeviceTakesEffect() throws {
        let data = try CUDAModelTests.data()
        let model = try Self.model(precision: .float32)
        model.backend = try CUDAModelTests.backend()
        let float32 = try model.predict(data.inputs, batchSize: 16).scalars
        model.precision = .bfloat16
        let bf16 = try model.predict(data.inputs, batchSize: 16).scalars
        model.precision = .float32
        #expect(float32 != bf16)
        #expect(try model.predict(data.inputs, batchSize: 16).scalars == float32)
    }

    /// Where the CPU has AVX512-BF16, both paths round the same operands: the GPU's run is the CPU's
    /// to float32 rounding.
    @Test(.enabled(if: Precision.bfloat16Supported, "this CPU has no AVX512-BF16"))
    func aBF16RunOnTheDeviceMatchesTheCPUsBF16Run() throws {
        let data = try CUDAModelTests.data()
        var losses: [[Float]] = []
        for backend in [CPUBackend() as any Backend, try CUDAModelTests.backend()] {
            let model = try Self.model(precision: .bfloat16)
            model.backend = backend
            losses.append(try model.fit(data, optimizer: SGD(learningRate: 0.1, momentum: 0.9), epochs: 2, batchSize: 16,
                                        seed: 9).map(\.trainLoss))
        }
        for (cpu, gpu) in zip(losses[0], losses[1]) { #expect(abs(cpu - gpu) / cpu < 1e-3, "\(cpu) against \(gpu)") }
    }
}
