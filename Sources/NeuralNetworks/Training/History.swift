import Foundation

/// The per-epoch history of a run as CSV or JSON.
public enum History {
    public static let csvHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds,test_label_error_rate"
    /// The header before the label error rate (CTC runs) had a column: such files still read.
    static let shortCSVHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds"

    public static func csv(_ history: [EpochReport]) -> String {
        func f(_ x: Float?) -> String { x.map { "\($0)" } ?? "" }
        return ([csvHeader] + history.map { r in
            "\(r.epoch),\(f(r.trainLoss)),\(f(r.trainAccuracy)),\(f(r.testLoss)),\(f(r.testAccuracy)),\(f(r.learningRate)),"
                + String(format: "%.3f", r.elapsedSeconds) + ",\(f(r.testLabelErrorRate))"
        }).joined(separator: "\n") + "\n"
    }

    public static func json(_ history: [EpochReport]) throws -> Data {
        try JSONEncoder.keepingNonFiniteNumbers([.prettyPrinted, .sortedKeys]).encode(history)
    }

    /// Writes `history` atomically, as JSON when `path` ends in `.json`, CSV otherwise.
    public static func write(_ history: [EpochReport], to path: String) throws {
        let data = path.lowercased().hasSuffix(".json") ? try json(history) : Data(csv(history).utf8)
        try AtomicFile.write(data, to: path)
    }

    /// Reads a history written by ``write(_:to:)`` (CSV or JSON, by extension).
    public static func read(path: String) throws -> [EpochReport] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HistoryError(description: "\(path): cannot read the file")
        }
        if path.lowercased().hasSuffix(".json") {
            do { return try JSONDecoder.keepingNonFiniteNumbers.decode([EpochReport].self, from: data) } catch {
                throw HistoryError(description: "\(path): not a history JSON file")
            }
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        guard let header = lines.first.map(String.init), [csvHeader, shortCSVHeader].contains(header) else {
            throw HistoryError(description: "\(path): the first line is not \(csvHeader)")
        }
        let columns = header.split(separator: ",").count
        return try lines.dropFirst().enumerated().map { index, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == columns, let epoch = Int(fields[0]), let trainLoss = Float(fields[1]),
                  let rate = Float(fields[5]), let seconds = Double(fields[6])
            else { throw HistoryError(description: "\(path): line \(index + 2) is not a history row") }
            var report = EpochReport(epoch: epoch, trainLoss: trainLoss, trainAccuracy: Float(fields[2]),
                                     testLoss: Float(fields[3]), testAccuracy: Float(fields[4]),
                                     learningRate: rate, elapsedSeconds: seconds)
            report.testLabelErrorRate = columns == 8 ? Float(fields[7]) : nil
            return report
        }
    }
}

public struct HistoryError: Error, CustomStringConvertible, Equatable {
    public let description: String
}
