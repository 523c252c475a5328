import CCUDA
import Foundation

/// Where the CUDA calls go: the NVIDIA driver (`libcuda.so.1`), or the simulator that runs the
/// same kernels and host code on the CPU (`Sources/CCUDA`: slow, exact, with guard bands that
/// catch writes past a buffer's end), which lets the GPU path's tests run on a machine without
/// a GPU. The command line takes `NN_CUDA_DRIVER=simulator`.
public enum CUDADriver: String, Sendable {
    case system, simulator

    /// `NN_CUDA_DRIVER` (`system` or `simulator`), `system` when unset; anything else is an error
    /// naming the variable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CUDADriver {
        guard let name = environment["NN_CUDA_DRIVER"], !name.isEmpty else { return .system }
        guard let driver = CUDADriver(rawValue: name) else {
            throw CUDAError("NN_CUDA_DRIVER=\(name) is neither system nor simulator")
        }
        return driver
    }
}

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
    private let handle: Int32  // the driver's device, whose primary context this holds
    /// The stream all of this device's work goes to, in order (kernels, cuBLAS, copies, graphs).
    let stream: OpaquePointer
    private var module: OpaquePointer?
    private var functions: [String: OpaquePointer] = [:]

    /// The devices the driver sees (0 without a driver).
    public static func count(driver: CUDADriver = .system) -> Int {
        guard let api = try? DriverAPI.shared(driver), api.initialize(0) == 0 else { return 0 }
        var count: Int32 = 0
        return api.deviceGetCount(&count) == 0 ? Int(count) : 0
    }

    /// Whether this is the simulator on the CPU rather than a GPU.
    public var isSimulated: Bool { api.isSimulated }

    public init(ordinal: Int = 0, driver: CUDADriver = .system) throws {
        api = try DriverAPI.shared(driver)
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
        var stream: OpaquePointer?
        try api.check(api.streamCreate(&stream, 1), "cuStreamCreate")  // non-blocking: no implicit waits on stream 0
        self.stream = stream!
        self.ordinal = ordinal
        self.name = String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        computeCapability = (Int(major), Int(minor))
        driverVersion = Int(version)
        totalMemory = memory
        self.context = context!
        handle = device
    }

    /// Compiles and loads ``CUDAKernels`` for this device, once (the simulator has them compiled in).
    public func loadKernels(compiler: NVRTC? = nil) throws {
        guard module == nil else { return }
        let image = api.isSimulated ? Array(CUDAKernels.source.utf8)
            : try (compiler ?? NVRTC(preferredMajor: driverVersion / 1000)).compile(CUDAKernels.source, name: "nn_kernels.cu", architecture: architecture).cubin
        var loaded: OpaquePointer?
        try image.withUnsafeBytes { try api.check(api.moduleLoadData(&loaded, $0.baseAddress!), "cuModuleLoadData") }
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
    /// to the grid-stride loops' cap), and with `wait` waits for it. Without, the kernel runs in
    /// order with the other work of the device's stream (kernels, cuBLAS, copies to the host, which
    /// wait for it), and an error it meets is reported by the next call that waits.
    public func launch(_ name: String, count: Int, _ arguments: [Argument], wait: Bool = true) throws {
        try launch(name, count: count, arguments, wait: wait, on: stream)
    }

    /// ``launch(_:count:_:wait:)`` on another of the device's streams.
    func launch(_ name: String, count: Int, _ arguments: [Argument], wait: Bool, on stream: OpaquePointer) throws {
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
            try api.check(api.launchKernel(function, UInt32(blocks), 1, 1, UInt32(block), 1, 1, 0, stream,
                                           parameters.baseAddress, nil), "cuLaunchKernel(\(name))")
        }
        if wait { try api.check(api.streamSynchronize(stream), "cuStreamSynchronize") }
    }


    /// Waits for the device's work so far; an error a kernel met is reported here.
    public func synchronize() throws { try api.check(api.streamSynchronize(stream), "cuStreamSynchronize") }

    /// Makes the device's context the calling thread's (the driver keeps one per thread: a thread
    /// of the CPU's pool that calls the GPU backend must do this first).
    public func makeCurrent() throws { try api.check(api.contextSetCurrent(context), "cuCtxSetCurrent") }

    deinit {
        _ = api.contextSetCurrent(context)
        _ = api.streamDestroy(stream)
        if let module { _ = api.moduleUnload(module) }
        _ = api.primaryContextRelease(handle)
    }
}

/// Device memory of `count` floats (or 32-bit ints), freed with the value; or a view of part of
/// another buffer (``view(offset:count:)``), which keeps that one alive.
public final class CUDABuffer {
    public let count: Int
    let address: UInt64
    private let device: CUDADevice  // kept alive: its context and stream (copies and fills go in order with its work)
    private let owner: CUDABuffer?  // a view's allocation
    private var api: DriverAPI { device.api }
    private var stream: OpaquePointer { device.stream }

    public init(_ device: CUDADevice, count: Int) throws {
        self.device = device
        var address: UInt64 = 0
        try device.api.check(device.api.memoryAllocate(&address, max(count, 1) * 4), "cuMemAlloc(\(count) values)")
        self.address = address
        self.count = count
        owner = nil
    }

    private init(viewing buffer: CUDABuffer, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= buffer.count,
                     "a view of values \(offset)..<\(offset + count) of a buffer of \(buffer.count)")
        device = buffer.device
        address = buffer.address + UInt64(4 * offset)
        self.count = count
        owner = buffer.owner ?? buffer
    }

    /// Values `offset..<offset + count` of this buffer, as a buffer of their own (no copy).
    public func view(offset: Int, count: Int) -> CUDABuffer { CUDABuffer(viewing: self, offset: offset, count: count) }

    /// A buffer holding `values`.
    public convenience init(_ device: CUDADevice, _ values: [Float]) throws {
        try self.init(device, count: values.count)
        try upload(values)
    }

    public convenience init(_ device: CUDADevice, _ values: [Int32]) throws {
        try self.init(device, count: values.count)
        try values.withUnsafeBytes { try upload($0.baseAddress!, count: values.count) }
    }

    public func upload(_ values: [Float]) throws {
        precondition(values.count == count, "\(values.count) values for a buffer of \(count)")
        try values.withUnsafeBytes { try upload($0.baseAddress!, count: count) }
    }

    /// Copies `count` floats (or ints) from host memory to the start of the buffer, after the
    /// device's work so far. The copy may read `source` after this returns (the driver promises
    /// nothing else for asynchronous copies): keep it unchanged until the stream is next waited
    /// for; ``CUDAHostBuffer`` (page-locked) is what the per-batch copies go through.
    public func upload(_ source: UnsafeRawPointer, count: Int) throws {
        precondition(count <= self.count, "\(count) values for a buffer of \(self.count)")
        guard count > 0 else { return }
        try api.check(api.copyToDevice(address, source, count * 4, stream), "cuMemcpyHtoDAsync")
    }

    /// Copies the first `count` floats of the buffer to host memory once the device's work so far
    /// is done, and waits for them.
    public func download(into destination: UnsafeMutableRawPointer, count: Int) throws {
        precondition(count <= self.count, "\(count) values from a buffer of \(self.count)")
        guard count > 0 else { return }
        try api.check(api.copyToHost(destination, address, count * 4, stream), "cuMemcpyDtoHAsync")
        try api.check(api.streamSynchronize(stream), "cuStreamSynchronize")
    }

    /// Copies `count` floats from `source` (at `sourceOffset`) to this buffer at `offset`, on the device.
    public func copy(from source: CUDABuffer, sourceOffset: Int = 0, count: Int, offset: Int = 0) throws {
        try copy(from: source, sourceOffset: sourceOffset, count: count, offset: offset, on: stream)
    }

    func copy(from source: CUDABuffer, sourceOffset: Int = 0, count: Int, offset: Int = 0, on stream: OpaquePointer) throws {
        precondition(offset + count <= self.count && sourceOffset + count <= source.count, "a copy past a buffer's end")
        guard count > 0 else { return }
        try api.check(api.copyDeviceToDevice(address + UInt64(4 * offset), source.address + UInt64(4 * sourceOffset), count * 4,
                                             stream), "cuMemcpyDtoDAsync")
    }

    /// Sets the first `count` values (all by default) to `value` (0 for a gradient before a pass adds into it).
    public func fill(_ value: Float, count: Int? = nil) throws { try fill(value, count: count, on: stream) }

    func fill(_ value: Float, count: Int? = nil, on stream: OpaquePointer) throws {
        let count = count ?? self.count
        precondition(count <= self.count, "\(count) values of a buffer of \(self.count)")
        guard count > 0 else { return }
        try api.check(api.fill(address, value.bitPattern, count, stream), "cuMemsetD32Async")
    }

    public func download() throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try download(into: $0.baseAddress!, count: count) }
        return values
    }

    // The context current first: a buffer may be released on a thread that never used the device.
    deinit {
        guard owner == nil else { return }
        _ = api.contextSetCurrent(device.context)
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
    let primaryContextRelease: @convention(c) (Int32) -> Status
    let hostAllocate: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Status
    let hostFree: @convention(c) (UnsafeMutableRawPointer?) -> Status
    let contextSetCurrent: @convention(c) (OpaquePointer?) -> Status
    let moduleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Status
    let moduleUnload: @convention(c) (OpaquePointer?) -> Status
    let moduleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Status
    let memoryAllocate: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Status
    let memoryFree: @convention(c) (UInt64) -> Status
    let copyToDevice: @convention(c) (UInt64, UnsafeRawPointer, Int, OpaquePointer?) -> Status
    let copyToHost: @convention(c) (UnsafeMutableRawPointer, UInt64, Int, OpaquePointer?) -> Status
    let copyDeviceToDevice: @convention(c) (UInt64, UInt64, Int, OpaquePointer?) -> Status
    let fill: @convention(c) (UInt64, UInt32, Int, OpaquePointer?) -> Status
    let streamCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> Status
    let streamDestroy: @convention(c) (OpaquePointer?) -> Status
    let streamSynchronize: @convention(c) (OpaquePointer?) -> Status
    let beginCapture: @convention(c) (OpaquePointer?, Int32) -> Status
    let endCapture: @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>) -> Status
    let graphInstantiate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UInt64) -> Status
    let graphLaunch: @convention(c) (OpaquePointer?, OpaquePointer?) -> Status
    let graphExecDestroy: @convention(c) (OpaquePointer?) -> Status
    let graphDestroy: @convention(c) (OpaquePointer?) -> Status
    let eventCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> Status
    let eventDestroy: @convention(c) (OpaquePointer?) -> Status
    let eventRecord: @convention(c) (OpaquePointer?, OpaquePointer?) -> Status
    let streamWaitEvent: @convention(c) (OpaquePointer?, OpaquePointer?, UInt32) -> Status
    let launchKernel: @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                      UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
    let getErrorString: @convention(c) (Status, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Status

    let isSimulated: Bool

    private static let loaded: Result<DriverAPI, CUDAError> = Result { try DriverAPI() }.mapError { $0 as! CUDAError }
    private static let simulator = DriverAPI(simulated: ())
    static func shared(_ driver: CUDADriver = .system) throws -> DriverAPI {
        driver == .simulator ? simulator : try loaded.get()
    }

    private init() throws {
        isSimulated = false
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
        primaryContextRelease = try library.function("cuDevicePrimaryCtxRelease_v2")
        hostAllocate = try library.function("cuMemAllocHost_v2")
        hostFree = try library.function("cuMemFreeHost")
        contextSetCurrent = try library.function("cuCtxSetCurrent")
        moduleLoadData = try library.function("cuModuleLoadData")
        moduleUnload = try library.function("cuModuleUnload")
        moduleGetFunction = try library.function("cuModuleGetFunction")
        memoryAllocate = try library.function("cuMemAlloc_v2")
        memoryFree = try library.function("cuMemFree_v2")
        copyToDevice = try library.function("cuMemcpyHtoDAsync_v2")
        copyToHost = try library.function("cuMemcpyDtoHAsync_v2")
        copyDeviceToDevice = try library.function("cuMemcpyDtoDAsync_v2")
        fill = try library.function("cuMemsetD32Async")
        streamCreate = try library.function("cuStreamCreate")
        streamDestroy = try library.function("cuStreamDestroy_v2")
        streamSynchronize = try library.function("cuStreamSynchronize")
        beginCapture = try library.function("cuStreamBeginCapture_v2")
        endCapture = try library.function("cuStreamEndCapture")
        graphInstantiate = try library.function("cuGraphInstantiateWithFlags")
        graphLaunch = try library.function("cuGraphLaunch")
        graphExecDestroy = try library.function("cuGraphExecDestroy")
        graphDestroy = try library.function("cuGraphDestroy")
        eventCreate = try library.function("cuEventCreate")
        eventDestroy = try library.function("cuEventDestroy_v2")
        eventRecord = try library.function("cuEventRecord")
        streamWaitEvent = try library.function("cuStreamWaitEvent")
        launchKernel = try library.function("cuLaunchKernel")
        getErrorString = try library.function("cuGetErrorString")
    }

    /// The simulator's entry points (`Sources/CCUDA`), with the driver's signatures.
    private init(simulated: Void) {
        isSimulated = true
        initialize = { nn_sim_init($0) }
        driverGetVersion = { nn_sim_driver_get_version($0) }
        deviceGetCount = { nn_sim_device_get_count($0) }
        deviceGet = { nn_sim_device_get($0, $1) }
        deviceGetName = { nn_sim_device_get_name($0, $1, $2) }
        deviceGetAttribute = { nn_sim_device_get_attribute($0, $1, $2) }
        deviceTotalMemory = { nn_sim_device_total_mem($0, $1) }
        primaryContextRetain = { nn_sim_primary_ctx_retain($0, $1) }
        primaryContextRelease = { nn_sim_primary_ctx_release($0) }
        hostAllocate = { nn_sim_mem_alloc_host($0, $1) }
        hostFree = { nn_sim_mem_free_host($0) }
        contextSetCurrent = { nn_sim_ctx_set_current($0) }
        moduleLoadData = { nn_sim_module_load_data($0, $1) }
        moduleUnload = { nn_sim_module_unload($0) }
        moduleGetFunction = { nn_sim_module_get_function($0, $1, $2) }
        memoryAllocate = { nn_sim_mem_alloc($0, $1) }
        memoryFree = { nn_sim_mem_free($0) }
        copyToDevice = { nn_sim_memcpy_htod_async($0, $1, $2, $3) }
        copyToHost = { nn_sim_memcpy_dtoh_async($0, $1, $2, $3) }
        copyDeviceToDevice = { nn_sim_memcpy_dtod_async($0, $1, $2, $3) }
        fill = { nn_sim_memset_d32_async($0, $1, $2, $3) }
        streamCreate = { nn_sim_stream_create($0, $1) }
        streamDestroy = { nn_sim_stream_destroy($0) }
        streamSynchronize = { nn_sim_stream_synchronize($0) }
        beginCapture = { nn_sim_stream_begin_capture($0, $1) }
        endCapture = { nn_sim_stream_end_capture($0, $1) }
        graphInstantiate = { nn_sim_graph_instantiate($0, $1, $2) }
        graphLaunch = { nn_sim_graph_launch($0, $1) }
        graphExecDestroy = { nn_sim_graph_exec_destroy($0) }
        graphDestroy = { nn_sim_graph_destroy($0) }
        eventCreate = { nn_sim_event_create($0, $1) }
        eventDestroy = { nn_sim_event_destroy($0) }
        eventRecord = { nn_sim_event_record($0, $1) }
        streamWaitEvent = { nn_sim_stream_wait_event($0, $1, $2) }
        launchKernel = { nn_sim_launch_kernel($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) }
        getErrorString = { nn_sim_get_error_string($0, $1) }
    }

    func check(_ status: Status, _ call: String) throws {
        guard status != 0 else { return }
        var text: UnsafePointer<CChar>?
        let reason = getErrorString(status, &text) == 0 ? text.map { String(cString: $0) } ?? "" : ""
        throw CUDAError("\(call) failed: CUDA error \(status) \(reason)")
    }
}

/// A recorded sequence of the device's work (a CUDA graph), replayed by one launch: the way to
/// run hundreds of small kernels without paying the CPU's launch cost for each. What is recorded
/// is fixed (buffers, sizes, scalar arguments): what changes between replays must be in device memory.
public final class CUDAGraph {
    private let device: CUDADevice
    private let executable: OpaquePointer

    /// Records the device work `body` enqueues (nothing runs) and makes it launchable. Work a
    /// graph cannot hold (a copy from or to host memory, a wait) fails the recording: the error
    /// names the call, and the device is as before.
    public init(recording device: CUDADevice, _ body: () throws -> Void) throws {
        self.device = device
        let api = device.api
        try api.check(api.beginCapture(device.stream, 1), "cuStreamBeginCapture")  // thread-local mode
        var bodyError: Error?
        do { try body() } catch { bodyError = error }
        var graph: OpaquePointer?
        let ended = api.endCapture(device.stream, &graph)
        defer { if graph != nil { _ = api.graphDestroy(graph) } }
        if let bodyError { throw bodyError }
        try api.check(ended, "cuStreamEndCapture")
        var executable: OpaquePointer?
        try api.check(api.graphInstantiate(&executable, graph, 0), "cuGraphInstantiateWithFlags")
        self.executable = executable!
    }

    /// Enqueues the recorded work on the device's stream.
    public func launch() throws {
        try device.api.check(device.api.graphLaunch(executable, device.stream), "cuGraphLaunch")
    }

    deinit {
        _ = device.api.contextSetCurrent(device.context)
        _ = device.api.graphExecDestroy(executable)
    }
}

/// Another stream of a device: work on two streams may run at once (the two directions of a
/// bidirectional layer); a ``CUDAEvent`` orders what depends on what.
final class CUDAStream {
    let device: CUDADevice
    let handle: OpaquePointer

    init(_ device: CUDADevice) throws {
        self.device = device
        var stream: OpaquePointer?
        try device.api.check(device.api.streamCreate(&stream, 1), "cuStreamCreate")  // non-blocking
        handle = stream!
    }

    deinit {
        _ = device.api.contextSetCurrent(device.context)
        _ = device.api.streamDestroy(handle)
    }
}

/// A CUDA event (without timing), used to make one stream's later work wait for another's
/// earlier work; inside a recording that forks the graph into branches and joins them again.
final class CUDAEvent {
    let device: CUDADevice
    private let handle: OpaquePointer

    init(_ device: CUDADevice) throws {
        self.device = device
        var event: OpaquePointer?
        try device.api.check(device.api.eventCreate(&event, 2), "cuEventCreate")  // 2: no timing
        handle = event!
    }

    /// Work enqueued on `later` from now on waits for the work enqueued on `earlier` so far.
    func order(_ later: OpaquePointer, after earlier: OpaquePointer) throws {
        let api = device.api
        try api.check(api.eventRecord(handle, earlier), "cuEventRecord")
        try api.check(api.streamWaitEvent(later, handle, 0), "cuStreamWaitEvent")
    }

    deinit {
        _ = device.api.contextSetCurrent(device.context)
        _ = device.api.eventDestroy(handle)
    }
}

/// Values a form draws on the host before each training pass (a dropout mask, noise), per sample,
/// and their copy in device memory that its passes read: uploaded through page-locked memory,
/// written again only after the step's results have come down.
final class CUDAHostDrawnValues {
    let buffer: CUDABuffer
    private let staging: CUDAHostBuffer

    init(_ plan: CUDAPlan, perSample count: Int) throws {
        buffer = try plan.buffer(perSample: count)
        staging = try CUDAHostBuffer(plan.device, count: plan.capacity * count)
    }

    func upload(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try staging.upload($0, into: buffer) }
    }
}

/// Page-locked host memory of `count` floats (or ints): what a copy to the device may read after
/// the call that enqueued it returns, as asynchronous copies do. Reused only after the stream
/// has been waited for.
final class CUDAHostBuffer {
    let device: CUDADevice
    let count: Int
    let pointer: UnsafeMutableRawPointer

    init(_ device: CUDADevice, count: Int) throws {
        self.device = device
        self.count = count
        var pointer: UnsafeMutableRawPointer?
        try device.api.check(device.api.hostAllocate(&pointer, max(count, 1) * 4), "cuMemAllocHost(\(count) values)")
        self.pointer = pointer!
    }

    /// Copies `values` into this buffer at `offset`, then enqueues their copy into `target`.
    func upload<T>(_ values: UnsafeBufferPointer<T>, at offset: Int = 0, into target: CUDABuffer) throws {
        precondition(MemoryLayout<T>.size == 4 && offset + values.count <= count, "4-byte values within the buffer")
        guard let base = values.baseAddress, values.count > 0 else { return }
        let start = pointer + 4 * offset
        start.copyMemory(from: base, byteCount: 4 * values.count)
        try target.upload(start, count: values.count)
    }

    deinit {
        _ = device.api.contextSetCurrent(device.context)
        _ = device.api.hostFree(pointer)
    }
}
