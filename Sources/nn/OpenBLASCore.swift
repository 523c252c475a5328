import Foundation

/// OpenBLAS 0.3.21 (Debian 12) chooses its kernels by CPU model, and picks badly on two kinds of
/// server CPU: on AMD Zen 4 it runs its Cooperlake (AVX-512) kernels, about 10% slower at the
/// LSTM's shapes than its Haswell (AVX2) ones there; on Intel Xeons newer than it knows
/// (Sapphire and Emerald Rapids) it falls back to Prescott (SSE3) kernels at a third of the speed
/// of its SkylakeX ones (see ../shared/bench/README.md). OpenBLAS reads `OPENBLAS_CORETYPE` once,
/// as it loads, before `main`: so `nn` sets it and re-executes itself. A value already in the
/// environment is left alone; `NN_VERBOSE=1` prints the choice.
enum OpenBLASCore {
    static func preferFastestKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let firstCPU = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        let flags = Set(firstCPU.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
        let core: String
        if firstCPU.contains("AuthenticAMD"), flags.isSuperset(of: ["avx512f", "avx2", "fma"]) {
            core = "Haswell"
        } else if firstCPU.contains("GenuineIntel"), flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
            core = "SkylakeX"
        } else {
            return
        }
        if getenv("NN_VERBOSE") != nil {
            FileHandle.standardError.write(Data("nn: OpenBLAS kernels: OPENBLAS_CORETYPE=\(core)\n".utf8))
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached if exec failed: carry on with the detected kernels.
    }
}
