import Foundation
import Testing
@testable import NeuralNetworks

/// Reading the arrays NumPy wrote (scripts/make_data_fixtures.py).
struct NumPyArrayTests {
    struct Expected: Decodable { let shape: [Int]; let values: [Float] }
    static let directory = Fixtures.directory.appendingPathComponent("data")
    static let expected = try! JSONDecoder().decode([String: AnyExpected].self,
                                                     from: Data(contentsOf: directory.appendingPathComponent("expected.json")))

    /// expected.json mixes arrays and tables; only arrays decode here.
    struct AnyExpected: Decodable {
        let array: Expected?
        init(from decoder: Decoder) throws { array = try? Expected(from: decoder) }
    }

    static func read(_ name: String) throws -> (array: NumPyArray, values: [Float]) {
        let array = try NumPyArray(path: directory.appendingPathComponent(name).path)
        return (array, try array.tensor(Array(0..<array.count)).scalars)
    }

    @Test(arguments: ["bool", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float16", "float32", "float64"])
    func everyElementTypeReadsAsNumPyWroteIt(type: String) throws {
        let name = "x_\(type).npy"
        let (array, values) = try Self.read(name)
        let expected = try #require(Self.expected[name]?.array)
        #expect(array.shape == expected.shape && array.sampleShape == [2, 2] && array.count == 3)
        #expect(values == expected.values)
    }

    @Test func bytesAreReadAsPixelsInTheUnitRangeUnlessToldOtherwise() throws {
        var (array, values) = try Self.read("x_uint8.npy")
        let expected = try #require(Self.expected["x_uint8.npy"]?.array)
        #expect(values == expected.values.map { $0 / 255 })
        array.scalesBytes = false
        #expect(try array.tensor([0, 1, 2]).scalars == expected.values)
        #expect(try array.integers() == expected.values.map { Int($0) })
    }

    @Test(arguments: ["x_big_endian.npy", "x_fortran.npy", "x_version2.npy", "x_version3.npy"])
    func byteOrderMemoryOrderAndHeaderVersionsReadTheSameValues(name: String) throws {
        let (array, values) = try Self.read(name)
        let expected = try #require(Self.expected[name]?.array)
        #expect(array.shape == expected.shape)
        #expect(values == expected.values)
        // One sample alone, out of order: Fortran order strides across the file.
        #expect(try array.tensor([2]).scalars == Array(expected.values[8..<12]))
    }

    @Test func floatArraysAreNotClassLabels() throws {
        #expect(throws: NumPyError.self) { try Self.read("x_float32.npy").array.integers() }
    }

    static func header(_ dictionary: String, version: UInt8 = 1) -> [UInt8] {
        var text = Array(dictionary.utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(UInt8(ascii: " ")) }
        text.append(10)
        return NumPyHeader.magic + [version, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
    }

    static func parse(_ bytes: [UInt8]) throws -> NumPyArray {
        try NumPyArray(store: ByteStore(bytes), file: "hostile.npy")
    }

    @Test func hostileHeadersAreOneLineErrorsBeforeAnyAllocation() throws {
        func problem(_ bytes: [UInt8]) -> String {
            do { _ = try Self.parse(bytes); return "parsed" } catch { return "\(error)" }
        }
        let huge = Self.header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }")
        #expect(problem(huge).contains("more than 2^40 elements"))
        let truncated = Self.header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 10), }") + [0, 0, 0, 0]
        #expect(problem(truncated).contains("truncated: the shape [1000, 10] needs 40000 bytes"))
        let trailing = Self.header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }") + [1, 2, 3]
        #expect(problem(trailing).contains("1 bytes more than its shape"))
        let structured = Self.header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }")
        #expect(problem(structured).hasPrefix("hostile.npy: unreadable header"))
        let complex = Self.header("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 1), }")
        #expect(problem(complex).contains("unsupported element type '<c8'"))
        let scalar = Self.header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }") + [0, 0, 0, 0]
        #expect(problem(scalar).contains("a single value"))
        #expect(problem(Array("not numpy at all".utf8)).contains("no \\x93NUMPY magic"))
        #expect(problem(Self.header("{'descr': '<f4'}", version: 9)).contains("unsupported .npy format version 9.0"))
        var claimsMore = Self.header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }")
        claimsMore[8] = 0xFF
        claimsMore[9] = 0xFF
        #expect(problem(claimsMore).contains("truncated: the header claims 65535 bytes"))
    }
}
