/// The largest value of each window, channel by channel (Keras `MaxPooling2D`, PyTorch's
/// `nn.MaxPool2d` on channels-last images): inputs `[height, width, channels]` (or `[height,
/// width]`), windows `poolSize` moved by `strides` (the pool size by default); with `same`
/// padding the windows at the border hold fewer values (none padded in). Backward, each output's
/// gradient goes to the input value that was largest (the first of equals, as PyTorch).
public final class MaxPooling2D: ThreadedLayer {
    public static let typeName = "MaxPooling2D"
    public static let positionalKeys = ["pool_size", "strides"]
    public static let specAliases = ["maxpool"]
    public static let specKeyAliases = ["stride": "strides"]
    public var name = "max_pooling2d"
    public let poolSize: Size2D
    public let strides: Size2D
    public let padding: Padding
    public var needsInputGradient = true
    /// Threads the pass uses, each on its own samples.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    private var geometry: ConvolutionGeometry!
    private var inputShape: [Int] = []
    private var batch = 0
    private var largest: [Int32] = []  // per output value, the index of the input value it took

    public init(poolSize: Size2D = Size2D(2), strides: Size2D? = nil, padding: Padding = .valid) {
        precondition(poolSize.isPositive && (strides?.isPositive ?? true), "MaxPooling2D needs positive sizes")
        (self.poolSize, self.strides, self.padding) = (poolSize, strides ?? poolSize, padding)
    }

    public var configuration: PoolingConfiguration { PoolingConfiguration(poolSize: poolSize, strides: strides, padding: padding) }

    public convenience init(configuration c: PoolingConfiguration) throws {
        let (pool, strides, padding) = try c.validated(for: Self.typeName)
        self.init(poolSize: pool, strides: strides, padding: padding)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        geometry = try ConvolutionGeometry(input: inputShape, window: poolSize, strides: strides, padding: padding, layer: name)
        self.inputShape = inputShape
        return geometry.outputShape + (inputShape.count == 3 ? [geometry.channels] : [])
    }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        batchSize * geometry.outputPositions * geometry.channels  // the indices, as wide as floats
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        batch = input.shape[0]
        let g = geometry!, c = g.channels
        let outputCount = batch * g.outputPositions * c
        if largest.count < outputCount { largest = [Int32](repeating: 0, count: outputCount) }
        return Tensor(shape: [batch] + g.outputShape + (inputShape.count == 3 ? [c] : [])) { y in
            input.scalars.withUnsafeBufferPointer { x in
                largest.withUnsafeMutableBufferPointer { index in
                    let (source, target, indices) = (SendablePointer(x.baseAddress!), SendablePointer(y),
                                                     SendablePointer(index.baseAddress!))
                    let parts = Parallel.split(batch, into: threads)
                    Parallel.forEach(parts.count) { part in
                        Self.pool(g, source.pointer, samples: parts[part], into: target.pointer, indices: indices.pointer)
                    }
                }
            }
        }
    }

    private static let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

    /// Each window's largest value per channel (the first of equals) and where it was.
    private static func pool(_ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, samples: Range<Int>,
                             into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        let c = g.channels
        for n in samples {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    let out = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                    let best = y + out, index = indices + out
                    var first = true
                    for ki in g.tapsInside(row: oh) {
                        let ih = g.inputRow(oh, ki)
                        for kj in g.tapsInside(column: ow) {
                            let iw = g.inputColumn(ow, kj)
                            let at = n * g.inputSize + (ih * g.inputWidth + iw) * c
                            if first {
                                for k in 0..<c { (best[k], index[k]) = (x[at + k], Int32(at + k)) }
                                first = false
                                continue
                            }
                            // Eight channels at a time: compare, then keep the larger value and its index.
                            var k = 0
                            while k + 8 <= c {
                                let value = UnsafeRawPointer(x + at + k).loadUnaligned(as: SIMD8<Float>.self)
                                var top = UnsafeRawPointer(best + k).loadUnaligned(as: SIMD8<Float>.self)
                                var where_ = UnsafeRawPointer(index + k).loadUnaligned(as: SIMD8<Int32>.self)
                                let larger = value .> top
                                top.replace(with: value, where: larger)
                                where_.replace(with: SIMD8<Int32>(repeating: Int32(at + k)) &+ Self.lanes,
                                               where: larger)
                                UnsafeMutableRawPointer(best + k).storeBytes(of: top, as: SIMD8<Float>.self)
                                UnsafeMutableRawPointer(index + k).storeBytes(of: where_, as: SIMD8<Int32>.self)
                                k += 8
                            }
                            for k in k..<c where x[at + k] > best[k] { (best[k], index[k]) = (x[at + k], Int32(at + k)) }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        var inputGradient = Tensor(zeros: [batch] + inputShape)
        inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                for k in 0..<dy.count { dx[Int(largest[k])] += dy[k] }
            }
        }
        return inputGradient
    }
}

extension MaxPooling2D: PyTorchConvertible {
    /// `KerasMaxPool2d`: `nn.MaxPool2d` on channels-last images, padded with −∞ as Keras' `same`.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let g = geometry!
        return [PyTorchModule("KerasMaxPool2d((\(poolSize.height), \(poolSize.width)), (\(strides.height), \(strides.width)), "
                              + "\(g.pyTorchPads))", helpers: ["KerasMaxPool2d": """
            class KerasMaxPool2d(nn.MaxPool2d):
                \"\"\"nn.MaxPool2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), padded
                with -inf as (left, right, top, bottom) for Keras' "same".\"\"\"
                def __init__(self, kernel_size, stride, pads):
                    super().__init__(kernel_size, stride=stride)
                    self.pads = pads

                def forward(self, x):
                    grey = x.dim() == 3
                    x = x.unsqueeze(-1) if grey else x
                    x = nn.functional.pad(x.permute(0, 3, 1, 2), self.pads, value=float("-inf"))
                    y = super().forward(x).permute(0, 2, 3, 1)
                    return y.squeeze(-1) if grey else y
            """])]
    }
}
