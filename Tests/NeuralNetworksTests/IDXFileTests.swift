import Foundation
import Testing
@testable import NeuralNetworks

/// Builds IDX files in memory and on disk for the fault tests.
enum IDXBytes {
    static func header(type: UInt8 = 0x08, dimensions: [UInt32]) -> [UInt8] {
        [0, 0, type, UInt8(dimensions.count)] + dimensions.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } }
    }

    static func images(count: Int, rows: Int = 2, columns: Int = 3) -> [UInt8] {
        header(dimensions: [UInt32(count), UInt32(rows), UInt32(columns)])
            + (0..<(count * rows * columns)).map { UInt8(truncatingIfNeeded: $0 * 7) }
    }

    static func labels(_ values: [UInt8]) -> [UInt8] {
        header(dimensions: [UInt32(values.count)]) + values
    }

    /// gzip through the system's `gzip`, as the data sets are shipped.
    static func gzipped(_ bytes: [UInt8]) throws -> [UInt8] { try gzip(["-c", "-n"], Data(bytes)) }

    static func gunzip(_ data: Data) throws -> [UInt8] { try gzip(["-dc"], data) }

    private static func gzip(_ arguments: [String], _ data: Data) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Feed from another thread: the output pipe must be drained while the input is written.
        let writer = input.fileHandleForWriting
        let thread = Thread { writer.write(data); try? writer.close() }
        thread.start()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](result)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct IDXFileTests {
    func parse(_ bytes: [UInt8], rank: Int? = nil) throws -> IDXFile {
        try IDXFile(contents: bytes, file: "sample.idx", rank: rank)
    }

    @Test func validFileIsRead() throws {
        let file = try parse(IDXBytes.images(count: 2), rank: 3)
        #expect(file.dimensions == [2, 2, 3])
        #expect(file.bytes.count == 12)
        #expect(file.bytes[1] == 7)
    }

    @Test func wrongMagicNumberIsRejected() {
        var bytes = IDXBytes.labels([1, 2])
        bytes[0] = 0x1F
        bytes[1] = 0x00
        #expect(throws: IDXError.badMagic(file: "sample.idx", found: [0x1F, 0, 8, 1])) { try parse(bytes) }
    }

    @Test func unsupportedElementTypeIsRejected() {
        let bytes = IDXBytes.header(type: 0x0D, dimensions: [2]) + [UInt8](repeating: 0, count: 8)
        #expect(throws: IDXError.unsupportedElementType(file: "sample.idx", code: 0x0D)) { try parse(bytes) }
    }

    @Test func unexpectedRankIsRejected() {
        #expect(throws: IDXError.unexpectedRank(file: "sample.idx", expected: 3, found: 1)) {
            try parse(IDXBytes.labels([1, 2]), rank: 3)
        }
    }

    @Test func truncatedFileIsRejected() {
        let bytes = Array(IDXBytes.images(count: 2).dropLast(5))
        #expect(throws: IDXError.truncated(file: "sample.idx", expectedBytes: 28, actualBytes: 23)) { try parse(bytes) }
    }

    @Test func truncatedHeaderIsRejected() {
        #expect(throws: IDXError.truncated(file: "sample.idx", expectedBytes: 16, actualBytes: 10)) {
            try parse(Array(IDXBytes.images(count: 2).prefix(10)))
        }
    }

    @Test func trailingBytesAreRejected() {
        #expect(throws: IDXError.trailingBytes(file: "sample.idx", expectedBytes: 10, actualBytes: 11)) {
            try parse(IDXBytes.labels([1, 2]) + [9])
        }
    }

    @Test func headerClaimingHugeDataIsRejectedBeforeAllocation() throws {
        let huge = IDXBytes.header(dimensions: [1_000_000_000, 28, 28]) + [1, 2, 3]
        #expect(throws: IDXError.tooLarge(file: "sample.idx", claimedBytes: 784_000_000_000, limit: IDXFile.defaultByteLimit)) {
            try parse(huge)
        }
        #expect(throws: IDXError.tooLarge(file: "sample.idx", claimedBytes: 784_000_000_000, limit: IDXFile.defaultByteLimit)) {
            try parse(try IDXBytes.gzipped(huge))
        }
        let overflowing = IDXBytes.header(dimensions: [.max, .max, .max, .max, .max])
        #expect(throws: IDXError.sizeOverflow(file: "sample.idx", dimensions: [Int](repeating: Int(UInt32.max), count: 5))) {
            try parse(overflowing)
        }
    }

    @Test func gzipClaimingMoreThanItHoldsIsTruncated() throws {
        // 100 MB claimed, 6 bytes present: rejected without inflating or reserving the claim.
        let bytes = try IDXBytes.gzipped(IDXBytes.header(dimensions: [100_000_000]) + [1, 2, 3, 4, 5, 6])
        #expect(throws: IDXError.truncated(file: "sample.idx", expectedBytes: 100_000_008, actualBytes: 14)) {
            try parse(bytes)
        }
    }

    @Test func gzipWithTrailingBytesIsRejected() throws {
        let bytes = try IDXBytes.gzipped(IDXBytes.labels([1, 2]) + [7, 7, 7])
        #expect(throws: IDXError.trailingBytes(file: "sample.idx", expectedBytes: 10, actualBytes: 11)) { try parse(bytes) }
    }

    @Test func corruptGzipIsAnError() throws {
        var bytes = try IDXBytes.gzipped(IDXBytes.images(count: 50))
        for k in 12..<(bytes.count - 10) { bytes[k] ^= 0x5A }
        #expect {
            try parse(bytes)
        } throws: { error in
            if case .corruptGzip(file: "sample.idx", reason: _) = error as? IDXError { return true }
            return false
        }
    }

    @Test func gzipCutShortIsAnError() throws {
        let bytes = try IDXBytes.gzipped(IDXBytes.images(count: 500))
        #expect(throws: IDXError.self) { try parse(Array(bytes.prefix(bytes.count / 2))) }
    }

    @Test func rawAndGzipReadIdentically() throws {
        let raw = IDXBytes.images(count: 40, rows: 5, columns: 4)
        let plain = try parse(raw)
        let inflated = try parse(try IDXBytes.gzipped(raw))
        #expect(plain.dimensions == inflated.dimensions)
        #expect(plain.bytes == inflated.bytes)
    }

    @Test func fashionMNISTGzipMatchesItsInflatedCopy() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let gz = "\(fashionMNIST)/t10k-labels-idx1-ubyte.gz"
        let raw = directory.appendingPathComponent("t10k-labels-idx1-ubyte").path
        let inflated = try IDXBytes.gunzip(Data(contentsOf: URL(fileURLWithPath: gz)))
        try Data(inflated).write(to: URL(fileURLWithPath: raw))
        let a = try IDXFile(path: gz, rank: 1), b = try IDXFile(path: raw, rank: 1)
        #expect(a.dimensions == [10_000])
        #expect(a.bytes == b.bytes)
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: IDXError.self) { try IDXFile(path: "/nonexistent/train-images-idx3-ubyte") }
        do {
            _ = try IDXFile(path: "/nonexistent/train-images-idx3-ubyte")
        } catch {
            #expect("\(error)".contains("/nonexistent/train-images-idx3-ubyte"))
        }
    }
}

