import Foundation
import Testing
@testable import NeuralNetworks

@Suite(.serialized)
struct DownloadTests {
    static let names = ["train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

    static func served() throws -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: try names.map { name in
            (name, [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(fashionMNIST)/\(name)"))))
        })
    }

    /// The checksum table for the served files, from the system's md5sum (an independent MD5).
    static func table() throws -> [RemoteFile] {
        try names.map { name in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
            process.arguments = ["\(fashionMNIST)/\(name)"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return RemoteFile(name: name, md5: String(text.prefix(32)))
        }
    }

    /// Downloads the table's files from `server` and expects them byte-identical to what it serves.
    static func downloadAndExpectServedFiles(from server: TestHTTPServer, to directory: URL) throws {
        try Downloader(baseURL: server.baseURL, timeout: 10).download(try table(), to: directory.path)
        let files = try served()
        for name in names {
            #expect([UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) == files[name]!)
        }
    }

    @Test func md5MatchesKnownVectorsAndMd5sum() throws {
        #expect(MD5.hex([UInt8]()) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(Array(String(repeating: "a", count: 1000).utf8)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
        let table = try Self.table()
        let files = try Self.served()
        for file in table { #expect(MD5.hex(files[file.name]!) == file.md5) }
    }

    @Test func downloadWritesVerifiedFiles() throws {
        let server = try TestHTTPServer(files: try Self.served())
        defer { server.stop() }
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.downloadAndExpectServedFiles(from: server, to: directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == Self.names.sorted())
        // A second run keeps the verified files and asks for nothing.
        let before = server.requests.count
        try Downloader(baseURL: server.baseURL, timeout: 10).download(try Self.table(), to: directory.path)
        #expect(server.requests.count == before)
    }

    @Test func wrongChecksumIsAnErrorAndTheFileIsRemoved() throws {
        let server = try TestHTTPServer(files: try Self.served())
        defer { server.stop() }
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wrong = [RemoteFile(name: Self.names[0], md5: String(repeating: "0", count: 32))]
        #expect {
            try Downloader(baseURL: server.baseURL, timeout: 10).download(wrong, to: directory.path)
        } throws: { error in
            guard case .checksumMismatch(let file, _, _) = error as? DownloadError else { return false }
            return file.hasSuffix(Self.names[0])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func droppedConnectionIsResumedWithARangeRequest() throws {
        let server = try TestHTTPServer(files: try Self.served(), dropFirstResponseHalfway: true)
        defer { server.stop() }
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.downloadAndExpectServedFiles(from: server, to: directory)
        #expect(server.requests.contains { $0.contains("Range: bytes=") || $0.lowercased().contains("range: bytes=") },
                "\(server.requests)")
    }

    @Test func missingFileIsAnHTTPError() throws {
        let server = try TestHTTPServer(files: [:])
        defer { server.stop() }
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: DownloadError.http(url: server.baseURL + Self.names[0], status: 404)) {
            try Downloader(baseURL: server.baseURL, timeout: 10).download([RemoteFile(name: Self.names[0], md5: "x")], to: directory.path)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(Self.names[0]).path))
    }
}
