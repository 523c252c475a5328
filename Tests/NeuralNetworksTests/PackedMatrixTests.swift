import CPanelGEMM
import Testing
@testable import NeuralNetworks

/// The float32 products of ``PackedMatrix`` on every ``PanelKernel`` this CPU runs (and
/// `cblas_sgemm`, the `.unpacked` format), against products in Double.
struct PackedMatrixTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        let m, n, k: Int, beta: Float, transposedA: Bool, transposedB: Bool
        var testDescription: String { "\(m)×\(n)×\(k) β=\(beta)\(transposedA ? " Aᵀ" : "")\(transposedB ? " Bᵀ" : "")" }
    }

    /// Odd sizes (partial tiles both ways), the LSTM's step shapes, the mlp's Dense shapes, β ≠ 0.
    static let shapes = [
        Shape(m: 1, n: 1, k: 1, beta: 0, transposedA: false, transposedB: false),
        Shape(m: 7, n: 17, k: 5, beta: 0, transposedA: false, transposedB: true),
        Shape(m: 13, n: 40, k: 9, beta: 1, transposedA: false, transposedB: false),
        Shape(m: 6, n: 16, k: 157, beta: 0, transposedA: false, transposedB: false),
        Shape(m: 128, n: 512, k: 157, beta: 0, transposedA: false, transposedB: false),
        Shape(m: 128, n: 128, k: 512, beta: 0, transposedA: false, transposedB: true),
        Shape(m: 25, n: 33, k: 3, beta: 0.5, transposedA: true, transposedB: true),
        Shape(m: 9, n: 70, k: 30, beta: 1, transposedA: true, transposedB: false),
        Shape(m: 64, n: 256, k: 784, beta: 1, transposedA: false, transposedB: false),
    ]

    /// Every way a product can run here: each panel kernel's `.float32`, and `.unpacked` (OpenBLAS).
    static let paths: [(OperandFormat, PanelKernel?)] = PanelKernel.supported.map { (.float32, $0) } + [(.unpacked, nil)]

    /// `op(A) · op(B) + beta · C` through a packed matrix, with A and C read from padded rows
    /// (leading dimensions larger than the widths), as the LSTM's step rows are.
    static func product(_ format: OperandFormat, kernel: PanelKernel?, _ s: Shape,
                        seed: UInt64) -> (result: [Float], expected: [Double], scale: [Double]) {
        var generator = RandomGenerator(seed: seed)
        let lda = (s.transposedA ? s.m : s.k) + 3, ldc = s.n + 5
        let a = (0..<((s.transposedA ? s.k : s.m) * lda)).map { _ in Float(generator.normal()) }
        let b = (0..<(s.k * s.n)).map { _ in Float(generator.normal()) }  // k × n, or n × k when transposed
        var c = (0..<(s.m * ldc)).map { _ in Float(generator.normal()) }
        let c0 = c
        let packed = PackedMatrix(kernel: kernel)
        b.withUnsafeBufferPointer {
            packed.pack(format, transposed: s.transposedB, k: s.k, n: s.n, from: $0.baseAddress!, ldb: s.transposedB ? s.k : s.n)
        }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                packed.multiply(transposeA: s.transposedA, m: s.m, a: a.baseAddress!, lda: lda, beta: s.beta,
                                c: c.baseAddress!, ldc: ldc, workspace: nil)
            }
        }
        var result: [Float] = [], expected: [Double] = [], scale: [Double] = []
        for i in 0..<s.m {
            for j in 0..<ldc {
                result.append(c[i * ldc + j])
                guard j < s.n else {  // past the product's columns C is left alone
                    expected.append(Double(c0[i * ldc + j]))
                    scale.append(0)
                    continue
                }
                var sum = Double(s.beta) * Double(c0[i * ldc + j]), magnitude = abs(sum)
                for p in 0..<s.k {
                    let x = s.transposedA ? a[p * lda + i] : a[i * lda + p]
                    let term = Double(x) * Double(s.transposedB ? b[j * s.k + p] : b[p * s.n + j])
                    sum += term
                    magnitude += abs(term)
                }
                expected.append(sum)
                scale.append(magnitude)
            }
        }
        return (result, expected, scale)
    }

    @Test(arguments: shapes)
    func everyKernelMatchesADoubleProduct(_ shape: Shape) {
        for (format, kernel) in Self.paths {
            let (result, expected, scale) = Self.product(format, kernel: kernel, shape,
                                                         seed: UInt64(shape.m * 1000 + shape.n * 10 + shape.k))
            let bad = result.indices.first { abs(Double(result[$0]) - expected[$0]) > 1e-6 * scale[$0] + 1e-7 }
            #expect(bad == nil, "\(kernel?.rawValue ?? "blas"): element \(bad ?? -1)")
        }
    }

    @Test func panelsAreUsedWhereTheCPUHasAKernel() {
        let b = [Float](repeating: 1, count: 12)
        for kernel in PanelKernel.supported + [nil] {
            let packed = PackedMatrix(kernel: kernel)
            b.withUnsafeBufferPointer { packed.pack(.float32, transposed: false, k: 3, n: 4, from: $0.baseAddress!, ldb: 4) }
            #expect(packed.format == (kernel == nil ? .unpacked : .float32))
        }
    }

    @Test func nnKernelChoosesAKernelThisCPURunsOrOpenBLAS() {
        #expect(PanelKernel.choose(environment: nil) == PanelKernel.supported.first)
        #expect(PanelKernel.choose(environment: "blas") == nil)
        #expect(PanelKernel.choose(environment: "avx2") == (PanelKernel.supported.contains(.avx2) ? .avx2 : PanelKernel.supported.first))
        #expect(PanelKernel.choose(environment: "AVX512") == (PanelKernel.supported.contains(.avx512) ? .avx512 : PanelKernel.supported.first))
        #expect(PanelKernel.choose(environment: "nonsense") == PanelKernel.supported.first)
        #expect(PanelKernel.choose(environment: "portable") == .portable)
        #expect(PanelKernel.choose(environment: "avx512bf16") == (PanelKernel.supported.contains(.avx512) ? .avx512 : PanelKernel.widest))
    }

    /// A misspelt or unsupported NN_KERNEL is named, with what runs instead.
    @Test func nnKernelProblemsAreNamed() {
        #expect(PanelKernel.environmentProblem(nil) == nil)
        #expect(PanelKernel.environmentProblem("blas") == nil)
        #expect(PanelKernel.environmentProblem("portable") == nil)
        #expect(PanelKernel.environmentProblem(PanelKernel.widest.rawValue.uppercased()) == nil)
        #expect(PanelKernel.environmentProblem("avx3")
                == "NN_KERNEL=avx3 is none of avx512, avx512bf16, avx2, portable, blas; using \(PanelKernel.widest.rawValue)")
        if !PanelKernel.supported.contains(.avx512) {
            #expect(PanelKernel.environmentProblem("avx512")?.contains("this CPU does not run it") == true)
        }
    }

    /// Products packed per call go to OpenBLAS where it runs kernels for the CPU, to ours where it
    /// fell back to older ones (or NN_KERNEL names one of ours).
    @Test func perCallProductsLeaveOpenBLASOnlyWhenItsKernelsAreOld() {
        let widest = PanelKernel.widest
        #expect(PanelKernel.choosePerCall(environment: nil, blasCore: "Haswell") == nil)
        #expect(PanelKernel.choosePerCall(environment: nil, blasCore: "SkylakeX") == nil)
        #expect(PanelKernel.choosePerCall(environment: nil, blasCore: "Prescott") == (widest == .portable ? nil : widest))
        #expect(PanelKernel.choosePerCall(environment: "blas", blasCore: "Prescott") == nil)
        #expect(PanelKernel.choosePerCall(environment: "portable", blasCore: "Zen") == .portable)
        #expect(PanelKernel.choosePerCall(environment: widest.rawValue, blasCore: "Zen") == widest)
        #expect(BLAS.isBelowAVX2(core: "Sandybridge") && !BLAS.isBelowAVX2(core: "Cooperlake"))
    }

    /// The packed layout of op(B) for every kernel (panel p: columns nr·p ..< nr·p + nr, row after
    /// row, zero past N), AVX-512's 32-wide panels included: packing runs without AVX-512 (its
    /// transposes are AVX2), so a CPU with AVX2 checks the layout every kernel multiplies by.
    @Test(.enabled(if: PanelKernel.supported.contains(.avx2), "the transposing packer needs AVX2"),
          arguments: [(PanelKernel.avx512, 32), (.avx2, 16), (.portable, 8)])
    func packedPanelsHoldOpBColumnByColumnBlock(_ kernel: PanelKernel, width nr: Int) {
        for (k, n) in [(1, 1), (7, 33), (157, 512), (300, 70), (13, 100), (256, 31)] {
            for transposed in [false, true] {
                let ldb = (transposed ? k : n) + 3
                let b = (0..<((transposed ? n : k) * ldb)).map { Float($0 % 1000) + 0.5 }
                var packed = [Float](repeating: -7, count: nn_panel_packed_b_size(kernel.code, Int32(k), Int32(n)))
                nn_panel_pack_b(kernel.code, transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), &packed)
                let wrong = (0..<((n + nr - 1) / nr * nr)).contains { j in
                    (0..<k).contains { p in
                        let expected: Float = j < n ? (transposed ? b[j * ldb + p] : b[p * ldb + j]) : 0
                        return packed[(j / nr) * nr * k + p * nr + j % nr] != expected
                    }
                }
                #expect(!wrong, "\(kernel.rawValue) \(k)×\(n)\(transposed ? " transposed" : "")")
            }
        }
    }

    /// The portable kernel's products (4 × 8 tiles in C vectors) on the shapes above, packed per call.
    @Test(arguments: shapes)
    func portableKernelMatchesADoubleProduct(_ shape: Shape) {
        let (result, expected, scale) = Self.product(.float32, kernel: .portable, shape, seed: UInt64(shape.k))
        let bad = result.indices.first { abs(Double(result[$0]) - expected[$0]) > 1e-6 * scale[$0] + 1e-7 }
        #expect(bad == nil, "element \(bad ?? -1)")
    }
}
