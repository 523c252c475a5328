import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file of a published data set and its known checksum.
public struct RemoteFile: Sendable, Equatable {
    public let name: String
    public let md5: String
    public init(name: String, md5: String) {
        self.name = name
        self.md5 = md5
    }
}

public enum DownloadError: Error, Equatable, CustomStringConvertible {
    case http(url: String, status: Int)
    case transfer(url: String, reason: String)
    case checksumMismatch(file: String, expected: String, actual: String)
    case cannotWrite(file: String)

    public var description: String {
        switch self {
        case let .http(url, status): return "\(url): the server answered HTTP \(status)"
        case let .transfer(url, reason): return "\(url): download failed (\(reason))"
        case let .checksumMismatch(file, expected, actual):
            return "\(file): MD5 \(actual) does not match the published \(expected); the file was removed"
        case let .cannotWrite(file): return "\(file): cannot write the file"
        }
    }
}

/// Downloads data-set files with resume and checksum verification. A file is written as
/// `NAME.partial`, continued with an HTTP range request after a dropped connection, checked
/// against its MD5 and only then renamed to `NAME`: a final name always holds a verified file.
public struct Downloader: Sendable {
    /// MNIST's four files and the MD5 sums that torchvision publishes for them.
    public static let mnist = [
        RemoteFile(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        RemoteFile(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432"),
        RemoteFile(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3"),
        RemoteFile(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    /// The public mirror torchvision uses.
    public static let mnistBaseURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

    public let baseURL: String
    /// Attempts per file: a dropped connection is resumed where it stopped.
    public let attempts: Int
    public let timeout: TimeInterval

    public init(baseURL: String, attempts: Int = 4, timeout: TimeInterval = 60) {
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        self.attempts = attempts
        self.timeout = timeout
    }

    /// Downloads each of `files` into `directory` (created if needed); files already there with
    /// the right checksum are kept. `log` hears one line per file.
    public func download(_ files: [RemoteFile], to directory: String, log: (String) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let final = (directory as NSString).appendingPathComponent(file.name)
            if let existing = FileManager.default.contents(atPath: final), MD5.hex(existing) == file.md5 {
                log("\(file.name): already present, checksum verified")
                continue
            }
            let partial = final + ".partial"
            let url = baseURL + file.name
            var lastError: Error = DownloadError.transfer(url: url, reason: "no attempt made")
            var done = false
            for _ in 0..<attempts where !done {
                do {
                    try fetch(url, into: partial)
                    done = true
                } catch let error as DownloadError {
                    if case .http = error { throw error }
                    lastError = error
                }
            }
            guard done else { throw lastError }
            let data = FileManager.default.contents(atPath: partial) ?? Data()
            let actual = MD5.hex(data)
            guard actual == file.md5 else {
                try? FileManager.default.removeItem(atPath: partial)
                throw DownloadError.checksumMismatch(file: final, expected: file.md5, actual: actual)
            }
            guard rename(partial, final) == 0 else { throw DownloadError.cannotWrite(file: final) }
            log("\(file.name): \(data.count) bytes, checksum verified")
        }
    }

    /// One request: appends to `partial` from its current size (range request) or rewrites it.
    private func fetch(_ url: String, into partial: String) throws {
        guard let address = URL(string: url) else { throw DownloadError.transfer(url: url, reason: "not a URL") }
        if !FileManager.default.fileExists(atPath: partial) {
            guard FileManager.default.createFile(atPath: partial, contents: nil) else {
                throw DownloadError.cannotWrite(file: partial)
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: partial) else { throw DownloadError.cannotWrite(file: partial) }
        defer { try? handle.close() }
        let offset = try handle.seekToEnd()
        var request = URLRequest(url: address, timeoutInterval: timeout)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        let receiver = Receiver(handle: handle, resumedAt: offset)
        let session = URLSession(configuration: .ephemeral, delegate: receiver, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        receiver.finished.wait()
        if let status = receiver.failedStatus { throw DownloadError.http(url: url, status: status) }
        if let error = receiver.error { throw DownloadError.transfer(url: url, reason: error) }
    }
}

/// Streams a response body into a file as it arrives, so a dropped connection keeps what came.
private final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handle: FileHandle
    let resumedAt: UInt64
    let finished = DispatchSemaphore(value: 0)
    var failedStatus: Int?
    var error: String?

    init(handle: FileHandle, resumedAt: UInt64) {
        self.handle = handle
        self.resumedAt = resumedAt
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        switch status {
        case 206 where resumedAt > 0:
            completionHandler(.allow)
        case 200:
            // The whole file (the server ignored or did not get a range): start over.
            try? handle.truncate(atOffset: 0)
            completionHandler(.allow)
        case 416:
            // The range starts at or after the end: what we have is everything, or garbage the checksum will catch.
            completionHandler(.cancel)
        default:
            failedStatus = status
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do { try handle.write(contentsOf: data) } catch { self.error = "cannot write: \(error)" }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failedStatus == nil, self.error == nil,
           (error as? URLError)?.code != .cancelled {
            self.error = error.localizedDescription
        }
        finished.signal()
    }
}
