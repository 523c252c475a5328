import Foundation

/// NVIDIA's run-time compiler (NVRTC), loaded with `dlopen`: CUDA C source in, a GPU binary
/// (cubin) for one architecture out. It needs no GPU and no CUDA toolkit at build time, only
/// `libnvrtc.so` (the CUDA driver's machines have it; elsewhere PyPI's `nvidia-cuda-nvrtc` wheel,
/// which `scripts/setup.sh` installs for the tests). The CUDA backend (issue 16) compiles its
/// kernels (``CUDAKernels``) with it on first use, for the device's architecture.
public final class NVRTC {
    /// The library's path or name as it was opened, and its version.
    public let library: String
    public let version: (major: Int, minor: Int)
    private let api: API

    /// What a compilation gave: the binary, and the compiler's messages (warnings; empty when clean).
    public struct Compilation {
        public let cubin: [UInt8]
        public let log: String
        public var hasWarnings: Bool { log.contains("warning") }
    }

    /// `NN_NVRTC` (a path) if set, else `path`, else the sonames of NVRTC 13 and 12, the one of
    /// `preferredMajor` first (the driver's CUDA version: a newer NVRTC's binary needs a newer driver).
    public init(path: String? = nil, preferredMajor: Int = 13) throws {
        let candidates = [ProcessInfo.processInfo.environment["NN_NVRTC"], path].compactMap { $0 }
        let versions = preferredMajor <= 12 ? ["12", "13"] : ["13", "12"]
        let names = candidates.isEmpty ? versions.map { "libnvrtc.so.\($0)" } + ["libnvrtc.so"] : candidates
        guard let loaded = SharedLibrary(firstOf: names, missingSymbol: { CUDAError("\($0) has no \($1)") }) else {
            throw CUDAError("NVRTC (\(names.joined(separator: ", "))) cannot be loaded: install the CUDA toolkit or "
                            + "pip install nvidia-cuda-nvrtc, and name libnvrtc.so.13 with NN_NVRTC")
        }
        library = loaded.name
        api = try API(loaded)
        var major: Int32 = 0, minor: Int32 = 0
        try api.check(api.version(&major, &minor), "nvrtcVersion")
        version = (Int(major), Int(minor))
    }

    /// Compiles `source` for `architecture` (`sm_80`, `sm_90`, …); a compile error throws with the log.
    public func compile(_ source: String, name: String, architecture: String,
                        options extra: [String] = []) throws -> Compilation {
        var program: OpaquePointer?
        try api.check(api.createProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = api.destroyProgram(&program) }
        // No --use_fast_math: the kernels must match the CPU to 1e-4 in float32 (CUDA's expf and
        // tanhf are within 2 ulp; its contracted multiply-adds differ from the CPU's in rounding only).
        let options = ["--gpu-architecture=\(architecture)", "--std=c++17"] + extra
        let status = withCStrings(options) { api.compileProgram(program, Int32(options.count), $0) }
        var logSize = 0
        try api.check(api.programLogSize(program, &logSize), "nvrtcGetProgramLogSize")
        var logBytes = [CChar](repeating: 0, count: max(logSize, 1))
        try api.check(api.programLog(program, &logBytes), "nvrtcGetProgramLog")
        let log = String(decoding: logBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0 else {
            throw CUDAError("\(name) does not compile for \(architecture) (\(api.errorString(status))): \(log)")
        }
        var size = 0
        try api.check(api.cubinSize(program, &size), "nvrtcGetCUBINSize")
        var cubin = [UInt8](repeating: 0, count: size)
        try cubin.withUnsafeMutableBytes { bytes in
            try api.check(api.cubin(program, bytes.baseAddress!.assumingMemoryBound(to: CChar.self)), "nvrtcGetCUBIN")
        }
        return Compilation(cubin: cubin, log: log)
    }

    /// NVRTC's entry points, looked up by name.
    private struct API {
        typealias CreateProgram = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>,
                                                  Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
        typealias CompileProgram = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
        typealias DestroyProgram = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
        typealias SizeQuery = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
        typealias BytesQuery = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
        typealias Version = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
        typealias ErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?

        let createProgram: CreateProgram, compileProgram: CompileProgram, destroyProgram: DestroyProgram
        let programLogSize: SizeQuery, programLog: BytesQuery, cubinSize: SizeQuery, cubin: BytesQuery
        let version: Version, getErrorString: ErrorString

        init(_ library: SharedLibrary) throws {
            createProgram = try library.function("nvrtcCreateProgram")
            compileProgram = try library.function("nvrtcCompileProgram")
            destroyProgram = try library.function("nvrtcDestroyProgram")
            programLogSize = try library.function("nvrtcGetProgramLogSize")
            programLog = try library.function("nvrtcGetProgramLog")
            cubinSize = try library.function("nvrtcGetCUBINSize")
            cubin = try library.function("nvrtcGetCUBIN")
            version = try library.function("nvrtcVersion")
            getErrorString = try library.function("nvrtcGetErrorString")
        }

        func errorString(_ status: Int32) -> String {
            getErrorString(status).map { String(cString: $0) } ?? "NVRTC error \(status)"
        }

        func check(_ status: Int32, _ call: String) throws {
            guard status == 0 else { throw CUDAError("\(call) failed: \(errorString(status))") }
        }
    }
}

/// A CUDA library that cannot be loaded, a kernel that does not compile, a failed call.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `body` with `strings` as a C array of C strings, valid during the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
