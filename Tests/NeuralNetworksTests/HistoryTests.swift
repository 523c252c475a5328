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
        #expect(lines[1] == "1,0.5,0.8,0.4,0.85,0.1,11.500")
    }

    @Test func fileThatIsNotAHistoryIsRejected() throws {
        let path = try ModelFileTests.temporaryFile("x.csv")
        try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: HistoryError.self) { try History.read(path: path) }
    }
}
