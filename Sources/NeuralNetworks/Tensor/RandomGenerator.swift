/// A seedable pseudo-random generator (xoshiro256**), so that a seed makes a run reproducible.
///
/// Each random stream of a run (initialisation, shuffling, dropout, …) has its own generator,
/// derived from the run's seed by ``init(seed:stream:)``; see ``RandomStream``.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole state follows from `seed` through SplitMix64.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// The generator of one named stream of a run: the rule is `seed(seed ^ stream.salt)`.
    public init(seed: UInt64, stream: RandomStream) {
        self.init(seed: seed ^ stream.salt)
    }

    /// Restores a generator from a saved ``state``.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        self.state = state
    }

    /// The state as four words, for saving (checkpoints store it so).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// Restores ``stateWords``; nil unless they are four words, not all zero.
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words != [0, 0, 0, 0] else { return nil }
        self.init(state: (words[0], words[1], words[2], words[3]))
    }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.state == b.state }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUnitDouble()
    }

    /// Standard normal (Box–Muller; one value per call, so the stream stays simple to replay).
    public mutating func normal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        let u1 = 1 - nextUnitDouble() // (0, 1]: log stays finite
        let u2 = nextUnitDouble()
        let radius = (-2 * _log(u1)).squareRoot()
        return mean + standardDeviation * radius * _cos(2 * Double.pi * u2)
    }

    /// Normal, redrawn while more than two standard deviations from the mean (Keras' truncated normal).
    public mutating func truncatedNormal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        while true {
            let z = normal()
            if abs(z) <= 2 { return mean + standardDeviation * z }
        }
    }
}

/// The independent random streams of a run; each gets its own ``RandomGenerator``.
public enum RandomStream: UInt64, Sendable {
    case initialization = 1
    case shuffling = 2
    case dropout = 3
    /// Which samples ``Dataset/split(validationFraction:seed:)`` holds out.
    case validationSplit = 4
    /// The layouts of ``ImageLines``.
    case imageLines = 5

    /// Mixed into the seed so that the streams of one seed do not overlap.
    var salt: UInt64 { rawValue &* 0xD1B5_4A32_D192_ED03 }
}
