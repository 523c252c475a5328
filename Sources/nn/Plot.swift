import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn plot`: learning curves from a history file.
struct Plot: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the learning curves (loss and accuracy, or a CTC run's label error rate; train and test) of a history file.",
        discussion: """
            HISTORY is a CSV or JSON history from nn train (--history, or history.csv in a \
            checkpoint directory). The picture is SVG; an output ending in .png is converted \
            with rsvg-convert (Debian: librsvg2-bin).
            """)

    @Argument(help: "History file (.csv or .json).")
    var history: String

    @Option(help: "Output picture (.svg, or .png through rsvg-convert).")
    var output = "curves.svg"

    @Option(help: "Title above the curves.")
    var title = "Training history"

    func validate() throws {
        let format = (output as NSString).pathExtension.lowercased()
        guard format == "svg" || format == "png" else {
            throw ValidationError("--output must end in .svg or .png (the formats nn plot writes), got \(output)")
        }
    }

    func execute() throws {
        let reports = try History.read(path: history)
        guard !reports.isEmpty else { throw CommandError("\(history): no epochs to plot") }
        let svg = Data(LearningCurves.svg(reports, title: title).utf8)
        guard output.lowercased().hasSuffix(".png") else {
            try AtomicFile.write(svg, to: output)
            return
        }
        let converter = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let converter else { throw CommandError("PNG output needs rsvg-convert (apt-get install librsvg2-bin); SVG works without it") }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("nn-plot-\(UUID().uuidString).svg")
        try svg.write(to: temporary)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let png = output + ".partial"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: converter)
        process.arguments = ["--format", "png", "--output", png, temporary.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: png)
            throw CommandError("rsvg-convert failed (exit \(process.terminationStatus))")
        }
        guard rename(png, output) == 0 else { throw CommandError("\(output): cannot write the file") }
    }
}
