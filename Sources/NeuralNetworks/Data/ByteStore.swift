import Foundation

/// Bytes of a data file, memory-mapped read-only (a data set larger than memory is paged in as
/// batches touch it, and out again under pressure) or held in memory (an inflated archive member).
public final class ByteStore: @unchecked Sendable {
    // @unchecked: the bytes never change after init; only reads are shared between threads.
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    private let owned: UnsafeMutableRawBufferPointer?

    /// Maps `path` read-only; errors name the file and why it cannot be read.
    public init(mapping path: String) throws {
        if let problem = InputFile.problem(path) { throw IDXError.unreadable(file: path, reason: problem) }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw IDXError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw IDXError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(info.st_size)
        owned = nil
        guard size > 0 else {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw IDXError.unreadable(file: path, reason: "cannot map the file: " + String(cString: strerror(errno)))
        }
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Bytes kept in memory.
    public init(_ contents: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(contents.count, 1), alignment: 64)
        contents.withUnsafeBytes { copy.copyMemory(from: $0) }
        owned = copy
        mapping = nil
        bytes = UnsafeRawBufferPointer(start: copy.baseAddress, count: contents.count)
    }

    public var count: Int { bytes.count }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
        owned?.deallocate()
    }
}
