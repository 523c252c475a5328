import Foundation

/// Multi-head self-attention: each step of a sequence attends to the steps of the same sequence
/// (Keras `MultiHeadAttention(num_heads, key_dim)` called with one sequence as query, key and
/// value; PyTorch `nn.MultiheadAttention(batch_first=True)` called as `mha(x, x, x)`). Inputs
/// `[steps, features]`, outputs the same shape.
///
/// Forward, for each sample, with X its steps, h heads and d = key_dim:
///
///     [Q K V] = X · kernel + bias              one product for the three projections of every head
///     A_i = softmax(Q_i K_iᵀ / √d)             over the keys a query may see (below)
///     O = [A_1 V_1, …, A_h V_h]                the heads side by side, [steps, h·d]
///                                              (training with dropout: A_i ⊙ M_i for A_i, M_i the mask)
///     Y = O · outputKernel + outputBias
///
/// A query sees the keys of its sample's real steps (with padded sequences: PyTorch's
/// `key_padding_mask`, Keras' mask) and, with `use_causal_mask`, no later step. Both leave a
/// prefix of the keys, so the masked softmax is over keys 0..<seen. Every product of a sample
/// stops at its real steps, so nothing in the padding (not even values that overflow) reaches
/// a real step; padding steps attend to nothing (O = 0 there, the output is the output bias),
/// as a recurrent layer outputs zeros there, and take no gradient.
///
/// Backward, per head, with dO_i the gradient of O_i:
///
///     dA = dO_i V_iᵀ,   dV_i = A_iᵀ dO_i,   dS = A_i ⊙ (dA − rowsum(dA ⊙ A_i)) / √d,
///     dQ_i = dS K_i,    dK_i = dSᵀ Q_i;     then dkernel += Xᵀ·d[Q K V], dX = d[Q K V]·kernelᵀ.
///
/// With dropout, dV_i = (A_i ⊙ M_i)ᵀ dO_i and dA = (dO_i V_iᵀ) ⊙ M_i; dS uses the undropped A_i.
///
/// The (sample, head) pairs are independent and run on the layer's threads.
public final class MultiHeadAttention: ThreadedLayer {
    public static let typeName = "MultiHeadAttention"
    public static let specAliases = ["mha", "selfattention"]
    public static let positionalKeys = ["num_heads", "key_dim"]
    public static let specKeyAliases = ["heads": "num_heads", "causal": "use_causal_mask"]
    public var name = "multi_head_attention"
    public let heads: Int
    /// Each head's query and key width (and value width); nil: the features ÷ heads, PyTorch's
    /// rule, known once built.
    public let requestedKeyDim: Int?
    /// Whether a step sees only itself and earlier steps (a language model's decoder).
    public let causal: Bool
    public let useBias: Bool
    /// While training, each attention weight is zeroed with this probability and the kept ones
    /// scaled by 1 / (1 − dropout) (Keras' and PyTorch's `dropout`), from the layer's own stream.
    public let dropout: Float
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter?
    public private(set) var outputKernel: Parameter!
    public private(set) var outputBias: Parameter?
    public var needsInputGradient = true
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    /// Each head's query, key and value width, once built: `key_dim`, or features ÷ heads.
    public private(set) var keyDim = 0
    private var (steps, features) = (0, 0)
    /// h·d: the width of Q, K, V and O.
    private var width: Int { heads * keyDim }
    /// The projections' backend (the last forward pass's). Each (sample, head) pair's small
    /// products run on the CPU: on a GPU each would be an upload, a product and a download.
    private var backend: any Backend = CPUBackend()
    private let pairBackend = CPUBackend()
    // The last forward pass's, for backward.
    private var batch = 0
    private var lengths: [Int] = []
    private var lastInput = Tensor(zeros: [0])
    private var projections = Tensor(zeros: [0])  // [batch·steps, 3·width]: Q | K | V
    private var weights = Tensor(zeros: [0])      // [batch, heads, steps, steps]: each A_i (training only)
    private var headOutputs = Tensor(zeros: [0])  // [batch·steps, width]: O
    private var dropMask: [Float] = []            // [batch, heads, steps, steps] (training with dropout only)

    public init(heads: Int, keyDim: Int? = nil, causal: Bool = false, useBias: Bool = true, dropout: Float = 0) {
        precondition(heads > 0 && (keyDim ?? 1) > 0, "MultiHeadAttention needs at least one head of width at least 1")
        precondition(dropout >= 0 && dropout < 1, "MultiHeadAttention's dropout must be in [0, 1)")
        (self.heads, requestedKeyDim, self.causal, self.useBias, self.dropout) = (heads, keyDim, causal, useBias, dropout)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var numHeads: Int
        public var keyDim: Int?
        public var useCausalMask: Bool?
        public var useBias: Bool?
        public var dropout: Float?
        enum CodingKeys: String, CodingKey {
            case numHeads = "num_heads", keyDim = "key_dim", useCausalMask = "use_causal_mask", useBias = "use_bias", dropout
        }
        /// `key_dim` is written as null when left to the features ÷ heads, so that it is listed
        /// among the settings (as Keras' config does).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(numHeads, forKey: .numHeads)
            try container.encode(keyDim, forKey: .keyDim)
            try container.encodeIfPresent(useCausalMask, forKey: .useCausalMask)
            try container.encodeIfPresent(useBias, forKey: .useBias)
            try container.encodeIfPresent(dropout, forKey: .dropout)
        }
    }

    public var configuration: Configuration {
        Configuration(numHeads: heads, keyDim: requestedKeyDim, useCausalMask: causal, useBias: useBias, dropout: dropout)
    }

    public convenience init(configuration c: Configuration) throws {
        guard (1...4096).contains(c.numHeads) else { throw ShapeError("MultiHeadAttention needs 1...4096 heads, got \(c.numHeads)") }
        if let keyDim = c.keyDim, !(1...65_536).contains(keyDim) {
            throw ShapeError("MultiHeadAttention needs a key_dim in 1...65536, got \(keyDim)")
        }
        let dropout = c.dropout ?? 0
        guard dropout >= 0 && dropout < 1 else { throw ShapeError("MultiHeadAttention's dropout must be in [0, 1), got \(dropout)") }
        self.init(heads: c.numHeads, keyDim: c.keyDim, causal: c.useCausalMask ?? false, useBias: c.useBias ?? true,
                  dropout: dropout)
    }

    public var parameters: [Parameter] { [kernel, bias, outputKernel, outputBias].compactMap { $0 } }

    /// Real steps never read padding keys, and the output keeps the steps: padding stays padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): MultiHeadAttention needs sequences [steps, features], got \(inputShape)")
        }
        (steps, features) = (inputShape[0], inputShape[1])
        if let requestedKeyDim {
            keyDim = requestedKeyDim
        } else {
            guard features % heads == 0 else {
                throw ShapeError("\(name): \(features) features do not split into \(heads) heads; give key_dim "
                                 + "(multiheadattention(\(heads), key_dim)) or a number of heads that divides \(features)")
            }
            keyDim = features / heads
        }
        // [Q K V] in one kernel: glorot over [features, 3·width] is PyTorch's in_proj_weight init.
        kernel = try context.parameter("kernel", shape: [features, 3 * width], initializer: .glorotUniform)
        bias = useBias ? try context.parameter("bias", shape: [3 * width], initializer: .zeros) : nil
        outputKernel = try context.parameter("output_kernel", shape: [width, features], initializer: .glorotUniform)
        outputBias = useBias ? try context.parameter("output_bias", shape: [features], initializer: .zeros) : nil
        return inputShape
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        saturatingSum(saturatingProduct(2, steps, features, 4, width), saturatingProduct(4, heads, steps, steps, keyDim))
    }

    /// Q|K|V, the attention weights, O, and in backward their gradients and one weights-sized
    /// scratch per thread (saturating: a hostile shape is refused by the memory check, not overflowed).
    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        let parts = [saturatingProduct(2, batchSize, steps, 4, width),
                     saturatingProduct(dropout > 0 ? 2 : 1, batchSize, heads, steps, steps),  // weights (and the mask)
                     saturatingProduct(2, threads, steps, steps)]
        return parts.reduce(0, saturatingSum)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == [steps, features], "\(name): input \(input.shape), expected [batch, \(steps), \(features)]")
        backend = context.backend
        batch = input.shape[0]
        lengths = context.sequenceLengths ?? Array(repeating: steps, count: batch)
        precondition(lengths.count == batch && lengths.allSatisfy { (0...steps).contains($0) },
                     "\(name): \(lengths.count) sequence lengths in 0...\(steps) for a batch of \(batch)")
        let rows = batch * steps
        lastInput = input
        projections = project(input, rows: rows)
        // Training keeps every pair's weights for backward; inference reuses one t×t per thread.
        let kept = context.training
        weights = Tensor(zeros: kept ? [batch, heads, steps, steps] : [min(threads, batch * heads), steps, steps])
        headOutputs = Tensor(zeros: [rows, width])
        let (w, d, t) = (width, keyDim, steps)
        // Dropout's mask, drawn for every weight of the batch (padding's too), so the stream
        // advances alike whatever the lengths; the dropped weights go in a t×t per thread.
        let dropping = context.training && dropout > 0
        let keep = 1 / (1 - dropout), threshold = Double(dropout)
        dropMask = []  // the last pass's, freed before the next is drawn
        dropMask = dropping ? context.draws(for: self, samples: batch, perSample: heads * t * t) { generator in
            generator.nextUnitDouble() < threshold ? 0 : keep
        } : []
        var dropped = [Float](repeating: 0, count: dropping ? min(threads, batch * heads) * t * t : 0)
        let scale = 1 / Float(d).squareRoot()
        projections.scalars.withUnsafeBufferPointer { qkvBuffer in
            weights.scalars.withUnsafeMutableBufferPointer { aBuffer in
                headOutputs.scalars.withUnsafeMutableBufferPointer { oBuffer in
                  dropMask.withUnsafeBufferPointer { maskBuffer in
                    dropped.withUnsafeMutableBufferPointer { droppedBuffer in
                    let (qkv, a, o) = (SendablePointer(qkvBuffer.baseAddress!), SendablePointer(aBuffer.baseAddress!),
                                       SendablePointer(oBuffer.baseAddress!))
                    let (mask, droppedWeights) = (SendablePointer(maskBuffer.isEmpty ? nil : maskBuffer.baseAddress),
                                                  SendablePointer(droppedBuffer.isEmpty ? nil : droppedBuffer.baseAddress))
                    eachPair { n, head, pair, part in
                        let real = lengths[n]
                        guard real > 0 else { return }
                        let q = qkv.pointer + n * t * 3 * w + head * d, k = q + w, v = q + 2 * w
                        let weights = a.pointer + (kept ? pair : part) * t * t
                        pairBackend.multiply(MatrixProduct(transposeB: true, m: real, n: real, k: d, alpha: scale, a: q,
                                                           lda: 3 * w, b: k, ldb: 3 * w, beta: 0, c: weights, ldc: t), threads: 1)
                        softmaxRows(weights, real: real)
                        var used = UnsafePointer(weights)
                        if dropping, let mask = mask.pointer, let target = droppedWeights.pointer {
                            used = UnsafePointer(self.dropped(weights, mask: mask + pair * t * t, real: real, into: target + part * t * t))
                        }
                        pairBackend.multiply(MatrixProduct(m: real, n: d, k: real, a: used, lda: t, b: v, ldb: 3 * w, beta: 0,
                                                           c: o.pointer + n * t * w + head * d, ldc: w), threads: 1)
                    }
                    }
                  }
                }
            }
        }
        return Tensor(shape: input.shape) { y in
            headOutputs.scalars.withUnsafeBufferPointer { o in
                backend.affine(o.baseAddress!, rows: rows, kernel: outputKernel, bias: outputBias, into: y, threads: threads)
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let rows = batch * steps, (w, d, t) = (width, keyDim, steps)
        precondition(outputGradient.shape == [batch, steps, features], "\(name): gradient shape \(outputGradient.shape)")
        precondition(weights.shape.count == 4, "\(name): backward needs a training forward pass first")
        let scale = 1 / Float(d).squareRoot()
        // Through the output projection: dWo += Oᵀ·dY, dbo += Σ dY, dO = dY·Woᵀ.
        let headGradients = Tensor(shape: [rows, w]) { dO in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                headOutputs.scalars.withUnsafeBufferPointer { o in
                    backend.affineBackward(o.baseAddress!, dy.baseAddress!, rows: rows, kernel: outputKernel, bias: outputBias,
                                           inputGradient: dO, threads: threads)
                }
            }
        }
        // Through each head's attention, into d[Q K V]: each pair writes its own rows and columns,
        // its real steps only (padding rows stay zero).
        var projectionGradients = Tensor(zeros: [rows, 3 * w])
        // Per thread: the scores' gradient, and with dropout the dropped weights.
        var scratch = Tensor(zeros: [min(threads, batch * heads), dropMask.isEmpty ? 1 : 2, t, t])
        headGradients.scalars.withUnsafeBufferPointer { dOBuffer in
            projections.scalars.withUnsafeBufferPointer { qkvBuffer in
                weights.scalars.withUnsafeBufferPointer { aBuffer in
                    projectionGradients.scalars.withUnsafeMutableBufferPointer { dqkvBuffer in
                        scratch.scalars.withUnsafeMutableBufferPointer { scratchBuffer in
                            let dO = SendablePointer(dOBuffer.baseAddress!), qkv = SendablePointer(qkvBuffer.baseAddress!)
                            let a = SendablePointer(aBuffer.baseAddress!), dqkv = SendablePointer(dqkvBuffer.baseAddress!)
                            // Each part has its own scratch (written only by that part).
                            let dS = SendablePointer(scratchBuffer.baseAddress!)
                            dropMask.withUnsafeBufferPointer { maskBuffer in
                            // (An empty array may still have an address: no mask is nil here.)
                            let mask = SendablePointer(maskBuffer.isEmpty ? nil : maskBuffer.baseAddress)
                            eachPair { n, head, pair, part in
                                let real = lengths[n]
                                guard real > 0 else { return }
                                let offset = n * t * 3 * w + head * d
                                let (q, k, v) = (qkv.pointer + offset, qkv.pointer + offset + w, qkv.pointer + offset + 2 * w)
                                let (dq, dk, dv) = (dqkv.pointer + offset, dqkv.pointer + offset + w, dqkv.pointer + offset + 2 * w)
                                let weights = a.pointer + pair * t * t, dHead = dO.pointer + n * t * w + head * d
                                let gradient = dS.pointer + part * (mask.pointer == nil ? 1 : 2) * t * t
                                func multiply(_ product: MatrixProduct) { pairBackend.multiply(product, threads: 1) }
                                // With dropout O = (A ⊙ M)·V: dV = (A ⊙ M)ᵀ·dO, and dA = (dO·Vᵀ) ⊙ M.
                                let pairMask = mask.pointer.map { $0 + pair * t * t }
                                let used = pairMask.map { UnsafePointer(self.dropped(weights, mask: $0, real: real, into: gradient + t * t)) }
                                    ?? weights
                                multiply(MatrixProduct(transposeB: true, m: real, n: real, k: d, a: dHead, lda: w, b: v, ldb: 3 * w,
                                                       beta: 0, c: gradient, ldc: t))
                                multiply(MatrixProduct(transposeA: true, m: real, n: d, k: real, a: used, lda: t, b: dHead,
                                                       ldb: w, beta: 0, c: dv, ldc: 3 * w))
                                if let pairMask {
                                    for row in 0..<real {
                                        for j in 0..<real { gradient[row * t + j] *= pairMask[row * t + j] }
                                    }
                                }
                                // Through the softmax (masked keys have A = 0, so they get none), then the 1/√d.
                                for row in 0..<real {
                                    Softmax.backward(output: weights + row * t, outputGradient: gradient + row * t,
                                                     inputGradient: gradient + row * t, rows: 1, width: real)
                                }
                                multiply(MatrixProduct(m: real, n: d, k: real, alpha: scale, a: gradient, lda: t, b: k, ldb: 3 * w,
                                                       beta: 0, c: dq, ldc: 3 * w))
                                multiply(MatrixProduct(transposeA: true, m: real, n: d, k: real, alpha: scale, a: gradient, lda: t,
                                                       b: q, ldb: 3 * w, beta: 0, c: dk, ldc: 3 * w))
                            }
                            }
                        }
                    }
                }
            }
        }
        // Through the input projection: dW += Xᵀ·d[Q K V], db += Σ d[Q K V], dX = d[Q K V]·Wᵀ when asked.
        func inputBackward(into dx: UnsafeMutablePointer<Float>?) {
            projectionGradients.scalars.withUnsafeBufferPointer { dqkv in
                lastInput.scalars.withUnsafeBufferPointer { x in
                    backend.affineBackward(x.baseAddress!, dqkv.baseAddress!, rows: rows, kernel: kernel, bias: bias,
                                           inputGradient: dx, threads: threads)
                }
            }
        }
        guard needsInputGradient else {
            inputBackward(into: nil)
            return Tensor(zeros: [0])
        }
        return Tensor(shape: lastInput.shape) { inputBackward(into: $0) }
    }

    /// `[rows, 3·width]`: X · kernel + bias.
    private func project(_ input: Tensor, rows: Int) -> Tensor {
        Tensor(shape: [rows, 3 * width]) { qkv in
            input.scalars.withUnsafeBufferPointer { x in
                backend.affine(x.baseAddress!, rows: rows, kernel: kernel, bias: bias, into: qkv, threads: threads)
            }
        }
    }

    /// Calls `body(sample, head, pair index, part)` for every (sample, head) pair of the batch,
    /// the pairs split into parts over the layer's threads.
    private func eachPair(_ body: (Int, Int, Int, Int) -> Void) {
        let parts = Parallel.split(batch * heads, into: threads)
        Parallel.forEach(parts.count) { part in
            for pair in parts[part] { body(pair / heads, pair % heads, pair, part) }
        }
    }

    /// How many keys (a prefix) query `row` of a sample of `real` steps sees.
    @inline(__always) private func seenKeys(row: Int, real: Int) -> Int {
        causal ? min(row + 1, real) : real
    }

    /// Each of the first `real` rows of the scores (row stride `steps`) becomes the softmax over
    /// the keys it sees, zero for the other keys up to `real`.
    private func softmaxRows(_ scores: UnsafeMutablePointer<Float>, real: Int) {
        for row in 0..<real {
            let s = scores + row * steps, seen = seenKeys(row: row, real: real)
            Softmax.forward(s, s, rows: 1, width: seen)
            (s + seen).update(repeating: 0, count: real - seen)
        }
    }

    /// `weights ⊙ mask` over the first `real` rows and keys (row stride `steps`), into `target`.
    private func dropped(_ weights: UnsafePointer<Float>, mask: UnsafePointer<Float>, real: Int,
                         into target: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        for row in 0..<real {
            for j in 0..<real { target[row * steps + j] = weights[row * steps + j] * mask[row * steps + j] }
        }
        return target
    }
}

extension MultiHeadAttention: PyTorchConvertible {
    /// `SelfAttention`, an `nn.MultiheadAttention` (batch first) called as `mha(x, x, x)` that
    /// returns the output alone: in_proj_weight = kernelᵀ, out_proj.weight = outputKernelᵀ.
    /// PyTorch's heads are features ÷ heads wide; another key_dim has no equivalent.
    public func pyTorchModules() throws -> [PyTorchModule] {
        guard width == features else {
            throw ShapeError("\(name): PyTorch's nn.MultiheadAttention splits the \(features) features into its heads "
                             + "(key_dim × heads = features); this layer has \(heads) heads of \(keyDim)")
        }
        var tensors = [PyTorchTensor("in_proj_weight", kernel, layout: .transposed),
                       PyTorchTensor("out_proj.weight", outputKernel, layout: .transposed)]
        if let bias, let outputBias {
            tensors += [PyTorchTensor("in_proj_bias", bias), PyTorchTensor("out_proj.bias", outputBias)]
        }
        let options = (useBias ? "" : ", bias=False") + (causal ? ", causal=True" : "") + (dropout > 0 ? ", dropout=\(dropout)" : "")
        return [PyTorchModule("SelfAttention(\(features), \(heads)\(options))", tensors: tensors, helpers: ["SelfAttention": """
            class SelfAttention(nn.MultiheadAttention):
                \"\"\"nn.MultiheadAttention (batch first) on one sequence as query, key and value; causal: no step
                sees a later one. Returns the output alone.\"\"\"
                def __init__(self, embed_dim, num_heads, bias=True, causal=False, dropout=0.0):
                    super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)
                    self.causal = causal

                def forward(self, x):
                    mask = None
                    if self.causal:
                        steps = x.shape[1]
                        mask = torch.ones(steps, steps, dtype=torch.bool, device=x.device).triu(1)
                    return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]
            """])]
    }
}
