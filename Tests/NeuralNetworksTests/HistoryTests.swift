import Foundation
import Testing
@testable import NeuralNetworks

struct HistoryTests {
    static let sample = [
        EpochReport(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.4, testAccuracy: 0.85, learningRate: 0.1, elapsedSeconds: 11.5),
        EpochReport(epoch: 2, trainLoss: 0.25, trainAccuracy: 0.9, testLoss: 0.375, testAccuracy: 0.875, learningRate: 0.0999, elapsedSeconds: 23),
    ]

    @Test(arguments: ["h.csv", "h.json"])
    func historyRoundTrips(_ name: String) throws {
        let path = try ModelFileTests.temporaryFile(name)
        try History.write(Self.sample, to: path)
        #expect(try History.read(path: path) == Self.sample)
    }

    @Test func csvHasAHeaderAndOneRowPerEpoch() {
        let lines = History.csv(Self.sample).split(separator: "\n")
        #expect(lines.first.map(String.init) == History.csvHeader)
        #expect(lines[1] == "1,0.5,0.8,0.4,0.85,0.1,11.500,")
    }

    /// A CTC run's label error rate is a CSV column too (only the JSON had it); files written
    /// before the column still read.
    @Test func theLabelErrorRateIsKeptAndPlotted() throws {
        var report = EpochReport(epoch: 1, trainLoss: 2.5, trainAccuracy: nil, testLoss: 2.25, testAccuracy: nil,
                                 learningRate: 0.001, elapsedSeconds: 3)
        report.testLabelErrorRate = 0.75
        let path = try ModelFileTests.temporaryFile("ctc.csv")
        try History.write([report], to: path)
        #expect(try History.read(path: path) == [report])
        let old = try ModelFileTests.temporaryFile("old.csv")
        try Data((History.shortCSVHeader + "\n1,0.5,0.8,0.4,0.85,0.1,11.500\n").utf8).write(to: URL(fileURLWithPath: old))
        #expect(try History.read(path: old) == [Self.sample[0]])
    }

    @Test func fileThatIsNotAHistoryIsRejected() throws {
        let path = try ModelFileTests.temporaryFile("x.csv")
        try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: HistoryError.self) { try History.read(path: path) }
    }
}
