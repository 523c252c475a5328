import Foundation

/// Writes arrays as NumPy `.npy` files (format 1.0, little-endian, C order), atomically: what
/// `np.load` reads, for data made here and used elsewhere (a PyTorch script, a notebook).
public enum NumPyWriter {
    /// `values` as a float32 array of `shape`.
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values are not an array of \(shape)")
        var body = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        try AtomicFile.write(header(dtype: "<f4", shape: shape) + body, to: path)
    }

    /// `values` as an int64 array of `shape`.
    public static func write(_ values: [Int], shape: [Int], to path: String) throws {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values are not an array of \(shape)")
        var body = Data(capacity: values.count * 8)
        for value in values { withUnsafeBytes(of: Int64(value).littleEndian) { body.append(contentsOf: $0) } }
        try AtomicFile.write(header(dtype: "<i8", shape: shape) + body, to: path)
    }

    /// The magic string, version 1.0, and the dictionary padded with spaces so that the data
    /// starts at a multiple of 64 bytes, ending in a newline.
    static func header(dtype: String, shape: [Int]) -> Data {
        let dimensions = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dictionary = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(dimensions), }"
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dictionary.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dictionary.utf8))
        return data
    }
}
