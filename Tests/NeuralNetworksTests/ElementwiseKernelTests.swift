import CElementwise
import Testing
@testable import NeuralNetworks

/// The element-wise kernels (`Sources/CElementwise`) on every width this CPU runs, against the
/// Swift cell and activations they replace.
struct ElementwiseKernelTests {
    /// The gate/activation pairs: the two with loops of their own, and others through the switch.
    static let pairs: [(Activation, Activation)] = [(.hardSigmoid, .tanh), (.sigmoid, .tanh), (.sigmoid, .relu),
                                                    (.tanh, .linear), (.hardSigmoid, .sigmoid)]

    /// One LSTM step forward and backward on fixed random buffers through `kernel`'s cell (nil:
    /// the Swift `LSTMCell`); 37 units: whole vectors and a partial one at every width; pre-activations
    /// up to ±12 reach the clamps.
    static func step(_ kernel: PanelKernel?, gate: Activation, activation: Activation) -> [Float] {
        var generator = RandomGenerator(seed: 21)
        let (rows, units) = (3, 37)
        func buffer(_ count: Int, scale: Double = 1) -> [Float] { (0..<count).map { _ in Float(scale * generator.normal()) } }
        var gates = buffer(rows * 4 * units, scale: 4)
        let previousCell = buffer(rows * units), dh = buffer(rows * units)
        var dc = buffer(rows * units)
        var cell = [Float](repeating: 0, count: rows * units), activated = cell
        var hidden = [Float](repeating: 0, count: rows * (units + 2))  // rows 2 apart: hiddenStride
        let shape = LSTMStep(gate: gate, activation: activation, rows: rows, units: units)
        let backend: any Backend = kernel.map { CPUBackend(kernel: $0, vectorKernel: $0) } ?? SwiftCells()
        backend.lstmStepForward(shape, gates: &gates, previousCell: previousCell, cell: &cell, cellActivation: &activated,
                                hidden: &hidden, hiddenStride: units + 2)
        let forwardGates = gates
        backend.lstmStepBackward(shape, gates: &gates, previousCell: previousCell, cellActivation: activated, dh: dh,
                                 dc: &dc)
        return forwardGates + cell + activated + hidden + gates + dc
    }

    /// `cell`'s outputs through `kernel` against the Swift cell's, for every pair: within 1e-5,
    /// and the very same floats where both fuse the same multiply-adds (no contraction beyond the
    /// explicit ones: NN_TARGET_CPU builds, AVX2 and AVX-512 kernels).
    static func expectTheSwiftCells(_ cell: (PanelKernel?, Activation, Activation) -> [Float], on kernel: PanelKernel) {
        for (gate, activation) in pairs {
            let ours = cell(kernel, gate, activation), swift = cell(nil, gate, activation)
            let worst = zip(ours, swift).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(worst < 1e-5, "\(kernel.rawValue), \(gate.rawValue)/\(activation.rawValue): \(worst)")
            if VectorMath.fusesMultiplyAdds && kernel != .portable {
                #expect(ours == swift, "\(kernel.rawValue), \(gate.rawValue)/\(activation.rawValue): not the same floats")
            }
        }
    }

    @Test(arguments: PanelKernel.supported)
    func lstmStepMatchesTheSwiftCell(_ kernel: PanelKernel) {
        Self.expectTheSwiftCells({ Self.step($0, gate: $1, activation: $2) }, on: kernel)
    }

    /// One GRU step (reset after) forward and backward on fixed random buffers through `kernel`'s
    /// cell (nil: the Swift `GRUCell`), 37 units.
    static func gruStep(_ kernel: PanelKernel?, gate: Activation, activation: Activation) -> [Float] {
        var generator = RandomGenerator(seed: 22)
        let (rows, units) = (3, 37)
        func buffer(_ count: Int, scale: Double = 1) -> [Float] { (0..<count).map { _ in Float(scale * generator.normal()) } }
        var gates = buffer(rows * 3 * units, scale: 3), recurrent = buffer(rows * 3 * units, scale: 3)
        let previous = buffer(rows * units), dh = buffer(rows * units)
        var next = [Float](repeating: 0, count: rows * units), carry = next
        let shape = GRUStep(gate: gate, activation: activation, rows: rows, units: units)
        let backend: any Backend = kernel.map { CPUBackend(kernel: $0, vectorKernel: $0) } ?? SwiftCells()
        backend.gruStepForward(shape, gates: &gates, recurrent: recurrent, previous: previous, next: &next)
        let forwardGates = gates
        backend.gruStepBackward(shape, gates: &gates, recurrent: &recurrent, previous: previous, dh: dh, carry: &carry)
        return forwardGates + next + gates + recurrent + carry
    }

    @Test(arguments: PanelKernel.supported)
    func gruStepMatchesTheSwiftCell(_ kernel: PanelKernel) {
        Self.expectTheSwiftCells({ Self.gruStep($0, gate: $1, activation: $2) }, on: kernel)
    }

    @Test(arguments: PanelKernel.supported)
    func activationsMatchSwift(_ kernel: PanelKernel) {
        var generator = RandomGenerator(seed: 5)
        let backend = CPUBackend(kernel: kernel, vectorKernel: kernel)
        for function in [Activation.linear, .relu, .sigmoid, .hardSigmoid, .tanh] {
            for count in [1, 7, 33, 100] {
                let x = Tensor(shape: [count], scalars: (0..<count).map { _ in Float(6 * generator.normal()) })
                let dy = Tensor(shape: [count], scalars: (0..<count).map { _ in Float(generator.normal()) })
                let y = backend.activate(function, x)
                let expected = x.scalars.withUnsafeBufferPointer { xp in
                    Tensor(shape: [count]) { function.forward(xp.baseAddress!, $0, rows: 1, width: count) }
                }
                expectClose(y, expected, relative: 1e-6, absolute: 1e-7, "\(kernel.rawValue) \(function.rawValue) × \(count)")
                var expectedGradient = dy
                y.scalars.withUnsafeBufferPointer { yp in
                    expectedGradient.scalars.withUnsafeMutableBufferPointer { g in
                        function.backward(input: yp.baseAddress!, output: yp.baseAddress!, outputGradient: g.baseAddress!,
                                          inputGradient: g.baseAddress!, rows: 1, width: count)
                    }
                }
                expectClose(backend.activationGradient(function, input: x, output: y, outputGradient: dy),
                            expectedGradient, relative: 1e-6, absolute: 1e-7, "\(kernel.rawValue) \(function.rawValue)′")
            }
        }
    }

    /// A diverged run stays visible: NaN passes through every clamp of exp, sigmoid and tanh.
    @Test(arguments: PanelKernel.supported)
    func nanPassesThrough(_ kernel: PanelKernel) {
        let x = Tensor(shape: [9], scalars: [.nan, 1, .nan, -100, 100, .nan, 0, .infinity, .nan])
        for function in [Activation.sigmoid, .hardSigmoid, .tanh] {
            let y = CPUBackend(kernel: kernel, vectorKernel: kernel).activate(function, x)
            #expect([0, 2, 5, 8].allSatisfy { y.scalars[$0].isNaN }, "\(kernel.rawValue) \(function.rawValue): \(y.scalars)")
            #expect(y.scalars[3].isFinite && y.scalars[4].isFinite)
        }
    }

    @Test func portableRunsEverywhere() {
        #expect(PanelKernel.supported.contains(.portable))
        #expect(nn_vector_kernels_supported() & Int32(NN_VECTOR_PORTABLE) != 0)
    }
}

/// A backend whose recurrent steps are the protocol's defaults (the Swift cells); everything else
/// goes to a ``CPUBackend``.
private final class SwiftCells: Backend, @unchecked Sendable {
    let cpu = CPUBackend()
    var name: String { "swift cells" }
    func multiply(_ product: MatrixProduct, threads: Int) { cpu.multiply(product, threads: threads) }
    func makePackedOperand() -> any PackedOperand { cpu.makePackedOperand() }
    func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int,
                  width: Int, threads: Int) {
        cpu.activate(function, x, y, rows: rows, width: width, threads: threads)
    }
    func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                            outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                            rows: Int, width: Int, threads: Int) {
        cpu.activationGradient(function, input: x, output: y, outputGradient: dy, inputGradient: dx, rows: rows,
                               width: width, threads: threads)
    }
    func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { cpu.add(x, into: y, count: count) }
    func multiply(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                  count: Int) {
        cpu.multiply(x, by: scale, into: y, count: count)
    }
    func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, with vector: UnsafePointer<Float>) {
        cpu.fillRows(m, rows: rows, width: width, with: vector)
    }
    func addColumnSums(of m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>) {
        cpu.addColumnSums(of: m, rows: rows, width: width, into: sum)
    }
    func lstmStepForward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                         cell: UnsafeMutablePointer<Float>, cellActivation: UnsafeMutablePointer<Float>,
                         hidden: UnsafeMutablePointer<Float>, hiddenStride: Int) {
        LSTMCell(step).forward(gates: gates, previousCell: previousCell, cell: cell, cellTanh: cellActivation,
                               hidden: hidden, hiddenStride: hiddenStride)
    }
    func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                          cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>) {
        LSTMCell(step).backward(gates: gates, previousCell: previousCell, cellTanh: cellActivation, dh: dh, dc: dc)
    }
}
