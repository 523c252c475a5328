import Foundation
import NeuralNetworks

/// OpenBLAS 0.3.21 (Debian 12) chooses its kernels by CPU model and picks badly on some server
/// CPUs (``BLAS/preferredCoreType(cpuinfo:)`` says which and what runs faster). OpenBLAS reads
/// `OPENBLAS_CORETYPE` once, as it loads, before `main`: so `nn` sets it and re-executes itself.
/// A value already in the environment is left alone; `NN_VERBOSE=1` prints the choice.
enum OpenBLASCore {
    static func preferFastestKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let core = BLAS.preferredCoreType(cpuinfo: cpuinfo) else { return }
        if getenv("NN_VERBOSE") != nil {
            FileHandle.standardError.write(Data("nn: OpenBLAS kernels: OPENBLAS_CORETYPE=\(core)\n".utf8))
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached if exec failed: carry on with the detected kernels.
    }
}
