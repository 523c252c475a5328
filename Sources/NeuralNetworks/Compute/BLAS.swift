import CBLAS

/// Matrix products through OpenBLAS's `cblas_sgemm` (row-major).
public enum BLAS {
    /// OpenBLAS's own thread count. It is process-wide; NeuralNetworks runs the two directions of
    /// a bidirectional layer on two threads itself, so training sets this to 1.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The kernels OpenBLAS chose for this CPU (`openblas_get_corename`: "Haswell", "SkylakeX", …).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Whether OpenBLAS runs kernels older than AVX2 + FMA: on a CPU it does not know (Debian's
    /// 0.3.21 on Sapphire and Emerald Rapids) it falls back to Prescott's SSE3 ones, a third of
    /// the speed. The names are OpenBLAS's x86 cores without FMA; any other (newer) counts as capable.
    public static func isBelowAVX2(core: String) -> Bool {
        let older: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "sandybridge",
                                  "barcelona", "bobcat", "bulldozer", "piledriver", "steamroller", "opteron",
                                  "opteron_sse3", "katmai", "coppermine", "northwood", "banias", "generic"]
        return older.contains(core.lowercased())
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
