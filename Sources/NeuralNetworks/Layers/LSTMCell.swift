/// The element-wise half of one LSTM step, forward and backward, for `rows` rows of `units` cells.
///
/// The activation pair is chosen once per step, not once per vector: the common pairs (hard
/// sigmoid or sigmoid gates with tanh) get a loop with both functions inlined; other pairs take
/// the same loop with a switch per vector. Rows are contiguous, so a step is one flat loop.
struct LSTMCell {
    let gate: Activation
    let activation: Activation
    let rows: Int
    let units: Int
    /// False: every pair takes the per-vector switch (to test the specialised loops against).
    var specialised = true

    /// One step forward. `gates` holds the step's pre-activations without bias, `[rows, 4·units]`;
    /// they are replaced by the activated gates i, f, g, o, which the backward step reads.
    func forward(gates z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                 previousCell: UnsafePointer<Float>, cell: UnsafeMutablePointer<Float>,
                 cellTanh: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>) {
        switch (specialised ? gate : .linear, activation) {
        case (.hardSigmoid, .tanh):
            forward(z, bias, previousCell, cell, cellTanh, hidden, HardSigmoidLanes(), TanhLanes())
        case (.sigmoid, .tanh):
            forward(z, bias, previousCell, cell, cellTanh, hidden, SigmoidLanes(), TanhLanes())
        default:
            forward(z, bias, previousCell, cell, cellTanh, hidden, AnyLanes(gate), AnyLanes(activation))
        }
    }

    /// One step backward. Reads this step's total hidden gradient `dh` and the cell gradient `dc`
    /// carried from the step after; replaces the activated gates with the gradients of their
    /// pre-activations and leaves in `dc` the gradient carried to the step before.
    func backward(gates z: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                  cellTanh: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>) {
        switch (specialised ? gate : .linear, activation) {
        case (.hardSigmoid, .tanh):
            backward(z, previousCell, cellTanh, dh, dc, HardSigmoidLanes(), TanhLanes())
        case (.sigmoid, .tanh):
            backward(z, previousCell, cellTanh, dh, dc, SigmoidLanes(), TanhLanes())
        default:
            backward(z, previousCell, cellTanh, dh, dc, AnyLanes(gate), AnyLanes(activation))
        }
    }

    private func forward<Gate: LaneFunction, Cell: LaneFunction>(_ z: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>,
                         _ previousCell: UnsafePointer<Float>, _ cell: UnsafeMutablePointer<Float>,
                         _ cellTanh: UnsafeMutablePointer<Float>, _ hidden: UnsafeMutablePointer<Float>,
                         _ gateFunction: Gate, _ cellFunction: Cell) {
        let u = units
        @inline(__always) func lanes(_ row: Int, _ j: Int, _ n: Int) {
            let g = z + row * 4 * u, c = row * u + j
            @inline(__always) func preactivation(_ k: Int) -> Vector {
                VectorMath.load(g + k * u + j, count: n) + VectorMath.load(bias + k * u + j, count: n)
            }
            let i = gateFunction.apply(preactivation(0))
            let f = gateFunction.apply(preactivation(1))
            let candidate = cellFunction.apply(preactivation(2))
            let o = gateFunction.apply(preactivation(3))
            let newCell = VectorMath.multiplyAdd(f, VectorMath.load(previousCell + c, count: n), i * candidate)
            let t = cellFunction.apply(newCell)
            VectorMath.store(i, g + j, count: n)
            VectorMath.store(f, g + u + j, count: n)
            VectorMath.store(candidate, g + 2 * u + j, count: n)
            VectorMath.store(o, g + 3 * u + j, count: n)
            VectorMath.store(newCell, cell + c, count: n)
            VectorMath.store(t, cellTanh + c, count: n)
            VectorMath.store(o * t, hidden + c, count: n)
        }
        let whole = u & ~7
        for row in 0..<rows {
            var j = 0
            while j < whole { lanes(row, j, 8); j += 8 }
            if j < u { lanes(row, j, u - j) }
        }
    }

    private func backward<Gate: LaneFunction, Cell: LaneFunction>(_ z: UnsafeMutablePointer<Float>, _ previousCell: UnsafePointer<Float>,
                          _ cellTanh: UnsafePointer<Float>, _ dh: UnsafePointer<Float>,
                          _ dcCarry: UnsafeMutablePointer<Float>,
                          _ gateFunction: Gate, _ cellFunction: Cell) {
        let u = units
        @inline(__always) func lanes(_ row: Int, _ j: Int, _ n: Int) {
            let g = z + row * 4 * u, c = row * u + j
            let i = VectorMath.load(g + j, count: n)
            let f = VectorMath.load(g + u + j, count: n)
            let candidate = VectorMath.load(g + 2 * u + j, count: n)
            let o = VectorMath.load(g + 3 * u + j, count: n)
            let t = VectorMath.load(cellTanh + c, count: n)
            let dhv = VectorMath.load(dh + c, count: n)
            let dc = VectorMath.multiplyAdd(dhv * o, cellFunction.derivative(output: t), VectorMath.load(dcCarry + c, count: n))
            VectorMath.store(dc * candidate * gateFunction.derivative(output: i), g + j, count: n)
            VectorMath.store(dc * VectorMath.load(previousCell + c, count: n) * gateFunction.derivative(output: f), g + u + j, count: n)
            VectorMath.store(dc * i * cellFunction.derivative(output: candidate), g + 2 * u + j, count: n)
            VectorMath.store(dhv * t * gateFunction.derivative(output: o), g + 3 * u + j, count: n)
            VectorMath.store(dc * f, dcCarry + c, count: n)
        }
        let whole = u & ~7
        for row in 0..<rows {
            var j = 0
            while j < whole { lanes(row, j, 8); j += 8 }
            if j < u { lanes(row, j, u - j) }
        }
    }
}

/// An activation on one vector of lanes, as a type, so that the cell loops specialise and inline it.
protocol LaneFunction {
    func apply(_ x: Vector) -> Vector
    func derivative(output y: Vector) -> Vector
}

struct HardSigmoidLanes: LaneFunction {
    @inline(__always) func apply(_ x: Vector) -> Vector { VectorMath.hardSigmoid(x) }
    @inline(__always) func derivative(output y: Vector) -> Vector { Activation.hardSigmoid.derivative(output: y) }
}

struct SigmoidLanes: LaneFunction {
    @inline(__always) func apply(_ x: Vector) -> Vector { VectorMath.sigmoid(x) }
    @inline(__always) func derivative(output y: Vector) -> Vector { Activation.sigmoid.derivative(output: y) }
}

struct TanhLanes: LaneFunction {
    @inline(__always) func apply(_ x: Vector) -> Vector { VectorMath.tanh(x) }
    @inline(__always) func derivative(output y: Vector) -> Vector { Activation.tanh.derivative(output: y) }
}

/// Any activation, switched on per vector: the pairs without a loop of their own.
struct AnyLanes: LaneFunction {
    let activation: Activation
    init(_ activation: Activation) { self.activation = activation }
    func apply(_ x: Vector) -> Vector { activation.apply(x) }
    func derivative(output y: Vector) -> Vector { activation.derivative(output: y) }
}
