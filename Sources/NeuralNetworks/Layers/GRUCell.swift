/// The element-wise half of one GRU step, forward and backward, for `rows` rows of `units` cells,
/// in the reset-after form (Keras' `reset_after`, PyTorch's convention): the reference the C
/// kernels (`Sources/CElementwise`) are tested against, and what runs for the activation pairs
/// those lack. The gates' functions are switched on per vector, as ``AnyLanes`` does.
struct GRUCell {
    let step: GRUStep

    init(_ step: GRUStep) { self.step = step }

    /// Loads and stores of the lanes `j ..< j + count` (count ≤ 8) of a row.
    @inline(__always) private static func load(_ p: UnsafePointer<Float>, _ count: Int) -> Vector {
        VectorMath.load(p, count: count)
    }
    @inline(__always) private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 8 { VectorMath.store(v, p) } else { VectorMath.store(v, p, count: count) }
    }

    /// z, r, n and h_t from the input side's pre-activations (in `gates`, replaced by z, r, n) and
    /// h_{t−1}·U + b′ (in `recurrent`); h_t into `next`.
    func forward(gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>, previous: UnsafePointer<Float>,
                 next: UnsafeMutablePointer<Float>) {
        let u = step.units, width = 3 * u, gate = step.gate, act = step.activation
        for row in 0..<step.rows {
            let g = gates + row * width, q = recurrent + row * width
            let previous = previous + row * u, next = next + row * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                let z = gate.apply(Self.load(g + j, c) + Self.load(q + j, c))
                let r = gate.apply(Self.load(g + u + j, c) + Self.load(q + u + j, c))
                let n = act.apply(VectorMath.multiplyAdd(r, Self.load(q + 2 * u + j, c), Self.load(g + 2 * u + j, c)))
                let h = VectorMath.multiplyAdd(z, Self.load(previous + j, c) - n, n)
                Self.store(z, g + j, c)
                Self.store(r, g + u + j, c)
                Self.store(n, g + 2 * u + j, c)
                Self.store(h, next + j, c)
            }
        }
    }

    /// Replaces z, r, n with the gradients of their pre-activations on the input side, `recurrent`
    /// with the gradient of h_{t−1}·U + b′, and sets `carry` to dh_t ⊙ z.
    func backward(gates: UnsafeMutablePointer<Float>, recurrent: UnsafeMutablePointer<Float>,
                  previous: UnsafePointer<Float>, dh: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>) {
        let u = step.units, width = 3 * u, gate = step.gate, act = step.activation
        for row in 0..<step.rows {
            let g = gates + row * width, q = recurrent + row * width
            let previous = previous + row * u, dh = dh + row * u, carry = carry + row * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                let z = Self.load(g + j, c), r = Self.load(g + u + j, c), n = Self.load(g + 2 * u + j, c)
                let d = Self.load(dh + j, c)
                let dz = d * (Self.load(previous + j, c) - n) * gate.derivative(output: z)
                let dn = d * (1 - z) * act.derivative(output: n)
                let dr = dn * Self.load(q + 2 * u + j, c) * gate.derivative(output: r)
                Self.store(dz, g + j, c)
                Self.store(dr, g + u + j, c)
                Self.store(dn, g + 2 * u + j, c)
                Self.store(dz, q + j, c)
                Self.store(dr, q + u + j, c)
                Self.store(dn * r, q + 2 * u + j, c)
                Self.store(d * z, carry + j, c)
            }
        }
    }
}
