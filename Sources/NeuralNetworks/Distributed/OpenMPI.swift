import Foundation

/// A ``Communicator`` over Open MPI's `MPI_COMM_WORLD`, for processes started by `mpirun`.
///
/// `libmpi.so.40` is opened with `dlopen` when a run is distributed, never linked: building
/// needs no MPI, and a plain run neither loads nor needs it. The handles (`MPI_COMM_WORLD`,
/// `MPI_FLOAT`, `MPI_SUM`) are Open MPI's exported globals, so this speaks Open MPI's ABI, not
/// MPICH's (whose handles are integers).
///
/// MPI is called from the thread that created this only (`MPI_THREAD_FUNNELED`): training calls
/// the collectives between batches, from the thread that runs `fit`.
public final class OpenMPI: Communicator {
    public let rank: Int
    public let size: Int
    private let library: Library

    /// Whether this process was started by Open MPI's `mpirun` (or `srun` with Open MPI's PMIx):
    /// it sets `OMPI_COMM_WORLD_SIZE` in every process it starts.
    public static var launchedSize: Int? {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init)
    }

    /// Loads Open MPI and joins the job (`MPI_Init_thread`); once per process.
    public init() throws {
        library = try Library()
        var provided: Int32 = 0
        try library.check(library.initThread(nil, nil, Library.threadFunneled, &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try library.check(library.commRank(library.commWorld, &rank), "MPI_Comm_rank")
        try library.check(library.commSize(library.commWorld, &size), "MPI_Comm_size")
        (self.rank, self.size) = (Int(rank), Int(size))
    }

    public func allreduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws {
        try allreduce(UnsafeMutableRawPointer(values.baseAddress), values.count, library.float, elementSize: 4, operation)
    }

    public func allreduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) throws {
        try allreduce(UnsafeMutableRawPointer(values.baseAddress), values.count, library.double, elementSize: 8, operation)
    }

    /// `count` values of `elementSize` bytes, of MPI type `type`, reduced in place.
    private func allreduce(_ pointer: UnsafeMutableRawPointer?, _ count: Int, _ type: OpaquePointer, elementSize: Int,
                           _ operation: ReduceOperation) throws {
        guard count > 0, let pointer else { return }
        let op: OpaquePointer
        switch operation {
        case .sum: op = library.sum
        case .minimum: op = library.minimum
        case .maximum: op = library.maximum
        }
        // MPI counts are C ints: reduce larger buffers in pieces.
        var start = 0
        while start < count {
            let piece = min(count - start, Int(Int32.max) / 8)
            try library.check(library.allreduce(Library.inPlace, pointer + start * elementSize, Int32(piece), type, op,
                                                library.commWorld), "MPI_Allreduce")
            start += piece
        }
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        var length = [Double(bytes.count)]
        try library.check(library.broadcast(&length, 1, library.double, Int32(root), library.commWorld), "MPI_Bcast")
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeMutableBytes { buffer in
            try library.check(library.broadcast(buffer.baseAddress, Int32(buffer.count), library.byte, Int32(root),
                                                library.commWorld), "MPI_Bcast")
        }
    }

    /// Leaves the job (`MPI_Finalize`): after the last collective, before a successful exit
    /// (without it `mpirun` reports the process as failed).
    public func finish() {
        _ = library.finalize()
    }

    /// Open MPI's entry points and predefined handles, looked up by name.
    private struct Library {
        typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
        typealias CommQuery = @convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>) -> Int32
        typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer, OpaquePointer, OpaquePointer) -> Int32
        typealias Broadcast = @convention(c) (UnsafeMutableRawPointer?, Int32, OpaquePointer, Int32, OpaquePointer) -> Int32
        typealias Finalize = @convention(c) () -> Int32

        static let threadFunneled: Int32 = 1  // MPI_THREAD_FUNNELED in Open MPI's enum
        static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }  // MPI_IN_PLACE in Open MPI
        /// The run-time library of Debian's `openmpi-bin` (libopenmpi3), then an unversioned one.
        static let names = ["libmpi.so.40", "libmpi.so"]

        let initThread: InitThread, commRank: CommQuery, commSize: CommQuery
        let allreduce: Allreduce, broadcast: Broadcast, finalize: Finalize
        let commWorld, float, double, byte, sum, minimum, maximum: OpaquePointer

        init() throws {
            // RTLD_GLOBAL: Open MPI's own plugins resolve their symbols against libmpi.
            guard let library = SharedLibrary(firstOf: Self.names, global: true, missingSymbol: { _, symbol in
                DistributedError("the loaded libmpi has no \(symbol): Open MPI 4 or later is needed")
            }) else {
                throw DistributedError("started by mpirun, but Open MPI's library (libmpi.so.40) cannot be loaded: "
                                       + "install openmpi-bin (apt-get install openmpi-bin)")
            }
            func handle(_ name: String) throws -> OpaquePointer { OpaquePointer(try library.address(name)) }
            initThread = try library.function("MPI_Init_thread")
            commRank = try library.function("MPI_Comm_rank")
            commSize = try library.function("MPI_Comm_size")
            allreduce = try library.function("MPI_Allreduce")
            broadcast = try library.function("MPI_Bcast")
            finalize = try library.function("MPI_Finalize")
            commWorld = try handle("ompi_mpi_comm_world")
            float = try handle("ompi_mpi_float")
            double = try handle("ompi_mpi_double")
            byte = try handle("ompi_mpi_byte")
            sum = try handle("ompi_mpi_op_sum")
            minimum = try handle("ompi_mpi_op_min")
            maximum = try handle("ompi_mpi_op_max")
        }

        func check(_ status: Int32, _ call: String) throws {
            // The default error handler aborts the job first; this is for one set to return.
            guard status == 0 else { throw DistributedError("\(call) failed (MPI error \(status))") }
        }
    }
}
