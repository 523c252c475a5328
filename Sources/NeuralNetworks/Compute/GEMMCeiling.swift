import Dispatch
import Foundation

/// One matrix product shape of a layer's passes, as `cblas_sgemm` sees it.
public struct GEMMShape: Sendable, Hashable {
    public let name: String
    public let m, n, k: Int
    public let transposeA, transposeB: Bool
    /// How many times one training batch (or one inference batch) runs it per direction.
    public let callsPerTrainingBatch: Int
    public let callsPerInferenceBatch: Int
    /// Whether the layer packs op(B) once and multiplies by it many times (the LSTM's steps);
    /// otherwise both operands are packed at every call.
    public var reusesB = false

    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// The GEMMs of one LSTM direction for a batch of `batch` sequences, as the first layer of a
    /// model (which skips the input gradient), in the textbook split the speed targets are defined
    /// with. ``LSTM`` itself runs the same FLOPs in fewer, larger products: one per step,
    /// [x | h | 1] · [kernel; recurrentKernel; bias], and one for all three weight gradients.
    public static func lstm(batch: Int, steps: Int, features: Int, units: Int) -> [GEMMShape] {
        let rows = batch * steps, gates = 4 * units
        return [
            GEMMShape(name: "input projection", m: rows, n: gates, k: features, transposeA: false, transposeB: false,
                      callsPerTrainingBatch: 1, callsPerInferenceBatch: 1),
            GEMMShape(name: "recurrent step", m: batch, n: gates, k: units, transposeA: false, transposeB: false,
                      callsPerTrainingBatch: steps, callsPerInferenceBatch: steps),
            recurrentBackward(batch: batch, steps: steps, units: units),
            GEMMShape(name: "recurrent kernel gradient", m: units, n: gates, k: rows, transposeA: true,
                      transposeB: false, callsPerTrainingBatch: 1, callsPerInferenceBatch: 0),
            GEMMShape(name: "input kernel gradient", m: features, n: gates, k: rows, transposeA: true,
                      transposeB: false, callsPerTrainingBatch: 1, callsPerInferenceBatch: 0),
        ]
    }

    /// dh_{s−1} = dz_s · recurrentKernelᵀ, once per step but the first: the same in both splits.
    static func recurrentBackward(batch: Int, steps: Int, units: Int) -> GEMMShape {
        GEMMShape(name: "recurrent step, backward (dh)", m: batch, n: units, k: 4 * units, transposeA: false,
                  transposeB: true, callsPerTrainingBatch: steps - 1, callsPerInferenceBatch: 0)
    }

    /// The three products of a ``Dense`` layer of `inputs` → `units` on a batch: forward, the
    /// weight gradient and (unless it is the first layer) the input gradient.
    public static func dense(batch: Int, inputs: Int, units: Int, first: Bool = false) -> [GEMMShape] {
        let name = "dense \(inputs)→\(units)"
        return [
            GEMMShape(name: "\(name), x · W", m: batch, n: units, k: inputs, transposeA: false, transposeB: false,
                      callsPerTrainingBatch: 1, callsPerInferenceBatch: 1),
            GEMMShape(name: "\(name), xᵀ · dz", m: inputs, n: units, k: batch, transposeA: true, transposeB: false,
                      callsPerTrainingBatch: 1, callsPerInferenceBatch: 0),
        ] + (first ? [] : [
            GEMMShape(name: "\(name), dz · Wᵀ", m: batch, n: inputs, k: units, transposeA: false, transposeB: true,
                      callsPerTrainingBatch: 1, callsPerInferenceBatch: 0),
        ])
    }

    /// The mlp preset's products (784 → 512 → 512 → 10, batch 128).
    public static let mlp = dense(batch: 128, inputs: 784, units: 512, first: true)
        + dense(batch: 128, inputs: 512, units: 512) + dense(batch: 128, inputs: 512, units: 10)

    /// The GEMMs ``LSTM`` runs for one direction (first layer, no input gradient): one product per
    /// step, [x | h | 1] · [kernel; recurrentKernel; bias]; the recurrent backward step; and one
    /// product for all three parameter gradients.
    public static func layerLSTM(batch: Int, steps: Int, features: Int, units: Int) -> [GEMMShape] {
        let rows = batch * steps, gates = 4 * units, width = features + units + 1
        var step = GEMMShape(name: "step, [x | h | 1] · [W; U; b]", m: batch, n: gates, k: width, transposeA: false,
                             transposeB: false, callsPerTrainingBatch: steps, callsPerInferenceBatch: steps)
        var backward = recurrentBackward(batch: batch, steps: steps, units: units)
        (step.reusesB, backward.reusesB) = (true, true)
        return [
            step,
            backward,
            GEMMShape(name: "parameter gradients, [x | h | 1]ᵀ · dz", m: width, n: gates, k: rows, transposeA: true,
                      transposeB: false, callsPerTrainingBatch: 1, callsPerInferenceBatch: 0),
        ]
    }
}

/// Measures what `cblas_sgemm` (or the project's kernels) achieves at given shapes on this
/// machine, now: the ceiling the training speed is compared with in the same run.
public enum GEMMCeiling {
    /// Who runs a product.
    public enum Kernel: Sendable, Hashable {
        /// `cblas_sgemm`, packing both operands at each call.
        case blas
        /// The project's float32 kernel: op(B) packed once where the shape reuses it, both
        /// operands packed at each call otherwise (as ``CPUBackend`` does with an `unpackedKernel`).
        case own(PanelKernel)
        /// Whatever a default ``CPUBackend`` runs the shape with.
        case layer
        /// The AVX512-BF16 kernel of `--precision bf16` (``Precision/bfloat16Supported`` only): op(B)
        /// packed once where the shape reuses it, packed at each call otherwise (an upper bound
        /// for the LSTM's gate gradients, which it packs as the steps make them).
        case bfloat16

        /// The kernel that really runs `shape` (``layer`` resolved).
        public func running(_ shape: GEMMShape) -> Kernel {
            guard self == .layer else { return self }
            let backend = CPUBackend()
            return (shape.reusesB ? backend.kernel : backend.unpackedKernel).map { .own($0) } ?? .blas
        }

        /// `OpenBLAS` or the kernel's name.
        public var name: String {
            switch self {
            case .blas: "OpenBLAS"
            case .own(let kernel): kernel.rawValue
            case .layer: "default"
            case .bfloat16: "bf16"
            }
        }
    }

    /// GFLOP/s per thread when `threads` threads each run the shape at the same time (as the two
    /// directions of a bidirectional layer do), OpenBLAS single-threaded in each.
    public static func measure(_ shape: GEMMShape, threads: Int, kernel: Kernel = .blas, seconds: Double = 0.3) -> Double {
        let previous = BLAS.threadCount
        BLAS.threadCount = 1
        defer { BLAS.threadCount = previous }
        let kernel = kernel.running(shape)
        let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        Parallel.forEach(threads) { thread in
            let a = [Float](repeating: 0.01, count: shape.m * shape.k)
            let b = [Float](repeating: 0.02, count: shape.k * shape.n)
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        let product = MatrixProduct(
                            transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n,
                            k: shape.k, a: a.baseAddress!, lda: shape.transposeA ? shape.m : shape.k, b: b.baseAddress!,
                            ldb: shape.transposeB ? shape.k : shape.n, beta: 0, c: c.baseAddress!, ldc: shape.n)
                        let run: () -> Void
                        switch kernel {
                        case .bfloat16:
                            precondition(Precision.bfloat16Supported, "bf16 products need AVX512-BF16")
                            let packed = PackedMatrix()
                            let pack = {
                                packed.pack(.bfloat16, transposed: shape.transposeB, k: shape.k, n: shape.n,
                                            from: b.baseAddress!, ldb: product.ldb)
                            }
                            pack()
                            run = {
                                if !shape.reusesB { pack() }
                                packed.multiply(transposeA: shape.transposeA, m: shape.m, a: product.a, lda: product.lda,
                                                beta: 0, c: product.c, ldc: shape.n, workspace: nil)
                            }
                        case .own(let panel) where shape.reusesB:
                            let packed = PackedMatrix(kernel: panel)
                            packed.pack(.float32, transposed: shape.transposeB, k: shape.k, n: shape.n, from: b.baseAddress!,
                                        ldb: product.ldb)
                            run = {
                                packed.multiply(transposeA: shape.transposeA, m: shape.m, a: product.a, lda: product.lda,
                                                beta: 0, c: product.c, ldc: shape.n, workspace: nil)
                            }
                        default:  // both operands packed per call: ours, or OpenBLAS
                            let panel: PanelKernel? = if case .own(let panel) = kernel { panel } else { nil }
                            let backend = CPUBackend(kernel: panel, unpackedKernel: panel)
                            run = { backend.multiply(product, threads: 1) }
                        }
                        for _ in 0..<3 { run() }
                        var calls = 0
                        let start = DispatchTime.now().uptimeNanoseconds
                        var elapsed = 0.0
                        repeat {
                            run()
                            calls += 1
                            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                        } while elapsed < seconds
                        rates[thread] = shape.flops * Double(calls) / elapsed / 1e9
                    }
                }
            }
        }
        return rates.reduce(0, +) / Double(threads)
    }
}
