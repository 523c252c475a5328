/// A height and a width (Keras' `kernel_size`, `strides`, `dilation_rate`, `pool_size`): written
/// as one number for both, or as `[height, width]`; model specs also take `5x5`.
public struct Size2D: Codable, Sendable, Equatable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
    public init(_ both: Int) { self.init(both, both) }

    public init(from decoder: Decoder) throws {
        if let both = try? decoder.singleValueContainer().decode(Int.self) {
            self.init(both)
        } else {
            let pair = try decoder.singleValueContainer().decode([Int].self)
            guard pair.count == 2 else { throw ShapeError("a size is one number or [height, width], got \(pair)") }
            self.init(pair[0], pair[1])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([height, width])
    }

    public var description: String { "\(height)×\(width)" }
    var isPositive: Bool { height > 0 && width > 0 }
}

/// How a window meets the image's border (Keras' names): `valid` keeps the windows that fit,
/// `same` pads (zeros for convolutions; nothing counted for pooling) so that the output is the
/// input ÷ strides, rounded up, with the extra padding at the bottom and right, as Keras.
/// `causal` (sequences: ``Conv1D``, Keras' `padding="causal"`) pads the start only, by the
/// window's span less one, so that output step t sees input steps up to t and no later.
public enum Padding: String, Sendable, NamedSetting {
    case valid, same, causal
}

/// The settings of a pooling layer (``MaxPooling2D``, ``AveragePooling2D``), Keras' keys.
public struct PoolingConfiguration: Codable, Sendable, Equatable {
    public var poolSize: Size2D?
    public var strides: Size2D?
    public var padding: Padding?
    enum CodingKeys: String, CodingKey { case poolSize = "pool_size", strides, padding }

    /// The pool size (2×2 by default), strides and padding, checked for `layer`.
    func validated(for layer: String) throws -> (pool: Size2D, strides: Size2D?, padding: Padding) {
        let pool = poolSize ?? Size2D(2)
        guard pool.isPositive, strides?.isPositive ?? true else {
            throw ShapeError("\(layer) needs a positive pool size and strides, got \(pool), \(strides ?? pool)")
        }
        return (pool, strides, padding ?? .valid)
    }
}

/// A 1-D pooling layer's settings (Keras `MaxPooling1D`, `AveragePooling1D`): the window and
/// strides in steps (the window by default), and the padding.
public struct Pooling1DConfiguration: Codable, Sendable, Equatable {
    public var poolSize: Int?
    public var strides: Int?
    public var padding: Padding?
    enum CodingKeys: String, CodingKey { case poolSize = "pool_size", strides, padding }

    /// The same pooling of a one-row image (a 1×k window), checked for `layer`.
    func oneRow(for layer: String) throws -> (pool: Size2D, strides: Size2D?, padding: Padding) {
        let pool = poolSize ?? 2
        guard pool > 0, strides ?? 1 > 0 else {
            throw ShapeError("\(layer) needs a positive pool size and strides, got \(pool), \(strides ?? pool)")
        }
        guard padding != .causal else { throw ShapeError("\(layer): padding is valid or same (causal is for Conv1D)") }
        return (Size2D(1, pool), strides.map { Size2D(1, $0) }, padding ?? .valid)
    }

    /// Throws, in steps, when a `valid` window of `pool` steps does not fit `steps`.
    static func checkFits(pool: Int, padding: Padding, steps: Int, layer: String) throws {
        guard padding == .valid, pool > steps else { return }
        throw ShapeError("\(layer): a window of \(pool) steps does not fit sequences of \(steps) (padding valid; same pads them)")
    }
}

extension Tensor {
    /// `[N, steps, …]` as a one-row image `[N, 1, steps, …]` (adding) or back: the same values.
    /// The 1-D convolution and pooling layers run their 2-D layers this way.
    func withOneRowAxis(adding: Bool) -> Tensor {
        var shape = self.shape
        if adding { shape.insert(1, at: 1) } else { shape.remove(at: 1) }
        return Tensor(shape: shape, scalars: scalars)
    }
}

extension PyTorchModule {
    /// `module` (a 2-D layer's, channels last) on sequences `[N, L, C]` as one-row images.
    static func oneRow(_ module: PyTorchModule) -> PyTorchModule {
        var wrapped = PyTorchModule("OneRow(\(module.code))", helpers: ["OneRow": """
            class OneRow(nn.Module):
                \"\"\"A channels-last 2-D module on sequences [N, L, C], as one-row images [N, 1, L, C].\"\"\"
                def __init__(self, module):
                    super().__init__()
                    self.module = module

                def forward(self, x):
                    return self.module(x.unsqueeze(1)).squeeze(1)
            """])
        wrapped.include(module, under: "module.")
        return wrapped
    }
}

/// Where a window (a convolution's kernel, a pooling window) falls on `[height, width, channels]`
/// images, channels last: output size, padding, and the moves between images and patch rows.
struct ConvolutionGeometry: Equatable {
    let inputHeight: Int, inputWidth: Int, channels: Int
    let window: Size2D, strides: Size2D, dilation: Size2D
    let outputHeight: Int, outputWidth: Int
    let padTop: Int, padLeft: Int
    /// The padding after the image (Keras puts the odd row and column there).
    let padBottom: Int, padRight: Int
    /// PyTorch's `F.pad` order for the last two axes: (left, right, top, bottom).
    var pyTorchPads: String { "(\(padLeft), \(padRight), \(padTop), \(padBottom))" }

    /// Throws ``ShapeError`` naming `layer` when the window does not fit or a size is not positive.
    init(input shape: [Int], window: Size2D, strides: Size2D, dilation: Size2D = Size2D(1), padding: Padding,
         layer: String) throws {
        guard shape.count == 3 || shape.count == 2, shape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(layer) needs images [height, width, channels] (or [height, width]), got \(shape)")
        }
        guard window.isPositive, strides.isPositive, dilation.isPositive else {
            throw ShapeError("\(layer): window \(window), strides \(strides) and dilation \(dilation) must be positive")
        }
        // Far beyond any image: bounded so that the sizes below cannot overflow.
        let limit = 1 << 20
        guard [window, strides, dilation].allSatisfy({ $0.height <= limit && $0.width <= limit }) else {
            throw ShapeError("\(layer): window \(window), strides \(strides) and dilation \(dilation) must be at most \(limit)")
        }
        (inputHeight, inputWidth, channels) = (shape[0], shape[1], shape.count == 3 ? shape[2] : 1)
        (self.window, self.strides, self.dilation) = (window, strides, dilation)
        let spanHeight = (window.height - 1) * dilation.height + 1, spanWidth = (window.width - 1) * dilation.width + 1
        switch padding {
        case .valid:
            guard spanHeight <= inputHeight, spanWidth <= inputWidth else {
                throw ShapeError("\(layer): a \(spanHeight)×\(spanWidth) window does not fit \(inputHeight)×\(inputWidth) "
                                 + "images (padding valid; same pads them)")
            }
            outputHeight = (inputHeight - spanHeight) / strides.height + 1
            outputWidth = (inputWidth - spanWidth) / strides.width + 1
            (padTop, padLeft, padBottom, padRight) = (0, 0, 0, 0)
        case .same:
            outputHeight = (inputHeight - 1) / strides.height + 1  // ⌈input / strides⌉
            outputWidth = (inputWidth - 1) / strides.width + 1
            let padHeight = max((outputHeight - 1) * strides.height + spanHeight - inputHeight, 0)
            let padWidth = max((outputWidth - 1) * strides.width + spanWidth - inputWidth, 0)
            (padTop, padLeft) = (padHeight / 2, padWidth / 2)
            (padBottom, padRight) = (padHeight - padTop, padWidth - padLeft)
        case .causal:
            guard inputHeight == 1, window.height == 1 else {
                throw ShapeError("\(layer): causal padding is for sequences (Conv1D), not \(inputHeight)×\(inputWidth) images")
            }
            outputHeight = 1
            outputWidth = (inputWidth - 1) / strides.width + 1
            (padTop, padLeft, padBottom, padRight) = (0, spanWidth - 1, 0, 0)
        }
    }

    /// Throws, as too large, an image of more values than 32-bit indices reach (the GPU kernels
    /// index one image so; far beyond any memory): a layer that enlarges images checks its output.
    static func requireImageFits(_ height: Int, _ width: Int, _ channels: Int, layer: String) throws {
        guard saturatingProduct(height, width, channels) <= Int(Int32.max) else {
            throw ShapeError("\(layer): \(height)×\(width)×\(channels) outputs per image are more than "
                             + "\(Int32.max) values", isTooLarge: true)
        }
    }

    var inputSize: Int { inputHeight * inputWidth * channels }
    var outputPositions: Int { outputHeight * outputWidth }
    /// Values in one patch row: the window's taps × channels (Keras' kernel layout, flattened).
    var patchSize: Int { window.height * window.width * channels }
    var outputShape: [Int] { [outputHeight, outputWidth] }

    /// The input row and column of tap (ki, kj) of output (oh, ow), possibly outside the image.
    @inline(__always) func inputRow(_ oh: Int, _ ki: Int) -> Int { oh * strides.height - padTop + ki * dilation.height }
    @inline(__always) func inputColumn(_ ow: Int, _ kj: Int) -> Int { ow * strides.width - padLeft + kj * dilation.width }

    /// The taps `ki` of output row `oh`'s window that fall inside the image (a `same` window
    /// larger than the image visits only these, not every tap of its span).
    func tapsInside(row oh: Int) -> Range<Int> {
        Self.inside(start: oh * strides.height - padTop, step: dilation.height, taps: window.height, size: inputHeight)
    }
    func tapsInside(column ow: Int) -> Range<Int> {
        Self.inside(start: ow * strides.width - padLeft, step: dilation.width, taps: window.width, size: inputWidth)
    }
    /// Taps k of `start + k·step` within 0..<size, k in 0..<taps.
    private static func inside(start: Int, step: Int, taps: Int, size: Int) -> Range<Int> {
        let first = start >= 0 ? 0 : (-start + step - 1) / step
        let last = min(taps, start >= size ? 0 : (size - 1 - start) / step + 1)
        return first < last ? first..<last : 0..<0
    }

    /// Patch rows of `samples` (im2col): row (n, oh, ow) holds the window's taps in order, each
    /// its `channels` values (zeros outside the image). `x` and `patches` start at sample 0.
    /// Without dilation a window row's taps are adjacent in the image: one copy each where the row
    /// lies inside it.
    func gatherPatches(_ x: UnsafePointer<Float>, samples: Range<Int>, into patches: UnsafeMutablePointer<Float>) {
        let c = channels, rowLength = window.width * c, contiguous = dilation.width == 1
        for n in samples {
            let image = x + n * inputSize
            for oh in 0..<outputHeight {
                for ow in 0..<outputWidth {
                    var row = patches + ((n * outputHeight + oh) * outputWidth + ow) * patchSize
                    let firstColumn = inputColumn(ow, 0), lastColumn = inputColumn(ow, window.width - 1)
                    let inside = firstColumn >= 0 && lastColumn < inputWidth
                    for ki in 0..<window.height {
                        let ih = inputRow(oh, ki)
                        if ih < 0 || ih >= inputHeight {
                            Self.fill(row, 0, rowLength)
                        } else if contiguous && inside {
                            Self.copy(image + (ih * inputWidth + firstColumn) * c, row, rowLength)
                        } else {
                            for kj in 0..<window.width {
                                let iw = inputColumn(ow, kj)
                                if iw >= 0 && iw < inputWidth {
                                    Self.copy(image + (ih * inputWidth + iw) * c, row + kj * c, c)
                                } else {
                                    Self.fill(row + kj * c, 0, c)
                                }
                            }
                        }
                        row += rowLength
                    }
                }
            }
        }
    }

    /// The inverse move for gradients (col2im): adds each patch row's values back onto the input
    /// positions they came from. `dx` of `samples` must be zeroed first.
    func scatterPatches(_ patches: UnsafePointer<Float>, samples: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let c = channels, rowLength = window.width * c, contiguous = dilation.width == 1
        for n in samples {
            let image = dx + n * inputSize
            for oh in 0..<outputHeight {
                for ow in 0..<outputWidth {
                    var row = patches + ((n * outputHeight + oh) * outputWidth + ow) * patchSize
                    let firstColumn = inputColumn(ow, 0), lastColumn = inputColumn(ow, window.width - 1)
                    let inside = firstColumn >= 0 && lastColumn < inputWidth
                    for ki in 0..<window.height {
                        let ih = inputRow(oh, ki)
                        if ih >= 0 && ih < inputHeight {
                            if contiguous && inside {
                                Self.add(row, image + (ih * inputWidth + firstColumn) * c, rowLength)
                            } else {
                                for kj in 0..<window.width {
                                    let iw = inputColumn(ow, kj)
                                    if iw >= 0 && iw < inputWidth { Self.add(row + kj * c, image + (ih * inputWidth + iw) * c, c) }
                                }
                            }
                        }
                        row += rowLength
                    }
                }
            }
        }
    }

    // Plain loops: the runs are short (a window row), where a library call costs more than the copy.
    @inline(__always) static func copy(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int) {
        for k in 0..<count { target[k] = source[k] }
    }
    @inline(__always) static func fill(_ target: UnsafeMutablePointer<Float>, _ value: Float, _ count: Int) {
        for k in 0..<count { target[k] = value }
    }
    @inline(__always) static func add(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int) {
        for k in 0..<count { target[k] += source[k] }
    }
}
