import Foundation

/// OpenBLAS 0.3.21 runs its Cooperlake (AVX-512) kernels on AMD Zen 4, which are about 10% slower
/// at the LSTM's matrix shapes than its Haswell (AVX2) ones there (see Benchmarks/README.md).
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, as it loads, before `main`: so `nn` sets it and
/// re-executes itself. A value already in the environment is left alone.
enum OpenBLASCore {
    static func preferFastestKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let firstCPU = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        let flags = Set(firstCPU.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
        guard firstCPU.contains("AuthenticAMD"), flags.contains("avx512f"), flags.contains("avx2"), flags.contains("fma")
        else { return }
        setenv("OPENBLAS_CORETYPE", "Haswell", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached if exec failed: carry on with the detected kernels.
    }
}
