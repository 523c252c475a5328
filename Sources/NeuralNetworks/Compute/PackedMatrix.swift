import Foundation
import CBF16
import CPanelGEMM

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

/// The project's float32 product kernels (`Sources/CPanelGEMM`): a tile of C in registers, B in
/// column panels, A in row panels. ``selected`` is chosen once from the CPU (the widest it runs)
/// unless `NN_KERNEL` names one (`avx512`, `avx2`; `blas` for OpenBLAS alone); tests pass each
/// supported kernel explicitly, so one machine checks every path it can run.
public enum PanelKernel: String, Sendable, CaseIterable {
    /// 8 × 32 tiles in 16 zmm registers.
    case avx512
    /// 6 × 16 tiles in 12 ymm registers (AVX2 and FMA).
    case avx2

    var code: Int32 { self == .avx512 ? Int32(NN_PANEL_AVX512) : Int32(NN_PANEL_AVX2) }

    /// The kernels this CPU runs, widest first.
    public static let supported: [PanelKernel] = {
        let bits = nn_panel_kernels_supported()
        return allCases.filter { bits & $0.code != 0 }
    }()

    /// What products use: `NN_KERNEL`'s choice if this CPU runs it, else the widest supported;
    /// nil (OpenBLAS) with `NN_KERNEL=blas` or on a CPU without AVX2 and FMA.
    public static let selected: PanelKernel? = choose(environment: ProcessInfo.processInfo.environment["NN_KERNEL"])

    static func choose(environment value: String?) -> PanelKernel? {
        switch value?.lowercased() {
        case "blas", "portable": return nil
        case let name?: return PanelKernel(rawValue: name).flatMap { supported.contains($0) ? $0 : nil } ?? supported.first
        case nil: return supported.first
        }
    }
}

/// The right operand of products `C = op(A) · op(B) + beta · C` that reuse it: made ready once
/// (a layer's weights, once per batch) and multiplied many times (every time step).
///
/// `Format.bfloat16` packs op(B) as bfloat16 pairs for the AVX512-BF16 kernel; `.float32` packs
/// it into float32 panels for the ``PanelKernel`` (`Sources/CPanelGEMM`), which packs only the
/// small A per call where `cblas_sgemm` packs both operands every time; `.unpacked` keeps a reference
/// to B for `cblas_sgemm`, so B must stay unchanged until the last product. A CPU without
/// AVX512-BF16 gets `.float32` for `.bfloat16`, one without a panel kernel `.unpacked` for `.float32`.
final class PackedMatrix: PackedOperand, @unchecked Sendable {
    typealias Format = OperandFormat

    /// The float32 kernel this operand packs for (nil: OpenBLAS).
    let kernel: PanelKernel?

    init(kernel: PanelKernel? = PanelKernel.selected) { self.kernel = kernel }

    private var storage = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var byteCapacity = 64
    private let workspace = FloatBuffer()  // op(A) packed for a call (bf16 pairs as 32-bit words)
    private(set) var format = Format.unpacked
    private(set) var k = 0, n = 0
    private var source: (b: UnsafePointer<Float>, ldb: Int, transposed: Bool)?

    deinit { storage.deallocate() }

    /// Makes op(B), `k` × `n`, from row-major `b` with leading dimension `ldb`, ready in `format`.
    func pack(_ format: Format, transposed: Bool, k: Int, n: Int, from b: UnsafePointer<Float>, ldb: Int) {
        (self.k, self.n) = (k, n)
        source = (b, ldb, transposed)
        // bf16 without AVX512-BF16 is float32, exactly as a float32 layer computes it.
        switch format == .bfloat16 && !Precision.bfloat16Supported ? .float32 : format {
        case .bfloat16:
            self.format = .bfloat16
            reserve(bytes: nn_bf16_packed_b_size(Int32(k), Int32(n)) * MemoryLayout<UInt16>.stride)
            nn_bf16_pack_b(transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), storage.assumingMemoryBound(to: UInt16.self))
        case .float32 where kernel != nil:
            self.format = .float32
            reserve(bytes: nn_panel_packed_b_size(kernel!.code, Int32(k), Int32(n)) * MemoryLayout<Float>.stride)
            nn_panel_pack_b(kernel!.code, transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb),
                            storage.assumingMemoryBound(to: Float.self))
        default:
            self.format = .unpacked
        }
    }

    /// `C = op(A) · op(B) + beta · C`, op(A) of `m` × `k`. Threads that multiply by the same
    /// packed matrix at once pass a `workspace` each (the kernels pack op(A) into it).
    func multiply(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                  c: UnsafeMutablePointer<Float>, ldc: Int, workspace: FloatBuffer?) {
        let workspace = workspace ?? self.workspace
        switch format {
        case .bfloat16:
            workspace.reserve(nn_bf16_packed_a_size(Int32(m), Int32(k)))
            workspace.pointer.withMemoryRebound(to: UInt32.self, capacity: workspace.capacity) { words in
                nn_bf16_gemm_packed(transposeA ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                                    storage.assumingMemoryBound(to: UInt16.self), beta, c, Int32(ldc), words)
            }
        case .float32:
            workspace.reserve(nn_panel_workspace_size(kernel!.code, Int32(m), Int32(k)))
            nn_panel_gemm(kernel!.code, transposeA ? 1 : 0, Int32(m), Int32(n), Int32(k), a, Int32(lda),
                          storage.assumingMemoryBound(to: Float.self), beta, c, Int32(ldc), workspace.pointer)
        default:
            let (b, ldb, transposed) = source!
            BLAS.gemm(transposeA: transposeA, transposeB: transposed, m: m, n: n, k: k, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    private func reserve(bytes: Int) {
        guard bytes > byteCapacity else { return }
        storage.deallocate()
        storage = .allocate(byteCount: bytes, alignment: 64)
        byteCapacity = bytes
    }
}
