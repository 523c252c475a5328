import CCUDA
import Foundation

/// cuBLAS's products on a ``CUDADevice``, loaded with `dlopen` (`libcublas.so.13`, or 12): the
/// matrix products of the GPU backend, in float32 (`cublasSgemm`) or on bfloat16 tensor cores
/// (`cublasGemmEx` with `CUBLAS_COMPUTE_32F_FAST_16BF`: float32 matrices, each operand rounded to
/// bfloat16 inside the product, sums in float32, as ``Precision/bfloat16`` on the CPU). Row-major,
/// as the CPU's ``MatrixProduct``: cuBLAS is column-major, so C = op(A)·op(B) is computed as
/// Cᵀ = op(B)ᵀ·op(A)ᵀ with the operands swapped.
public final class CUBLAS {
    private typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias Destroy = @convention(c) (OpaquePointer?) -> Int32
    private typealias Sgemm = @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>,
                                              UInt64, Int32, UInt64, Int32, UnsafePointer<Float>, UInt64, Int32) -> Int32
    private typealias GemmEx = @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafeRawPointer,
                                               UInt64, Int32, Int32, UInt64, Int32, Int32, UnsafeRawPointer,
                                               UInt64, Int32, Int32, Int32, Int32) -> Int32
    private let handle: OpaquePointer?
    private let sgemm: Sgemm
    private let gemmEx: GemmEx
    private let destroy: Destroy
    public let library: String
    // Kept alive until the handle is destroyed: the device, a stream of its own (a plan's second),
    // and the workspace its products use (graphs recorded with it hold its address).
    private let device: CUDADevice
    private let ownStream: CUDAStream?
    private let workspace: CUDABuffer
    /// 32 MiB: what cuBLAS asks for on Hopper.
    static let workspaceBytes = 32 << 20

    /// Needs the device's context current (creating the ``CUDADevice`` makes it so). On the
    /// simulator, the simulator's product.
    public convenience init(_ device: CUDADevice) throws { try self.init(device, stream: nil) }

    /// cuBLAS's products in order with `stream`'s work (the device's own stream when nil).
    init(_ device: CUDADevice, stream ownStream: CUDAStream?) throws {
        (self.device, self.ownStream) = (device, ownStream)
        workspace = try CUDABuffer(device, count: device.isSimulated ? 1 : Self.workspaceBytes / 4)
        let stream = ownStream?.handle ?? device.stream
        if device.isSimulated {
            var handle: OpaquePointer?
            _ = nn_sim_cublas_create(&handle)
            self.handle = handle
            sgemm = { nn_sim_cublas_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) }
            gemmEx = { nn_sim_cublas_gemm_ex($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) }
            destroy = { nn_sim_cublas_destroy($0) }
            library = "the simulator's product"
            _ = nn_sim_cublas_set_stream(handle, stream)
            _ = nn_sim_cublas_set_workspace(handle, workspace.address, 4)
            return
        }
        // The driver's CUDA version first: cuBLAS 13 does not start on a CUDA 12 driver.
        let names = (device.driverVersion < 13000 ? ["12", "13"] : ["13", "12"]).map { "libcublas.so.\($0)" } + ["libcublas.so"]
        guard let library = SharedLibrary(firstOf: names, missingSymbol: { CUDAError("\($0) has no \($1)") }) else {
            throw CUDAError("cuBLAS (\(names.joined(separator: ", "))) cannot be loaded: install the CUDA libraries")
        }
        let create: Create = try library.function("cublasCreate_v2")
        let setStream: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = try library.function("cublasSetStream_v2")
        let setWorkspace: @convention(c) (OpaquePointer?, UInt64, Int) -> Int32 = try library.function("cublasSetWorkspace_v2")
        sgemm = try library.function("cublasSgemm_v2")
        gemmEx = try library.function("cublasGemmEx")
        destroy = try library.function("cublasDestroy_v2")
        var handle: OpaquePointer?
        let status = create(&handle)
        guard status == 0 else { throw CUDAError("cublasCreate failed: cuBLAS status \(status)") }
        // Products in order with the stream's kernels and copies (and in its graphs).
        // Then a workspace of ours (setting the stream resets it): without one, cuBLAS 12.2+
        // allocates inside a recording, and may pick other kernels there than in the warm-up step.
        let streamStatus = setStream(handle, stream)
        let workspaceStatus = streamStatus == 0 ? setWorkspace(handle, workspace.address, Self.workspaceBytes) : 0
        guard streamStatus == 0, workspaceStatus == 0 else {
            _ = destroy(handle)
            throw CUDAError("cublasSetStream/cublasSetWorkspace failed: cuBLAS status \(streamStatus), \(workspaceStatus)")
        }
        self.handle = handle
        self.library = library.name
    }

    /// `C = alpha·op(A)·op(B) + beta·C`, row-major: op(A) m×k, op(B) k×n, C m×n; leading
    /// dimensions as row-major strides. In `precision` ``Precision/bfloat16`` the operands are
    /// read as bfloat16 by tensor cores (float32 sums); C stays float32 either way.
    public func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: CUDABuffer, lda: Int, b: CUDABuffer, ldb: Int, beta: Float, c: CUDABuffer, ldc: Int,
                         precision: Precision = .float32) throws {
        var alpha = alpha, beta = beta
        // Column-major Cᵀ (n×m) = op(B)ᵀ · op(A)ᵀ: B's row-major storage is Bᵀ column-major.
        let (opB, opA) = (Int32(transposeB ? 1 : 0), Int32(transposeA ? 1 : 0))
        let status: Int32
        switch precision {
        case .float32:
            status = sgemm(handle, opB, opA, Int32(n), Int32(m), Int32(k), &alpha, b.address, Int32(ldb), a.address,
                           Int32(lda), &beta, c.address, Int32(ldc))
        case .bfloat16:
            let (float32, fastBFloat16, defaultAlgorithm): (Int32, Int32, Int32) = (0, 75, -1)  // CUDA_R_32F, …
            status = gemmEx(handle, opB, opA, Int32(n), Int32(m), Int32(k), &alpha, b.address, float32, Int32(ldb),
                            a.address, float32, Int32(lda), &beta, c.address, float32, Int32(ldc), fastBFloat16,
                            defaultAlgorithm)
        }
        guard status == 0 else {
            throw CUDAError("\(precision == .float32 ? "cublasSgemm" : "cublasGemmEx (bf16)") failed: cuBLAS status \(status)")
        }
    }

    /// `sums` (+)= the column sums of `x` [rows, width]: one product by `ones` (at least `rows`
    /// ones), every row at once, where a thread per column would walk the rows one by one.
    func addColumnSums(of x: CUDABuffer, rows: Int, width: Int, into sums: CUDABuffer, ones: CUDABuffer,
                       accumulate: Bool = true) throws {
        precondition(ones.count >= rows, "\(ones.count) ones for the sums of \(rows) rows")
        try multiply(m: 1, n: width, k: rows, a: ones, lda: rows, b: x, ldb: width, beta: accumulate ? 1 : 0, c: sums,
                     ldc: width)
    }

    deinit {
        _ = device.api.contextSetCurrent(device.context)
        _ = destroy(handle)
    }
}
