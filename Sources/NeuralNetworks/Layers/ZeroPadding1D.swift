/// Zero steps before and after sequences (Keras `ZeroPadding1D`; PyTorch's `F.pad` of `[N, C, L]`):
/// inputs `[steps, features]`, outputs `[start + steps + end, features]`; backward, the
/// gradient's middle. Before a `valid` 1-D convolution. It is a ``ZeroPadding2D`` of one-row
/// images, sharing its passes and GPU form; it changes what a step is: padded sequences are refused.
public final class ZeroPadding1D: OneRowLayer {
    public static let typeName = "ZeroPadding1D"
    public static let positionalKeys = ["padding"]
    public static let specAliases = ["zeropad1d", "pad1d"]
    public let images: ZeroPadding2D
    public let padding: SequenceMargins

    public init(padding: SequenceMargins = SequenceMargins(1)) {
        self.padding = padding
        images = ZeroPadding2D(padding: padding.oneRow)
        images.name = "zero_padding1d"
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var padding: SequenceMargins?
    }
    public var configuration: Configuration { Configuration(padding: padding) }
    public convenience init(configuration c: Configuration) throws {
        let margins = c.padding ?? SequenceMargins(1)
        guard margins.oneRow.isValid() else { throw ShapeError("ZeroPadding1D: padding \(margins) must be in 0...\(1 << 20)") }
        self.init(padding: margins)
    }
}
