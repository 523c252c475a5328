import CPNGDecode
import Foundation

/// PNG images as stored: any bit depth (1–16), palette, grey or colour, with or without alpha,
/// interlaced or not, read through libpng's low-level API without colour-space conversion, so a
/// 16-bit or gAMA-tagged copy of a picture gives the same values as its plain 8-bit copy (the
/// simplified API converted such files to sRGB). Colour becomes grey with the same luminance
/// weights as ``NetpbmImage``; transparent pixels are composited over black (the background of
/// MNIST-style images).
public enum PNGImage {
    public static func isPNG(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    public static func read(path: String) throws -> GreyImage {
        let data = try InputFile.read(path) { ImageError(file: path, "cannot read the file: \($0)") }
        return try decode([UInt8](data), file: path)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> GreyImage {
        let image = try decode(bytes, file: file, channels: 1)
        return GreyImage(width: image.width, height: image.height, pixels: image.pixels)
    }

    /// Pixels in [0, 1], `channels` (1: grey by luminance; 3: RGB, grey replicated) per pixel, row-major.
    public static func decode(_ bytes: [UInt8], file: String, channels: Int) throws -> (width: Int, height: Int, pixels: [Float]) {
        precondition(channels == 1 || channels == 3, "PNG pixels come as 1 or 3 channels")
        guard isPNG(bytes) else { throw ImageError(file: file, "not a PNG image") }
        var message = [CChar](repeating: 0, count: 256)
        var width: Int32 = 0, height: Int32 = 0
        func check(_ status: Int32) throws {
            if status == -2 {
                throw ImageError(file: file, "\(width)×\(height) pixels is more than the limit of \(NetpbmImage.pixelLimit)")
            }
            if status != 0 {
                let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw ImageError(file: file, "corrupt PNG (\(text))")
            }
        }
        let limit = NetpbmImage.pixelLimit
        var colour: Int32 = 0
        try check(bytes.withUnsafeBufferPointer {
            nn_png_decode($0.baseAddress, $0.count, nil, Int32(channels), limit, &width, &height, &colour, &message)
        })
        guard width > 0, height > 0 else { throw ImageError(file: file, "\(width)×\(height) pixels: an image needs at least one") }
        var pixels = [Float](repeating: 0, count: Int(width) * Int(height) * channels)
        try check(bytes.withUnsafeBufferPointer { data in
            pixels.withUnsafeMutableBufferPointer {
                nn_png_decode(data.baseAddress, data.count, $0.baseAddress, Int32(channels), limit, &width, &height,
                              &colour, &message)
            }
        })
        return (Int(width), Int(height), pixels)
    }
}
