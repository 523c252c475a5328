import CBF16

/// The number format of a recurrent layer's matrix products.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Float32 everywhere.
    case float32
    /// Every matrix product of the layer in bfloat16 with float32 accumulation (AVX512-BF16
    /// `vdpbf16ps`, twice the multiply-adds per cycle); weights, gradients, optimizer and all
    /// element-wise math stay float32. Falls back to float32 on CPUs without it.
    case bfloat16 = "bf16"

    /// Whether this CPU runs bfloat16 products (AVX512-BF16).
    public static let bfloat16Supported = nn_bf16_supported() != 0
}

/// The right operand of products `C = op(A) · op(B) + beta · C` that reuse it: made ready once
/// (a layer's weights, once per batch) and multiplied many times (every time step).
///
/// `Format.bfloat16` packs op(B) as bfloat16 pairs for the AVX512-BF16 kernel (on CPUs without it,
/// `.blas`); `.blas` keeps a reference to B for `cblas_sgemm`, so B must stay unchanged until the
/// last product. (A float32 panel kernel with B packed once per batch was tried: on Zen 3 it ran
/// level with `cblas_sgemm` alone and slower inside training; see Benchmarks/README.md.)
final class PackedMatrix: @unchecked Sendable {
    enum Format { case bfloat16, blas }

    private var storage = UnsafeMutablePointer<UInt16>.allocate(capacity: 1)
    private var capacity = 1
    private let workspace = FloatBuffer()  // bfloat16 pairs of op(A), as 32-bit words
    private(set) var format = Format.blas
    private(set) var k = 0, n = 0
    private var source: (b: UnsafePointer<Float>, ldb: Int, transposed: Bool)?

    deinit { storage.deallocate() }

    /// Makes op(B), `k` × `n`, from row-major `b` with leading dimension `ldb`, ready in `format`.
    func pack(_ format: Format, transposed: Bool, k: Int, n: Int, from b: UnsafePointer<Float>, ldb: Int) {
        (self.k, self.n) = (k, n)
        source = (b, ldb, transposed)
        switch format {
        case .bfloat16 where Precision.bfloat16Supported:
            self.format = .bfloat16
            reserve(nn_bf16_packed_b_size(Int32(k), Int32(n)))
            nn_bf16_pack_b(transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), storage)
        default:
            self.format = .blas
        }
    }

    /// `C = op(A) · op(B) + beta · C`, op(A) of `m` × `k`. Threads that multiply by the same
    /// packed matrix at once pass a `workspace` each (bf16 converts op(A) into it).
    func multiply(transposeA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                  c: UnsafeMutablePointer<Float>, ldc: Int, workspace: FloatBuffer? = nil) {
        switch format {
        case .bfloat16:
            let workspace = workspace ?? self.workspace
            workspace.reserve(nn_bf16_packed_a_size(Int32(m), Int32(k)))
            workspace.pointer.withMemoryRebound(to: UInt32.self, capacity: workspace.capacity) { words in
                nn_bf16_gemm_packed(transposeA ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                                    storage, beta, c, Int32(ldc), words)
            }
        case .blas:
            let (b, ldb, transposed) = source!
            BLAS.gemm(transposeA: transposeA, transposeB: transposed, m: m, n: n, k: k, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    private func reserve(_ count: Int) {
        guard count > capacity else { return }
        storage.deallocate()
        storage = .allocate(capacity: count)
        capacity = count
    }
}
