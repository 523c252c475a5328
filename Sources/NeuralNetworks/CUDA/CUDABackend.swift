import Foundation

/// The GPU backend. A model whose layers all have device forms (``CUDALayer``: Dense, the
/// convolutions and recurrent layers, their containers, …) runs as a whole on the GPU
/// (``CUDAModel``: parameters, gradients, optimizer state and activations stay in device memory)
/// for inference, and for training on class labels when it ends in a Dense layer and its loss and
/// optimizer have device kernels (``CUDALoss``, ``CUDAOptimizer``). Any other model runs layer by layer through this
/// class's calls: every matrix product on cuBLAS and every LSTM step on the project's CUDA
/// kernels, with the layers' host buffers copied to the device and back at each call, and the
/// rest of the element-wise work on the CPU. Both train as ``CPUBackend`` does, to rounding,
/// which is what the device checks compare (`nn cuda --check`).
///
/// A CUDA error does not stop training: the call that failed, and every call after it, runs on
/// the CPU instead, and ``failure`` says what happened (`nn train --device cuda` reports it).
/// Calls from several threads at once (the directions of a bidirectional layer) take turns.
public final class CUDABackend: Backend, @unchecked Sendable {
    public let device: CUDADevice
    private let blas: CUBLAS
    private let cpu = CPUBackend()
    private let lock = NSLock()
    private var staging: [CUDABuffer] = []
    private var firstFailure: CUDAError?
    private var saved: [Float] = []
    private var wholeModel: (model: Sequential, execution: CUDAModel)?

    /// Whether models with device forms for all their layers run as a whole on the GPU (true), or
    /// every model layer by layer through the calls below (false: the parity checks compare both).
    public var keepsModelOnDevice = true
    /// Whether the model's training steps are recorded once per batch size as CUDA graphs and
    /// replayed (true: one launch a step instead of hundreds), or enqueued call by call.
    public var recordsSteps = true
    /// Whether data sets that fit are kept in device memory for a run (true: a batch is then
    /// gathered there from its samples' indices), or every batch is copied from host memory.
    public var stagesData = true

    /// The first CUDA error, after which everything runs on the CPU.
    public var failure: CUDAError? {
        lock.lock()
        defer { lock.unlock() }
        return firstFailure
    }

    /// Compiles the kernels for `device` (NVRTC) and loads cuBLAS: errors here are one line each.
    public init(device: CUDADevice) throws {
        self.device = device
        try device.makeCurrent()  // this thread may not be the one that made the device
        try device.loadKernels()
        blas = try CUBLAS(device)
    }

    public convenience init(ordinal: Int = 0) throws { try self.init(device: CUDADevice(ordinal: ordinal)) }

    public var name: String { "cuda (\(device.name))" }

    /// The plan for `model` (kept for the next call while the model and batch size fit it), or
    /// nil when a layer has no device form, or the device has failed.
    public func modelExecution(for model: Sequential, batchSize: Int) throws -> (any ModelExecution)? {
        guard keepsModelOnDevice, failure == nil, model.isBuilt else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let (kept, execution) = wholeModel, kept === model, execution.capacity >= batchSize, execution.holds(model.parameters),
           execution.precisions == CUDAModel.precisions(of: model) {
            (execution.recordsSteps, execution.stagesData) = (recordsSteps, stagesData)
            return execution
        }
        wholeModel = nil  // its device memory freed before the next plan takes its own
        try device.makeCurrent()
        guard let execution = try CUDAModel(model: model, device: device, blas: blas, capacity: batchSize) else { return nil }
        (execution.recordsSteps, execution.stagesData) = (recordsSteps, stagesData)
        wholeModel = (model, execution)
        return execution
    }

    /// Why `fit` would train `model` on `data` with `loss` and `optimizer` layer by layer through
    /// this backend rather than as a whole on the GPU (nil: as a whole), in words for a user.
    public func layerByLayerReason(for model: Sequential, data: Dataset, loss: Loss, optimizer: any Optimizer,
                                   batchSize: Int) throws -> String? {
        if !keepsModelOnDevice { return "the backend keeps no model on the device (keepsModelOnDevice)" }
        if data.sequenceLengths != nil { return "padded sequences (per-sample lengths) have no device path" }
        guard let execution = try modelExecution(for: model, batchSize: batchSize) else {
            if let layer = model.walkedLayers.first(where: { !($0.layer is any CUDALayer) }) {
                return "\(layer.path) (\(type(of: layer.layer).typeName)) has no device form"
            }
            return "a layer's configuration has no device form (a recurrent layer with batch normalisation inside)"
        }
        if execution.canTrain(loss: loss, optimizer: optimizer) { return nil }
        if !(loss.function is any CUDALoss || loss.function is any CUDASequenceLoss) {
            return "the loss \(loss.typeName) has no device kernel"
        }
        if loss.function is any CUDASequenceLoss, model.outputShape.count != 2 {
            return "\(loss.typeName) needs outputs [steps, classes + 1], the model's are \(model.outputShape)"
        }
        if !(optimizer is any CUDAOptimizer) { return "the optimizer \(optimizer.typeName) has no device kernel" }
        return "the model does not end in a Dense layer"
    }

    /// Floats from the first to the last element of `rows` rows of `columns`, `stride` apart.
    static func extent(rows: Int, columns: Int, stride: Int) -> Int { rows == 0 || columns == 0 ? 0 : (rows - 1) * stride + columns }

    /// Staging buffer `index`, with room for `count` floats (grown, never shrunk).
    private func slot(_ index: Int, _ count: Int) throws -> CUDABuffer {
        while staging.count <= index { staging.append(try CUDABuffer(device, count: 1)) }
        if staging[index].count < count { staging[index] = try CUDABuffer(device, count: max(count, 2 * staging[index].count)) }
        return staging[index]
    }

    /// Runs `body` on the device, one caller at a time with the context current on its thread;
    /// `cpu` instead (after the lock is released) once the device has failed, and after the call
    /// that fails. The host buffers a call changes in place (`keeping`: pointer and count) are
    /// saved first and put back before `cpu` runs, so a copy that fails halfway leaves the CPU the
    /// inputs as they were.
    func onDevice(keeping inPlace: [(UnsafeMutablePointer<Float>, Int)] = [], orElse cpu: () -> Void,
                  _ body: () throws -> Void) {
        lock.lock()
        var done = false
        if firstFailure == nil {
            saved.removeAll(keepingCapacity: true)
            for (pointer, count) in inPlace { saved.append(contentsOf: UnsafeBufferPointer(start: pointer, count: count)) }
            do {
                try device.makeCurrent()
                try body()
                done = true
            } catch {
                firstFailure = error as? CUDAError ?? CUDAError("\(error)")
                var offset = 0
                for (pointer, count) in inPlace {
                    saved.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress! + offset, count: count) }
                    offset += count
                }
            }
        }
        lock.unlock()
        if !done { cpu() }
    }

    public func multiply(_ p: MatrixProduct, threads: Int) {
        guard p.m > 0, p.n > 0 else { return }
        let aCount = Self.extent(rows: p.transposeA ? p.k : p.m, columns: p.transposeA ? p.m : p.k, stride: p.lda)
        let bCount = Self.extent(rows: p.transposeB ? p.n : p.k, columns: p.transposeB ? p.k : p.n, stride: p.ldb)
        let cCount = Self.extent(rows: p.m, columns: p.n, stride: p.ldc)
        onDevice(keeping: p.beta == 0 ? [] : [(p.c, cCount)], orElse: { cpu.multiply(p, threads: threads) }) {
            let a = try slot(0, aCount), b = try slot(1, bCount), c = try slot(2, cCount)
            try a.upload(p.a, count: aCount)
            try b.upload(p.b, count: bCount)
            try c.upload(p.c, count: cCount)  // also when beta is 0: the gaps between C's rows come back as they were
            try blas.multiply(transposeA: p.transposeA, transposeB: p.transposeB, m: p.m, n: p.n, k: p.k, alpha: p.alpha,
                              a: a, lda: p.lda, b: b, ldb: p.ldb, beta: p.beta, c: c, ldc: p.ldc)
            try c.download(into: p.c, count: cCount)
        }
    }

    public func makePackedOperand() -> any PackedOperand { CUDAPackedOperand(backend: self) }

    /// A product by a packed operand: op(A) and C through the staging buffers, B already on the device.
    func multiply(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, by b: CUDABuffer, transposeB: Bool,
                  k: Int, n: Int, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, precision: Precision,
                  orElse fallback: () -> Void) {
        let aCount = Self.extent(rows: transposeA ? k : m, columns: transposeA ? m : k, stride: lda)
        let cCount = Self.extent(rows: m, columns: n, stride: ldc)
        onDevice(keeping: beta == 0 ? [] : [(c, cCount)], orElse: fallback) {
            let stagedA = try slot(0, aCount), stagedC = try slot(2, cCount)
            try stagedA.upload(a, count: aCount)
            try stagedC.upload(c, count: cCount)
            try blas.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: stagedA, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: stagedC, ldc: ldc, precision: precision)
            try stagedC.download(into: c, count: cCount)
        }
    }

    /// A device buffer holding `count` floats from `source`, or nil once the device has failed.
    func deviceCopy(of source: UnsafePointer<Float>, count: Int, into buffer: CUDABuffer?) -> CUDABuffer? {
        var result: CUDABuffer?
        onDevice(orElse: {}) {
            let target = try buffer.flatMap { $0.count >= count ? $0 : nil } ?? CUDABuffer(device, count: max(count, 1))
            try target.upload(source, count: count)
            result = target
        }
        return result
    }

    public func lstmStepForward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                cell: UnsafeMutablePointer<Float>, cellActivation: UnsafeMutablePointer<Float>,
                                hidden: UnsafeMutablePointer<Float>, hiddenStride: Int) {
        let onCPU = {
            self.cpu.lstmStepForward(step, gates: gates, previousCell: previousCell, cell: cell,
                                     cellActivation: cellActivation, hidden: hidden, hiddenStride: hiddenStride)
        }
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else { return onCPU() }
        let count = step.rows * step.units, gateCount = 4 * count
        let hiddenCount = Self.extent(rows: step.rows, columns: step.units, stride: hiddenStride)
        onDevice(keeping: [(gates, gateCount)], orElse: onCPU) {
            let g = try slot(0, gateCount), p = try slot(1, count), c = try slot(2, count), t = try slot(3, count)
            let h = try slot(4, hiddenCount)
            try g.upload(gates, count: gateCount)
            try p.upload(previousCell, count: count)
            try h.upload(hidden, count: hiddenCount)
            try device.launch("nn_lstm_step_forward", count: count,
                              [.buffer(g), .buffer(p), .buffer(c), .buffer(t), .buffer(h), .int(Int32(hiddenStride)),
                               .int(Int32(step.rows)), .int(Int32(step.units)), .int(gate), .int(activation)])
            try g.download(into: gates, count: gateCount)
            try c.download(into: cell, count: count)
            try t.download(into: cellActivation, count: count)
            try h.download(into: hidden, count: hiddenCount)
        }
    }

    public func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                                 cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                 dc: UnsafeMutablePointer<Float>) {
        let onCPU = {
            self.cpu.lstmStepBackward(step, gates: gates, previousCell: previousCell, cellActivation: cellActivation,
                                      dh: dh, dc: dc)
        }
        guard let gate = step.gate.vectorFunction, let activation = step.activation.vectorFunction else { return onCPU() }
        let count = step.rows * step.units, gateCount = 4 * count
        onDevice(keeping: [(gates, gateCount), (dc, count)], orElse: onCPU) {
            let g = try slot(0, gateCount), p = try slot(1, count), t = try slot(2, count), h = try slot(3, count)
            let c = try slot(4, count)
            try g.upload(gates, count: gateCount)
            try p.upload(previousCell, count: count)
            try t.upload(cellActivation, count: count)
            try h.upload(dh, count: count)
            try c.upload(dc, count: count)
            try device.launch("nn_lstm_step_backward", count: count,
                              [.buffer(g), .buffer(p), .buffer(t), .buffer(h), .buffer(c), .int(Int32(step.rows)),
                               .int(Int32(step.units)), .int(gate), .int(activation)])
            try g.download(into: gates, count: gateCount)
            try c.download(into: dc, count: count)
        }
    }

    // The rest on the CPU, in host memory, where the layers' buffers are.

    public func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int, threads: Int) {
        cpu.activate(function, x, y, rows: rows, width: width, threads: threads)
    }

    public func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                   outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                   rows: Int, width: Int, threads: Int) {
        cpu.activationGradient(function, input: x, output: y, outputGradient: dy, inputGradient: dx, rows: rows,
                               width: width, threads: threads)
    }

    public func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        cpu.add(x, into: y, count: count)
    }

    public func multiply(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                         count: Int) {
        cpu.multiply(x, by: scale, into: y, count: count)
    }

    public func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, with vector: UnsafePointer<Float>) {
        cpu.fillRows(m, rows: rows, width: width, with: vector)
    }

    public func addColumnSums(of m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>) {
        cpu.addColumnSums(of: m, rows: rows, width: width, into: sum)
    }

    public func gruStepForward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>, recurrent: UnsafePointer<Float>,
                               previous: UnsafePointer<Float>, next: UnsafeMutablePointer<Float>) {
        cpu.gruStepForward(step, gates: gates, recurrent: recurrent, previous: previous, next: next)
    }

    public func gruStepBackward(_ step: GRUStep, gates: UnsafeMutablePointer<Float>,
                                recurrent: UnsafeMutablePointer<Float>, previous: UnsafePointer<Float>,
                                dh: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>) {
        cpu.gruStepBackward(step, gates: gates, recurrent: recurrent, previous: previous, dh: dh, carry: carry)
    }
}

/// A right operand copied to the device once (a layer's weights, once per batch) and multiplied
/// by many times through cuBLAS. Once the device has failed it reads op(B) in place on the CPU's
/// OpenBLAS, as an `.unpacked` operand does, whatever ``format`` said at packing: its callers
/// keep B unchanged until their last product either way (as ``LSTM`` does).
final class CUDAPackedOperand: PackedOperand, @unchecked Sendable {
    private let backend: CUDABackend
    private var deviceB: CUDABuffer?  // nil once the device has failed
    private var source: (b: UnsafePointer<Float>, ldb: Int, transposed: Bool, k: Int, n: Int)?
    private(set) var format = OperandFormat.unpacked

    init(backend: CUDABackend) { self.backend = backend }

    func pack(_ format: OperandFormat, transposed: Bool, k: Int, n: Int, from b: UnsafePointer<Float>, ldb: Int) {
        source = (b, ldb, transposed, k, n)
        let count = CUDABackend.extent(rows: transposed ? n : k, columns: transposed ? k : n, stride: ldb)
        deviceB = backend.deviceCopy(of: b, count: count, into: deviceB)
        // bf16 runs on tensor cores whatever the CPU has.
        self.format = deviceB == nil ? .unpacked : format == .bfloat16 ? .bfloat16 : .float32
    }

    func multiply(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                  c: UnsafeMutablePointer<Float>, ldc: Int, workspace: FloatBuffer?) {
        let (b, ldb, transposed, k, n) = source!
        let onCPU = {
            BLAS.gemm(transposeA: transposeA, transposeB: transposed, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc)
        }
        guard m > 0, n > 0 else { return }
        guard let deviceB else { return onCPU() }
        backend.multiply(transposeA: transposeA, m: m, a: a, lda: lda, by: deviceB, transposeB: transposed, k: k, n: n,
                         ldb: ldb, beta: beta, c: c, ldc: ldc, precision: format == .bfloat16 ? .bfloat16 : .float32,
                         orElse: onCPU)
    }
}
