import Testing
@testable import NeuralNetworks

struct InitializerTests {
    @Test(arguments: [(4, 12), (12, 4), (5, 5)])
    func orthogonalHasOrthonormalRowsOrColumns(rows: Int, columns: Int) {
        var generator = RandomGenerator(seed: 1)
        let m = Initializer.orthogonal().values(shape: [rows, columns], generator: &generator)
        let vectors: [[Float]] = rows <= columns
            ? (0..<rows).map { r in Array(m[(r * columns)..<((r + 1) * columns)]) }
            : (0..<columns).map { c in (0..<rows).map { m[$0 * columns + c] } }
        for i in vectors.indices {
            for j in vectors.indices {
                let dot = zip(vectors[i], vectors[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5)
            }
        }
    }

    @Test func glorotUniformStaysWithinItsLimit() {
        var generator = RandomGenerator(seed: 2)
        let values = Initializer.glorotUniform.values(shape: [28, 512], generator: &generator)
        let limit = (6 / Float(28 + 512)).squareRoot()
        #expect(values.allSatisfy { abs($0) <= limit })
        #expect(values.max()! > 0.9 * limit && values.min()! < -0.9 * limit)
    }

    @Test(arguments: [Initializer.heNormal, .glorotNormal])
    func truncatedNormalsHaveKerasStandardDeviation(_ initializer: Initializer) {
        var generator = RandomGenerator(seed: 3)
        let values = initializer.values(shape: [100, 200], generator: &generator)
        let expected: Float = initializer == .heNormal ? (2 / 100 as Float).squareRoot() : (2 / 300 as Float).squareRoot()
        let sd = (values.reduce(0) { $0 + $1 * $1 } / Float(values.count)).squareRoot()
        #expect(abs(sd - expected) / expected < 0.03)
        #expect(values.allSatisfy { abs($0) <= 2 * expected / 0.8796 + 1e-6 })
    }

    @Test func constantsAndUniformRanges() {
        var generator = RandomGenerator(seed: 4)
        #expect(Initializer.zeros.values(shape: [3], generator: &generator) == [0, 0, 0])
        #expect(Initializer.ones.values(shape: [2], generator: &generator) == [1, 1])
        #expect(Initializer.constant(2.5).values(shape: [2], generator: &generator) == [2.5, 2.5])
        let uniform = Initializer.randomUniform(low: 1, high: 2).values(shape: [1000], generator: &generator)
        #expect(uniform.allSatisfy { (1..<2).contains($0) })
        let heLimit = (6 / Float(10)).squareRoot()
        #expect(Initializer.heUniform.values(shape: [10, 4], generator: &generator).allSatisfy { abs($0) <= heLimit })
        let normal = Initializer.randomNormal(mean: 5, standardDeviation: 0.1).values(shape: [2000], generator: &generator)
        #expect(abs(normal.reduce(0, +) / 2000 - 5) < 0.01)
    }
}
