/// MD5 (RFC 1321), for the published checksums of data sets such as MNIST. Written here rather
/// than taken from swift-crypto, which would compile BoringSSL for this one digest.
public struct MD5 {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    public init() {}

    private static let shifts: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                          5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                          4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                          6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    private static let constants: [UInt32] = (0..<64).map { i in
        UInt32(truncatingIfNeeded: Int64(abs(_sin(Double(i + 1))) * 4_294_967_296))
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        length &+= UInt64(bytes.count)
        buffer.append(contentsOf: bytes)
        var offset = 0
        while buffer.count - offset >= 64 {
            block(buffer[offset..<(offset + 64)])
            offset += 64
        }
        buffer.removeFirst(offset)
    }

    private mutating func block(_ chunk: ArraySlice<UInt8>) {
        var m = [UInt32](repeating: 0, count: 16)
        for i in 0..<16 {
            let base = chunk.startIndex + 4 * i
            m[i] = UInt32(chunk[base]) | UInt32(chunk[base + 1]) << 8 | UInt32(chunk[base + 2]) << 16 | UInt32(chunk[base + 3]) << 24
        }
        var (a, b, c, d) = state
        for i in 0..<64 {
            var f: UInt32, g: Int
            switch i {
            case 0..<16: f = (b & c) | (~b & d); g = i
            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ Self.constants[i] &+ m[g]
            a = d
            d = c
            c = b
            b = b &+ (f << Self.shifts[i] | f >> (32 - Self.shifts[i]))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }

    /// The digest as 32 lowercase hexadecimal digits.
    public mutating func hexDigest() -> String {
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        while (buffer.count + tail.count) % 64 != 56 { tail.append(0) }
        tail += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
        update(tail)
        var hex = ""
        for word in [state.0, state.1, state.2, state.3] {
            for byte in 0..<4 {
                let value = UInt8(truncatingIfNeeded: word >> UInt32(8 * byte))
                hex += (value < 16 ? "0" : "") + String(value, radix: 16)
            }
        }
        return hex
    }

    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var md5 = MD5()
        md5.update(bytes)
        return md5.hexDigest()
    }
}
