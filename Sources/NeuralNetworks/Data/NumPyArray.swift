import Foundation

/// A NumPy array as `np.save` writes it (`.npy`, format versions 1.0–3.0), read in place from a
/// memory-mapped file or an archive member: samples are converted to `Float` only as batches draw
/// them, so an array larger than memory trains with bounded memory.
///
/// Element types: `bool`, `uint8`–`uint64`, `int8`–`int64`, `float16`, `float32`, `float64`, in
/// either byte order, C or Fortran order. The first axis counts samples. `uint8` values are read as
/// pixels in [0, 1] (value ÷ 255, as IDX images are) unless ``scalesBytes`` is false.
public struct NumPyArray: SampleSource {
    /// Element kinds NumPy writes in `descr`.
    public enum ElementType: String, Sendable {
        case bool = "b1", uint8 = "u1", int8 = "i1", uint16 = "u2", int16 = "i2", uint32 = "u4", int32 = "i4"
        case uint64 = "u8", int64 = "i8", float16 = "f2", float32 = "f4", float64 = "f8"

        public var byteCount: Int { Int(rawValue.dropFirst())! }
        public var isInteger: Bool { !rawValue.hasPrefix("f") }
    }

    public let file: String
    public let shape: [Int]
    public let elementType: ElementType
    public let bigEndian: Bool
    public let fortranOrder: Bool
    /// Whether `uint8` values are divided by 255 (inputs) or read as they are (targets).
    public var scalesBytes = true
    private let store: ByteStore
    private let dataOffset: Int
    /// For Fortran order: each sample element's byte offset from the sample's first element.
    private let fortranOffsets: [Int]

    /// The most elements a header may claim (2^40): beyond any real data set, below overflow.
    public static let elementLimit = 1 << 40

    public var count: Int { shape.first ?? 1 }
    public func origin(of index: Int) -> String { "\(file): sample \(index)" }
    public var sampleShape: [Int] { Array(shape.dropFirst()) }

    /// Maps a `.npy` file.
    public init(path: String) throws {
        try self.init(store: try ByteStore(mapping: path), file: path)
    }

    /// Parses the array held in `range` of `store` (all of it by default: a mapped file, an
    /// inflated archive member); `file` names it in errors.
    public init(store: ByteStore, range: Range<Int>? = nil, file: String) throws {
        let range = range ?? 0..<store.count
        precondition(range.lowerBound >= 0 && range.upperBound <= store.count, "range outside the store")
        let region = UnsafeRawBufferPointer(rebasing: store.bytes[range])
        let header = try NumPyHeader(region, file: file)
        (self.file, self.store, self.shape, self.elementType) = (file, store, header.shape, header.elementType)
        (self.bigEndian, self.fortranOrder) = (header.bigEndian, header.fortranOrder)
        dataOffset = range.lowerBound + header.dataOffset
        var elements = 1
        for size in header.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Self.elementLimit else {
                throw NumPyError(file: file, problem: "the header's shape \(header.shape) claims more than 2^40 elements")
            }
            elements = product
        }
        let needed = elements * header.elementType.byteCount
        let available = range.count - header.dataOffset
        guard needed <= available else {
            throw NumPyError(file: file, problem: "truncated: the shape \(header.shape) needs \(needed) bytes of data, "
                             + "the file has \(available)")
        }
        guard needed == available else {
            throw NumPyError(file: file, problem: "holds \(available - needed) bytes more than its shape \(header.shape) describes")
        }
        let sample = Array(header.shape.dropFirst())
        if header.fortranOrder && !sample.isEmpty {
            // Element (i, j₁…jₖ) lies at i + n·(j₁ + d₁·(j₂ + …)): per sample element, n·(Fortran index).
            let n = header.shape.first ?? 1, itemBytes = header.elementType.byteCount
            var offsets = [Int](repeating: 0, count: sample.reduce(1, *))
            for c in offsets.indices {
                var rest = c, fortran = 0, stride = 1
                var coordinates = [Int](repeating: 0, count: sample.count)
                for axis in sample.indices.reversed() { coordinates[axis] = rest % sample[axis]; rest /= sample[axis] }
                for axis in sample.indices { fortran += coordinates[axis] * stride; stride *= sample[axis] }
                offsets[c] = n * fortran * itemBytes
            }
            fortranOffsets = offsets
        } else {
            fortranOffsets = []
        }
    }

    /// All values as class indices: integer (or bool) elements only.
    public func integers(of what: String = "class labels") throws -> [Int] {
        guard elementType.isInteger else {
            throw NumPyError(file: file, problem: "holds \(elementType) values, not integer \(what)")
        }
        // Read as integers, not through Float: labels beyond 2^24 stay exact.
        return (0..<shape.reduce(1, *)).map(integer(at:))
    }

    /// All values as class indices: integer elements as ``integers(of:)`` reads them, and
    /// floating-point ones that hold whole numbers (labels saved as floats, as pandas often does);
    /// an error names the first value that is not one.
    public func wholeNumbers(of what: String = "class labels") throws -> [Int] {
        if elementType.isInteger { return try integers(of: what) }
        var values = [Float](repeating: 0, count: count * sampleSize)
        try values.withUnsafeMutableBufferPointer { try read(Array(0..<count), into: $0) }
        if let bad = values.firstIndex(where: { !($0.rounded() == $0 && abs($0) < 16_777_216) }) {
            throw NumPyError(file: file, problem: "holds \(values[bad]) at index \(bad), not a whole number: not \(what)")
        }
        return values.map { Int($0) }
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let size = sampleSize, item = elementType.byteCount
        let base = store.bytes.baseAddress! + dataOffset
        for (slot, index) in indices.enumerated() {
            let target = destination.baseAddress! + slot * size
            if fortranOffsets.isEmpty {
                convert(base + index * size * item, byteStride: item, into: target, count: size)
            } else {
                let first = base + index * item
                for k in 0..<size { convert(first + fortranOffsets[k], byteStride: item, into: target + k, count: 1) }
            }
        }
    }

    /// `count` elements from `source`, `byteStride` apart, as Float.
    @inline(__always)
    private func convert(_ source: UnsafeRawPointer, byteStride: Int, into target: UnsafeMutablePointer<Float>, count: Int) {
        let swap = bigEndian
        func load<T: FixedWidthInteger>(_: T.Type, _ k: Int) -> T {
            let raw = source.loadUnaligned(fromByteOffset: k * byteStride, as: T.self)
            return swap ? raw.byteSwapped : raw
        }
        switch elementType {
        case .bool: for k in 0..<count { target[k] = load(UInt8.self, k) == 0 ? 0 : 1 }
        case .uint8:
            // Divided, not multiplied by 1/255: the same values as IDX images.
            let divisor: Float = scalesBytes ? 255 : 1
            for k in 0..<count { target[k] = Float(load(UInt8.self, k)) / divisor }
        case .int8: for k in 0..<count { target[k] = Float(load(Int8.self, k)) }
        case .uint16: for k in 0..<count { target[k] = Float(load(UInt16.self, k)) }
        case .int16: for k in 0..<count { target[k] = Float(load(Int16.self, k)) }
        case .uint32: for k in 0..<count { target[k] = Float(load(UInt32.self, k)) }
        case .int32: for k in 0..<count { target[k] = Float(load(Int32.self, k)) }
        case .uint64: for k in 0..<count { target[k] = Float(load(UInt64.self, k)) }
        case .int64: for k in 0..<count { target[k] = Float(load(Int64.self, k)) }
        case .float16: for k in 0..<count { target[k] = Float(Float16(bitPattern: load(UInt16.self, k))) }
        case .float32: for k in 0..<count { target[k] = Float(bitPattern: load(UInt32.self, k)) }
        case .float64: for k in 0..<count { target[k] = Float(Double(bitPattern: load(UInt64.self, k))) }
        }
    }

    /// The element at flat (file-order) position `index` as an integer (integer types only).
    private func integer(at index: Int) -> Int {
        let item = elementType.byteCount
        let source = store.bytes.baseAddress! + dataOffset + index * item
        func load<T: FixedWidthInteger>(_: T.Type) -> Int {
            let raw = source.loadUnaligned(as: T.self)
            return Int(truncatingIfNeeded: bigEndian ? raw.byteSwapped : raw)
        }
        switch elementType {
        case .bool: return load(UInt8.self) == 0 ? 0 : 1
        case .uint8: return load(UInt8.self)
        case .int8: return load(Int8.self)
        case .uint16: return load(UInt16.self)
        case .int16: return load(Int16.self)
        case .uint32: return load(UInt32.self)
        case .int32: return load(Int32.self)
        case .uint64:
            let raw = source.loadUnaligned(as: UInt64.self)
            let value = bigEndian ? raw.byteSwapped : raw
            return value > UInt64(Int.max) ? -1 : Int(value)  // -1: out of every class range
        case .int64: return load(Int64.self)
        case .float16, .float32, .float64: preconditionFailure("not an integer type")
        }
    }
}

/// What is wrong with a NumPy file or archive; names the file.
public struct NumPyError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

/// The header of a `.npy` file: magic, version, then a Python dict literal with `descr`,
/// `fortran_order` and `shape`, padded with spaces to a 16- or 64-byte boundary.
struct NumPyHeader {
    var elementType: NumPyArray.ElementType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]
    var dataOffset: Int

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        func fail(_ problem: String) -> NumPyError { NumPyError(file: file, problem: problem) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else {
            throw fail("not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw fail("unsupported .npy format version \(major).\(bytes[7]) (1.0–3.0 are read)")
        }
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated header") }
        var length = 0
        for k in 0..<lengthBytes { length |= Int(bytes[8 + k]) << (8 * k) }
        dataOffset = 8 + lengthBytes + length
        guard dataOffset <= bytes.count else {
            throw fail("truncated: the header claims \(length) bytes, the file has \(bytes.count - 8 - lengthBytes)")
        }
        guard length <= 1 << 20 else { throw fail("the header claims \(length) bytes, more than 1 MiB") }
        guard let text = String(bytes: bytes[(8 + lengthBytes)..<dataOffset], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("the header is not text")
        }
        var dictionary = try PythonLiteral.dictionary(text, file: file)
        guard case .string(let descr)? = dictionary.removeValue(forKey: "descr") else {
            throw fail("the header has no 'descr' string (structured arrays are not supported)")
        }
        guard case .bool(let fortran)? = dictionary.removeValue(forKey: "fortran_order") else {
            throw fail("the header has no 'fortran_order'")
        }
        guard case .tuple(let dimensions)? = dictionary.removeValue(forKey: "shape") else {
            throw fail("the header has no 'shape' tuple")
        }
        guard descr.count >= 3, let order = descr.first, "<>|=".contains(order),
              let type = NumPyArray.ElementType(rawValue: String(descr.dropFirst())) else {
            throw fail("unsupported element type '\(descr)' (bool, uint8–64, int8–64 and float16/32/64 are read)")
        }
        guard dimensions.allSatisfy({ $0 >= 0 }) else { throw fail("negative size in shape \(dimensions)") }
        guard !dimensions.isEmpty else { throw fail("holds a single value (shape ()), not an array of samples") }
        (elementType, bigEndian, fortranOrder, shape) = (type, order == ">", fortran, dimensions)
    }
}

/// The little of Python's literal syntax a `.npy` header uses: a dict of string keys to strings,
/// `True`/`False` and tuples of integers.
enum PythonLiteral: Equatable {
    case string(String), bool(Bool), tuple([Int])

    static func dictionary(_ text: String, file: String) throws -> [String: PythonLiteral] {
        var scanner = Array(text.unicodeScalars)[...]
        func fail(_ what: String) -> NumPyError {
            NumPyError(file: file, problem: "unreadable header (\(what)): \(text.prefix(120))")
        }
        func skipSpace() { while let c = scanner.first, c == " " || c == "\n" || c == "\t" { scanner.removeFirst() } }
        func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard scanner.first == c else { throw fail("expected '\(c)'") }
            scanner.removeFirst()
        }
        func string() throws -> String {
            skipSpace()
            guard let quote = scanner.first, quote == "'" || quote == "\"" else { throw fail("expected a string") }
            scanner.removeFirst()
            var result = ""
            while let c = scanner.first, c != quote { result.unicodeScalars.append(c); scanner.removeFirst() }
            guard !scanner.isEmpty else { throw fail("unterminated string") }
            scanner.removeFirst()
            return result
        }
        func integer() throws -> Int {
            skipSpace()
            var digits = ""
            while let c = scanner.first, ("0"..."9").contains(c) || c == "-" || c == "L" {
                if c != "L" { digits.unicodeScalars.append(c) }
                scanner.removeFirst()
            }
            guard let value = Int(digits) else { throw fail("expected a size, found '\(digits)'") }
            return value
        }
        func value() throws -> PythonLiteral {
            skipSpace()
            switch scanner.first {
            case "'", "\"": return .string(try string())
            case "T", "F":
                let word = String(String.UnicodeScalarView(scanner.prefix { ("A"..."z").contains($0) }))
                scanner.removeFirst(word.unicodeScalars.count)
                guard word == "True" || word == "False" else { throw fail("unexpected '\(word)'") }
                return .bool(word == "True")
            case "(":
                scanner.removeFirst()
                var items: [Int] = []
                while true {
                    skipSpace()
                    if scanner.first == ")" { scanner.removeFirst(); return .tuple(items) }
                    items.append(try integer())
                    guard items.count <= 32 else { throw fail("more than 32 dimensions") }
                    skipSpace()
                    if scanner.first == "," { scanner.removeFirst() } else { try expect(")"); return .tuple(items) }
                }
            default: throw fail("unexpected value")
            }
        }
        var result: [String: PythonLiteral] = [:]
        try expect("{")
        while true {
            skipSpace()
            if scanner.first == "}" { return result }
            let key = try string()
            try expect(":")
            result[key] = try value()
            skipSpace()
            if scanner.first == "," { scanner.removeFirst() } else { try expect("}"); return result }
        }
    }
}
