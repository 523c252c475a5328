import Testing
@testable import NeuralNetworks

struct LSTMCellTests {
    /// One step forward and backward through `cell` on fixed random buffers; returns every output.
    static func step(_ cell: LSTMCell, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        let (rows, u) = (cell.rows, cell.units)
        func buffer(_ count: Int) -> [Float] { (0..<count).map { _ in Float(generator.normal()) } }
        var gates = buffer(rows * 4 * u)
        let previousCell = buffer(rows * u), dh = buffer(rows * u)
        var dc = buffer(rows * u)
        var cellState = [Float](repeating: 0, count: rows * u), tanh = cellState, hidden = cellState
        cell.forward(gates: &gates, previousCell: previousCell, cell: &cellState, cellTanh: &tanh,
                     hidden: &hidden)
        let activated = gates
        cell.backward(gates: &gates, previousCell: previousCell, cellTanh: tanh, dh: dh, dc: &dc)
        return activated + cellState + tanh + hidden + gates + dc
    }

    /// The loops specialised for (hard) sigmoid gates with tanh compute exactly what the loop that
    /// switches on the activation per vector computes, including a last partial vector (13 units).
    @Test(arguments: [Activation.hardSigmoid, .sigmoid])
    func specialisedLoopMatchesThePerVectorSwitch(_ gate: Activation) {
        let specialised = LSTMCell(gate: gate, activation: .tanh, rows: 3, units: 13)
        let generic = LSTMCell(gate: gate, activation: .tanh, rows: 3, units: 13, specialised: false)
        #expect(Self.step(specialised, seed: 4) == Self.step(generic, seed: 4))
    }

    /// h = o ⊙ tanh(f ⊙ c₋₁ + i ⊙ g) from the activated gates, element by element.
    @Test func forwardStepIsTheLSTMCellUpdate() {
        let cell = LSTMCell(gate: .sigmoid, activation: .tanh, rows: 2, units: 3)
        var generator = RandomGenerator(seed: 8)
        var gates = (0..<24).map { _ in Float(generator.normal()) }
        let z = gates
        let previous = (0..<6).map { _ in Float(generator.normal()) }
        var c = [Float](repeating: 0, count: 6), t = c, h = c
        cell.forward(gates: &gates, previousCell: previous, cell: &c, cellTanh: &t, hidden: &h)
        func sigmoid(_ x: Float) -> Float { 1 / (1 + .exp(-x)) }
        for row in 0..<2 {
            for j in 0..<3 {
                func pre(_ gate: Int) -> Float { z[row * 12 + gate * 3 + j] }
                let expected = sigmoid(pre(1)) * previous[row * 3 + j] + sigmoid(pre(0)) * Float.tanh(pre(2))
                #expect(abs(c[row * 3 + j] - expected) < 1e-5)
                #expect(abs(h[row * 3 + j] - sigmoid(pre(3)) * Float.tanh(expected)) < 1e-5)
            }
        }
    }
}
