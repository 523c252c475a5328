import Foundation
import Testing
@testable import NeuralNetworks

struct CTCTests {
    struct Case: Decodable {
        let blank: Int
        let reduction: String
        let zero_infinity: Bool
        let logits: FixtureTensor
        let sequences: [[Int]]
        let loss: Float
        let gradient: FixtureTensor
    }
    struct Fixture: Decodable { let cases: [Case] }

    /// nn.CTCLoss's loss and gradient (through log_softmax) for blank first and last, both
    /// reductions, an empty sequence, repeats, and a sequence no alignment fits (zero_infinity).
    @Test(arguments: 0..<3)
    func lossAndGradientMatchPyTorch(index: Int) throws {
        let f = try Fixtures.load("ctc.json", as: Fixture.self).cases[index]
        let loss = CTCLoss(blank: f.blank, reduction: CTCLoss.Reduction(rawValue: f.reduction)!, zeroInfinity: f.zero_infinity)
        let (value, gradient) = loss.valueAndGradient(logits: f.logits.tensor, targets: .sequences(f.sequences))
        #expect(abs(value - f.loss) <= 1e-5 * max(1, abs(f.loss)), "loss \(value), PyTorch \(f.loss)")
        expectClose(gradient, f.gradient.tensor, relative: 1e-4, absolute: 1e-6, "gradient")
    }

    /// With 3 steps and 3 outputs every path can be listed: the likelihood is the summed
    /// probability of the paths that collapse (repeats merged, blanks dropped) to the labels.
    @Test func likelihoodIsTheSumOverEveryCollapsingPath() throws {
        var generator = RandomGenerator(seed: 1)
        let logits = randomTensor([1, 3, 3], scale: 2, generator: &generator)
        let probabilities = CPUBackend().activate(.softmax, logits)
        for labels in [[0], [1, 1], [0, 1], []] {
            var total = 0.0
            for path in 0..<27 {
                let symbols = [path / 9, path / 3 % 3, path % 3]  // output 2 is the blank
                var collapsed: [Int] = [], previous = -1
                for s in symbols {
                    if s != 2 && s != previous { collapsed.append(s) }
                    previous = s
                }
                guard collapsed == labels else { continue }
                total += (0..<3).reduce(1.0) { $0 * Double(probabilities[0, $1, symbols[$1]]) }
            }
            let loss = CTCLoss(reduction: .sumOverBatch).valueAndGradient(logits: logits, targets: .sequences([labels])).value
            #expect(abs(Double(loss) + log(total)) < 1e-5, "labels \(labels): \(loss) vs \(-log(total))")
        }
    }

    /// Both paths, fused (logits) and on probabilities, against finite differences.
    @Test(arguments: [true, false])
    func gradientMatchesFiniteDifferences(fused: Bool) throws {
        var generator = RandomGenerator(seed: 2)
        let logits = randomTensor([2, 5, 4], generator: &generator)
        let input = fused ? logits : CPUBackend().activate(.softmax, logits)
        let targets = Targets.sequences([[0, 2], [1, 1]])
        let loss = CTCLoss(blank: 1)
        func value(_ x: Tensor) -> Double {
            Double(fused ? loss.valueAndGradient(logits: x, targets: targets).value
                         : loss.valueAndGradient(predictions: x, targets: targets).value)
        }
        let analytic = fused ? loss.valueAndGradient(logits: input, targets: targets).gradient
                             : loss.valueAndGradient(predictions: input, targets: targets).gradient
        for k in 0..<input.count {
            var plus = input, minus = input
            plus.scalars[k] += 1e-3
            minus.scalars[k] -= 1e-3
            let numeric = (value(plus) - value(minus)) / 2e-3
            #expect(abs(numeric - Double(analytic.scalars[k])) <= 2e-3 * max(1, abs(numeric)), "entry \(k)")
        }
    }

    @Test func anImpossibleSequenceIsInfiniteUnlessZeroed() throws {
        let logits = Tensor(zeros: [1, 2, 3])
        #expect(CTCLoss().valueAndGradient(logits: logits, targets: .sequences([[0, 0]])).value == .infinity)
        let zeroed = CTCLoss(zeroInfinity: true).valueAndGradient(logits: logits, targets: .sequences([[0, 0]]))
        #expect(zeroed.value == 0 && zeroed.gradient.scalars.allSatisfy { $0 == 0 })
    }

    @Test func greedyMergesRepeatsAndDropsBlanksAndSkipsTheBlanksIndex() throws {
        // Steps' best outputs: 1 1 0(blank) 1 2 2 → with the blank at 0, classes 0, 0, 1.
        let best = [1, 1, 0, 1, 2, 2]
        var outputs = Tensor(zeros: [1, 6, 3])
        for (t, k) in best.enumerated() { outputs.scalars[t * 3 + k] = 1 }
        #expect(CTCDecoder.greedy(outputs, blank: 0) == [[0, 0, 1]])
        #expect(CTCDecoder.greedy(outputs, blank: 2) == [[1, 0, 1]])
    }

    /// The classic case where the best path is not the best labelling: two steps, P(blank) = 0.6
    /// at each, P(a) = 0.4. The best path is blank blank (0.36, labels []), but the paths giving
    /// [a] sum to 0.4·0.4 + 0.4·0.6 + 0.6·0.4 = 0.64.
    @Test func beamSearchAddsUpThePathsOfOneLabelling() throws {
        let outputs = Tensor(shape: [1, 2, 2], scalars: [0.4, 0.6, 0.4, 0.6])  // output 0 is a, 1 the blank
        #expect(CTCDecoder.greedy(outputs, blank: 1) == [[]])
        #expect(CTCDecoder.beamSearch(outputs, blank: 1) == [[0]])
        #expect(CTCDecoder.beamSearch(outputs, blank: 1, beamWidth: 1) == [[]])
    }

    @Test func editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        #expect(CTCDecoder.editDistance([], [1, 2]) == 2)
        #expect(CTCDecoder.editDistance([1, 2, 3], [1, 3]) == 1)
        #expect(CTCDecoder.editDistance([1, 2, 3], [3, 2, 1]) == 2)
        #expect(CTCDecoder.editDistance([4, 4], []) == 2)
        #expect(CTCDecoder.labelErrorRate([[1, 2], [3]], [[1, 2, 3], [3]]) == 0.25)
    }

    /// Sequences of symbols with runs and gaps: a GRU and a softmax per step learn to transcribe
    /// them with the CTC loss; the validation label error rate falls well below chance.
    @Test func aRecurrentModelLearnsToTranscribe() throws {
        var generator = RandomGenerator(seed: 3)
        var values: [Float] = [], sequences: [[Int]] = []
        for _ in 0..<96 {
            var labels: [Int] = [], previous = -1
            for _ in 0..<8 {
                // A symbol 0–2 held for a step or two, or silence (all features 0).
                let symbol = Int(generator.next() % 4) - 1
                for f in 0..<3 { values.append(symbol == f ? 1 : 0) }
                if symbol >= 0 && symbol != previous { labels.append(symbol) }
                previous = symbol
            }
            sequences.append(labels)
        }
        let data = try Dataset(inputs: FloatSamples(values: values, sampleShape: [8, 3]), sequences: sequences, classCount: 3)
        let (train, validation) = (data.prefix(64), data.subset(Array(64..<96)))
        let model = try ModelSpec.model("bigru(12, return_sequences=true) timedistributed(dense(classes, softmax))", classes: 4)
        let history = try model.fit(train, validation: validation, loss: .ctc, optimizer: Adam(learningRate: 0.02),
                                    epochs: 40, batchSize: 16, seed: 1)
        let first = try #require(history.first?.testLabelErrorRate), last = try #require(history.last?.testLabelErrorRate)
        #expect(last < 0.15 && last < first, "label error rate \(first) → \(last)")
        #expect(history.last!.testAccuracy == nil && history.last!.line.contains("label error rate"))
        #expect(throws: ShapeError.self) { try model.fit(train, loss: .categoricalCrossEntropy, optimizer: SGD(), epochs: 1) }
    }
}
