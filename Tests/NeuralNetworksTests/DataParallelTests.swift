import Foundation
import Testing
@testable import NeuralNetworks

/// Data-parallel `fit` with the members of a ``ThreadGroup`` as processes: the scheme itself,
/// without MPI (the CLI's Open MPI runs are in DistributedTrainingTests).
@Suite(.serialized)
struct DataParallelTests {
    /// Bidirectional LSTM or an MLP with dropout and noise, as every member builds it from the seed.
    static func model(_ kind: String) -> Sequential {
        switch kind {
        case "lstm":
            return Sequential { Bidirectional(LSTM(units: 8)); Dense(units: 10, activation: .softmax) }
        case "timedistributed":
            return Sequential {
                TimeDistributed(Dense(units: 8, activation: .relu)); TimeDistributed(Dropout(rate: 0.3)); Flatten()
                Dense(units: 10, activation: .softmax)
            }
        case "batchnorm":
            return Sequential { Flatten(); Dense(units: 16); BatchNormalization(); ActivationLayer(.relu); Dense(units: 10, activation: .softmax) }
        default:
            return Sequential {
                Flatten(); Dense(units: 16, activation: .relu); Dropout(rate: 0.3); GaussianNoise(stddev: 0.1)
                Dense(units: 10, activation: .softmax)
            }
        }
    }

    /// `fit` in each member of a group of `size`, each on its own thread; the members' histories and models.
    static func runGroup(size: Int, kind: String, train: Dataset, validation: Dataset?, epochs: Int, batchSize: Int,
                         stopAt: (rank: Int, batches: Int)? = nil,
                         checksReplicas: Bool = false,
                         prepare: @escaping @Sendable (Sequential, Int) -> Void = { _, _ in })
        throws -> [(history: [EpochReport], model: Sequential, checkpoints: [TrainingState])] {
        let members = ThreadGroup.make(size: size)
        let results = Locked([(history: [EpochReport], model: Sequential, checkpoints: [TrainingState])?](repeating: nil, count: size))
        let failures = Locked([String]())
        let boxes = UncheckedSendable((train, validation, members))
        onThreads(size) { rank in
            let (train, validation, members) = boxes.value
            let model = Self.model(kind)
            do {
                try model.build(inputShape: train.sampleShape, seed: 5)
                prepare(model, rank)
                var batches = 0, checkpoints: [TrainingState] = []
                let history = try model.fit(
                    train, validation: validation, optimizer: SGD(learningRate: 0.1, momentum: 0.9, nesterov: true),
                    epochs: epochs, batchSize: batchSize, seed: 5,
                    dataParallel: DataParallel(members[rank], checksReplicas: checksReplicas),
                    onBatch: { _ in batches += 1 },
                    shouldStop: { stopAt.map { $0.rank == rank && batches >= $0.batches } ?? false },
                    onCheckpoint: { checkpoints.append($0) })
                results.withLock { $0[rank] = (history, model, checkpoints) }
            } catch {
                failures.withLock { $0.append("rank \(rank): \(error)") }
            }
        }
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else { throw DistributedError(failed.joined(separator: "; ")) }
        return results.withLock { $0.map { $0! } }
    }

    static func single(kind: String, train: Dataset, validation: Dataset?, epochs: Int, batchSize: Int) throws -> (history: [EpochReport], model: Sequential) {
        let model = model(kind)
        try model.build(inputShape: train.sampleShape, seed: 5)
        let history = try model.fit(train, validation: validation,
                                    optimizer: SGD(learningRate: 0.1, momentum: 0.9, nesterov: true),
                                    epochs: epochs, batchSize: batchSize, seed: 5)
        return (history, model)
    }

    static func expectSameFigures(_ a: [EpochReport], _ b: [EpochReport], tolerance: Float) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            #expect(abs(x.trainLoss - y.trainLoss) <= tolerance, "epoch \(x.epoch): \(x.trainLoss) vs \(y.trainLoss)")
            #expect(abs(x.testLoss! - y.testLoss!) <= tolerance, "epoch \(x.epoch): \(x.testLoss!) vs \(y.testLoss!)")
            #expect(x.trainAccuracy == y.trainAccuracy && x.testAccuracy == y.testAccuracy)
        }
    }

    static func values(_ model: Sequential) -> [[Float]] { model.parameters.map(\.tensor.scalars) }

    @Test func shardsAreContiguousAndDifferByOneSampleAtMost() {
        let parts = (0..<3).map { BatchShard(rank: $0, of: 3, batchSize: 10).samples }
        #expect(parts == [0..<4, 4..<7, 7..<10])
        // A batch smaller than the group: the last members train nothing this step.
        #expect((0..<3).map { BatchShard(rank: $0, of: 3, batchSize: 1).samples.count } == [1, 0, 0])
    }

    /// 130 samples in batches of 32 (the last one 2), over 2 and 3 members: the losses and
    /// accuracies of one process, to rounding; every member ends with the same parameters.
    @Test(arguments: [2, 3])
    func membersTrainTheOneProcessRunToRounding(size: Int) throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(130), test = data.test.prefix(50)
        let one = try Self.single(kind: "lstm", train: train, validation: test, epochs: 2, batchSize: 32)
        let group = try Self.runGroup(size: size, kind: "lstm", train: train, validation: test, epochs: 2, batchSize: 32,
                                      checksReplicas: true)
        for member in group {
            Self.expectSameFigures(member.history, one.history, tolerance: 1e-5)
            #expect(Self.values(member.model) == Self.values(group[0].model))
        }
        for (a, b) in zip(Self.values(group[0].model).joined(), Self.values(one.model).joined()) {
            #expect(abs(a - b) <= 1e-4)
        }
    }

    /// Dropout and noise draw for the whole batch in every member and keep their own samples', so
    /// each sample gets the draws of one process, and the streams stay alike.
    @Test func dropoutAndNoiseDrawAsOneProcessDoes() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(100), test = data.test.prefix(40)
        let one = try Self.single(kind: "mlp", train: train, validation: test, epochs: 2, batchSize: 25)
        let group = try Self.runGroup(size: 2, kind: "mlp", train: train, validation: test, epochs: 2, batchSize: 25)
        for member in group {
            Self.expectSameFigures(member.history, one.history, tolerance: 1e-5)
            #expect(member.model.randomStreams.states == one.model.randomStreams.states)
        }
    }

    /// Inside `TimeDistributed` a member's samples are its samples' steps: dropout there draws as
    /// one process does too (it stopped on the shard's sample count, which counted samples).
    @Test func dropoutInsideTimeDistributedDrawsAsOneProcessDoes() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(60), test = data.test.prefix(20)
        let one = try Self.single(kind: "timedistributed", train: train, validation: test, epochs: 1, batchSize: 15)
        let group = try Self.runGroup(size: 2, kind: "timedistributed", train: train, validation: test, epochs: 1, batchSize: 15)
        for member in group {
            Self.expectSameFigures(member.history, one.history, tolerance: 1e-5)
            #expect(member.model.randomStreams.states == one.model.randomStreams.states)
        }
    }

    /// Batch normalisation normalises each member's part with its own statistics (as PyTorch's
    /// DistributedDataParallel), and the running statistics are shared: they stay identical.
    @Test func batchNormalizationBuffersStayIdenticalInEveryMember() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let group = try Self.runGroup(size: 2, kind: "batchnorm", train: data.train.prefix(96), validation: nil,
                                      epochs: 2, batchSize: 32, checksReplicas: true)
        let buffers = group.map { $0.model.parameters.filter { !$0.isTrainable }.map(\.tensor.scalars) }
        #expect(!buffers[0].isEmpty && buffers[0] == buffers[1])
        #expect(buffers[0][0].contains { $0 != 0 }, "the running mean moved")
    }

    /// A stop asked in one member only stops every member after the same batch, and each
    /// holds the same mid-epoch state.
    @Test func aStopInOneMemberStopsAllAtTheSameBatch() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let group = try Self.runGroup(size: 2, kind: "mlp", train: data.train.prefix(200), validation: nil,
                                      epochs: 3, batchSize: 20, stopAt: (rank: 1, batches: 13))
        // Asked after batch 13 (the third of epoch 2), agreed in the next batch's reduction.
        for member in group {
            #expect(member.checkpoints.last?.epoch == 1)
            #expect(member.checkpoints.last?.batchesDone == 4)
        }
        let (a, b) = (group[0].checkpoints.last!, group[1].checkpoints.last!)
        #expect(a.shuffler == b.shuffler && a.partialLossSum == b.partialLossSum && a.partialCorrect == b.partialCorrect)
        #expect(a.randomStreams == b.randomStreams && a.history.map(\.trainLoss) == b.history.map(\.trainLoss))
    }

    @Test func replicaCheckFindsParametersThatDiffer() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        #expect(throws: DistributedError.self) {
            _ = try Self.runGroup(size: 2, kind: "mlp", train: data.train.prefix(40), validation: nil, epochs: 1,
                                  batchSize: 20, checksReplicas: true) { model, rank in
                if rank == 1 { model.parameters[0].values[0] += 1 }
            }
        }
    }

    @Test func threadGroupBroadcastsAndReducesInRankOrder() throws {
        let members = ThreadGroup.make(size: 3)
        let results = Locked([String](repeating: "", count: 3))
        let sums = Locked([[Double]](repeating: [], count: 3))
        let boxed = UncheckedSendable(members)
        onThreads(3) { rank in
            let member = boxed.value[rank]
            let text = (try? member.broadcast("from \(rank)", root: 2)) ?? "failed"
            let sum = (try? member.allreduce([Double(rank), 1], .sum)) ?? []
            results.withLock { $0[rank] = text }
            sums.withLock { $0[rank] = sum }
        }
        #expect(results.withLock { $0 } == ["from 2", "from 2", "from 2"])
        #expect(sums.withLock { $0 } == Array(repeating: [3, 3], count: 3))
    }
}

/// `body(0 ..< count)`, each on a thread of its own, all at once (a dispatch queue may run fewer
/// at a time than a group has members, and the members wait for each other); returns when all end.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for index in 0..<count {
        let thread = Thread {
            body(index)
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    for _ in 0..<count { done.wait() }
}

/// A value behind a lock, for results gathered from several threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
