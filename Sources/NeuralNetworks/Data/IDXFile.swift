import Foundation

/// An IDX file (the MNIST format): a big-endian header `0x00 0x00 type rank`, `rank` sizes of
/// 4 bytes, then the data. Only unsigned bytes (type 0x08) are supported, which is what image
/// and label sets use. Files ending in `.gz` (or starting with the gzip magic) are inflated.
public struct IDXFile: Sendable {
    public let dimensions: [Int]
    public let bytes: [UInt8]

    /// The most data a header may claim before anything is allocated for it (default 4 GiB).
    public static let defaultByteLimit = 1 << 32

    /// Reads and validates `path`; `rank`, if given, is the number of dimensions required.
    public init(path: String, rank: Int? = nil, byteLimit: Int = IDXFile.defaultByteLimit) throws {
        let raw = [UInt8](try InputFile.read(path) { IDXError.unreadable(file: path, reason: $0) })
        try self.init(contents: raw, file: path, rank: rank, byteLimit: byteLimit)
    }

    /// Parses the contents of a file (raw or gzip); `file` names it in errors.
    public init(contents: [UInt8], file: String, rank: Int? = nil, byteLimit: Int = IDXFile.defaultByteLimit) throws {
        if Gzip.isGzip(contents) {
            // Inflate the header first, so that the claimed size is checked before the data.
            let head = try Gzip.inflate(contents, limit: 4 + 4 * 255, file: file)
            let header = try Self.header(head, file: file, rank: rank)
            guard header.dataBytes <= byteLimit else {
                throw IDXError.tooLarge(file: file, claimedBytes: header.dataBytes, limit: byteLimit)
            }
            let expected = header.headerBytes + header.dataBytes
            let all = try Gzip.inflate(contents, limit: expected, file: file)
            try self.init(validated: all, header: header, file: file)
        } else {
            let header = try Self.header(contents, file: file, rank: rank)
            guard header.dataBytes <= byteLimit else {
                throw IDXError.tooLarge(file: file, claimedBytes: header.dataBytes, limit: byteLimit)
            }
            try self.init(validated: contents, header: header, file: file)
        }
    }

    private init(validated contents: [UInt8], header: Header, file: String) throws {
        let expected = header.headerBytes + header.dataBytes
        if contents.count < expected {
            throw IDXError.truncated(file: file, expectedBytes: expected, actualBytes: contents.count)
        }
        if contents.count > expected {
            // For gzip, inflation stops one byte past the expected size, hence "at least" in the message.
            throw IDXError.trailingBytes(file: file, expectedBytes: expected, actualBytes: contents.count)
        }
        dimensions = header.dimensions
        bytes = Array(contents[header.headerBytes...])
    }

    private struct Header {
        var dimensions: [Int]
        var headerBytes: Int
        var dataBytes: Int
    }

    private static func header(_ b: [UInt8], file: String, rank: Int?) throws -> Header {
        guard b.count >= 4 else {
            throw IDXError.truncated(file: file, expectedBytes: 4, actualBytes: b.count)
        }
        guard b[0] == 0, b[1] == 0 else { throw IDXError.badMagic(file: file, found: Array(b[0..<4])) }
        guard b[2] == 0x08 else { throw IDXError.unsupportedElementType(file: file, code: b[2]) }
        let found = Int(b[3])
        if let rank, rank != found { throw IDXError.unexpectedRank(file: file, expected: rank, found: found) }
        let headerBytes = 4 + 4 * found
        guard b.count >= headerBytes else {
            throw IDXError.truncated(file: file, expectedBytes: headerBytes, actualBytes: b.count)
        }
        let dimensions = (0..<found).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * d + $1]) }
        }
        var dataBytes = 1
        for dimension in dimensions {
            let (product, overflow) = dataBytes.multipliedReportingOverflow(by: dimension)
            if overflow { throw IDXError.sizeOverflow(file: file, dimensions: dimensions) }
            dataBytes = product
        }
        return Header(dimensions: dimensions, headerBytes: headerBytes, dataBytes: dataBytes)
    }
}
