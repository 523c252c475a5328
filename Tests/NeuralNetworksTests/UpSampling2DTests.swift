import Foundation
import Testing
@testable import NeuralNetworks

/// Up-sampling by whole factors: PyTorch parity (nearest, bilinear with half-pixel centres),
/// gradients, sizes and errors.
struct UpSampling2DTests {
    struct Case: Decodable {
        let size: [Int]
        let interpolation: String
        let input, output, upstream, input_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let cases: [Case] }

    @Test(arguments: 0..<5)
    func matchesPyTorch(index: Int) throws {
        let c = try Fixtures.load("upsampling.json", as: Fixture.self).cases[index]
        let layer = UpSampling2D(size: Size2D(c.size[0], c.size[1]), interpolation: .init(rawValue: c.interpolation)!)
        var generator = RandomGenerator(seed: 0)
        #expect(try layer.build(inputShape: Array(c.input.shape.dropFirst()), generator: &generator)
                == Array(c.output.shape.dropFirst()))
        expectClose(layer.forward(c.input.tensor, training: true), c.output.tensor, relative: 1e-5, absolute: 1e-6, "output")
        expectClose(layer.backward(c.upstream.tensor), c.input_gradient.tensor, relative: 1e-5, absolute: 1e-5, "input gradient")
    }

    @Test(arguments: [(UpSampling2D.Interpolation.nearest, Size2D(2, 3)), (.bilinear, Size2D(2)), (.bilinear, Size2D(3, 1))])
    func gradientMatchesFiniteDifferences(interpolation: UpSampling2D.Interpolation, size: Size2D) throws {
        var generator = RandomGenerator(seed: 51)
        let layer = UpSampling2D(size: size, interpolation: interpolation)
        try layer.build(inputShape: [3, 2, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 3, 2, 2], generator: &generator))
    }

    /// Nearest repeats each pixel over its block; bilinear keeps a constant image constant and
    /// puts the input's values at the centre of each block's reach.
    @Test func nearestRepeatsAndBilinearInterpolates() throws {
        var generator = RandomGenerator(seed: 52)
        let nearest = UpSampling2D(size: Size2D(2, 3))
        #expect(try nearest.build(inputShape: [1, 2], generator: &generator) == [2, 6, 1])
        #expect(nearest.forward(Tensor(shape: [1, 1, 2], scalars: [1, 2]), training: false).scalars
                == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
        let bilinear = UpSampling2D(size: Size2D(1, 2), interpolation: .bilinear)
        try bilinear.build(inputShape: [1, 2], generator: &generator)
        // Sources −0.25 (clamped to 0), 0.25, 0.75, 1.25 (the last column).
        #expect(bilinear.forward(Tensor(shape: [1, 1, 2], scalars: [0, 4]), training: false).scalars == [0, 1, 3, 4])
        let constant = UpSampling2D(size: Size2D(3), interpolation: .bilinear)
        try constant.build(inputShape: [4, 5, 2], generator: &generator)
        #expect(constant.forward(Tensor(repeating: 0.5, shape: [1, 4, 5, 2]), training: false).scalars.allSatisfy { $0 == 0.5 })
    }

    @Test func settingsAndShapesThatCannotWorkAreErrors() throws {
        var generator = RandomGenerator(seed: 53)
        func make(_ json: String) throws -> any Layer {
            try JSONDecoder().decode(LayerDescription.self, from: Data(json.utf8)).makeLayer()
        }
        #expect(throws: ShapeError.self) { try make(#"{"type": "UpSampling2D", "size": 0}"#) }
        #expect(throws: ShapeError.self) { try make(#"{"type": "UpSampling2D", "size": [2, 100000]}"#) }
        #expect(throws: (any Error).self) { try make(#"{"type": "UpSampling2D", "interpolation": "bicubic"}"#) }
        #expect(throws: ShapeError.self) { try UpSampling2D().build(inputShape: [4], generator: &generator) }
        #expect(throws: ShapeError.self) { try UpSampling2D().build(inputShape: [4, 0, 2], generator: &generator) }
    }

    @Test func modelSpecsNameItShort() throws {
        let layers = try ModelSpec.layers("upsample(2x3, bilinear) upsampling2d upsampling(size=3)")
        let first = try #require(try layers[0].makeLayer() as? UpSampling2D)
        #expect(first.size == Size2D(2, 3) && first.interpolation == .bilinear)
        #expect((try layers[1].makeLayer() as? UpSampling2D)?.size == Size2D(2))
        #expect((try layers[2].makeLayer() as? UpSampling2D)?.size == Size2D(3))
    }
}
