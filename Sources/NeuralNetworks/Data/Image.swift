import Foundation

/// A greyscale image with pixels in [0, 1], row-major.
public struct GreyImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Bilinear resampling to `width` × `height` (pixel centres aligned, as most image libraries do).
    public func resized(width newWidth: Int, height newHeight: Int) -> GreyImage {
        if newWidth == width && newHeight == height { return self }
        return GreyImage(width: newWidth, height: newHeight,
                         pixels: Self.resample(pixels, width: width, height: height, channels: 1,
                                               toWidth: newWidth, height: newHeight))
    }

    /// Bilinear resampling of row-major pixels with `channels` values each (interleaved).
    public static func resample(_ pixels: [Float], width: Int, height: Int, channels: Int,
                                toWidth newWidth: Int, height newHeight: Int) -> [Float] {
        if newWidth == width && newHeight == height { return pixels }
        var out = [Float](repeating: 0, count: newWidth * newHeight * channels)
        let sx = Float(width) / Float(newWidth), sy = Float(height) / Float(newHeight)
        for y in 0..<newHeight {
            let fy = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(height - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, height - 1), wy = fy - Float(y0)
            for x in 0..<newWidth {
                let fx = min(max((Float(x) + 0.5) * sx - 0.5, 0), Float(width - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, width - 1), wx = fx - Float(x0)
                for c in 0..<channels {
                    func at(_ row: Int, _ column: Int) -> Float { pixels[(row * width + column) * channels + c] }
                    let top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
                    let bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
                    out[(y * newWidth + x) * channels + c] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return out
    }
}

/// What is wrong with an image file.
public struct ImageError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(file: String, _ problem: String) { description = "\(file): \(problem)" }
}

/// Netpbm images: PGM (P2, P5) and PPM (P3, P6), 8 or 16 bits; colour becomes grey by luminance
/// (0.299 R + 0.587 G + 0.114 B).
public enum NetpbmImage {
    /// The largest image accepted (pixels), checked before anything of that size is allocated.
    public static let pixelLimit = 1 << 26

    public static func read(path: String) throws -> GreyImage {
        let data = try InputFile.read(path) { ImageError(file: path, "cannot read the file: \($0)") }
        return try decode([UInt8](data), file: path)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> GreyImage {
        var position = 0
        func token() throws -> String {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 10 { position += 1 }
                } else if [9, 10, 13, 32].contains(bytes[position]) {
                    position += 1
                } else { break }
            }
            let start = position
            while position < bytes.count && ![9, 10, 13, 32, UInt8(ascii: "#")].contains(bytes[position]) { position += 1 }
            guard position > start else { throw ImageError(file: file, "truncated header") }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }
        func number(_ what: String) throws -> Int {
            let text = try token()
            guard let value = Int(text), value >= 0 else { throw ImageError(file: file, "\(what) is not a number: \(text)") }
            return value
        }
        let magic = try token()
        guard ["P2", "P3", "P5", "P6"].contains(magic) else {
            throw ImageError(file: file, "not a PGM/PPM image (magic \(magic.prefix(2)))")
        }
        let width = try number("width"), height = try number("height"), maximum = try number("maximum value")
        guard width > 0, height > 0, (1...65535).contains(maximum) else {
            throw ImageError(file: file, "bad size \(width)×\(height) or maximum \(maximum)")
        }
        guard width.multipliedReportingOverflow(by: height).partialValue <= pixelLimit,
              !width.multipliedReportingOverflow(by: height).overflow else {
            throw ImageError(file: file, "\(width)×\(height) pixels is more than the limit of \(pixelLimit)")
        }
        let channels = (magic == "P3" || magic == "P6") ? 3 : 1
        let count = width * height * channels
        var samples = [Float]()
        if magic == "P2" || magic == "P3" {
            samples.reserveCapacity(count)
            for _ in 0..<count { samples.append(Float(try number("pixel"))) }
        } else {
            position += 1  // the single whitespace after the maximum
            let size = maximum < 256 ? 1 : 2
            guard bytes.count - position >= count * size else {
                throw ImageError(file: file, "truncated: \(count * size) bytes of pixels needed, \(max(0, bytes.count - position)) present")
            }
            samples = (0..<count).map { k in
                size == 1 ? Float(bytes[position + k]) : Float(Int(bytes[position + 2 * k]) << 8 | Int(bytes[position + 2 * k + 1]))
            }
        }
        guard samples.allSatisfy({ $0 <= Float(maximum) }) else { throw ImageError(file: file, "a pixel exceeds the maximum \(maximum)") }
        let maximumValue = Float(maximum)
        let grey: [Float] = channels == 1 ? samples.map { $0 / maximumValue } : (0..<(width * height)).map { p in
            (0.299 * samples[3 * p] + 0.587 * samples[3 * p + 1] + 0.114 * samples[3 * p + 2]) / maximumValue
        }
        return GreyImage(width: width, height: height, pixels: grey)
    }
}
