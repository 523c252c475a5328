import Testing
@testable import NeuralNetworks

struct RandomGeneratorTests {
    @Test func sameSeedGivesSameStream() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    }

    @Test func streamsOfOneSeedDiffer() {
        var initialization = RandomGenerator(seed: 42, stream: .initialization)
        var shuffling = RandomGenerator(seed: 42, stream: .shuffling)
        #expect(initialization.next() != shuffling.next())
    }

    @Test func restoredStateContinuesTheStream() {
        var a = RandomGenerator(seed: 5)
        _ = a.next()
        var b = RandomGenerator(state: a.state)
        #expect(a.next() == b.next())
    }

    @Test func stateWordsRoundTripAndRejectNonStates() throws {
        var a = RandomGenerator(seed: 8)
        _ = a.next()
        var b = try #require(RandomGenerator(stateWords: a.stateWords))
        #expect(a.next() == b.next())
        #expect(RandomGenerator(stateWords: [1, 2, 3]) == nil)
        #expect(RandomGenerator(stateWords: [0, 0, 0, 0]) == nil)
    }

    @Test func shuffleIsAPermutationAndReproducible() {
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1)
        var x = Array(0..<1000), y = Array(0..<1000)
        a.shuffle(&x)
        b.shuffle(&y)
        #expect(x == y)
        #expect(x != Array(0..<1000))
        #expect(x.sorted() == Array(0..<1000))
    }

    @Test func normalHasUnitVariance() {
        var g = RandomGenerator(seed: 9)
        let values = (0..<20_000).map { _ in g.normal() }
        let mean = values.reduce(0, +) / 20_000
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }
}
