import Foundation
import NeuralNetworks

/// OpenBLAS 0.3.21 (Debian 12) chooses its kernels by CPU model and picks badly on some server
/// CPUs (``BLAS/preferredCoreType(cpuinfo:)`` says which and what runs faster). OpenBLAS reads
/// `OPENBLAS_CORETYPE` once, as it loads, before `main`: so `nn` sets it and re-executes itself.
/// A value already in the environment is left alone; `NN_VERBOSE=1` prints the choice.
enum OpenBLASCore {
    static func preferFastestKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = preferred else {
            if getenv("NN_VERBOSE") != nil, let note = environmentNote {
                FileHandle.standardError.write(Data("nn: \(note)\n".utf8))
            }
            return
        }
        if getenv("NN_VERBOSE") != nil {
            FileHandle.standardError.write(Data("nn: OpenBLAS kernels: OPENBLAS_CORETYPE=\(core)\n".utf8))
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(chosenMarker, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached if exec failed: carry on with the detected kernels.
    }

    /// Set beside `OPENBLAS_CORETYPE` when nn chose it, so that the re-executed nn knows.
    private static let chosenMarker = "NN_CHOSE_OPENBLAS_CORETYPE"

    private static var preferred: String? {
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).flatMap(BLAS.preferredCoreType(cpuinfo:))
    }

    /// Where an `OPENBLAS_CORETYPE` from the environment (not nn's choice) differs from what nn
    /// would choose here, a line saying so (`nn bench` reports it; a Zen 5 ran its products at
    /// 0.55× with `Haswell` set by the machine's image).
    static var environmentNote: String? {
        guard let value = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }), getenv(chosenMarker) == nil,
              let core = preferred, value.lowercased() != core.lowercased() else { return nil }
        return "OPENBLAS_CORETYPE=\(value) from the environment; nn would choose \(core) on this CPU (unset it to let nn choose)"
    }
}
