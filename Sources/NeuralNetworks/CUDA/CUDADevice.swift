import Foundation

/// One NVIDIA GPU through the CUDA driver API (`libcuda.so.1`, loaded with `dlopen`: no CUDA
/// toolkit at build time, and nothing changes on a machine without a GPU or driver, where
/// creating one is a one-line ``CUDAError``). It holds the device's primary context, the
/// project's kernels (``CUDAKernels``, compiled by ``NVRTC`` for this device's architecture on
/// first use) and device memory (``CUDABuffer``). Calls are made from one thread.
public final class CUDADevice {
    public let ordinal: Int
    public let name: String
    /// Compute capability (9.0 for Hopper), and the architecture NVRTC compiles for (`sm_90`).
    public let computeCapability: (major: Int, minor: Int)
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }
    public let totalMemory: Int
    public let driverVersion: Int
    let api: DriverAPI
    let context: OpaquePointer
    private var module: OpaquePointer?
    private var functions: [String: OpaquePointer] = [:]

    /// The devices the driver sees (0 without a driver).
    public static func count() -> Int {
        guard let api = try? DriverAPI.shared(), api.initialize(0) == 0 else { return 0 }
        var count: Int32 = 0
        return api.deviceGetCount(&count) == 0 ? Int(count) : 0
    }

    public init(ordinal: Int = 0) throws {
        api = try DriverAPI.shared()
        try api.check(api.initialize(0), "cuInit")
        var count: Int32 = 0
        try api.check(api.deviceGetCount(&count), "cuDeviceGetCount")
        guard (0..<Int(count)).contains(ordinal) else {
            throw CUDAError("no CUDA device \(ordinal): the driver sees \(count)")
        }
        var device: Int32 = 0
        try api.check(api.deviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var nameBytes = [CChar](repeating: 0, count: 256)
        try api.check(api.deviceGetName(&nameBytes, 256, device), "cuDeviceGetName")
        var major: Int32 = 0, minor: Int32 = 0, version: Int32 = 0, memory = 0
        try api.check(api.deviceGetAttribute(&major, 75, device), "cuDeviceGetAttribute")  // compute capability major
        try api.check(api.deviceGetAttribute(&minor, 76, device), "cuDeviceGetAttribute")  // compute capability minor
        try api.check(api.driverGetVersion(&version), "cuDriverGetVersion")
        try api.check(api.deviceTotalMemory(&memory, device), "cuDeviceTotalMem")
        var context: OpaquePointer?
        try api.check(api.primaryContextRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try api.check(api.contextSetCurrent(context), "cuCtxSetCurrent")
        self.ordinal = ordinal
        self.name = String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        computeCapability = (Int(major), Int(minor))
        driverVersion = Int(version)
        totalMemory = memory
        self.context = context!
    }

    /// Compiles and loads ``CUDAKernels`` for this device, once.
    public func loadKernels(compiler: NVRTC? = nil) throws {
        guard module == nil else { return }
        let compilation = try (compiler ?? NVRTC()).compile(CUDAKernels.source, name: "nn_kernels.cu", architecture: architecture)
        var loaded: OpaquePointer?
        try compilation.cubin.withUnsafeBytes { try api.check(api.moduleLoadData(&loaded, $0.baseAddress!), "cuModuleLoadData") }
        module = loaded
        for name in CUDAKernels.names {
            var function: OpaquePointer?
            try api.check(api.moduleGetFunction(&function, loaded, name), "cuModuleGetFunction(\(name))")
            functions[name] = function
        }
    }

    /// One argument of a kernel launch, as the kernel's C signature declares it.
    public enum Argument {
        case buffer(CUDABuffer), int(Int32), long(Int), float(Float)
    }

    /// Launches kernel `name` over `count` work items (threads of 256, as many blocks as needed up
    /// to the grid-stride loops' cap) and waits for it.
    public func launch(_ name: String, count: Int, _ arguments: [Argument]) throws {
        try loadKernels()
        guard let function = functions[name] else { throw CUDAError("no kernel \(name)") }
        let block = 256, blocks = max(1, min((count + block - 1) / block, 65_535))
        // cuLaunchKernel takes a pointer to each argument's value.
        let storage = arguments.map { argument -> UnsafeMutableRawPointer in
            let value = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            switch argument {
            case .buffer(let buffer): value.storeBytes(of: buffer.address, as: UInt64.self)
            case .int(let x): value.storeBytes(of: x, as: Int32.self)
            case .long(let x): value.storeBytes(of: x, as: Int.self)
            case .float(let x): value.storeBytes(of: x, as: Float.self)
            }
            return value
        }
        defer { storage.forEach { $0.deallocate() } }
        var pointers: [UnsafeMutableRawPointer?] = storage
        try pointers.withUnsafeMutableBufferPointer { parameters in
            try api.check(api.launchKernel(function, UInt32(blocks), 1, 1, UInt32(block), 1, 1, 0, nil,
                                           parameters.baseAddress, nil), "cuLaunchKernel(\(name))")
        }
        try synchronize()
    }

    public func synchronize() throws { try api.check(api.contextSynchronize(), "cuCtxSynchronize") }

    /// Makes the device's context the calling thread's (the driver keeps one per thread: a thread
    /// of the CPU's pool that calls the GPU backend must do this first).
    public func makeCurrent() throws { try api.check(api.contextSetCurrent(context), "cuCtxSetCurrent") }

    deinit {
        if let module { _ = api.moduleUnload(module) }
    }
}

/// Device memory of `count` floats (or 32-bit ints), freed with the value.
public final class CUDABuffer {
    public let count: Int
    let address: UInt64
    private let api: DriverAPI
    private let context: OpaquePointer

    public init(_ device: CUDADevice, count: Int) throws {
        api = device.api
        context = device.context
        var address: UInt64 = 0
        try api.check(api.memoryAllocate(&address, max(count, 1) * 4), "cuMemAlloc(\(count) values)")
        self.address = address
        self.count = count
    }

    /// A buffer holding `values`.
    public convenience init(_ device: CUDADevice, _ values: [Float]) throws {
        try self.init(device, count: values.count)
        try upload(values)
    }

    public convenience init(_ device: CUDADevice, _ values: [Int32]) throws {
        try self.init(device, count: values.count)
        try values.withUnsafeBytes { try api.check(api.copyToDevice(address, $0.baseAddress!, values.count * 4), "cuMemcpyHtoD") }
    }

    public func upload(_ values: [Float]) throws {
        precondition(values.count == count, "\(values.count) values for a buffer of \(count)")
        try values.withUnsafeBytes { try api.check(api.copyToDevice(address, $0.baseAddress!, count * 4), "cuMemcpyHtoD") }
    }

    /// Copies `count` floats from host memory to the start of the buffer.
    public func upload(_ source: UnsafeRawPointer, count: Int) throws {
        precondition(count <= self.count, "\(count) values for a buffer of \(self.count)")
        guard count > 0 else { return }
        try api.check(api.copyToDevice(address, source, count * 4), "cuMemcpyHtoD")
    }

    /// Copies the first `count` floats of the buffer to host memory.
    public func download(into destination: UnsafeMutableRawPointer, count: Int) throws {
        precondition(count <= self.count, "\(count) values from a buffer of \(self.count)")
        guard count > 0 else { return }
        try api.check(api.copyToHost(destination, address, count * 4), "cuMemcpyDtoH")
    }

    public func download() throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try api.check(api.copyToHost($0.baseAddress!, address, count * 4), "cuMemcpyDtoH") }
        return values
    }

    // The context current first: a buffer may be released on a thread that never used the device.
    deinit {
        _ = api.contextSetCurrent(context)
        _ = api.memoryFree(address)
    }
}

/// The driver API's entry points, looked up by name in `libcuda.so.1` once per process.
final class DriverAPI: @unchecked Sendable {
    typealias Status = Int32
    let initialize: @convention(c) (UInt32) -> Status
    let driverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Status
    let deviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Status
    let deviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Status
    let deviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Status
    let deviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Status
    let deviceTotalMemory: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Status
    let primaryContextRetain: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Status
    let contextSetCurrent: @convention(c) (OpaquePointer?) -> Status
    let contextSynchronize: @convention(c) () -> Status
    let moduleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Status
    let moduleUnload: @convention(c) (OpaquePointer?) -> Status
    let moduleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Status
    let memoryAllocate: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Status
    let memoryFree: @convention(c) (UInt64) -> Status
    let copyToDevice: @convention(c) (UInt64, UnsafeRawPointer, Int) -> Status
    let copyToHost: @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Status
    let launchKernel: @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                      UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
    let getErrorString: @convention(c) (Status, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Status

    private static let loaded: Result<DriverAPI, CUDAError> = Result { try DriverAPI() }.mapError { $0 as! CUDAError }
    static func shared() throws -> DriverAPI { try loaded.get() }

    private init() throws {
        guard let library = SharedLibrary(firstOf: ["libcuda.so.1"], missingSymbol: { library, symbol in
            CUDAError("\(library) has no \(symbol): the driver is too old")
        }) else {
            throw CUDAError("no CUDA driver here (libcuda.so.1 cannot be loaded): a machine with an NVIDIA GPU and its driver is needed")
        }
        initialize = try library.function("cuInit")
        driverGetVersion = try library.function("cuDriverGetVersion")
        deviceGetCount = try library.function("cuDeviceGetCount")
        deviceGet = try library.function("cuDeviceGet")
        deviceGetName = try library.function("cuDeviceGetName")
        deviceGetAttribute = try library.function("cuDeviceGetAttribute")
        deviceTotalMemory = try library.function("cuDeviceTotalMem_v2")
        primaryContextRetain = try library.function("cuDevicePrimaryCtxRetain")
        contextSetCurrent = try library.function("cuCtxSetCurrent")
        contextSynchronize = try library.function("cuCtxSynchronize")
        moduleLoadData = try library.function("cuModuleLoadData")
        moduleUnload = try library.function("cuModuleUnload")
        moduleGetFunction = try library.function("cuModuleGetFunction")
        memoryAllocate = try library.function("cuMemAlloc_v2")
        memoryFree = try library.function("cuMemFree_v2")
        copyToDevice = try library.function("cuMemcpyHtoD_v2")
        copyToHost = try library.function("cuMemcpyDtoH_v2")
        launchKernel = try library.function("cuLaunchKernel")
        getErrorString = try library.function("cuGetErrorString")
    }

    func check(_ status: Status, _ call: String) throws {
        guard status != 0 else { return }
        var text: UnsafePointer<CChar>?
        let reason = getErrorString(status, &text) == 0 ? text.map { String(cString: $0) } ?? "" : ""
        throw CUDAError("\(call) failed: CUDA error \(status) \(reason)")
    }
}
