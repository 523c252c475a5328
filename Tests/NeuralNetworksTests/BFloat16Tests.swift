import Testing
@testable import NeuralNetworks

@Suite(.enabled(if: Precision.bfloat16Supported, "this CPU has no AVX512-BF16"))
struct BFloat16Tests {
    /// The packed product against a Double product of the same bf16-rounded inputs.
    /// K of 1,100 and 1,537 spans the kernel's blocks of 256 pairs (the later ones add to C).
    @Test(arguments: [(13, 37, 9, Float(0)), (8, 32, 2, 0), (5, 70, 33, 1), (128, 512, 128, 1), (9, 40, 1100, 1),
                      (17, 33, 1537, 0.5)])
    func bfloat16ProductMatchesRoundedInputsExactly(m: Int, n: Int, k: Int, beta: Float) {
        var generator = RandomGenerator(seed: UInt64(m * n + k))
        let a = (0..<(m * k)).map { _ in Float(generator.normal()) }
        let b = (0..<(k * n)).map { _ in Float(generator.normal()) }
        var c = (0..<(m * n)).map { _ in Float(generator.normal()) }
        let c0 = c
        let packed = PackedMatrix()
        b.withUnsafeBufferPointer { packed.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                packed.multiply(m: m, a: a.baseAddress!, lda: k, beta: beta, c: c.baseAddress!, ldc: n)
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var exact = Double(beta) * Double(c0[i * n + j]), scale = abs(exact)
                for p in 0..<k {
                    let term = Double(Precision.roundedToBFloat16(a[i * k + p])) * Double(Precision.roundedToBFloat16(b[p * n + j]))
                    exact += term
                    scale += abs(term)
                }
                #expect(abs(Double(c[i * n + j]) - exact) <= 1e-6 * scale + 1e-7, "C[\(i), \(j)]")
            }
        }
    }

    /// beta 0 ignores C's contents, NaN included, over several K blocks and with K = 0.
    @Test(arguments: [700, 0])
    func betaZeroIgnoresWhatCHeld(k: Int) {
        let (m, n) = (10, 20)
        let a = [Float](repeating: 0.5, count: max(m * k, 1)), b = [Float](repeating: 0.25, count: max(k * n, 1))
        var c = [Float](repeating: .nan, count: m * n)
        let packed = PackedMatrix()
        b.withUnsafeBufferPointer { packed.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { packed.multiply(m: m, a: a.baseAddress!, lda: max(k, 1), beta: 0, c: $0.baseAddress!, ldc: n) }
        }
        #expect(c == [Float](repeating: Float(k) * 0.125, count: m * n))
    }

    /// B packed a piece of rows at a time, on several threads, as the LSTM packs its gate
    /// gradients step by step, multiplies exactly as B packed whole (an odd K's last piece odd).
    @Test(arguments: [(24, 40, 63), (157, 512, 256)])
    func bPackedInPiecesEqualsBPackedWhole(m: Int, n: Int, k: Int) {
        var generator = RandomGenerator(seed: UInt64(k))
        let a = randomTensor([k, m], generator: &generator)
        let b = randomTensor([k, n], generator: &generator)
        func product(_ packed: PackedMatrix) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.scalars.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer {
                    packed.multiply(transposeA: true, m: m, a: a.baseAddress!, lda: m, beta: 0, c: $0.baseAddress!, ldc: n,
                                    workspace: nil)
                }
            }
            return c
        }
        let whole = PackedMatrix(), pieces = PackedMatrix()
        b.scalars.withUnsafeBufferPointer { whole.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        // The pieces go where a NaN matrix was packed before: a place they miss would show.
        let nans = [Float](repeating: .nan, count: k * n)
        nans.withUnsafeBufferPointer { pieces.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        #expect(pieces.startPackingRows(.bfloat16, k: k, n: n))
        let starts = Array(stride(from: 0, to: k, by: 10))  // pieces of 10 rows, the last 3 (k = 63) or 6
        b.scalars.withUnsafeBufferPointer { b in
            Parallel.forEach(starts.count) { piece in
                let rows = starts[piece]..<min(starts[piece] + 10, k)
                pieces.packRows(rows, from: b.baseAddress! + rows.lowerBound * n, ldb: n)
            }
        }
        #expect(product(pieces) == product(whole))
    }

    /// op(A) = Aᵀ packed a piece of A's rows at a time, on several threads, as the LSTM packs its
    /// step inputs in the forward pass, multiplies exactly as op(A) packed by the product itself.
    @Test(arguments: [(21, 40, 67), (157, 512, 256)])
    func leftOperandPackedInPiecesEqualsPackingPerCall(m: Int, n: Int, k: Int) {
        var generator = RandomGenerator(seed: UInt64(m + k))
        let a = randomTensor([k, m], generator: &generator)
        let b = randomTensor([k, n], generator: &generator)
        let packed = PackedMatrix()
        b.scalars.withUnsafeBufferPointer { packed.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        var perCall = [Float](repeating: 0, count: m * n), pieces = perCall
        a.scalars.withUnsafeBufferPointer { a in
            perCall.withUnsafeMutableBufferPointer {
                packed.multiply(transposeA: true, m: m, a: a.baseAddress!, lda: m, beta: 0, c: $0.baseAddress!, ldc: n,
                                workspace: nil)
            }
            #expect(packed.startPackingLeftRows(.bfloat16, m: m, k: k))
            let starts = Array(stride(from: 0, to: k, by: 12))  // the last piece of 67 rows: 7, odd
            Parallel.forEach(starts.count) { piece in
                let rows = starts[piece]..<min(starts[piece] + 12, k)
                packed.packLeftRows(rows, from: a.baseAddress! + rows.lowerBound * m, lda: m)
            }
        }
        pieces.withUnsafeMutableBufferPointer { packed.multiplyPackedLeft(beta: 0, c: $0.baseAddress!, ldc: n) }
        #expect(pieces == perCall)
    }

    @Test func float32OperandsArePackedWhole() {
        #expect(!PackedMatrix().startPackingRows(.float32, k: 4, n: 4))
        #expect(!PackedMatrix().startPackingLeftRows(.float32, m: 4, k: 4))
    }

    // Columns past N inside a panel, several panels, an odd K (its last pair half zero).
    @Test(arguments: [(9, 20, 17), (21, 70, 33), (16, 64, 512)])
    func transposedPackingEqualsPackingTheTranspose(m: Int, n: Int, k: Int) {
        var generator = RandomGenerator(seed: UInt64(3 + n))
        let a = randomTensor([m, k], generator: &generator)
        let b = randomTensor([k, n], generator: &generator)
        let bt = b.transposed()
        func product(_ pack: (PackedMatrix) -> Void) -> [Float] {
            let packed = PackedMatrix()
            pack(packed)
            var c = [Float](repeating: 0, count: m * n)
            a.scalars.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer {
                    packed.multiply(m: m, a: a.baseAddress!, lda: k, beta: 0, c: $0.baseAddress!, ldc: n)
                }
            }
            return c
        }
        let direct = product { p in b.scalars.withUnsafeBufferPointer { p.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) } }
        let viaTranspose = product { p in bt.scalars.withUnsafeBufferPointer { p.pack(.bfloat16, transposed: true, k: k, n: n, from: $0.baseAddress!, ldb: k) } }
        #expect(direct == viaTranspose)
    }

    // Threads 6: each direction's rows in three groups, each with its own bf16 workspace. An even
    // batch packs the weight gradients' operands step by step, an odd one (5) per call after the
    // pass; padded sequences (lengths) zero their rows' gate gradients before they are packed.
    @Test(arguments: [(2, 6, false), (6, 6, false), (2, 5, false), (2, 6, true)])
    func bfloat16LSTMStaysCloseToFloat32(threads: Int, batch: Int, padded: Bool) throws {
        var results: [[Float]] = []
        for precision in [Precision.float32, .bfloat16] {
            var generator = RandomGenerator(seed: 4)
            let layer = Bidirectional(LSTM(units: 16, recurrentActivation: .hardSigmoid), threads: threads)
            layer.precision = precision
            _ = try layer.build(inputShape: [7, 5], generator: &generator)
            let x = randomTensor([batch, 7, 5], scale: 0.5, generator: &generator)
            let lengths = padded ? Array([7, 3, 5, 1, 7, 2].prefix(batch)) : nil
            let y = layer.forward(x, context: ForwardContext(training: true, sequenceLengths: lengths))
            let dx = layer.backward(randomTensor(y.shape, generator: &generator))
            results.append(y.scalars + dx.scalars + layer.allParameters.flatMap(\.gradientTensor.scalars))
        }
        let largest = results[0].map(abs).max()!
        let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
        #expect(worst < 0.02 * largest, "largest difference \(worst) of \(largest)")
        #expect(results[0] != results[1])  // the bf16 path really ran
    }

    @Test func bfloat16TrainingLearnsLikeFloat32() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential {
            Bidirectional(LSTM(units: 32, recurrentActivation: .hardSigmoid))
            Dense(units: 10, activation: .softmax)
        }
        model.precision = .bfloat16
        let history = try model.fit(data.train.prefix(2000), validation: data.test.prefix(500),
                                    optimizer: SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), epochs: 2, seed: 1)
        #expect(history[1].trainLoss < history[0].trainLoss)
        #expect(history[1].testAccuracy! > 0.6)
    }
}

struct PrecisionFallbackTests {
    /// NN_KERNEL naming a float32 kernel runs bf16 layers in float32 on it; unset or avx512bf16 lets them run bf16.
    @Test func nnKernelChoosesWhetherBFloat16Runs() {
        #expect(Precision.allowsBFloat16(kernelChoice: nil))
        #expect(Precision.allowsBFloat16(kernelChoice: "avx512bf16"))
        #expect(Precision.allowsBFloat16(kernelChoice: "AVX512BF16"))
        #expect(Precision.allowsBFloat16(kernelChoice: ""))
        for forced in ["avx512", "avx2", "portable", "blas"] { #expect(!Precision.allowsBFloat16(kernelChoice: forced)) }
    }

    @Test(.enabled(if: !Precision.bfloat16Supported, "runs on CPUs without AVX512-BF16"))
    func bfloat16FallsBackToFloat32Exactly() throws {
        var outputs: [[Tensor]] = []
        for precision in [Precision.float32, .bfloat16] {
            var generator = RandomGenerator(seed: 2)
            let layer = LSTM(units: 8)
            layer.precision = precision
            _ = try layer.build(inputShape: [3, 4], generator: &generator)
            let x = randomTensor([2, 3, 4], generator: &generator)
            let inference = layer.forward(x, training: false)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(randomTensor(y.shape, generator: &generator))
            outputs.append([inference, y, dx] + layer.allParameters.map(\.gradientTensor))
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func precisionIsSetOnEveryRecurrentLayer() {
        let model = Sequential { Bidirectional(LSTM(units: 2)); LSTM(units: 2); Dense(units: 1) }
        model.precision = .bfloat16
        #expect((model.layers[0] as! Bidirectional).backwardLayer.precision == .bfloat16)
        #expect((model.layers[1] as! LSTM).precision == .bfloat16)
        #expect(model.precision == .bfloat16)
    }
}

extension BFloat16Tests {
    @Test func transposedAProductMatchesRoundedInputsExactly() {
        // C = Aᵀ · B with A stored k × m, as the weight gradients use it (odd sizes for the edges).
        var generator = RandomGenerator(seed: 9)
        let (m, n, k) = (21, 40, 67)
        let a = (0..<(k * m)).map { _ in Float(generator.normal()) }
        let b = (0..<(k * n)).map { _ in Float(generator.normal()) }
        var c = [Float](repeating: 0, count: m * n)
        let packed = PackedMatrix()
        b.withUnsafeBufferPointer { packed.pack(.bfloat16, transposed: false, k: k, n: n, from: $0.baseAddress!, ldb: n) }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer {
                packed.multiply(transposeA: true, m: m, a: a.baseAddress!, lda: m, beta: 0, c: $0.baseAddress!, ldc: n,
                                    workspace: nil)
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, scale = 0.0
                for p in 0..<k {
                    let term = Double(Precision.roundedToBFloat16(a[p * m + i])) * Double(Precision.roundedToBFloat16(b[p * n + j]))
                    exact += term
                    scale += abs(term)
                }
                #expect(abs(Double(c[i * n + j]) - exact) <= 1e-6 * scale + 1e-7, "C[\(i), \(j)]")
            }
        }
    }
}
