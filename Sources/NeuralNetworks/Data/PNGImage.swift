import CPNG
import Foundation

/// PNG images through libpng's simplified API: any bit depth, palette, grey or colour, with or
/// without alpha. Colour becomes grey with the same luminance weights as ``NetpbmImage``, and
/// transparent pixels are composited over black (the background of MNIST-style images).
public enum PNGImage {
    public static func isPNG(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    public static func read(path: String) throws -> GreyImage {
        let data = try InputFile.read(path) { ImageError(file: path, "cannot read the file: \($0)") }
        return try decode([UInt8](data), file: path)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> GreyImage {
        guard isPNG(bytes) else { throw ImageError(file: file, "not a PNG image") }
        var image = png_image()
        image.version = png_uint_32(nn_png_image_version)
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw ImageError(file: file, "corrupt PNG (\(message(image)))") }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= NetpbmImage.pixelLimit else {
            throw ImageError(file: file, "\(width)×\(height) pixels is more than the limit of \(NetpbmImage.pixelLimit)")
        }
        image.format = png_uint_32(nn_png_format_rgba)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw ImageError(file: file, "corrupt PNG (\(message(image)))") }
        let grey = (0..<(width * height)).map { p -> Float in
            let luminance = 0.299 * Float(rgba[4 * p]) + 0.587 * Float(rgba[4 * p + 1]) + 0.114 * Float(rgba[4 * p + 2])
            return luminance * Float(rgba[4 * p + 3]) / (255 * 255)
        }
        return GreyImage(width: width, height: height, pixels: grey)
    }

    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
