import Foundation
import Testing
@testable import NeuralNetworks

/// OpenBLAS's kernels, chosen by CPU family where Debian's OpenBLAS picks slower ones.
struct BLASTests {
    private func processor(_ number: Int, vendor: String, family: Int, flags: String) -> String {
        "processor\t: \(number)\nvendor_id\t: \(vendor)\ncpu family\t: \(family)\nmodel\t\t: 2\n"
            + "model name\t: AuthenticAMD GenuineIntel: test CPU\nflags\t\t: fpu sse2 \(flags)\n"
    }

    /// Two processors, as /proc/cpuinfo lists them; the second one, which must not be read, differs.
    private func cpuinfo(vendor: String, family: Int, flags: String) -> String {
        processor(0, vendor: vendor, family: family, flags: flags) + "\n"
            + processor(1, vendor: "GenuineIntel", family: 6, flags: "avx2 fma avx512f avx512bw avx512vl avx512dq")
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
