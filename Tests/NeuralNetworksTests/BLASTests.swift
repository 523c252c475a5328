import Foundation
import Testing
@testable import NeuralNetworks

/// OpenBLAS's kernels, chosen by CPU family where Debian's OpenBLAS picks slower ones.
struct BLASTests {
    private func cpuinfo(vendor: String, family: Int, flags: String) -> String {
        // Two processors, as /proc/cpuinfo lists them: only the first one is read.
        let one = "processor\t: 0\nvendor_id\t: \(vendor)\ncpu family\t: \(family)\nmodel\t\t: 2\n"
            + "model name\t: test CPU\nflags\t\t: fpu sse2 \(flags)\n"
        return one + "\n" + one.replacingOccurrences(of: "processor\t: 0", with: "processor\t: 1")
    }

    @Test func zen4RunsHaswellKernelsAndZen5SkylakeXOnes() {
        let avx512 = "avx2 fma avx512f avx512bw avx512vl avx512dq avx512_bf16"
        #expect(BLAS.preferredCoreType(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 25, flags: avx512)) == "Haswell")
        #expect(BLAS.preferredCoreType(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 26, flags: avx512)) == "SkylakeX")
        #expect(BLAS.preferredCoreType(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, flags: avx512)) == "SkylakeX")
    }

    @Test func cpusWithoutAVX512KeepWhatOpenBLASDetects() {
        #expect(BLAS.preferredCoreType(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 25, flags: "avx2 fma")) == nil)
        #expect(BLAS.preferredCoreType(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, flags: "avx2 fma avx512f")) == nil)
        #expect(BLAS.preferredCoreType(cpuinfo: "") == nil)
    }
}
