import Foundation
import CBF16
import CElementwise
import CPanelGEMM

/// The number format of a recurrent layer's matrix products.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Float32 everywhere.
    case float32
    /// Every matrix product of the layer in bfloat16 with float32 accumulation (AVX512-BF16
    /// `vdpbf16ps`, twice the multiply-adds per cycle; on a ``CUDABackend``, tensor cores);
    /// weights, gradients, optimizer and all element-wise math stay float32. Falls back to float32
    /// on CPUs without it.
    case bfloat16 = "bf16"

    /// Whether bfloat16 products run here: the CPU has AVX512-BF16 and `NN_KERNEL` is unset or
    /// `avx512bf16` (a float32 kernel named there, `avx512`, `avx2`, `portable` or `blas`, runs
    /// bf16 layers in float32 on it).
    public static let bfloat16Supported = nn_bf16_supported() != 0
        && allowsBFloat16(kernelChoice: ProcessInfo.processInfo.environment["NN_KERNEL"])

    static func allowsBFloat16(kernelChoice value: String?) -> Bool {
        value.map { $0.isEmpty || $0.lowercased() == "avx512bf16" } ?? true
    }

    /// `x` rounded to the nearest bfloat16 (ties to even), as the CPU's kernels and the GPU's
    /// tensor cores read an operand: what a bf16 product is checked against.
    static func roundedToBFloat16(_ x: Float) -> Float {
        guard !x.isNaN else { return x }
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }
}

/// The project's kernels: float32 products (`Sources/CPanelGEMM`: a tile of C in registers, B in
/// column panels, A in row panels) and the element-wise work of recurrent cells and activations
/// (`Sources/CElementwise`), at one vector width. ``selected`` is chosen once from the CPU (the
/// widest it runs) unless `NN_KERNEL` names one (`avx512`, `avx2`, `portable`; `blas` for OpenBLAS
/// products); tests pass each supported kernel explicitly, so one machine checks every path it can run.
public enum PanelKernel: String, Sendable, CaseIterable {
    /// 8 × 32 tiles in 16 zmm registers; element-wise work in vectors of 16.
    case avx512
    /// 6 × 16 tiles in 12 ymm registers (AVX2 and FMA); element-wise work in vectors of 8.
    case avx2
    /// 4 × 8 tiles in C vectors of 4 (SSE2 on any x86-64, NEON on ARM), for every other CPU.
    case portable

    var code: Int32 {
        switch self {
        case .avx512: Int32(NN_PANEL_AVX512)
        case .avx2: Int32(NN_PANEL_AVX2)
        case .portable: Int32(NN_PANEL_PORTABLE)
        }
    }

    /// The kernels this CPU runs, widest first (``portable`` runs everywhere).
    public static let supported: [PanelKernel] = {
        let bits = nn_panel_kernels_supported() & nn_vector_kernels_supported()
        return allCases.filter { bits & $0.code != 0 }
    }()

    /// The widest kernel this CPU runs.
    public static var widest: PanelKernel { supported[0] }

    /// What products use: `NN_KERNEL`'s choice if this CPU runs it, else the widest supported;
    /// nil (OpenBLAS for the products, the widest kernel for element-wise work) with `NN_KERNEL=blas`.
    public static let selected: PanelKernel? = choose(environment: ProcessInfo.processInfo.environment["NN_KERNEL"])

    /// The kernel of products whose operands are both packed at each call (dense layers,
    /// convolutions, weight gradients; ``CPUBackend/unpackedKernel``): OpenBLAS, faster there than
    /// ours on the CPUs measured when it runs its own kernels for the CPU (`nn bench
    /// --products-only` shows both), unless `NN_KERNEL` names one of ours, or OpenBLAS runs
    /// kernels older than AVX2 on a CPU where ours are AVX2 or wider (``BLAS/isBelowAVX2(core:)``).
    public static let perCallSelected: PanelKernel? = choosePerCall(
        environment: ProcessInfo.processInfo.environment["NN_KERNEL"], blasCore: BLAS.coreName)

    static func choosePerCall(environment value: String?, blasCore: String) -> PanelKernel? {
        guard let kernel = choose(environment: value) else { return nil }
        if forcesKernel(value) { return kernel }
        return kernel != .portable && BLAS.isBelowAVX2(core: blasCore) ? kernel : nil
    }

    /// Whether an `NN_KERNEL` value names one of these kernels (a path forced).
    static func forcesKernel(_ value: String?) -> Bool { value.map { PanelKernel(rawValue: $0.lowercased()) != nil } ?? false }

    /// A line for logs: which kernels run the products, and why.
    public static var choiceDescription: String {
        let forced = forcesKernel(ProcessInfo.processInfo.environment["NN_KERNEL"])
        let perCall = perCallSelected.map {
            "\($0.rawValue) (" + (forced ? "NN_KERNEL" : "OpenBLAS runs \(BLAS.coreName) kernels, older than AVX2") + ")"
        } ?? "OpenBLAS (\(BLAS.coreName) kernels)"
        return "products with a reused operand: \(selected?.rawValue ?? "OpenBLAS"); products packed per call: \(perCall); "
            + "element-wise: \(CPUBackend().vectorKernel.rawValue); --precision bf16: "
            + (Precision.bfloat16Supported ? "avx512bf16" : "float32 (no AVX512-BF16 here, or NN_KERNEL)")
            + ". NN_KERNEL=avx512|avx512bf16|avx2|portable|blas chooses"
    }

    /// Why an `NN_KERNEL` value does not run as named (nil when it does, or is unset): a name that
    /// is none of the kernels, or a kernel this CPU lacks. `nn` prints it as a warning.
    public static func environmentProblem(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        let name = value.lowercased(), fallback = choose(environment: value)?.rawValue ?? "OpenBLAS"
        switch name {
        case "blas": return nil
        case "avx512bf16":
            return nn_bf16_supported() != 0 ? nil
                : "NN_KERNEL=\(value): this CPU has no AVX512-BF16; bf16 layers run in float32 on \(fallback)"
        default:
            guard let kernel = PanelKernel(rawValue: name) else {
                return "NN_KERNEL=\(value) is none of avx512, avx512bf16, avx2, portable, blas; using \(fallback)"
            }
            return supported.contains(kernel) ? nil : "NN_KERNEL=\(value): this CPU does not run it; using \(fallback)"
        }
    }

    static func choose(environment value: String?) -> PanelKernel? {
        switch value?.lowercased() {
        case "blas": return nil
        case "avx512bf16": return supported.contains(.avx512) ? .avx512 : widest
        case let name?: return PanelKernel(rawValue: name).flatMap { supported.contains($0) ? $0 : nil } ?? widest
        case nil: return widest
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

    /// bfloat16 only: its conversion is the cost of packing, and it runs three times faster on
    /// rows still in cache (packing a weight gradient's 3,584 gate rows after the backward pass
    /// took 12% of a bf16 epoch; packed as each step makes them, a few percent).
    func startPackingRows(_ format: Format, k: Int, n: Int) -> Bool {
        guard format == .bfloat16, Precision.bfloat16Supported else { return false }
        (self.k, self.n, self.format, source) = (k, n, .bfloat16, nil)
        reserve(bytes: nn_bf16_packed_b_size(Int32(k), Int32(n)) * MemoryLayout<UInt16>.stride)
        return true
    }

    func packRows(_ rows: Range<Int>, from b: UnsafePointer<Float>, ldb: Int) {
        precondition(format == .bfloat16, "packRows after startPackingRows")
        Self.checkPiece(rows, of: k)
        nn_bf16_pack_b_rows(Int32(k), Int32(n), Int32(rows.lowerBound), Int32(rows.count), b, Int32(ldb),
                            storage.assumingMemoryBound(to: UInt16.self))
    }

    /// A piece of a `k`-row operand: within it, and whole bf16 pairs of rows (an even start, and
    /// an even count unless it ends at `k`).
    private static func checkPiece(_ rows: Range<Int>, of k: Int) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= k, "rows \(rows) of \(k)")
        precondition(rows.lowerBound.isMultiple(of: 2) && (rows.count.isMultiple(of: 2) || rows.upperBound == k),
                     "bf16 pieces hold whole pairs of rows: \(rows)")
    }

    private let packedLeft = FloatBuffer()  // op(A) packed piece by piece (bf16 pairs as 32-bit words)
    private var leftM = 0, leftK = 0

    /// bfloat16 only, as `startPackingRows`: an LSTM's step inputs, packed in the forward pass
    /// while its step products have them in cache, for the weight gradients of the backward pass.
    func startPackingLeftRows(_ format: Format, m: Int, k: Int) -> Bool {
        guard format == .bfloat16, Precision.bfloat16Supported else { return false }
        (leftM, leftK) = (m, k)
        packedLeft.reserve(nn_bf16_packed_a_size(Int32(m), Int32(k)))
        return true
    }

    func packLeftRows(_ rows: Range<Int>, from a: UnsafePointer<Float>, lda: Int) {
        Self.checkPiece(rows, of: leftK)
        packedLeft.pointer.withMemoryRebound(to: UInt32.self, capacity: packedLeft.capacity) { words in
            nn_bf16_pack_a_transposed_rows(Int32(leftM), Int32(leftK), Int32(rows.lowerBound), Int32(rows.count), a,
                                           Int32(lda), words)
        }
    }

    func multiplyPackedLeft(beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(format == .bfloat16 && leftK == k, "a packed left operand needs a bf16 right one of \(leftK) rows")
        packedLeft.pointer.withMemoryRebound(to: UInt32.self, capacity: packedLeft.capacity) { words in
            nn_bf16_gemm_prepacked(Int32(leftM), Int32(n), Int32(k), 1, words, storage.assumingMemoryBound(to: UInt16.self),
                                   beta, c, Int32(ldc))
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
