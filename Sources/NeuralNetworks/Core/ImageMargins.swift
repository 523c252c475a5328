/// Rows and columns added around channels-last images, or cut from them (Keras' `padding` of
/// `ZeroPadding2D`, `cropping` of `Cropping2D`): written as one number for every side,
/// `[height, width]` for symmetric margins, or `[[top, bottom], [left, right]]`.
public struct ImageMargins: Codable, Sendable, Equatable, CustomStringConvertible {
    public var top, bottom, left, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }
    public init(height: Int, width: Int) { self.init(top: height, bottom: height, left: width, right: width) }
    public init(_ every: Int) { self.init(height: every, width: every) }

    public init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let every = try? value.decode(Int.self) {
            self.init(every)
        } else if let pair = try? value.decode([Int].self) {
            guard pair.count == 2 else { throw ShapeError("margins are one number, [height, width] or [[top, bottom], [left, right]], got \(pair)") }
            self.init(height: pair[0], width: pair[1])
        } else {
            let sides = try value.decode([[Int]].self)
            guard sides.count == 2, sides.allSatisfy({ $0.count == 2 }) else {
                throw ShapeError("margins are one number, [height, width] or [[top, bottom], [left, right]], got \(sides)")
            }
            self.init(top: sides[0][0], bottom: sides[0][1], left: sides[1][0], right: sides[1][1])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([[top, bottom], [left, right]])
    }

    public var description: String { "[[\(top), \(bottom)], [\(left), \(right)]]" }
    /// Every side at least 0 and at most `limit` (far beyond any image: sizes cannot overflow).
    func isValid(limit: Int = 1 << 20) -> Bool { [top, bottom, left, right].allSatisfy { (0...limit).contains($0) } }
    /// PyTorch's `F.pad` order for the width and height axes of channels-last images.
    var pyTorchPads: String { "(0, 0, \(left), \(right), \(top), \(bottom))" }

    /// A move of images from one size to another, and its backward pass (the move back), for
    /// ``ZeroPadding2D`` (down and right by the top and left margins) and ``Cropping2D`` (up and
    /// left by them).
    struct Move {
        let from: (Int, Int), to: (Int, Int), channels: Int, down: Int, right: Int

        /// The move back: a padding's is a cropping, and the other way (each one's backward pass).
        var reversed: Move { Move(from: to, to: from, channels: channels, down: -down, right: -right) }

        /// `[batch, to.0, to.1, channels]` from `[batch, from…]`.
        func forward(_ x: Tensor) -> Tensor {
            let batch = x.shape[0]
            return Tensor(shape: [batch, to.0, to.1, channels]) { y in
                x.scalars.withUnsafeBufferPointer { x in
                    ImageMargins.shift(x.baseAddress!, batch: batch, from: from, to: to, channels: channels, down: down,
                                       right: right, into: y)
                }
            }
        }

        /// The input's gradient, `[batch] + inputShape`, from the output's.
        func backward(_ dy: Tensor, inputShape: [Int]) -> Tensor {
            Tensor(shape: [dy.shape[0]] + inputShape, scalars: reversed.forward(dy).scalars)
        }
    }

    /// Places `batch` images of `from` (height, width) × `channels` into images of `to`, moved down
    /// by `down` rows and right by `right` columns (negative: up, left), zeros where nothing lands:
    /// zero padding with the margins' top and left, cropping with minus them, and each one's
    /// backward with the other's.
    static func shift(_ x: UnsafePointer<Float>, batch: Int, from: (Int, Int), to: (Int, Int), channels: Int,
                      down: Int, right: Int, into y: UnsafeMutablePointer<Float>) {
        let (inHeight, inWidth) = from, (outHeight, outWidth) = to
        // Output columns [first, last) take input columns first − right …
        let first = max(right, 0), last = min(inWidth + right, outWidth)
        for n in 0..<batch {
            for oh in 0..<outHeight {
                let target = y + (n * outHeight + oh) * outWidth * channels
                let ih = oh - down
                guard ih >= 0, ih < inHeight, first < last else {
                    target.update(repeating: 0, count: outWidth * channels)
                    continue
                }
                target.update(repeating: 0, count: first * channels)
                (target + first * channels).update(from: x + ((n * inHeight + ih) * inWidth + first - right) * channels,
                                                   count: (last - first) * channels)
                (target + last * channels).update(repeating: 0, count: (outWidth - last) * channels)
            }
        }
    }
}

/// Steps added before and after sequences, or cut from them (Keras' `padding` of
/// `ZeroPadding1D`, `cropping` of `Cropping1D`): one number for both ends, or `[start, end]`.
public struct SequenceMargins: Codable, Sendable, Equatable, CustomStringConvertible {
    public var start, end: Int

    public init(start: Int, end: Int) { (self.start, self.end) = (start, end) }
    public init(_ both: Int) { self.init(start: both, end: both) }

    public init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let both = try? value.decode(Int.self) {
            self.init(both)
        } else {
            let pair = try value.decode([Int].self)
            guard pair.count == 2 else { throw ShapeError("margins are one number or [start, end], got \(pair)") }
            self.init(start: pair[0], end: pair[1])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([start, end])
    }

    public var description: String { "[\(start), \(end)]" }
    /// The same margins on one-row images: none above or below.
    var oneRow: ImageMargins { ImageMargins(top: 0, bottom: 0, left: start, right: end) }
}
