/// The compute seam: every matrix product and element-wise kernel a layer runs goes through a
/// `Backend`, so that a second one (CUDA, issue #16) runs the same layers without rewriting them.
///
/// A layer receives its backend in ``ForwardContext/backend`` and keeps it for the backward pass
/// that follows (as it keeps its input). Requirements work on buffers of `Float` given as pointers
/// (a layer's ``FloatBuffer`` workspaces and tensors' storage); the extension below gives the same
/// kernels on whole ``Tensor``s. ``CPUBackend`` implements them with the project's kernels,
/// OpenBLAS and SIMD loops; `docs/architecture.md` says what a GPU backend adds.
public protocol Backend: AnyObject, Sendable {
    /// Shown by `nn` and in benchmark reports (`cpu`).
    var name: String { get }

    /// `C = alpha·op(A)·op(B) + beta·C`, split over up to `threads` threads by rows or columns of C.
    func multiply(_ product: MatrixProduct, threads: Int)
    /// A right operand made ready once (a layer's weights, once per batch) and multiplied many
    /// times (every time step).
    func makePackedOperand() -> any PackedOperand

    /// `y = f(x)` over `rows` rows of `width` (softmax along each row); `y` may be `x`; the rows
    /// may be split over up to `threads` threads.
    func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                  rows: Int, width: Int, threads: Int)
    /// `dx = dy · f′`, from the forward input `x` and output `y`; `dx` may be `dy`.
    func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                            outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                            rows: Int, width: Int, threads: Int)
    /// `y[i] += x[i]` for `count` values.
    func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)
    /// `y[i] = x[i] · scale[i]` (a dropout mask); `y` may be `x`.
    func multiply(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                  count: Int)
    /// Every row of the `rows` × `width` matrix `m` set to `vector` (a bias, before a product adds to it).
    func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, with vector: UnsafePointer<Float>)
    /// `sum[j] += Σ_row m[row, j]` (a bias gradient).
    func addColumnSums(of m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>)

    /// One LSTM step's element-wise half forward (see ``LSTMStep``): gates activated in place,
    /// the new cell state, its activation, and the hidden state.
    func lstmStepForward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                         cell: UnsafeMutablePointer<Float>, cellActivation: UnsafeMutablePointer<Float>,
                         hidden: UnsafeMutablePointer<Float>, hiddenStride: Int)
    /// One LSTM step backward: the activated gates replaced by their pre-activations' gradients,
    /// `dc` carried to the step before.
    func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                          cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>)

    /// One GRU step's element-wise half forward (reset after; see ``GRUStep``): from the input
    /// side's pre-activations in `gates` and h_{t−1}·U + b′ in `recurrent`, the activated gates z, r,
    /// n into `gates` and h_t into `next`. A default runs the Swift cell.
    func gruStepForward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>,
                        previous: UnsafePointer<Float>, next: UnsafeMutablePointer<Float>)
    /// One GRU step backward: z, r, n in `gates` replaced by their pre-activations' gradients on
    /// the input side, `recurrent` by the gradient of h_{t−1}·U + b′, and `carry` set to dh ⊙ z.
    func gruStepBackward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>, recurrent: UnsafeMutablePointer<Float>,
                         previous: UnsafePointer<Float>, dh: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>)

    /// A backend with memory of its own (a GPU) runs a whole model there, batches of up to
    /// `batchSize` samples, when it can (see ``ModelExecution``); nil (the default, and the CPU's)
    /// runs the layers on host memory through the calls above.
    func modelExecution(for model: Sequential, batchSize: Int) throws -> (any ModelExecution)?
}

/// The shape and functions of one recurrent step's element-wise half: `rows` rows of `units`
/// cells, the gates' function and the cell's activation.
public struct RecurrentStep: Sendable, Equatable {
    public var gate: Activation
    public var activation: Activation
    public var rows: Int
    public var units: Int
    public init(gate: Activation, activation: Activation, rows: Int, units: Int) {
        (self.gate, self.activation, self.rows, self.units) = (gate, activation, rows, units)
    }
}

/// One LSTM step: gates i, f, g, o `[rows, 4·units]`.
public typealias LSTMStep = RecurrentStep

/// One GRU step in the reset-after form (Keras' `reset_after`, PyTorch's `nn.GRU`): gates z, r, n
/// `[rows, 3·units]`.
public typealias GRUStep = RecurrentStep

/// `C = alpha·op(A)·op(B) + beta·C`, row-major, with `op(A)` of shape m×k and `op(B)` k×n.
public struct MatrixProduct {
    public var transposeA: Bool, transposeB: Bool
    public var m: Int, n: Int, k: Int
    public var alpha: Float
    public var a: UnsafePointer<Float>, lda: Int
    public var b: UnsafePointer<Float>, ldb: Int
    public var beta: Float
    public var c: UnsafeMutablePointer<Float>, ldc: Int

    public init(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        (self.transposeA, self.transposeB, self.m, self.n, self.k, self.alpha) = (transposeA, transposeB, m, n, k, alpha)
        (self.a, self.lda, self.b, self.ldb, self.beta, self.c, self.ldc) = (a, lda, b, ldb, beta, c, ldc)
    }

    /// The same product for rows `range` of C only (rows of op(A): columns of a transposed A).
    public func rows(_ range: Range<Int>) -> MatrixProduct {
        var part = self
        part.m = range.count
        part.a = transposeA ? a + range.lowerBound : a + range.lowerBound * lda
        part.c = c + range.lowerBound * ldc
        return part
    }

    /// The same product for columns `range` of C only (columns of op(B)).
    public func columns(_ range: Range<Int>) -> MatrixProduct {
        var part = self
        part.n = range.count
        part.b = transposeB ? b + range.lowerBound * ldb : b + range.lowerBound
        part.c = c + range.lowerBound
        return part
    }
}

/// The number formats a packed right operand can hold.
public enum OperandFormat: Sendable {
    /// bfloat16 pairs for AVX512-BF16 products with float32 accumulation.
    case bfloat16
    /// float32, packed into the kernel's panels.
    case float32
    /// Not packed: the operand is read where it is by each product (OpenBLAS).
    case unpacked
}

/// A right operand `op(B)` made ready once and multiplied many times; see
/// ``Backend/makePackedOperand()``.
public protocol PackedOperand: AnyObject {
    /// The format it was packed in (a CPU without the asked one gets the nearest it has).
    var format: OperandFormat { get }
    /// Makes op(B), `k` × `n`, from row-major `b` with leading dimension `ldb`, ready. An
    /// `.unpacked` operand reads `b` at each product: `b` must stay unchanged until the last one.
    func pack(_ format: OperandFormat, transposed: Bool, k: Int, n: Int, from b: UnsafePointer<Float>, ldb: Int)
    /// `C = op(A) · op(B) + beta · C`, op(A) of `m` × `k`. Threads that multiply by the same
    /// operand at once pass a `workspace` each.
    func multiply(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                  c: UnsafeMutablePointer<Float>, ldc: Int, workspace: FloatBuffer?)
    /// Starts packing op(B) = B, `k` × `n`, a piece of rows at a time (``packRows(_:from:ldb:)``),
    /// so that each piece is converted while the code that made it still has it in cache; false
    /// where `format` gains nothing by it (the caller packs the whole with `pack`).
    func startPackingRows(_ format: OperandFormat, k: Int, n: Int) -> Bool
    /// Packs rows `rows` of the B started by ``startPackingRows(_:k:n:)``, from `b` (row
    /// `rows.lowerBound`). Pieces start at even rows and hold an even count unless they end at `k`;
    /// pieces with no row in common may be packed by several threads at once.
    func packRows(_ rows: Range<Int>, from b: UnsafePointer<Float>, ldb: Int)
    /// The same for the left operand op(A) = Aᵀ (`m` × `k`; A has `k` rows of `m`) of a later
    /// ``multiplyPackedLeft(beta:c:ldc:)``: false where `format` gains nothing by it.
    func startPackingLeftRows(_ format: OperandFormat, m: Int, k: Int) -> Bool
    /// Packs rows `rows` of that A, from `a` (row `rows.lowerBound`); pieces as for `packRows`.
    func packLeftRows(_ rows: Range<Int>, from a: UnsafePointer<Float>, lda: Int)
    /// `C = op(A) · op(B) + beta · C` with the op(A) packed by ``packLeftRows(_:from:lda:)``.
    func multiplyPackedLeft(beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
}

extension PackedOperand {
    public func startPackingRows(_ format: OperandFormat, k: Int, n: Int) -> Bool { false }
    public func packRows(_ rows: Range<Int>, from b: UnsafePointer<Float>, ldb: Int) {
        preconditionFailure("packRows after startPackingRows returned false")
    }
    public func startPackingLeftRows(_ format: OperandFormat, m: Int, k: Int) -> Bool { false }
    public func packLeftRows(_ rows: Range<Int>, from a: UnsafePointer<Float>, lda: Int) {
        preconditionFailure("packLeftRows after startPackingLeftRows returned false")
    }
    public func multiplyPackedLeft(beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        preconditionFailure("multiplyPackedLeft after startPackingLeftRows returned false")
    }
}

extension PackedOperand {
    public func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>,
                         ldc: Int, workspace: FloatBuffer? = nil) {
        multiply(transposeA: false, m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc, workspace: workspace)
    }
}

extension Backend {
    public func modelExecution(for model: Sequential, batchSize: Int) throws -> (any ModelExecution)? { nil }

    public func gruStepForward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>,
                               previous: UnsafePointer<Float>, next: UnsafeMutablePointer<Float>) {
        GRUCell(step).forward(gates: gates, recurrent: recurrent, previous: previous, next: next)
    }

    public func gruStepBackward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>,
                                recurrent: UnsafeMutablePointer<Float>, previous: UnsafePointer<Float>,
                                dh: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>) {
        GRUCell(step).backward(gates: gates, recurrent: recurrent, previous: previous, dh: dh, carry: carry)
    }

    /// `y = f(x)` for a whole tensor (the last axis is softmax's).
    public func activate(_ function: Activation, _ x: Tensor, threads: Int = 1) -> Tensor {
        guard function != .linear, let width = x.shape.last, width > 0, x.count > 0 else { return x }
        return Tensor(shape: x.shape) { y in
            x.scalars.withUnsafeBufferPointer { xp in
                activate(function, xp.baseAddress!, y, rows: x.count / width, width: width, threads: threads)
            }
        }
    }

    /// `dx = dy · f′` for whole tensors, from the forward input and output.
    public func activationGradient(_ function: Activation, input x: Tensor, output y: Tensor,
                                   outputGradient dy: Tensor, threads: Int = 1) -> Tensor {
        guard function != .linear, let width = y.shape.last, width > 0 else { return dy }
        precondition(dy.count == y.count && x.count == y.count, "gradient \(dy.shape) does not match output \(y.shape)")
        var dx = dy
        x.scalars.withUnsafeBufferPointer { xp in
            y.scalars.withUnsafeBufferPointer { yp in
                dx.scalars.withUnsafeMutableBufferPointer { dxp in
                    activationGradient(function, input: xp.baseAddress!, output: yp.baseAddress!,
                                       outputGradient: dxp.baseAddress!, inputGradient: dxp.baseAddress!,
                                       rows: y.count / width, width: width, threads: threads)
                }
            }
        }
        return dx
    }

    /// `y = x · kernel (+ bias on every row)` for `rows` rows of `x`, `kernel` [inputs, outputs]:
    /// every value of `y` written (a dense layer, an attention's projections).
    func affine(_ x: UnsafePointer<Float>, rows: Int, kernel: Parameter, bias: Parameter?,
                into y: UnsafeMutablePointer<Float>, threads: Int) {
        let (inputs, outputs) = (kernel.shape[0], kernel.shape[1])
        if let bias { fillRows(y, rows: rows, width: outputs, with: bias.value) }
        multiply(MatrixProduct(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: kernel.value, ldb: outputs,
                               beta: bias == nil ? 0 : 1, c: y, ldc: outputs), threads: threads)
    }

    /// ``affine(_:rows:kernel:bias:into:threads:)`` backward from `dz`: kernel's gradient += xᵀ·dz,
    /// bias's += Σ dz, and `dx = dz · kernelᵀ` into `inputGradient` when one is asked.
    func affineBackward(_ x: UnsafePointer<Float>, _ dz: UnsafePointer<Float>, rows: Int, kernel: Parameter,
                        bias: Parameter?, inputGradient dx: UnsafeMutablePointer<Float>?, threads: Int) {
        let (inputs, outputs) = (kernel.shape[0], kernel.shape[1])
        multiply(MatrixProduct(transposeA: true, m: inputs, n: outputs, k: rows, a: x, lda: inputs, b: dz, ldb: outputs,
                               beta: 1, c: kernel.gradient, ldc: outputs), threads: threads)
        if let bias { addColumnSums(of: dz, rows: rows, width: outputs, into: bias.gradient) }
        guard let dx else { return }
        multiply(MatrixProduct(transposeB: true, m: rows, n: inputs, k: outputs, a: dz, lda: outputs, b: kernel.value,
                               ldb: outputs, beta: 0, c: dx, ldc: inputs), threads: threads)
    }

    /// `y += x`, element by element (the same number of values).
    public func add(_ x: Tensor, into y: inout Tensor) {
        precondition(x.count == y.count, "cannot add \(x.shape) to \(y.shape)")
        guard x.count > 0 else { return }
        x.scalars.withUnsafeBufferPointer { xp in
            y.scalars.withUnsafeMutableBufferPointer { yp in add(xp.baseAddress!, into: yp.baseAddress!, count: xp.count) }
        }
    }

    /// `x · scale`, element by element.
    public func multiply(_ x: Tensor, by scale: [Float]) -> Tensor {
        precondition(x.count == scale.count, "cannot scale \(x.shape) by \(scale.count) values")
        var y = x
        guard x.count > 0 else { return y }
        scale.withUnsafeBufferPointer { sp in
            y.scalars.withUnsafeMutableBufferPointer { yp in
                multiply(yp.baseAddress!, by: sp.baseAddress!, into: yp.baseAddress!, count: yp.count)
            }
        }
        return y
    }
}
