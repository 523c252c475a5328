import Foundation
import Testing
@testable import NeuralNetworks

struct ImageLinesTests {
    /// Twelve 4×6 images, image i's pixel (row, column) = (i·24 + row·6 + column + 1) bytes.
    static let images: Dataset = {
        let bytes = (0..<12 * 24).map { UInt8($0 % 255 + 1) }
        return try! Dataset(inputs: ByteSamples(bytes: bytes, sampleShape: [4, 6]), labels: (0..<12).map { $0 % 3 })
    }()

    @Test func layoutsFitTheCanvasWithoutOverlapAndFollowTheSeed() throws {
        let lines = try ImageLines(images: Self.images.inputs, count: 300, maxItems: 5, maxGap: 2, seed: 7)
        #expect(lines.width == 40 && lines.sampleShape == [40, 4])  // 5·6 + 4·2 = 38, up to a multiple of 4
        var counts = Set<Int>()
        for line in lines.lines {
            counts.insert(line.images.count)
            #expect(line.widths.allSatisfy { (3...6).contains($0) })
            for item in line.images.indices.dropFirst() {
                let gap = line.columns[item] - (line.columns[item - 1] + line.widths[item - 1])
                #expect((0...2).contains(gap))
            }
            #expect(line.columns[0] >= 0 && line.columns.last! + line.widths.last! <= lines.width)
        }
        #expect(counts == Set(1...5))
        #expect(try ImageLines(images: Self.images.inputs, count: 300, maxGap: 2, seed: 7).lines == lines.lines)
        #expect(try ImageLines(images: Self.images.inputs, count: 300, maxGap: 2, seed: 8).lines != lines.lines)
    }

    /// Columns are time steps: a full-width image appears column by column as it is; squeezed
    /// ones stay inside their columns, and the rest of the line is background.
    @Test func linesAreDrawnColumnByColumn() throws {
        let lines = try ImageLines(images: Self.images.inputs, count: 200, maxItems: 3, maxGap: 2, seed: 3)
        let rendered = try lines.tensor(Array(0..<200))
        let pixels = try Self.images.inputs.tensor(Array(0..<12))
        var fullWidth = 0
        for (index, line) in lines.lines.enumerated() {
            var covered = Set<Int>()
            for item in line.images.indices {
                covered.formUnion(line.columns[item]..<(line.columns[item] + line.widths[item]))
                guard line.widths[item] == 6 else { continue }
                fullWidth += 1
                for x in 0..<6 {
                    for row in 0..<4 {
                        #expect(rendered[index, line.columns[item] + x, row] == pixels[line.images[item], row, x])
                    }
                }
            }
            for x in 0..<lines.width where !covered.contains(x) {
                #expect((0..<4).allSatisfy { rendered[index, x, $0] == 0 })
            }
        }
        #expect(fullWidth > 10)
    }

    @Test func aLineIsLabelledWithItsImagesClassesInOrder() throws {
        let data = try ImageLines.dataset(from: Self.images, count: 50, seed: 1)
        guard case .sequences(let sequences) = data.targets, let lines = data.inputs as? ImageLines else {
            Issue.record("expected lines with label sequences")
            return
        }
        #expect(data.classCount == 3)
        for (line, labels) in zip(lines.lines, sequences) { #expect(labels == line.images.map { $0 % 3 }) }
        #expect(lines.origin(of: 0).hasPrefix("line 0 (images sample "))
    }

    @Test func imagesThatAreNotGreyImagesWithClassesAreAnError() throws {
        let flat = try Dataset(inputs: FloatSamples(values: [1, 2, 3, 4], sampleShape: [2]), labels: [0, 1])
        #expect(throws: ShapeError.self) { try ImageLines.dataset(from: flat, count: 5, seed: 1) }
        let values = try Dataset(inputs: Self.images.inputs, values: Self.images.inputs)
        #expect(throws: ShapeError.self) { try ImageLines.dataset(from: values, count: 5, seed: 1) }
        #expect(throws: ShapeError.self) { try ImageLines(images: Self.images.inputs, count: 0, seed: 1) }
    }

    /// The ctc-lines preset from one command: lines of the training images, CTC, a label error
    /// rate per epoch; the saved model evaluates on the same test lines, best path and beam search.
    @Test func theLinesTaskTrainsAndEvaluatesFromTheCommandLine() throws {
        let folder = try TrainCommandTests.folder()
        let model = (folder as NSString).appendingPathComponent("ctc.safetensors")
        let train = try CLI.run(["train", "--preset", "ctc-lines", "--epochs", "1", "--lines", "64,16", "--train-limit", "500",
                                 "--test-limit", "100", "--save", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("64 training and 16 test samples of 164×28, label sequences of 1–5 of 10 classes"))
        #expect(TrainCommandTests.epochLines(train.stdout).first?.contains("label error rate: ") == true)
        let evaluation = try CLI.run(["evaluate", "--model", model, "--lines", "64,16", "--test-limit", "100",
                                      "--beam-width", "4"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        #expect(evaluation.stdout.contains("(best path)\tlines: 16") && evaluation.stdout.contains("(beam search, 4 prefixes)"))
        // nn predict transcribes a picture of a line (here two 28×28 images, 56 columns, as PGM).
        let picture = (folder as NSString).appendingPathComponent("line.pgm")
        let pixels: [UInt8] = (0..<(28 * 56)).map { (k: Int) -> UInt8 in UInt8(truncatingIfNeeded: k * (k % 56 < 28 ? 7 : 3)) }
        try Data(Array("P5\n56 28\n255\n".utf8) + pixels).write(to: URL(fileURLWithPath: picture))
        let transcription = try CLI.run(["predict", "--model", model, "--input", picture])
        #expect(transcription.status == 0, "\(transcription.stderr)")
        let labels = transcription.stdout.trimmingCharacters(in: .newlines).split(separator: ",", omittingEmptySubsequences: false)
        #expect(labels.count == 2 && labels[0] == "line.pgm")
        #expect(labels.last!.split(separator: " ").allSatisfy { Int($0).map { (0..<10).contains($0) } == true })
        let wrong = try CLI.run(["train", "--preset", "ctc-lines", "--epochs", "1", "--lines", "64", "--train-limit", "100"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--lines takes two counts"))
        let classes = try CLI.run(["train", "--loss", "ctc", "--epochs", "1", "--train-limit", "100", "--test-limit", "10"])
        #expect(classes.status != 0 && classes.stderr.contains("ctc trains label sequences"))
    }

    /// `nn lines` writes the lines `--lines` trains on, for another framework: the same pixels and labels.
    @Test func theLinesAreWrittenAsNumPyArrays() throws {
        let folder = try TrainCommandTests.folder()
        let result = try CLI.run(["lines", "--lines", "30,10", "--output", folder])
        #expect(result.status == 0, "\(result.stderr)")
        let x = try NumPyArray(path: (folder as NSString).appendingPathComponent("x_test.npy"))
        let y = try NumPyArray(path: (folder as NSString).appendingPathComponent("y_test.npy"))
        let images = try IDXDirectory(directory: fashionMNIST).test
        let lines = try ImageLines.dataset(from: images, count: 10, seed: 2)
        #expect(x.shape == [10, 164, 28])
        #expect(try x.tensor(Array(0..<10)) == lines.inputs.tensor(Array(0..<10)))
        guard case .sequences(let sequences) = lines.targets else { return }
        let padded = try y.integers()
        for (row, sequence) in sequences.enumerated() {
            #expect(Array(padded[(row * y.shape[1])..<((row + 1) * y.shape[1])].prefix(sequence.count)) == sequence)
        }
        #expect(try CLI.run(["lines", "--output", folder]).status != 0)
    }
}
