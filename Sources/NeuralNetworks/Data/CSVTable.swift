import CSV
import Foundation

/// A CSV table with a header row: one column is the target, every other one a numeric feature.
/// Parsed with CSV.swift (quoted fields, embedded commas and line breaks); the features are kept
/// as `Float` in memory (a table larger than memory belongs in a `.npy` file, which streams).
public enum CSVTable {
    /// How the target column is read.
    public enum TargetKind: String, Sendable, CaseIterable {
        /// Classes unless every value is a number and some is not a whole one.
        case auto
        /// Each distinct value is a class (sorted numerically when all are numbers, else by text);
        /// the values are the class names.
        case classes
        /// Numbers, for a regression loss.
        case values
        /// Label sequences, for a sequence loss (ctc): each row of an integer NumPy array holds a
        /// sample's classes in order, padded at its end with -1, as `nn lines` writes them.
        /// NumPy arrays only: a CSV cell holds one target.
        case sequences
    }

    /// Reads `path`: `target` names the target column (its header). `classNames`, when given (a
    /// model's), fixes the classes: a value outside them is an error naming its row.
    /// `featureNames`, when given (a model's), are the feature columns, found by name in any
    /// order (other columns are left out); nil: every column but the target.
    public static func load(path: String, target: String, kind: TargetKind = .auto,
                            classNames: [String]? = nil, featureNames: [String]? = nil) throws -> Dataset {
        try load(contents: try text(path), file: path, target: target, kind: kind, classNames: classNames,
                 featureNames: featureNames)
    }

    /// The table in `contents` (what a file holds); `file` names it in errors.
    public static func load(contents: String, file path: String, target: String, kind: TargetKind = .auto,
                            classNames: [String]? = nil, featureNames: [String]? = nil) throws -> Dataset {
        func fail(_ problem: String) -> CSVTableError { CSVTableError(file: path, problem: problem) }
        if kind == .sequences {
            throw fail("a column holds one target per row, not the label sequences a sequence loss (ctc) trains: "
                       + "they come from a NumPy array, rows of classes padded with -1")
        }
        let (inputs, cells, columns) = try read(contents, file: path, target: target, requireTarget: true,
                                                featureNames: featureNames)
        let targets = cells!
        let numbers = targets.map { Double($0) }
        let allNumbers = numbers.allSatisfy { $0?.isFinite == true }
        let readAsValues = kind == .values
            || (kind == .auto && classNames == nil && allNumbers && numbers.contains { $0!.rounded() != $0! })
        if readAsValues {
            // Values as float32 holds them: a finite number beyond its range is an error, not +inf.
            if let bad = numbers.firstIndex(where: { $0.map { Float($0).isFinite } != true }) {
                throw fail("row \(bad + 2), column '\(target)': '\(targets[bad].prefix(40))' \(notANumber(targets[bad]))")
            }
            var table = try Dataset(inputs: inputs, values: FloatSamples(values: numbers.map { Float($0!) }, sampleShape: [1]),
                                    inputsName: path, targetsName: path)
            table.featureNames = columns
            return table
        }
        let names = classNames ?? Set(targets).sorted { a, b in allNumbers ? Double(a)! < Double(b)! : a < b }
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let labels = try targets.enumerated().map { row, name in
            guard let label = index[name] else {
                throw fail("row \(row + 2), column '\(target)': '\(name.prefix(40))' is not one of the model's classes "
                           + names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", …" : ""))
            }
            return label
        }
        var table = try Dataset(inputs: inputs, labels: labels, classCount: names.count, classNames: names,
                                inputsName: path, labelsName: path)
        table.featureNames = columns
        return table
    }

    /// The feature columns of `path` alone: the inputs of a table to predict. With
    /// `featureNames` (a model's), those columns by name; else every column but `target`, which
    /// may be absent.
    public static func features(path: String, excluding target: String?, featureNames: [String]? = nil) throws -> FloatSamples {
        try read(try text(path), file: path, target: target, requireTarget: false, featureNames: featureNames).inputs
    }

    /// The text of `path`, read at once: CSV.swift's file streams report an error at the end of a
    /// file on Linux (Foundation's hasBytesAvailable stays true there).
    private static func text(_ path: String) throws -> String {
        String(decoding: try InputFile.read(path) { CSVTableError(file: path, problem: "cannot read the file (\($0))") },
               as: UTF8.self)
    }

    /// Why `cell` is not a value: a finite number beyond float32 is one, but too large to hold.
    private static func notANumber(_ cell: String) -> String {
        Double(cell)?.isFinite == true ? "is beyond float32's range (±3.4e38)" : "is not a finite number"
    }

    /// The features, the target column's cells when it is there, and the feature columns' names.
    private static func read(_ text: String, file path: String, target: String?, requireTarget: Bool,
                             featureNames: [String]?) throws -> (inputs: FloatSamples, targets: [String]?, features: [String]) {
        func fail(_ problem: String) -> CSVTableError { CSVTableError(file: path, problem: problem) }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true) } catch {
            throw fail(text.allSatisfy(\.isWhitespace) ? "the file is empty: a table needs a header row" : "cannot read its header row")
        }
        guard let header = reader.headerRow, !header.isEmpty, header != [""] else { throw fail("no header row") }
        if let twice = header.indices.first(where: { header[..<$0].contains(header[$0]) }) {
            throw fail("the header names '\(header[twice])' twice (columns \(header.firstIndex(of: header[twice])! + 1) and "
                       + "\(twice + 1)): name each column once")
        }
        let targetColumn = target.flatMap { header.firstIndex(of: $0) }
        if requireTarget && targetColumn == nil {
            throw fail("no column named '\(target ?? "")' (the header has \(header.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        var featureColumns = header.indices.filter { $0 != targetColumn }
        if let featureNames {
            // A model's columns by name, so that a table with its columns in another order reads alike.
            let missing = featureNames.filter { !header.contains($0) }
            guard missing.isEmpty else {
                throw fail("no column named \(missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")): the model was "
                           + "trained on columns \(featureNames.prefix(20).joined(separator: ", "))")
            }
            featureColumns = featureNames.map { header.firstIndex(of: $0)! }
        }
        guard !featureColumns.isEmpty else { throw fail("no feature column beside the target '\(target ?? "")'") }
        var features: [Float] = []
        var targets: [String] = []
        var row = 1  // the header
        while let fields = reader.next() {
            row += 1
            if fields.count == 1 && fields[0].isEmpty { continue }  // a blank line
            guard fields.count == header.count else {
                throw fail("row \(row) has \(fields.count) fields, the header has \(header.count)")
            }
            for column in featureColumns {
                let cell = fields[column]
                guard !cell.isEmpty else { throw fail("row \(row), column '\(header[column])': missing value") }
                guard let value = Float(cell), value.isFinite else {
                    throw fail("row \(row), column '\(header[column])': '\(cell.prefix(40))' \(notANumber(cell))")
                }
                features.append(value)
            }
            if let targetColumn {
                let label = fields[targetColumn]
                guard !label.isEmpty else { throw fail("row \(row), column '\(header[targetColumn])': missing target") }
                targets.append(label)
            }
        }
        if let error = reader.error { throw fail("unreadable at row \(row + 1) (\(error))") }
        guard !features.isEmpty else { throw fail("holds a header and no rows") }
        var inputs = FloatSamples(values: features, sampleShape: [featureColumns.count])
        inputs.file = path
        return (inputs, targetColumn == nil ? nil : targets, featureColumns.map { header[$0] })
    }
}

/// What is wrong with a CSV table; names the file, and the row and column where there is one.
public struct CSVTableError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}
