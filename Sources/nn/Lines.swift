import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn lines`: the lines task of --lines (and the ctc-lines preset) written as NumPy arrays, so
/// that another framework trains on exactly the same lines.
struct Lines: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the lines of images that --lines trains on as NumPy arrays.",
        discussion: """
            Makes the images of --data (an IDX directory by default) into lines of 1–5 images side by \
            side, exactly as nn train --lines does, and writes DIR/x_train.npy and x_test.npy (float32 \
            [lines, columns, height]: columns are time steps) and y_train.npy and y_test.npy (int64 \
            [lines, 5]: the classes in order, padded with -1).
            """)

    @OptionGroup(title: "Data")
    var dataFlags: DataFlags

    @Option(help: "The folder the four arrays go to (made if missing; existing arrays are replaced).")
    var output: String

    func validate() throws {
        if dataFlags.lines == nil { throw ValidationError("--lines TRAIN,TEST says how many lines to write") }
    }

    func execute() throws {
        let path = absolutePath(dataFlags.data ?? DataFlags.defaultData)
        let parts = try DataFiles.open(path, options: try dataFlags.options())
        guard let test = parts.test else { throw CommandError("\(path) has no test part to make the test lines of") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandError("--output \(output) is a file; name a folder")
        }
        try Self.makeFolder(output)
        for (name, images, training) in [("train", parts.train, true), ("test", test, false)] {
            let lines = try dataFlags.lines(of: images, training: training)
            guard case .sequences(let sequences) = lines.targets else { continue }
            let x = (output as NSString).appendingPathComponent("x_\(name).npy")
            let y = (output as NSString).appendingPathComponent("y_\(name).npy")
            // In parts: a million lines are gigabytes.
            try NumPyWriter.write(shape: [lines.count] + lines.sampleShape, to: x, rowsPerPart: 1024) { rows in
                try lines.inputs.tensor(Array(rows)).scalars
            }
            let longest = sequences.map(\.count).max() ?? 0
            try NumPyWriter.write(sequences.flatMap { $0 + Array(repeating: -1, count: longest - $0.count) },
                                  shape: [lines.count, longest], to: y)
            print("wrote \(x) (\(lines.count) lines of \(lines.shapeText)) and \(y)")
        }
    }

    /// Makes `path` and the folders above it that are missing; an error names the reason (as `mkdir -p`).
    static func makeFolder(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if FileManager.default.fileExists(atPath: built) { continue }
            guard mkdir(built, 0o755) == 0 || errno == EEXIST else {
                throw CommandError("--output \(path): cannot make the folder \(built) (\(String(cString: strerror(errno))))")
            }
        }
    }
}
