import Foundation

/// What is wrong with a safetensors file, or with its contents for a model; every case names the file.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case truncated(file: String, actualBytes: Int)
    case headerBeyondFile(file: String, headerBytes: UInt64, fileBytes: Int)
    case headerTooLarge(file: String, headerBytes: UInt64, limit: Int)
    case invalidHeader(file: String, reason: String)
    case unsupportedDtype(file: String, tensor: String, dtype: String)
    case offsetsOutsideData(file: String, tensor: String, begin: Int, end: Int, dataBytes: Int)
    case sizeMismatch(file: String, tensor: String, shape: [Int], bytes: Int)
    case missingTensor(file: String, tensor: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case unknownArchitecture(file: String, reason: String)
    case overlappingData(file: String, tensor: String, other: String)
    case unindexedBytes(file: String, begin: Int, end: Int)
    case nonFinite(file: String, tensor: String, index: Int, value: Float)
    case unusedTensors(file: String, tensors: [String], reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read the file (\(reason))"
        case let .truncated(file, bytes): return "\(file): truncated: \(bytes) bytes, not even the 8-byte header length"
        case let .headerBeyondFile(file, header, size):
            return "\(file): header length \(header) reaches beyond the end of the file (\(size) bytes)"
        case let .headerTooLarge(file, header, limit): return "\(file): header length \(header) exceeds the limit of \(limit) bytes"
        case let .invalidHeader(file, reason): return "\(file): invalid safetensors header (\(reason))"
        case let .unsupportedDtype(file, tensor, dtype):
            return "\(file): tensor \(tensor) has dtype \(dtype); only F32 is supported"
        case let .offsetsOutsideData(file, tensor, begin, end, data):
            return "\(file): tensor \(tensor) has data offsets [\(begin), \(end)] outside the \(data) data bytes"
        case let .sizeMismatch(file, tensor, shape, bytes):
            // In Double: a hostile shape's byte count can overflow Int.
            let needed = shape.reduce(4.0) { $0 * Double($1) }
            return "\(file): tensor \(tensor) of shape \(shape) needs \(String(format: "%.0f", needed)) bytes, its offsets give \(bytes)"
        case let .missingTensor(file, tensor): return "\(file): no tensor \(tensor), which the model needs"
        case let .shapeMismatch(file, tensor, expected, found):
            return "\(file): tensor \(tensor) has shape \(found), the model needs \(expected)"
        case let .unknownArchitecture(file, reason): return "\(file): cannot rebuild the model (\(reason))"
        case let .overlappingData(file, tensor, other):
            return "\(file): tensor \(tensor)'s data overlaps tensor \(other)'s"
        case let .unindexedBytes(file, begin, end):
            return "\(file): data bytes \(begin)..<\(end) belong to no tensor (a hole, or trailing bytes)"
        case let .nonFinite(file, tensor, index, value):
            return "\(file): tensor \(tensor) holds \(value) at index \(index); a model's values must be finite"
        case let .unusedTensors(file, tensors, reason):
            let shown = tensors.prefix(4).joined(separator: ", ") + (tensors.count > 4 ? ", … (\(tensors.count) in all)" : "")
            return "\(file): tensors \(shown) are not used by the model (\(reason))"
        }
    }
}
