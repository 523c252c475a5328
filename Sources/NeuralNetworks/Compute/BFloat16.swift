import CBF16

/// The number format of a recurrent layer's matrix products.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Float32 everywhere (OpenBLAS `cblas_sgemm`).
    case float32
    /// Every matrix product of the layer in bfloat16 with float32 accumulation (AVX512-BF16
    /// `vdpbf16ps`, twice the multiply-adds per cycle); weights, gradients, optimizer and all
    /// element-wise math stay float32. Falls back to float32 on CPUs without it.
    case bfloat16 = "bf16"

    /// Whether this CPU runs bfloat16 products (AVX512-BF16).
    public static let bfloat16Supported = nn_bf16_supported() != 0
}

/// A matrix packed as bfloat16 pairs for ``BFloat16GEMM`` (a layer packs its weights once per pass).
final class PackedBFloat16Matrix: @unchecked Sendable {
    private(set) var pointer = UnsafeMutablePointer<UInt16>.allocate(capacity: 1)
    private var capacity = 1
    private(set) var k = 0, n = 0

    deinit { pointer.deallocate() }

    /// Packs op(B), `k` × `n`, from row-major `b` with leading dimension `ldb`.
    func pack(transposed: Bool, k: Int, n: Int, from b: UnsafePointer<Float>, ldb: Int) {
        let size = nn_bf16_packed_b_size(Int32(k), Int32(n))
        if size > capacity {
            pointer.deallocate()
            capacity = size
            pointer = .allocate(capacity: size)
        }
        (self.k, self.n) = (k, n)
        nn_bf16_pack_b(transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), pointer)
    }
}

/// The A-side workspace of ``BFloat16GEMM`` (grown as needed, reused).
final class BFloat16Workspace: @unchecked Sendable {
    private(set) var pointer = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var capacity = 1

    deinit { pointer.deallocate() }

    func reserve(m: Int, k: Int) {
        let size = nn_bf16_packed_a_size(Int32(m), Int32(k))
        guard size > capacity else { return }
        pointer.deallocate()
        capacity = size
        pointer = .allocate(capacity: size)
    }
}

enum BFloat16GEMM {
    /// `C = op(A) · B + beta · C` with op(A) m × k rounded to bfloat16 and B packed.
    static func gemm(transposeA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int,
                     b: PackedBFloat16Matrix, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     workspace: BFloat16Workspace) {
        workspace.reserve(m: m, k: b.k)
        nn_bf16_gemm_packed(transposeA ? 1 : 0, Int32(m), Int32(b.n), Int32(b.k), 1, a, Int32(lda),
                            b.pointer, beta, c, Int32(ldc), workspace.pointer)
    }
}
