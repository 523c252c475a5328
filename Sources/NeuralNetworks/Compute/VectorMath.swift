/// Vectorised exp, sigmoid and tanh on 8 lanes.
///
/// libm's `expf`/`tanhf` in a loop run 10–30× slower than these polynomials (Cephes
/// coefficients, max relative error ≈ 2e-7). `pointwiseMin`/`pointwiseMax` stand in for
/// `clamped`, and a magic constant for `rounded`, because those two were not inlined.
typealias Vector = SIMD8<Float>

enum VectorMath {
    // Not `pointwiseMin`/`pointwiseMax`: those were left as calls (profiled: 6% of training).
    @inline(__always) static func minimum(_ x: Vector, _ bound: Float) -> Vector {
        x.replacing(with: bound, where: x .> bound)
    }
    @inline(__always) static func maximum(_ x: Vector, _ bound: Float) -> Vector {
        x.replacing(with: bound, where: x .< bound)
    }

    /// Whether ``multiplyAdd(_:_:_:)`` fuses (the build targets a CPU: `NN_FMA`).
    #if NN_FMA
    static let fusesMultiplyAdds = true
    #else
    static let fusesMultiplyAdds = false
    #endif

    /// `a·b + c`, fused where the build targets a CPU (`NN_FMA`): Swift never contracts `a * b + c`
    /// itself, and without a CPU target a fused multiply-add is a library call per lane.
    @inline(__always)
    static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
        #if NN_FMA
        c.addingProduct(a, b)
        #else
        a * b + c
        #endif
    }

    @inline(__always)
    static func multiplyAdd(_ a: Vector, _ b: Float, _ c: Float) -> Vector {
        multiplyAdd(a, Vector(repeating: b), Vector(repeating: c))
    }

    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let x = maximum(minimum(x, 88.3762626647949), -87.3365447504)
        // n = round(x / ln 2) with the 1.5·2^23 trick; its low mantissa bits hold n.
        let magic: Float = 12582912
        let shifted = multiplyAdd(x, 1.44269504088896341, magic)
        let n = shifted - magic
        let r = x - n * Float(0.693359375) + n * Float(2.12194440e-4)
        var p = multiplyAdd(r, 1.9875691500e-4, 1.3981999507e-3)
        p = multiplyAdd(p, r, Vector(repeating: 8.3334519073e-3))
        p = multiplyAdd(p, r, Vector(repeating: 4.1665795894e-2))
        p = multiplyAdd(p, r, Vector(repeating: 1.6666665459e-1))
        p = multiplyAdd(p, r, Vector(repeating: 5.0000001201e-1))
        p = multiplyAdd(p, r * r, r + 1)
        let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: Vector.self)
    }

    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        1 / (1 + exp(-x))
    }

    /// Keras 2's hard sigmoid, `clip(0.2·x + 0.5, 0, 1)` (Keras 3's is relu6(x + 3) / 6).
    @inline(__always)
    static func hardSigmoid(_ x: Vector) -> Vector {
        minimum(maximum(multiplyAdd(x, 0.2, 0.5), 0), 1)
    }

    /// tanh as a 13/6 rational function on [−7.9, 7.9] (the approximation Eigen uses), with
    /// x itself below 4e-4: no exp, one division. Transparent: with `@inline(__always)` alone the
    /// compiler left it a call inside the LSTM cell loops whenever code around them changed.
    @_transparent
    static func tanh(_ x: Vector) -> Vector {
        let clamped = maximum(minimum(x, 7.90531110763549805), -7.90531110763549805)
        let x2 = clamped * clamped
        var p = multiplyAdd(x2, -2.76076847742355e-16, 2.00018790482477e-13)
        p = multiplyAdd(p, x2, Vector(repeating: -8.60467152213735e-11))
        p = multiplyAdd(p, x2, Vector(repeating: 5.12229709037114e-08))
        p = multiplyAdd(p, x2, Vector(repeating: 1.48572235717979e-05))
        p = multiplyAdd(p, x2, Vector(repeating: 6.37261928875436e-04))
        p = multiplyAdd(p, x2, Vector(repeating: 4.89352455891786e-03))
        p = p * clamped
        var q = multiplyAdd(x2, 1.19825839466702e-06, 1.18534705686654e-04)
        q = multiplyAdd(q, x2, Vector(repeating: 2.26843463243900e-03))
        q = multiplyAdd(q, x2, Vector(repeating: 4.89352518554385e-03))
        let magnitude = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
        return (p / q).replacing(with: x, where: magnitude .< Float(0.0004))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// Loads the first `count` (≤ 8) lanes; the rest are zero.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, count: Int) -> Vector {
        if count == 8 { return load(p) }
        var v = Vector()
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if count == 8 { return store(v, p) }
        for i in 0..<count { p[i] = v[i] }
    }

    /// Applies `body` to `count` floats at `source`, writing to `destination` (may be the same).
    @inline(__always)
    static func map(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
                    count: Int, _ body: (Vector) -> Vector) {
        var i = 0
        while i + 8 <= count {
            store(body(load(source + i)), destination + i)
            i += 8
        }
        if i < count { store(body(load(source + i, count: count - i)), destination + i, count: count - i) }
    }

    /// `destination[i] = body(a[i], b[i])` over `count` floats.
    @inline(__always)
    static func zipMap(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ destination: UnsafeMutablePointer<Float>,
                       count: Int, _ body: (Vector, Vector) -> Vector) {
        var i = 0
        while i + 8 <= count {
            store(body(load(a + i), load(b + i)), destination + i)
            i += 8
        }
        if i < count {
            let rest = count - i
            store(body(load(a + i, count: rest), load(b + i, count: rest)), destination + i, count: rest)
        }
    }
}
