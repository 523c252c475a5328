import Foundation

/// Writes arrays as NumPy `.npy` files (format 1.0, little-endian, C order), atomically: what
/// `np.load` reads, for data made here and used elsewhere (a PyTorch script, a notebook).
public enum NumPyWriter {
    /// `values` as a float32 array of `shape`.
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values are not an array of \(shape)")
        try AtomicFile.write(to: path) { append in
            try header(dtype: "<f4", shape: shape).withUnsafeBytes { try append($0) }
            try appendLittleEndian(values.map(\.bitPattern), to: append)
        }
    }

    /// A float32 array of `shape` made `rowsPerPart` rows at a time (rows: along the first axis):
    /// `part(range)` gives the values of those rows. Only one part is in memory at a time.
    public static func write(shape: [Int], to path: String, rowsPerPart: Int,
                             _ part: (Range<Int>) throws -> [Float]) throws {
        precondition(!shape.isEmpty && rowsPerPart > 0, "parts of rows of an array with a first axis")
        let rowSize = shape.dropFirst().reduce(1, *)
        try AtomicFile.write(to: path) { append in
            try header(dtype: "<f4", shape: shape).withUnsafeBytes { try append($0) }
            for start in stride(from: 0, to: shape[0], by: rowsPerPart) {
                let rows = start..<min(start + rowsPerPart, shape[0])
                let values = try part(rows)
                precondition(values.count == rows.count * rowSize, "\(values.count) values are not rows \(rows) of \(shape)")
                try appendLittleEndian(values.map(\.bitPattern), to: append)
            }
        }
    }

    /// `values` as an int64 array of `shape`.
    public static func write(_ values: [Int], shape: [Int], to path: String) throws {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values are not an array of \(shape)")
        try AtomicFile.write(to: path) { append in
            try header(dtype: "<i8", shape: shape).withUnsafeBytes { try append($0) }
            try appendLittleEndian(values.map { Int64($0) }, to: append)
        }
    }

    /// `values`' bytes, little-endian (the files' order on any machine), through `append`.
    private static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T],
                                                                 to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        try values.map(\.littleEndian).withUnsafeBytes { try append($0) }
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
