/// The CPU backend: products through the project's panel kernels (``PackedMatrix``) and OpenBLAS,
/// element-wise work in SIMD loops (``VectorMath``), threads from ``Parallel``. It holds no state:
/// any number of instances are the same backend.
public final class CPUBackend: Backend {
    public init() {}

    public var name: String { "cpu" }

    /// Splits C's rows over threads only where each part keeps 2^20 multiply-adds at least: waking
    /// a thread costs more than a smaller product (the reference model's 256 → 10 layer stays on one).
    public func multiply(_ product: MatrixProduct, threads: Int) {
        guard product.m > 0, product.n > 0 else { return }
        let worthwhile = min(threads, max(1, (product.m * product.n * product.k) >> 20))
        let parts = Parallel.split(product.m, into: worthwhile)
        guard parts.count > 1 else { return Self.gemm(product) }
        Parallel.forEach(parts.count) { Self.gemm(product.rows(parts[$0])) }
    }

    private static func gemm(_ p: MatrixProduct) {
        BLAS.gemm(transposeA: p.transposeA, transposeB: p.transposeB, m: p.m, n: p.n, k: p.k, alpha: p.alpha,
                  a: p.a, lda: p.lda, b: p.b, ldb: p.ldb, beta: p.beta, c: p.c, ldc: p.ldc)
    }

    public func makePackedOperand() -> any PackedOperand { PackedMatrix() }

    public func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int) {
        function.forward(x, y, rows: rows, width: width)
    }

    public func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                   outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                   rows: Int, width: Int) {
        function.backward(input: x, output: y, outputGradient: dy, inputGradient: dx, rows: rows, width: width)
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
        LSTMCell(step).forward(gates: gates, previousCell: previousCell, cell: cell, cellTanh: cellActivation,
                               hidden: hidden, hiddenStride: hiddenStride)
    }

    public func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                 cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                 dc: UnsafeMutablePointer<Float>) {
        LSTMCell(step).backward(gates: gates, previousCell: previousCell, cellTanh: cellActivation, dh: dh, dc: dc)
    }
}
