import CElementwise
import CPanelGEMM
import Foundation

/// The CPU backend: products through the project's panel kernels (``PanelKernel``, `PackedMatrix`)
/// or OpenBLAS, the LSTM step and the common activations through the element-wise kernels of the
/// same width (`Sources/CElementwise`), other element-wise work in Swift SIMD loops (`VectorMath`),
/// threads from `Parallel`. It holds scratch memory only: any number of instances compute the same.
public final class CPUBackend: Backend, @unchecked Sendable {
    /// The float32 kernel of its packed operands (nil: OpenBLAS for every product).
    public let kernel: PanelKernel?
    /// The kernel of products whose operands are packed at each call (nil: OpenBLAS); see
    /// ``PanelKernel/perCallSelected`` for the default.
    public let unpackedKernel: PanelKernel?
    /// The width of the element-wise kernels (the LSTM step, sigmoid, hard sigmoid, tanh, relu):
    /// ``kernel``'s, or the widest this CPU runs where products go to OpenBLAS.
    public let vectorKernel: PanelKernel
    private let scratch = ScratchPool()

    public init(kernel: PanelKernel? = PanelKernel.selected, unpackedKernel: PanelKernel? = PanelKernel.perCallSelected,
                vectorKernel: PanelKernel? = nil) {
        self.kernel = kernel
        self.unpackedKernel = unpackedKernel
        self.vectorKernel = vectorKernel ?? kernel ?? PanelKernel.widest
    }

    public var name: String { "cpu" }

    /// Splits C over threads only where each part keeps 2^20 multiply-adds at least: waking a
    /// thread costs more than a smaller product (the reference model's 256 → 10 layer stays on
    /// one). C is cut along its longer side: each thread packs all of the operand along the uncut
    /// side and its part of the other, so cutting a batch of 128 rows against a 784 × 512 weight
    /// matrix would pack the weights twice; cut by columns, each thread packs half of them (the mlp
    /// preset's epoch: −8%). Each part runs on OpenBLAS, or on ``unpackedKernel``, which packs
    /// both operands of the part into scratch memory.
    public func multiply(_ product: MatrixProduct, threads: Int) {
        guard product.m > 0, product.n > 0 else { return }
        let worthwhile = min(threads, max(1, (product.m * product.n * product.k) >> 20))
        let byColumns = product.n > product.m
        let parts = Parallel.split(byColumns ? product.n : product.m, into: worthwhile)
        guard parts.count > 1 else { return gemm(product) }
        Parallel.forEach(parts.count) { part in
            gemm(byColumns ? product.columns(parts[part]) : product.rows(parts[part]))
        }
    }

    /// One part: on ``unpackedKernel`` (both operands packed block by block into pooled scratch
    /// memory), or OpenBLAS.
    private func gemm(_ p: MatrixProduct) {
        guard let kernel = unpackedKernel else { return Self.blas(p) }
        let workspace = scratch.take()
        defer { scratch.give(workspace) }
        workspace.reserve(nn_panel_unpacked_workspace_size(kernel.code))
        nn_panel_gemm_unpacked(kernel.code, p.transposeA ? 1 : 0, p.transposeB ? 1 : 0, Int32(p.m), Int32(p.n),
                               Int32(p.k), p.alpha, p.a, Int32(p.lda), p.b, Int32(p.ldb), p.beta, p.c, Int32(p.ldc),
                               workspace.pointer)
    }

    private static func blas(_ p: MatrixProduct) {
        BLAS.gemm(transposeA: p.transposeA, transposeB: p.transposeB, m: p.m, n: p.n, k: p.k, alpha: p.alpha,
                  a: p.a, lda: p.lda, b: p.b, ldb: p.ldb, beta: p.beta, c: p.c, ldc: p.ldc)
    }

    public func makePackedOperand() -> any PackedOperand { PackedMatrix(kernel: kernel) }

    public func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int, threads: Int) {
        let code = function.vectorFunction, kernel = vectorKernel.code
        Self.splitRows(rows, width: width, threads: threads) { range in
            let offset = range.lowerBound * width
            if let code {
                nn_vector_activate(kernel, code, x + offset, y + offset, range.count * width)
            } else {
                function.forward(x + offset, y + offset, rows: range.count, width: width)
            }
        }
    }

    public func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                   outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                   rows: Int, width: Int, threads: Int) {
        let code = function.vectorFunction, kernel = vectorKernel.code
        Self.splitRows(rows, width: width, threads: threads) { range in
            let offset = range.lowerBound * width
            if let code {
                return nn_vector_activation_gradient(kernel, code, y + offset, dy + offset, dx + offset,
                                                     range.count * width)
            }
            function.backward(input: x + offset, output: y + offset, outputGradient: dy + offset,
                              inputGradient: dx + offset, rows: range.count, width: width)
        }
    }

    /// Element-wise work over rows, on several threads where each gets 2^15 values at least.
    private static func splitRows(_ rows: Int, width: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let parts = Parallel.split(rows, into: min(threads, max(1, rows * width >> 15)))
        Parallel.forEach(parts.count) { body(parts[$0]) }
    }

    public func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.zipMap(y, x, y, count: count) { $0 + $1 }
    }

    public func multiply(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                         count: Int) {
        VectorMath.zipMap(x, scale, y, count: count) { $0 * $1 }
    }

    public func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, with vector: UnsafePointer<Float>) {
        for row in 0..<rows { (m + row * width).update(from: vector, count: width) }
    }

    public func addColumnSums(of m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>) {
        for row in 0..<rows { add(m + row * width, into: sum, count: width) }
    }

    public func lstmStepForward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                cell: UnsafeMutablePointer<Float>, cellActivation: UnsafeMutablePointer<Float>,
                                hidden: UnsafeMutablePointer<Float>, hiddenStride: Int) {
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else {
            return LSTMCell(step).forward(gates: gates, previousCell: previousCell, cell: cell, cellTanh: cellActivation,
                                          hidden: hidden, hiddenStride: hiddenStride)
        }
        nn_lstm_step_forward(vectorKernel.code, gate, activation, Int32(step.rows), Int32(step.units), gates,
                             previousCell, cell, cellActivation, hidden, Int32(hiddenStride))
    }

    public func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                 cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                 dc: UnsafeMutablePointer<Float>) {
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else {
            return LSTMCell(step).backward(gates: gates, previousCell: previousCell, cellTanh: cellActivation, dh: dh,
                                           dc: dc)
        }
        nn_lstm_step_backward(vectorKernel.code, gate, activation, Int32(step.rows), Int32(step.units), gates,
                              previousCell, cellActivation, dh, dc)
    }
}

extension CPUBackend {
    public func gruStepForward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>,
                               previous: UnsafePointer<Float>, next: UnsafeMutablePointer<Float>) {
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else {
            return GRUCell(step).forward(gates: gates, recurrent: recurrent, previous: previous, next: next)
        }
        nn_gru_step_forward(vectorKernel.code, gate, activation, Int32(step.rows), Int32(step.units), gates, recurrent,
                            previous, next)
    }

    public func gruStepBackward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>,
                                recurrent: UnsafeMutablePointer<Float>, previous: UnsafePointer<Float>,
                                dh: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>) {
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else {
            return GRUCell(step).backward(gates: gates, recurrent: recurrent, previous: previous, dh: dh, carry: carry)
        }
        nn_gru_step_backward(vectorKernel.code, gate, activation, Int32(step.rows), Int32(step.units), gates, recurrent,
                             previous, dh, carry)
    }
}

extension Activation {
    /// The function's code in the element-wise kernels (`Sources/CElementwise`, and the CUDA
    /// kernels, which number them the same); nil for the functions only Swift computes (softmax,
    /// elu, gelu, …).
    var vectorFunction: Int32? {
        switch self {
        case .linear: Int32(NN_FUNCTION_LINEAR)
        case .relu: Int32(NN_FUNCTION_RELU)
        case .sigmoid: Int32(NN_FUNCTION_SIGMOID)
        case .hardSigmoid: Int32(NN_FUNCTION_HARD_SIGMOID)
        case .tanh: Int32(NN_FUNCTION_TANH)
        default: nil
        }
    }
}

/// Workspaces of products packed at each call, one per product running at once (the two
/// directions of a bidirectional layer multiply at the same time), kept for the next products:
/// nothing is allocated once every size has been seen.
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [FloatBuffer] = []

    func take() -> FloatBuffer {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? FloatBuffer()
    }

    func give(_ buffer: FloatBuffer) {
        lock.lock()
        free.append(buffer)
        lock.unlock()
    }
}
