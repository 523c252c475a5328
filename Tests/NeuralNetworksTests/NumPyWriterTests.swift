import Foundation
import Testing
@testable import NeuralNetworks

struct NumPyWriterTests {
    @Test func writtenArraysReadBackWithTheirShapesAndValues() throws {
        let folder = try TrainCommandTests.folder()
        let floats = (folder as NSString).appendingPathComponent("x.npy")
        let values: [Float] = [0, -1.5, 3.25, .greatestFiniteMagnitude, 1e-30, 7]
        try NumPyWriter.write(values, shape: [2, 3], to: floats)
        let x = try NumPyArray(path: floats)
        #expect(x.shape == [2, 3] && x.count == 2 && x.sampleShape == [3])
        #expect(try x.tensor([0, 1]).scalars == values)
        let integers = (folder as NSString).appendingPathComponent("y.npy")
        try NumPyWriter.write([4, -1, 1 << 40], shape: [3], to: integers)
        #expect(try NumPyArray(path: integers).integers() == [4, -1, 1 << 40])
    }

    /// An array written in parts (as `nn lines` writes millions of lines) is the array written
    /// at once; a part that fails leaves the previous file as it was and no temporary file.
    @Test func anArrayWrittenInPartsIsTheWholeArray() throws {
        let folder = try TrainCommandTests.folder()
        let whole = (folder as NSString).appendingPathComponent("whole.npy"), parts = (folder as NSString).appendingPathComponent("parts.npy")
        let values = (0..<(7 * 2 * 3)).map { Float($0) / 4 }
        try NumPyWriter.write(values, shape: [7, 2, 3], to: whole)
        try NumPyWriter.write(shape: [7, 2, 3], to: parts, rowsPerPart: 3) { rows in Array(values[(rows.lowerBound * 6)..<(rows.upperBound * 6)]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: parts)) == Data(contentsOf: URL(fileURLWithPath: whole)))
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try NumPyWriter.write(shape: [7, 2, 3], to: parts, rowsPerPart: 3) { rows in
                if rows.lowerBound > 0 { throw Stop() }
                return Array(repeating: 0, count: rows.count * 6)
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: parts)) == Data(contentsOf: URL(fileURLWithPath: whole)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["parts.npy", "whole.npy"])
    }

    /// NumPy's rule: the data starts at a multiple of 64 bytes, the header ending in a newline.
    @Test func theHeaderIsPaddedToSixtyFourBytes() {
        for shape in [[1], [20000, 164, 28], [3, 5]] {
            let header = NumPyWriter.header(dtype: "<f4", shape: shape)
            #expect(header.count % 64 == 0 && header.last == 0x0A)
            #expect(String(decoding: header.dropFirst(10), as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False"))
        }
        #expect(String(decoding: NumPyWriter.header(dtype: "<i8", shape: [7]), as: UTF8.self).contains("'shape': (7,)"))
    }
}
