import CBLAS
import Foundation

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

    /// The `OPENBLAS_CORETYPE` that runs Debian's OpenBLAS 0.3.21 fastest on the CPU `/proc/cpuinfo`
    /// describes (its first processor), or nil to keep what OpenBLAS detects. It picks badly on
    /// three kinds of server CPU (measured at the LSTM's shapes, `nn bench --products-only`):
    /// - AMD Zen 4 (family 25 with AVX-512, whose 512-bit instructions run as two 256-bit halves):
    ///   it runs Cooperlake's AVX-512 kernels, about 10% slower than its Haswell (AVX2) ones there;
    /// - AMD Zen 5 and later (family 26 on, full-width AVX-512): it runs Cooperlake's kernels, which
    ///   is right, but the Zen 4 rule must not reach them: Haswell's run at 95–107 GFLOP/s per core
    ///   there against SkylakeX's 164–199 (session 18, EPYC family 26 model 2);
    /// - Intel Xeons newer than it knows (Sapphire and Emerald Rapids): it falls back to Prescott's
    ///   SSE3 kernels, a third of SkylakeX's speed.
    /// Cooperlake's single-precision products are SkylakeX's, so SkylakeX is named on every
    /// full-width AVX-512 CPU: the same kernels whatever OpenBLAS makes of the model number.
    public static func preferredCoreType(cpuinfo: String) -> String? {
        let firstCPU = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        func field(_ name: String) -> Substring? {
            firstCPU.split(separator: "\n").first { $0.hasPrefix(name) }?.split(separator: ":", maxSplits: 1).last
        }
        let flags = Set(field("flags")?.split(separator: " ") ?? [])
        let family = field("cpu family").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        let vendor = field("vendor_id")?.trimmingCharacters(in: .whitespaces)
        if vendor == "AuthenticAMD", flags.isSuperset(of: ["avx512f", "avx2", "fma"]) {
            return family >= 26 ? "SkylakeX" : "Haswell"
        }
        if vendor == "GenuineIntel", flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
            return "SkylakeX"
        }
        return nil
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
