import CBLAS

/// Matrix products through OpenBLAS's `cblas_sgemm` (row-major).
public enum BLAS {
    /// OpenBLAS's own thread count. It is process-wide; NeuralNetworks runs the two directions of
    /// a bidirectional layer on two threads itself, so training sets this to 1.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, with `op(A)` of shape m×k and `op(B)` k×n, row-major.
    @inline(__always)
    static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }
}
