import Foundation
import NeuralNetworks

/// The parsers that read files from outside, each fed arbitrary bytes. A target must return
/// normally for every input: errors are thrown and caught; a crash, a sanitizer report, a hang
/// or an out-of-memory is a finding.
enum FuzzTarget: String, CaseIterable {
    case idx, gzip, safetensors, png, netpbm, npy, npz, csv

    func run(_ bytes: [UInt8]) {
        switch self {
        case .idx:
            _ = try? IDXFile(contents: bytes, file: "fuzz", byteLimit: 1 << 24)
        case .gzip:
            // The gzip path of the IDX reader: every input starts with the gzip magic.
            let input = bytes.starts(with: [0x1F, 0x8B]) ? bytes : [0x1F, 0x8B] + bytes
            _ = try? IDXFile(contents: input, file: "fuzz", byteLimit: 1 << 24)
        case .safetensors:
            guard let file = try? Safetensors(contents: Data(bytes), file: "fuzz") else { return }
            // A parsed file may still describe a model: rebuilding it must fail cleanly or work.
            _ = try? Sequential.load(file, path: "fuzz")
        case .png:
            _ = try? PNGImage.decode(bytes, file: "fuzz")
        case .netpbm:
            _ = try? NetpbmImage.decode(bytes, file: "fuzz")
        case .npy:
            guard let array = try? NumPyArray(store: ByteStore(bytes), file: "fuzz") else { return }
            Self.readAll(array)
            _ = try? array.integers()
        case .npz:
            guard let archive = try? NumPyArchive(store: ByteStore(bytes), file: "fuzz") else { return }
            for name in archive.names {
                if let array = try? archive.array(name) { Self.readAll(array) }
            }
        case .csv:
            let text = String(decoding: bytes, as: UTF8.self)
            let header = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            // Targets from the first column's name, so the fuzzer reaches rows and classes.
            let target = header.split(separator: ",").first.map(String.init) ?? "y"
            _ = try? CSVTable.load(contents: text, file: "fuzz", target: target)
            _ = try? CSVTable.load(contents: text, file: "fuzz", target: target, kind: .values)
        }
    }

    /// Every sample of a parsed array converted, when there are few enough to be quick.
    private static func readAll(_ array: NumPyArray) {
        guard array.count > 0, array.count.multipliedReportingOverflow(by: array.sampleSize).partialValue <= 1 << 16,
              !array.count.multipliedReportingOverflow(by: array.sampleSize).overflow else { return }
        _ = try? array.tensor(Array(0..<array.count))
    }

    /// The target named by `NN_FUZZ_TARGET`.
    static func fromEnvironment() -> FuzzTarget? {
        ProcessInfo.processInfo.environment["NN_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))
    }
}
