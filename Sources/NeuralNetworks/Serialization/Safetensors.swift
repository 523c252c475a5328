import Foundation

/// The safetensors format (read by PyTorch, Keras 3, MLX): an 8-byte little-endian header length,
/// a JSON header mapping each tensor name to `dtype`, `shape` and `data_offsets` (plus an
/// optional `__metadata__` of strings), then the raw little-endian data.
public struct Safetensors: Sendable {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// The largest header accepted (the reference implementation's limit).
    public static let headerLimit = 100_000_000

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and validates `path`: every fault is a ``SafetensorsError`` naming the file, found
    /// before anything of a claimed size is allocated.
    public init(path: String) throws {
        let data = try InputFile.read(path) { SafetensorsError.unreadable(file: path, reason: $0) }
        try self.init(contents: data, file: path)
    }

    public init(contents data: Data, file: String) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw SafetensorsError.truncated(file: file, actualBytes: bytes.count) }
        let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.headerBeyondFile(file: file, headerBytes: headerLength, fileBytes: bytes.count)
        }
        guard headerLength <= UInt64(Self.headerLimit) else {
            throw SafetensorsError.headerTooLarge(file: file, headerBytes: headerLength, limit: Self.headerLimit)
        }
        let dataStart = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        } catch {
            throw SafetensorsError.invalidHeader(file: file, reason: "not JSON")
        }
        guard let header = json as? [String: Any] else {
            throw SafetensorsError.invalidHeader(file: file, reason: "not a JSON object")
        }
        let dataBytes = bytes.count - dataStart
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(name: String, begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else {
                    throw SafetensorsError.invalidHeader(file: file, reason: "__metadata__ is not an object")
                }
                for (key, entry) in entries {
                    guard let text = entry as? String else {
                        throw SafetensorsError.invalidHeader(file: file, reason: "__metadata__.\(key) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap(Self.wholeNumber),
                  shape.count == (entry["shape"] as? [Any])?.count, shape.allSatisfy({ $0 >= 0 }),
                  let offsets = (entry["data_offsets"] as? [Any])?.compactMap(Self.wholeNumber),
                  offsets.count == 2
            else {
                throw SafetensorsError.invalidHeader(file: file, reason: "entry \(name) lacks dtype, shape or data_offsets of whole numbers")
            }
            guard dtype == "F32" else { throw SafetensorsError.unsupportedDtype(file: file, tensor: name, dtype: dtype) }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataBytes else {
                throw SafetensorsError.offsetsOutsideData(file: file, tensor: name, begin: begin, end: end, dataBytes: dataBytes)
            }
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw SafetensorsError.sizeMismatch(file: file, tensor: name, shape: shape, bytes: end - begin) }
                count = product
            }
            guard count.multipliedReportingOverflow(by: 4) == (end - begin, false) else {
                throw SafetensorsError.sizeMismatch(file: file, tensor: name, shape: shape, bytes: end - begin)
            }
            let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                bytes.withUnsafeBytes { raw in
                    for k in 0..<count {
                        let bits = raw.loadUnaligned(fromByteOffset: dataStart + begin + 4 * k, as: UInt32.self)
                        buffer[k] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                }
                initialized = count
            }
            tensors[name] = Tensor(shape: shape, scalars: scalars)
            ranges.append((name, begin, end))
        }
        // As the format requires: the data is indexed entirely, without overlaps, holes or a tail.
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0, previous = ""
        for (name, begin, end) in ranges {
            guard begin >= covered else {
                throw SafetensorsError.overlappingData(file: file, tensor: name, other: previous)
            }
            guard begin == covered else {
                throw SafetensorsError.unindexedBytes(file: file, begin: covered, end: begin)
            }
            (covered, previous) = (end, name)
        }
        guard covered == dataBytes else { throw SafetensorsError.unindexedBytes(file: file, begin: covered, end: dataBytes) }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// A JSON number that is a whole number (1, not 1.5 or true), as an `Int`.
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9.0e18 else { return nil }
        return number.intValue
    }

    /// The file's bytes: tensors in name order, header padded with spaces to 8 bytes.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]]
            offset += 4 * tensor.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            tensors[name]!.scalars.withUnsafeBufferPointer { scalars in
                for value in scalars {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes atomically: a crash leaves either the old file or the new one.
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }
}
