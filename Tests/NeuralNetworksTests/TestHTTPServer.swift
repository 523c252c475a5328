import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 file server on 127.0.0.1 (an ephemeral port) for the download tests: serves
/// `files` with range requests, answers 404 for anything else, and can drop the connection
/// halfway through the first response of each file. One connection at a time; stops on `stop()`.
final class TestHTTPServer: @unchecked Sendable {
    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let files: [String: [UInt8]]
    private let dropFirstResponseHalfway: Bool
    private let lock = NSLock()
    private var log: [String] = []

    /// Request lines and their Range headers, in order.
    var requests: [String] { lock.withLock { log } }

    init(files: [String: [UInt8]], dropFirstResponseHalfway: Bool = false) throws {
        self.files = files
        self.dropFirstResponseHalfway = dropFirstResponseHalfway
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw CocoaError(.fileReadUnknown)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let server = self
        Thread.detachNewThread { server.serve() }
    }

    var baseURL: String { "http://127.0.0.1:\(port)/" }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        var served: Set<String> = []
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            handle(connection, served: &served)
            close(connection)
        }
    }

    private func handle(_ connection: Int32, served: inout Set<String>) {
        var request = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while request.count < 16_384, !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let n = recv(connection, &chunk, chunk.count, 0)
            guard n > 0 else { return }
            request += chunk[0..<n]
        }
        let lines = String(decoding: request, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let name = String(parts[1].dropFirst())
        let range = lines.first { $0.lowercased().hasPrefix("range:") }
        lock.withLock { log.append(lines[0] + (range.map { " | " + $0 } ?? "")) }
        guard let body = files[name] else {
            send(connection, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        var start = 0
        if let range, let value = range.split(separator: "=").last?.split(separator: "-").first, let offset = Int(value) {
            start = offset
        }
        if start >= body.count && start > 0 {
            send(connection, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        let header = start > 0
            ? "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes \(start)-\(body.count - 1)/\(body.count)\r\nContent-Length: \(body.count - start)\r\nConnection: close\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        send(connection, header)
        var end = body.count
        if dropFirstResponseHalfway && !served.contains(name) { end = start + (body.count - start) / 2 }
        served.insert(name)
        body[start..<end].withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = Glibc.send(connection, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { return }
                sent += n
            }
        }
    }

    private func send(_ connection: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = Glibc.send(connection, bytes, bytes.count, Int32(MSG_NOSIGNAL))
    }
}
