/// FNV-1a, 64 bits: a fixed rule, the same on every platform and Swift version. It names the
/// layers' random streams (by path), fingerprints a data set (for resuming with another path),
/// and compares data-parallel replicas (by their parameters' bytes).
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// One step: `word` (a byte, or a whole value where a fingerprint mixes values) into the hash.
    mutating func mix(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01B3 }

    mutating func mix<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { mix(UInt64(byte)) }
    }

    static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash = FNV1a()
        hash.mix(bytes: bytes)
        return hash.value
    }
}
