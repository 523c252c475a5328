import Foundation
import Testing
@testable import NeuralNetworks

/// `Embedding`: rows of a table by index, against PyTorch's `nn.Embedding`; gradients by finite
/// differences; an index outside the table is an error before any pass, never a wrong row.
struct EmbeddingTests {
    struct Fixture: Decodable {
        let embeddings, ids, output, upstream: FixtureTensor
        let embeddings_gradient: FixtureTensor
    }

    static func layer(_ f: Fixture) throws -> Embedding {
        let layer = Embedding(inputDim: 7, outputDim: 3)
        var generator = RandomGenerator(seed: 1)
        try layer.build(inputShape: [4], generator: &generator)
        layer.embeddings.tensor = f.embeddings.tensor
        return layer
    }

    @Test func matchesPyTorchForwardAndBackward() throws {
        let f = try Fixtures.load("embedding.json", as: Fixture.self)
        let layer = try Self.layer(f)
        let output = layer.forward(f.ids.tensor, training: true)
        expectClose(output, f.output.tensor, "output")
        let inputGradient = layer.backward(f.upstream.tensor)
        #expect(inputGradient.shape == [2, 4] && inputGradient.scalars.allSatisfy { $0 == 0 })
        expectClose(layer.embeddings.gradientTensor, f.embeddings_gradient.tensor, "embeddings gradient (id 4 read three times)")
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let layer = Embedding(inputDim: 5, outputDim: 2)
        var generator = RandomGenerator(seed: 2)
        try layer.build(inputShape: [3], generator: &generator)
        checkGradients(of: layer, input: Tensor(shape: [2, 3], scalars: [0, 4, 4, 2, 0, 1]), checksInput: false)
    }

    /// As a model's first layer, ids outside the table (or fractions) stop fit, evaluate and
    /// predict with the value named; the model itself trains ids to classes, and saves and loads.
    @Test func aModelChecksItsIdsAndLearnsFromThem() throws {
        let model = try ModelSpec.model("embedding(6, 4) lstm(8) dense(2, softmax)")
        // The class is whether id 5 occurs in the sequence.
        var generator = RandomGenerator(seed: 4)
        let ids = (0..<(128 * 5)).map { _ in Float(generator.next() % 6) }
        let labels = (0..<128).map { sample in ids[(sample * 5)..<(sample * 5 + 5)].contains(5) ? 1 : 0 }
        let data = try Dataset(inputs: FloatSamples(values: ids, sampleShape: [5]), labels: labels, classCount: 2)
        let reports = try model.fit(data, validation: data, optimizer: Adam(learningRate: 0.02), epochs: 12, batchSize: 16, seed: 1)
        #expect(try #require(reports.last?.testAccuracy) > 0.9, "\(reports.map(\.testAccuracy))")
        let bad = try Dataset(inputs: FloatSamples(values: ids.enumerated().map { $0 == 7 ? 6 : $1 }, sampleShape: [5]),
                              labels: labels, classCount: 2)
        #expect { try model.evaluate(bad) } throws: { "\($0)".contains("input value 6.0 (sample 1 of the batch, position 2) is not an index of its 6 rows") }
        #expect(throws: ShapeError.self) { try model.fit(bad, optimizer: SGD(learningRate: 0.1), epochs: 1) }
        #expect(throws: ShapeError.self) { try model.predict(FloatSamples(values: [0, 1, 2, 3, 2.5], sampleShape: [5])) }
        let path = try ModelFileTests.temporaryFile("embedding.safetensors")
        try model.save(to: path)
        let x = Tensor(shape: [1, 5], scalars: [5, 0, 1, 2, 3])
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
        // Unchecked (a tensor predicted directly), an id outside the table shows as NaN, not a row.
        let unchecked = model.predict(Tensor(shape: [1, 5], scalars: [9, 0, 1, 2, 3]))
        #expect(unchecked.scalars.allSatisfy { $0.isNaN })
    }

    /// A container first in the model asks the layers that read its input: an embedding inside
    /// a chain or a concatenation is checked as one first in the model.
    @Test func containersCheckTheLayersThatReadTheirInput() throws {
        let data = try Dataset(inputs: FloatSamples(values: [0, 1, 2, 7, 1, 0], sampleShape: [3]), labels: [0, 1], classCount: 2)
        for spec in ["chain([embedding(4, 2)]) gru(2) dense(2, softmax)",
                     "concatenate([embedding(4, 2), embedding(8, 2)]) gru(2) dense(2, softmax)",
                     "residual([embedding(4, 2)], projection=embedding(4, 2)) gru(2) dense(2, softmax)"] {
            let model = try ModelSpec.model(spec)
            #expect(throws: ShapeError.self, "\(spec)") { try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1) }
        }
    }

    /// From the command line: ids in a `.npy` of int64, padded sequences with `--lengths`, the
    /// model exported to PyTorch as `nn.Embedding`.
    @Test func idsFromANumPyFileTrainAndExport() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var generator = RandomGenerator(seed: 8)
        var ids: [Int] = [], labels: [Int] = [], lengths: [Int] = []
        for _ in 0..<200 {
            let length = 1 + Int(generator.next() % 6)
            let sample = (0..<6).map { $0 < length ? Int(generator.next() % 9) : 0 }
            ids += sample
            labels.append(sample.prefix(length).contains(8) ? 1 : 0)
            lengths.append(length)
        }
        try NumPyWriter.write(ids, shape: [200, 6], to: path("x.npy"))
        try NumPyWriter.write(labels, shape: [200], to: path("y.npy"))
        try NumPyWriter.write(lengths, shape: [200], to: path("lengths.npy"))
        let train = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--lengths", path("lengths.npy"),
                                 "--validation-split", "0.2", "--model", "embedding(9, 4) gru(8) dense(classes, softmax)",
                                 "--optimizer", "adam", "--learning-rate", "0.02", "--epochs", "3", "--save", path("m.nn")])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("embedding (Embedding)"))
        let export = try CLI.run(["export", "--model", path("m.nn"), "--format", "torch", "--output", path("t.safetensors")])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try Safetensors(path: path("t.safetensors")).tensors["0.weight"]?.shape == [9, 4])
        let python = try String(contentsOfFile: path("t.py"), encoding: .utf8)
        #expect(python.contains("class Embedding(nn.Embedding)") && python.contains("Embedding(9, 4)"))
        let normalized = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--normalize", "standardize",
                                      "--model", "embedding(9, 4) gru(8) dense(classes, softmax)", "--epochs", "1"])
        #expect(normalized.status == 1 && normalized.stderr.contains("--normalize puts a layer before the embedding"))
    }
}
