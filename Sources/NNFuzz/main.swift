import Foundation

// NNFuzz: libFuzzer targets for every parser of outside files (see docs/reliability.md).
//
//   scripts/fuzz.sh [runs]                        build with -sanitize=fuzzer,address and run each target
//   NN_FUZZ_TARGET=idx .build/debug/NNFuzz FILE…  (plain build) replay inputs, e.g. a crash found earlier

guard let target = FuzzTarget.fromEnvironment() else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("NNFuzz: set NN_FUZZ_TARGET to one of \(names)\n".utf8))
    exit(2)
}

#if FUZZING
import CLibFuzzer

nonisolated(unsafe) var selected = target

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected.run(bytes)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
#else
// Replay: each argument is a file, or a directory of files, fed to the target once.
var count = 0
for argument in CommandLine.arguments.dropFirst() {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else { continue }
    let paths = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { argument + "/" + $0 }
        : [argument]
    for path in paths {
        guard let data = FileManager.default.contents(atPath: path) else { continue }
        target.run([UInt8](data))
        count += 1
    }
}
print("NNFuzz \(target.rawValue): \(count) inputs replayed without a crash")
#endif
