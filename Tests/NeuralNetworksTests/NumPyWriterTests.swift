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
