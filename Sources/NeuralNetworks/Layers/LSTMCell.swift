/// The element-wise half of one LSTM step, forward and backward, for `rows` rows of `units` cells.
///
/// The activation pair is chosen once per step, not once per vector: the common pairs (hard
/// sigmoid or sigmoid gates with tanh) get a loop specialised for them, with both functions
/// inlined; other pairs take the same loop with a switch per vector. The loops cover whole
/// vectors of 8 units; a last partial vector goes through a separate function, because a second
/// call site for the body in the same loop made the compiler stop inlining tanh (measured: the
/// element-wise share of training rose from 7% to 21%).
struct LSTMCell {
    let gate: Activation
    let activation: Activation
    let rows: Int
    let units: Int
    /// False: every pair takes the per-vector switch (to test the specialised loops against).
    var specialised = true

    init(gate: Activation, activation: Activation, rows: Int, units: Int, specialised: Bool = true) {
        (self.gate, self.activation, self.rows, self.units, self.specialised) = (gate, activation, rows, units, specialised)
    }

    init(_ step: LSTMStep) {
        self.init(gate: step.gate, activation: step.activation, rows: step.rows, units: step.units)
    }

    /// The buffers of one forward step (see ``forward(gates:previousCell:cell:cellTanh:hidden:hiddenStride:)``).
    struct ForwardStep {
        let gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>
        let cell: UnsafeMutablePointer<Float>, cellTanh: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
        let hiddenStride: Int
    }

    /// The buffers of one backward step (see ``backward(gates:previousCell:cellTanh:dh:dc:)``).
    struct BackwardStep {
        let gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>, cellTanh: UnsafePointer<Float>
        let dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>
    }

    /// One step forward. `gates` holds the step's pre-activations, `[rows, 4·units]`; they are
    /// replaced by the activated gates i, f, g, o, which the backward step reads.
    /// `cell` may be `previousCell` (an update in place); rows of `hidden` are `hiddenStride` apart.
    func forward(gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>, cell: UnsafeMutablePointer<Float>,
                 cellTanh: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>, hiddenStride: Int? = nil) {
        let step = ForwardStep(gates: gates, previousCell: previousCell, cell: cell, cellTanh: cellTanh,
                               hidden: hidden, hiddenStride: hiddenStride ?? units)
        switch (specialised ? gate : .linear, activation) {
        case (.hardSigmoid, .tanh): forwardWholeVectors(step, HardSigmoidLanes(), TanhLanes())
        case (.sigmoid, .tanh): forwardWholeVectors(step, SigmoidLanes(), TanhLanes())
        default: forwardWholeVectors(step, AnyLanes(gate), AnyLanes(activation))
        }
        forwardPartialVector(step)
    }

    /// One step backward. Reads this step's total hidden gradient `dh` and the cell gradient `dc`
    /// carried from the step after; replaces the activated gates with the gradients of their
    /// pre-activations and leaves in `dc` the gradient carried to the step before.
    func backward(gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                  cellTanh: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>) {
        let step = BackwardStep(gates: gates, previousCell: previousCell, cellTanh: cellTanh, dh: dh, dc: dc)
        switch (specialised ? gate : .linear, activation) {
        case (.hardSigmoid, .tanh): backwardWholeVectors(step, HardSigmoidLanes(), TanhLanes())
        case (.sigmoid, .tanh): backwardWholeVectors(step, SigmoidLanes(), TanhLanes())
        default: backwardWholeVectors(step, AnyLanes(gate), AnyLanes(activation))
        }
        backwardPartialVector(step)
    }

    private var wholeVectorUnits: Int { units & ~7 }

    // The four loops below share their shape on purpose: passing the body to one loop helper as a
    // closure left tanh a call again inside the specialised loops (checked with objdump).

    private func forwardWholeVectors<Gate: LaneFunction, Cell: LaneFunction>(_ step: ForwardStep, _ gate: Gate,
                                                                            _ cell: Cell) {
        for row in 0..<rows {
            for j in stride(from: 0, to: wholeVectorUnits, by: 8) {
                forwardLanes(step, row: row, unit: j, count: 8, gate, cell)
            }
        }
    }

    @inline(never)
    private func forwardPartialVector(_ step: ForwardStep) {
        let start = wholeVectorUnits
        guard start < units else { return }
        for row in 0..<rows {
            forwardLanes(step, row: row, unit: start, count: units - start, AnyLanes(gate), AnyLanes(activation))
        }
    }

    private func backwardWholeVectors<Gate: LaneFunction, Cell: LaneFunction>(_ step: BackwardStep, _ gate: Gate,
                                                                             _ cell: Cell) {
        for row in 0..<rows {
            for j in stride(from: 0, to: wholeVectorUnits, by: 8) {
                backwardLanes(step, row: row, unit: j, count: 8, gate, cell)
            }
        }
    }

    @inline(never)
    private func backwardPartialVector(_ step: BackwardStep) {
        let start = wholeVectorUnits
        guard start < units else { return }
        for row in 0..<rows {
            backwardLanes(step, row: row, unit: start, count: units - start, AnyLanes(gate), AnyLanes(activation))
        }
    }

    /// Units j ..< j + n of one row: gate non-linearities, cell and hidden update.
    @inline(__always)
    private func forwardLanes<Gate: LaneFunction, Cell: LaneFunction>(_ s: ForwardStep, row: Int, unit j: Int,
                                                                     count n: Int, _ gate: Gate, _ cell: Cell) {
        let u = units, g = s.gates + row * 4 * u, c = row * u + j
        @inline(__always) func preactivation(_ k: Int) -> Vector { VectorMath.load(g + k * u + j, count: n) }
        let i = gate.apply(preactivation(0))
        let f = gate.apply(preactivation(1))
        let candidate = cell.apply(preactivation(2))
        let o = gate.apply(preactivation(3))
        let newCell = VectorMath.multiplyAdd(f, VectorMath.load(s.previousCell + c, count: n), i * candidate)
        let t = cell.apply(newCell)
        VectorMath.store(i, g + j, count: n)
        VectorMath.store(f, g + u + j, count: n)
        VectorMath.store(candidate, g + 2 * u + j, count: n)
        VectorMath.store(o, g + 3 * u + j, count: n)
        VectorMath.store(newCell, s.cell + c, count: n)
        VectorMath.store(t, s.cellTanh + c, count: n)
        VectorMath.store(o * t, s.hidden + row * s.hiddenStride + j, count: n)
    }

    /// Units j ..< j + n of one row: dc = dc₊ + dh·o·act′(c); the gates' gradients; dc₋ = dc·f.
    @inline(__always)
    private func backwardLanes<Gate: LaneFunction, Cell: LaneFunction>(_ s: BackwardStep, row: Int, unit j: Int,
                                                                      count n: Int, _ gate: Gate, _ cell: Cell) {
        let u = units, g = s.gates + row * 4 * u, c = row * u + j
        let i = VectorMath.load(g + j, count: n)
        let f = VectorMath.load(g + u + j, count: n)
        let candidate = VectorMath.load(g + 2 * u + j, count: n)
        let o = VectorMath.load(g + 3 * u + j, count: n)
        let t = VectorMath.load(s.cellTanh + c, count: n)
        let dh = VectorMath.load(s.dh + c, count: n)
        let dc = VectorMath.multiplyAdd(dh * o, cell.derivative(output: t), VectorMath.load(s.dc + c, count: n))
        VectorMath.store(dc * candidate * gate.derivative(output: i), g + j, count: n)
        VectorMath.store(dc * VectorMath.load(s.previousCell + c, count: n) * gate.derivative(output: f), g + u + j,
                         count: n)
        VectorMath.store(dc * i * cell.derivative(output: candidate), g + 2 * u + j, count: n)
        VectorMath.store(dh * t * gate.derivative(output: o), g + 3 * u + j, count: n)
        VectorMath.store(dc * f, s.dc + c, count: n)
    }
}

/// An activation on one vector of lanes, as a type, so that the cell loops specialise and inline it.
/// The specialised ones are `@_transparent`: with `@inline(__always)` the compiler still left tanh a
/// call in some builds of the loop (4% of training cycles), depending on unrelated code around it.
protocol LaneFunction {
    func apply(_ x: Vector) -> Vector
    func derivative(output y: Vector) -> Vector
}

struct HardSigmoidLanes: LaneFunction {
    @_transparent func apply(_ x: Vector) -> Vector { VectorMath.hardSigmoid(x) }
    @_transparent func derivative(output y: Vector) -> Vector { Activation.hardSigmoid.derivative(output: y) }
}

struct SigmoidLanes: LaneFunction {
    @_transparent func apply(_ x: Vector) -> Vector { VectorMath.sigmoid(x) }
    @_transparent func derivative(output y: Vector) -> Vector { Activation.sigmoid.derivative(output: y) }
}

struct TanhLanes: LaneFunction {
    @_transparent func apply(_ x: Vector) -> Vector { VectorMath.tanh(x) }
    @_transparent func derivative(output y: Vector) -> Vector { Activation.tanh.derivative(output: y) }
}

/// Any activation, switched on per vector: the pairs without a loop of their own, and partial vectors.
struct AnyLanes: LaneFunction {
    let activation: Activation
    init(_ activation: Activation) { self.activation = activation }
    func apply(_ x: Vector) -> Vector { activation.apply(x) }
    func derivative(output y: Vector) -> Vector { activation.derivative(output: y) }
}
