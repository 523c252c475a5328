import CZlib

/// Inflates gzip data through zlib, never producing more than `limit` bytes: a stream that
/// would is reported by returning `limit + 1` bytes, without inflating the rest. Concatenated
/// gzip members are read one after another, as `gunzip` does.
///
/// zlib is used directly rather than through compress-nio, which would bring SwiftNIO in for
/// this one call.
enum Gzip {
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    static func inflate(_ compressed: [UInt8], limit: Int, file: String) throws -> [UInt8] {
        try compressed.withUnsafeBytes { try inflate($0, limit: limit, file: file, raw: false) }
    }

    /// Inflates `compressed`: gzip or zlib, or with `raw` a headerless deflate stream (a zip member).
    static func inflate(_ compressed: UnsafeRawBufferPointer, limit: Int, file: String, raw: Bool) throws -> [UInt8] {
        var output = [UInt8]()
        var stream = z_stream()
        guard (raw ? nn_inflate_init_raw(&stream) : nn_inflate_init_auto(&stream)) == Z_OK else {
            throw IDXError.corruptGzip(file: file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        let chunkSize = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try compressed.withMemoryRebound(to: UInt8.self) { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<min(produced, limit + 1 - output.count)])
                if output.count > limit { return }
                switch status {
                case Z_STREAM_END where raw:
                    return
                case Z_STREAM_END:
                    // Another member may follow (skip zero padding some tools leave).
                    while stream.avail_in > 0 && stream.next_in.pointee == 0 {
                        stream.next_in += 1
                        stream.avail_in -= 1
                    }
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else {
                        throw IDXError.corruptGzip(file: file, reason: "cannot read the next member")
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw IDXError.corruptGzip(file: file, reason: "the stream ends early")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw IDXError.corruptGzip(file: file, reason: message)
                }
            }
        }
        return output
    }
}
