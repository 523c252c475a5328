import Dispatch
import Testing
@testable import NeuralNetworks

@Suite(.serialized)
struct DenormalTests {
    @Test func everyComputeThreadFlushesDenormals() {
        let model = Sequential { Dense(units: 2) }
        try? model.build(inputShape: [2], seed: 0)
        _ = model.forward(Tensor(zeros: [1, 2]))
        #expect(Denormals.flushed)
        var flushed = [false, false, false, false]
        flushed.withUnsafeMutableBufferPointer { slots in
            let results = slots
            Parallel.forEach(4) { results[$0] = Denormals.flushed }
        }
        #expect(flushed.allSatisfy { $0 })
    }

    /// The same images read as 784 steps of 1 pixel and as 28 steps of 28: with denormals
    /// flushed, a long sequence costs about what its steps cost in a short one (it was 20× more
    /// per step while the decaying states were denormal). Measured in the same run, as a ratio.
    @Test func longSequencesCostNoMorePerStepThanShortOnes() throws {
        let data = try IDXDirectory(directory: fashionMNIST).train.prefix(64)
        let (images, labels) = try data.batch(0..<64)
        /// A training step's seconds per time step, after a warm-up step.
        func stepper(steps: Int, features: Int) throws -> () throws -> Double {
            let model = Sequential {
                Bidirectional(LSTM(units: 64, recurrentActivation: .hardSigmoid), threads: 1)
                Dense(units: 10, activation: .softmax)
            }
            try model.build(inputShape: [steps, features], seed: 1)
            let inputs = images.reshaped([64, steps, features])
            let optimizer = SGD(learningRate: 0.1)
            try model.trainStep(inputs, targets: labels, loss: .categoricalCrossEntropy, optimizer: optimizer)
            return {
                let start = DispatchTime.now().uptimeNanoseconds
                try model.trainStep(inputs, targets: labels, loss: .categoricalCrossEntropy, optimizer: optimizer)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(steps)
            }
        }
        let shortStep = try stepper(steps: 28, features: 28), longStep = try stepper(steps: 784, features: 1)
        // Alternated, the best of five each: other tests running at the same time load both alike.
        var short = Double.infinity, long = Double.infinity
        for _ in 0..<5 {
            short = min(short, try shortStep())
            long = min(long, try longStep())
        }
        #expect(long < 4 * short, "a long sequence's step took \(long / short)× a short one's")
    }
}
