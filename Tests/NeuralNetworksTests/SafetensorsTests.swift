import Foundation
import Testing
@testable import NeuralNetworks

struct SafetensorsTests {
    static func file(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: (claimedLength ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(Data(header.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    func parse(_ data: Data) throws -> Safetensors { try Safetensors(contents: data, file: "w.safetensors") }

    @Test func roundTripKeepsTensorsAndMetadata() throws {
        let original = Safetensors(tensors: ["a": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -0.25]),
                                             "b.c": Tensor(shape: [1], scalars: [7])],
                                   metadata: ["format": "neuralnetworks", "note": "x"])
        let encoded = try original.encoded()
        #expect((encoded.count - 8) % 4 == 0)
        let decoded = try parse(encoded)
        #expect(decoded.tensors == original.tensors)
        #expect(decoded.metadata == original.metadata)
    }

    @Test func headerIsPaddedToEightBytesAndLittleEndian() throws {
        let encoded = try Safetensors(tensors: ["x": Tensor(shape: [1], scalars: [1])]).encoded()
        let length = encoded.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0)
        #expect(Array(encoded.suffix(4)) == [0x00, 0x00, 0x80, 0x3F])  // 1.0 little-endian
    }

    @Test func headerLengthBeyondTheFileIsRejected() {
        let data = Self.file(header: "{}", claimedLength: 1 << 40)
        #expect(throws: SafetensorsError.headerBeyondFile(file: "w.safetensors", headerBytes: 1 << 40, fileBytes: 10)) {
            try parse(data)
        }
    }

    @Test func truncatedFileIsRejected() {
        #expect(throws: SafetensorsError.truncated(file: "w.safetensors", actualBytes: 3)) { try parse(Data([1, 2, 3])) }
    }

    @Test func offsetsOutsideTheDataAreRejected() {
        let data = Self.file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        #expect(throws: SafetensorsError.offsetsOutsideData(file: "w.safetensors", tensor: "w", begin: 0, end: 8, dataBytes: 4)) {
            try parse(data)
        }
    }

    @Test func wrongDtypeIsRejected() {
        let data = Self.file(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(throws: SafetensorsError.unsupportedDtype(file: "w.safetensors", tensor: "w", dtype: "F16")) { try parse(data) }
    }

    @Test func shapeThatDisagreesWithOffsetsIsRejected() {
        let data = Self.file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        #expect(throws: SafetensorsError.sizeMismatch(file: "w.safetensors", tensor: "w", shape: [3], bytes: 8)) { try parse(data) }
        let huge = Self.file(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
                             data: [UInt8](repeating: 0, count: 8))
        #expect(throws: SafetensorsError.self) { try parse(huge) }
    }

    @Test func headerThatIsNotJSONIsRejected() {
        #expect(throws: SafetensorsError.invalidHeader(file: "w.safetensors", reason: "not JSON")) {
            try parse(Self.file(header: "{not json"))
        }
    }
}
