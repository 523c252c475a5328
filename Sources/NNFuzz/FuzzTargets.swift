import Foundation
import NeuralNetworks

/// The parsers that read files from outside, each fed arbitrary bytes. A target must return
/// normally for every input: errors are thrown and caught; a crash, a sanitizer report, a hang
/// or an out-of-memory is a finding.
enum FuzzTarget: String, CaseIterable {
    case idx, gzip, safetensors, png, netpbm

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
        }
    }

    /// The target named by `NN_FUZZ_TARGET`.
    static func fromEnvironment() -> FuzzTarget? {
        ProcessInfo.processInfo.environment["NN_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))
    }
}
