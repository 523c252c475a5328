import Foundation

/// A `.npz` archive as `np.savez` (members stored) and `np.savez_compressed` (deflated) write it:
/// a zip file of `.npy` members. Stored members are read in place from the memory-mapped archive,
/// so they stream like a `.npy` file; deflated ones are inflated into memory when opened.
///
/// The zip directory is read here rather than through ZIPFoundation: `.npz` needs only the
/// central directory, stored and deflated members and zip64 sizes, and reading in place lets
/// stored members stay memory-mapped (ZIPFoundation extracts through copies).
public struct NumPyArchive: Sendable {
    public struct Member: Sendable, Equatable {
        /// The array's name (`x_train` for the member `x_train.npy`).
        public let name: String
        let method: UInt16
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    public let file: String
    public let members: [Member]
    private let store: ByteStore

    /// The most an inflated member may claim (64 GiB) before anything is allocated for it.
    public static let inflatedLimit = 1 << 36

    public init(path: String) throws {
        try self.init(store: try ByteStore(mapping: path), file: path)
    }

    public init(store: ByteStore, file: String) throws {
        (self.store, self.file) = (store, file)
        members = try Self.centralDirectory(store.bytes, file: file)
    }

    /// The names of the arrays, in archive order.
    public var names: [String] { members.map(\.name) }

    /// The array `name` (without `.npy`); an error lists the names there are.
    public func array(_ name: String) throws -> NumPyArray {
        guard let member = members.first(where: { $0.name == name }) else {
            throw NumPyError(file: file, problem: "no array named '\(name)' (the archive holds \(names.isEmpty ? "no arrays" : names.joined(separator: ", ")))")
        }
        let memberName = "\(file)[\(name)]"
        let bytes = store.bytes
        func fail(_ problem: String) -> NumPyError { NumPyError(file: memberName, problem: problem) }
        let local = member.localHeaderOffset
        guard local <= bytes.count - 30, bytes.uint32(at: local) == 0x0403_4B50 else {
            throw fail("the archive's entry header is missing (a truncated or damaged zip file)")
        }
        let start = local + 30 + Int(bytes.uint16(at: local + 26)) + Int(bytes.uint16(at: local + 28))
        guard start <= bytes.count, member.compressedSize <= bytes.count - start else {
            throw fail("truncated: the entry needs \(member.compressedSize) bytes, the archive has \(max(0, bytes.count - start))")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + member.compressedSize)])
        switch member.method {
        case 0:
            return try NumPyArray(store: store, range: start..<(start + member.compressedSize), file: memberName)
        case 8:
            guard member.size <= Self.inflatedLimit else {
                throw fail("the entry claims \(member.size) bytes inflated, more than the limit of \(Self.inflatedLimit)")
            }
            let inflated = try Gzip.inflate(data, limit: member.size, file: memberName, raw: true)
            guard inflated.count == member.size else {
                throw fail("inflates to \(inflated.count > member.size ? "more" : "fewer") bytes than the \(member.size) "
                           + "its entry claims")
            }
            return try NumPyArray(store: ByteStore(inflated), file: memberName)
        default:
            throw fail("compressed with zip method \(member.method); only stored (0) and deflated (8) members are read")
        }
    }

    private static func centralDirectory(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [Member] {
        func fail(_ problem: String) -> NumPyError { NumPyError(file: file, problem: problem) }
        // The end record is in the last 22 + 65,535 bytes (its comment is at most 65,535 bytes).
        guard bytes.count >= 22 else { throw fail("not a zip (.npz) archive: too short") }
        var end = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while end >= lowest, bytes.uint32(at: end) != 0x0605_4B50 { end -= 1 }
        guard end >= lowest else { throw fail("not a zip (.npz) archive: no end of central directory record") }
        var entries = Int(bytes.uint16(at: end + 10))
        var directorySize = Int(bytes.uint32(at: end + 12))
        var directoryOffset = Int(bytes.uint32(at: end + 16))
        // Zip64: the locator sits just before the end record and points at the zip64 end record.
        if end >= 20, bytes.uint32(at: end - 20) == 0x0706_4B50 {
            let record = Int(clamping: bytes.uint64(at: end - 12))
            guard record <= bytes.count - 56, bytes.uint32(at: record) == 0x0606_4B50 else {
                throw fail("damaged zip64 directory")
            }
            entries = Int(clamping: bytes.uint64(at: record + 32))
            directorySize = Int(clamping: bytes.uint64(at: record + 40))
            directoryOffset = Int(clamping: bytes.uint64(at: record + 48))
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset,
              entries <= directorySize / 46 else {
            throw fail("the zip directory lies outside the file (a truncated or damaged archive)")
        }
        var members: [Member] = []
        var position = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for _ in 0..<entries {
            guard position <= directoryEnd - 46, bytes.uint32(at: position) == 0x0201_4B50 else {
                throw fail("damaged zip directory entry")
            }
            let flags = bytes.uint16(at: position + 8)
            let method = bytes.uint16(at: position + 10)
            var compressed = Int(bytes.uint32(at: position + 20))
            var size = Int(bytes.uint32(at: position + 24))
            let nameLength = Int(bytes.uint16(at: position + 28))
            let extraLength = Int(bytes.uint16(at: position + 30))
            let commentLength = Int(bytes.uint16(at: position + 32))
            var offset = Int(bytes.uint32(at: position + 42))
            let nameStart = position + 46
            guard nameStart + nameLength + extraLength + commentLength <= directoryEnd else {
                throw fail("damaged zip directory entry")
            }
            let rawName = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]),
                                 as: UTF8.self)
            // Zip64 sizes: the extra field 0x0001 holds those whose 32-bit field is 0xFFFFFFFF, in order.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = bytes.uint16(at: extra), length = Int(bytes.uint16(at: extra + 2))
                guard extra + 4 + length <= extraEnd else { break }
                if id == 1 {
                    var field = extra + 4
                    func next(_ value: inout Int) {
                        guard value == 0xFFFF_FFFF, field + 8 <= extra + 4 + length else { return }
                        value = Int(clamping: bytes.uint64(at: field))
                        field += 8
                    }
                    next(&size)
                    next(&compressed)
                    next(&offset)
                }
                extra += 4 + length
            }
            position = extraEnd + commentLength
            guard flags & 1 == 0 else { throw fail("'\(rawName)' is encrypted") }
            guard rawName.hasSuffix(".npy") else { continue }  // not an array (np.savez writes only .npy)
            members.append(Member(name: String(rawName.dropLast(4)), method: method, compressedSize: compressed,
                                  size: size, localHeaderOffset: offset))
        }
        return members
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian integers at a byte offset (the caller has checked the bounds).
    func uint16(at offset: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func uint32(at offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func uint64(at offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}
