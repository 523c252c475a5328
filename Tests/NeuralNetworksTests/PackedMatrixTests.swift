import Testing
@testable import NeuralNetworks

/// The float32 formats of ``PackedMatrix``: the AVX2 panel kernel (and `cblas_sgemm` without it).
struct PackedMatrixTests {
    /// `op(A) · op(B) + beta · C` through a packed matrix, with A and C read from padded rows
    /// (leading dimensions larger than the widths), as the LSTM's step rows are.
    static func product(_ format: OperandFormat, transposedB: Bool, m: Int, n: Int, k: Int, beta: Float,
                        seed: UInt64) -> (result: [Float], expected: [Double], scale: [Double]) {
        var generator = RandomGenerator(seed: seed)
        let (lda, ldc) = (k + 3, n + 5)
        let a = (0..<(m * lda)).map { _ in Float(generator.normal()) }
        let b = (0..<(k * n)).map { _ in Float(generator.normal()) }  // k × n, or n × k when transposed
        var c = (0..<(m * ldc)).map { _ in Float(generator.normal()) }
        let c0 = c
        let packed = PackedMatrix()
        b.withUnsafeBufferPointer {
            packed.pack(format, transposed: transposedB, k: k, n: n, from: $0.baseAddress!, ldb: transposedB ? k : n)
        }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                packed.multiply(m: m, a: a.baseAddress!, lda: lda, beta: beta, c: c.baseAddress!, ldc: ldc)
            }
        }
        var result: [Float] = [], expected: [Double] = [], scale: [Double] = []
        for i in 0..<m {
            for j in 0..<ldc {
                result.append(c[i * ldc + j])
                guard j < n else {  // past the product's columns C is left alone
                    expected.append(Double(c0[i * ldc + j]))
                    scale.append(0)
                    continue
                }
                var sum = Double(beta) * Double(c0[i * ldc + j]), magnitude = abs(sum)
                for p in 0..<k {
                    let term = Double(a[i * lda + p]) * Double(transposedB ? b[j * k + p] : b[p * n + j])
                    sum += term
                    magnitude += abs(term)
                }
                expected.append(sum)
                scale.append(magnitude)
            }
        }
        return (result, expected, scale)
    }

    @Test(arguments: [(1, 1, 1, Float(0), false), (7, 17, 5, 0, true), (13, 40, 9, 1, false), (6, 16, 157, 0, false),
                      (128, 512, 157, 0, false), (128, 128, 512, 0, true), (25, 33, 3, 0.5, true)])
    func panelProductMatchesADoubleProduct(m: Int, n: Int, k: Int, beta: Float, transposedB: Bool) {
        let (result, expected, scale) = Self.product(.float32, transposedB: transposedB, m: m, n: n, k: k, beta: beta,
                                                     seed: UInt64(m * 1000 + n * 10 + k))
        for index in result.indices {
            #expect(abs(Double(result[index]) - expected[index]) <= 1e-6 * scale[index] + 1e-7, "element \(index)")
        }
    }

    @Test func panelsAreUsedWhereTheCPUHasAVX2AndFMA() {
        let packed = PackedMatrix()
        let b = [Float](repeating: 1, count: 12)
        b.withUnsafeBufferPointer { packed.pack(.float32, transposed: false, k: 3, n: 4, from: $0.baseAddress!, ldb: 4) }
        #expect(packed.format == (PackedMatrix.float32PanelsSupported ? .float32 : .unpacked))
    }

    @Test func panelProductWithATransposedAFallsBackToBLAS() {
        var generator = RandomGenerator(seed: 5)
        let (m, n, k) = (5, 18, 7)
        let a = randomTensor([k, m], generator: &generator), b = randomTensor([k, n], generator: &generator)
        var results: [[Float]] = []
        for format in [OperandFormat.float32, .unpacked] {
            let packed = PackedMatrix()
            b.scalars.withUnsafeBufferPointer { packed.pack(format, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
            var c = [Float](repeating: 0, count: m * n)
            a.scalars.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer {
                    packed.multiply(transposeA: true, m: m, a: a.baseAddress!, lda: m, beta: 0, c: $0.baseAddress!, ldc: n,
                                    workspace: nil)
                }
            }
            results.append(c)
        }
        #expect(results[0] == results[1])
        let expected = (0..<(m * n)).map { index in
            (0..<k).reduce(Float(0)) { $0 + a.scalars[$1 * m + index / n] * b.scalars[$1 * n + index % n] }
        }
        expectClose(Tensor(shape: [m, n], scalars: results[0]), Tensor(shape: [m, n], scalars: expected), "Aᵀ · B")
    }
}
