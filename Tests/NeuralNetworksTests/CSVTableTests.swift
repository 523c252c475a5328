import Foundation
import Testing
@testable import NeuralNetworks

/// CSV tables as Python's csv module writes them (scripts/make_data_fixtures.py).
struct CSVTableTests {
    struct Expected: Decodable { let features: [Float]; let classes: [String]; let labels: [Int] }
    static let table = Fixtures.directory.appendingPathComponent("data/table.csv").path

    static func temporaryTable(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("table-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func textTargetsBecomeNamedClassesAndOtherColumnsFeatures() throws {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory.appendingPathComponent("data/expected.json")))
        let expected = try JSONDecoder().decode(Expected.self, from: JSONSerialization.data(withJSONObject: (all as! [String: Any])["table.csv"]!))
        let data = try CSVTable.load(path: Self.table, target: "species")
        #expect(data.sampleShape == [2] && data.count == 4)
        #expect(data.classNames == expected.classes && data.classNames!.contains("big, red"))
        #expect(data.labels == expected.labels)
        #expect(try data.inputs.tensor([0, 1, 2, 3]).scalars == expected.features)
    }

    @Test func numericTargetsAreClassesWhenWholeAndValuesWhenFractional() throws {
        let whole = try Self.temporaryTable("a,b,y\n1,2,10\n3,4,2\n5,6,10\n")
        let fractional = try Self.temporaryTable("a,y\n1,0.5\n2,1.25\n")
        defer { [whole, fractional].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let classes = try CSVTable.load(path: whole, target: "y")
        #expect(classes.classNames == ["2", "10"] && classes.labels == [1, 0, 1])  // numeric order, not text order
        let values = try CSVTable.load(path: fractional, target: "y")
        guard case .values(let targets) = values.targets else { Issue.record("expected value targets"); return }
        #expect(try targets.tensor([0, 1]).scalars == [0.5, 1.25])
        let forced = try CSVTable.load(path: whole, target: "y", kind: .values)
        #expect(forced.classCount == 0)
    }

    @Test func badCellsAreErrorsNamingRowAndColumn() throws {
        func problem(_ text: String, target: String = "y") throws -> String {
            let path = try Self.temporaryTable(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do { _ = try CSVTable.load(path: path, target: target); return "read" } catch { return "\(error)" }
        }
        #expect(try problem("a,y\n1,0\n,1\n").hasSuffix("row 3, column 'a': missing value"))
        #expect(try problem("a,y\n1,0\nabc,1\n").hasSuffix("row 3, column 'a': 'abc' is not a finite number"))
        #expect(try problem("a,y\n1,0\n2\n").hasSuffix("row 3 has 1 fields, the header has 2"))
        #expect(try problem("a,y\n1,0\n2,\n").hasSuffix("row 3, column 'y': missing target"))
        #expect(try problem("a,y\n1,0\n", target: "label").contains("no column named 'label' (the header has 'a', 'y')"))
        #expect(try problem("a,y\n").hasSuffix("holds a header and no rows"))
        #expect(try problem("a,y\nnan,0\n").contains("'nan' is not a finite number"))
        // Finite, but beyond float32: it read as "not a finite number" (a feature) or as +inf (a target).
        #expect(try problem("a,y\n1e39,0\n").hasSuffix("row 2, column 'a': '1e39' is beyond float32's range (±3.4e38)"))
        #expect(try problem("a,y\n1,0.5\n2,-1e39\n").hasSuffix("column 'y': '-1e39' is beyond float32's range (±3.4e38)"))
        #expect(try problem("").hasSuffix("the file is empty: a table needs a header row"))
        #expect(try problem("a,a,y\n1,2,0\n").hasSuffix("the header names 'a' twice (columns 1 and 2): name each column once"))
    }

    /// A model's feature names pick a table's columns by name, in the model's order, whatever
    /// order the table has them in; a column the table lacks is named.
    @Test func aModelsFeatureNamesPickColumnsByName() throws {
        let path = try Self.temporaryTable("y,b,extra,a\n0,2,9,1\n1,4,9,3\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = try CSVTable.load(path: path, target: "y", featureNames: ["a", "b"])
        #expect(data.featureNames == ["a", "b"] && data.sampleShape == [2])
        #expect(try data.inputs.tensor([0, 1]).scalars == [1, 2, 3, 4])
        #expect(try CSVTable.load(path: path, target: "y").featureNames == ["b", "extra", "a"])
        #expect(try CSVTable.features(path: path, excluding: nil, featureNames: ["b", "a"]).tensor([1]).scalars == [4, 3])
        #expect { try CSVTable.features(path: path, excluding: nil, featureNames: ["a", "c"]) } throws: {
            "\($0)".contains("no column named 'c': the model was trained on columns a, c")
        }
    }

    @Test func aModelsClassNamesFixTheClassesOfATestTable() throws {
        let path = try Self.temporaryTable("a,y\n1,dog\n2,cat\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = try CSVTable.load(path: path, target: "y", classNames: ["cat", "dog", "emu"])
        #expect(data.labels == [1, 0] && data.classCount == 3)
        #expect(throws: CSVTableError.self) { try CSVTable.load(path: path, target: "y", classNames: ["cat"]) }
    }
}
