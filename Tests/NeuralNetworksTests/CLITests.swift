import Foundation
import Testing

/// Runs the `nn` binary built beside the tests.
enum CLI {
    static var binary: URL {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [products, products.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("nn")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        // Fallback: the package's own build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let release = root.appendingPathComponent(".build/release/nn")
        return FileManager.default.isExecutableFile(atPath: release.path) ? release : root.appendingPathComponent(".build/debug/nn")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

struct CLITests {
    @Test func trainPrintsSummaryThenReferenceFormatLines() throws {
        let result = try CLI.run(["train", "--epochs", "2", "--units", "8", "--train-limit", "256", "--test-limit", "128"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Total params:"))
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("loss: ") }
        #expect(lines.count == 2)
        let pattern = #/loss: \d+\.\d{4} / \d+\.\d{4}\taccuracy: \d\.\d{4} / \d\.\d{4}\tstep (\d+)  \d+\.\d{2} sec/#
        for (index, line) in lines.enumerated() {
            let match = try #require(try pattern.wholeMatch(in: String(line)))
            #expect(Int(match.1) == index + 1)
        }
        // Not a terminal: no progress bar on stderr.
        #expect(result.stderr.isEmpty)
    }

    @Test func badDataDirectoryGivesOneLineErrorAndFailure() throws {
        let result = try CLI.run(["train", "--data", "/nonexistent/data", "--epochs", "1"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains("/nonexistent/data"))
    }

    @Test func directoryWithoutLabelsNamesTheMissingFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]).write(to: url.appendingPathComponent("train-images-idx3-ubyte"))
        let result = try CLI.run(["train", "--data", url.path])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("train-labels-idx1-ubyte"))
    }

    @Test func nonsenseFlagsAreRejectedByName() throws {
        for (flag, value) in [("--epochs", "0"), ("--batch-size", "0"), ("--units", "0"), ("--learning-rate", "nan")] {
            let result = try CLI.run(["train", flag, value])
            #expect(result.status != 0)
            #expect(result.stderr.contains(flag), "\(flag): \(result.stderr)")
        }
    }
}
