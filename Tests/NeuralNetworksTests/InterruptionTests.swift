import Foundation
import Testing
@testable import NeuralNetworks

/// The CLI under signals and a full disk.
@Suite(.serialized)
struct InterruptionTests {
    static let run = ["--units", "32", "--train-limit", "2048", "--test-limit", "128", "--batch-size", "64", "--seed", "3"]

    @Test func sigintCheckpointsAndResumeReachesTheUninterruptedWeights() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("run").path
        let straight = directory.appendingPathComponent("straight.safetensors").path
        let resumed = directory.appendingPathComponent("resumed.safetensors").path
        #expect(try CLI.run(["train", "--epochs", "6", "--save", straight] + Self.run).status == 0)

        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["train", "--epochs", "6", "--checkpoint", checkpoints] + Self.run
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let last = checkpoints + "/last.safetensors"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: last) && Date() < deadline { usleep(2_000) }
        kill(process.processIdentifier, SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("nn train --resume \(checkpoints)"))

        let result = try CLI.run(["train", "--resume", checkpoints, "--epochs", "6", "--save", resumed])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: resumed) == FileManager.default.contents(atPath: straight))
    }

    /// Ctrl-C inside a long sequence's batch stops between time steps, not after the batch; the
    /// cut batch is not applied, and the run resumes to the uninterrupted weights.
    @Test func sigintInsideALongBatchStopsBetweenTimeSteps() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("run").path
        let straight = directory.appendingPathComponent("straight.safetensors").path
        let resumed = directory.appendingPathComponent("resumed.safetensors").path
        // 784 steps of one pixel, the whole set in one batch: one batch is one epoch.
        let long = ["--model", "reshape([784, 1]) bilstm(64) dense(classes, softmax)", "--train-limit", "512",
                    "--test-limit", "64", "--batch-size", "512", "--seed", "2", "--epochs", "2"]
        let started = Date()
        #expect(try CLI.run(["train", "--save", straight] + long).status == 0)
        let perEpoch = Date().timeIntervalSince(started) / 2

        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["train", "--checkpoint", checkpoints] + long
        let err = Pipe(), out = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Epoch 1's line is printed at its end: epoch 2's one batch starts then (after a checkpoint).
        // Its length is this run's own epoch 1 (timed here, since other tests load the machine unevenly).
        let firstEpochDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var text = ""
            while true {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
                if text.contains("loss: ") {
                    firstEpochDone.signal()
                    while !out.fileHandleForReading.availableData.isEmpty {}
                    break
                }
            }
        }
        let launched = Date()
        try process.run()
        #expect(firstEpochDone.wait(timeout: .now() + 120) == .success)
        let firstEpoch = Date().timeIntervalSince(launched)
        // Inside epoch 2's one batch: epoch 1's time from launch also holds the start-up and the
        // test pass (epoch 2's batch took under half of it on a loaded CI machine, so 25% missed).
        usleep(useconds_t(firstEpoch * 0.1 * 1e6))
        let signalled = Date()
        kill(process.processIdentifier, SIGINT)
        // Stopped when nn says so: the process's exit after it (the kernel freeing the batch's
        // gigabyte of steps, 0.17 s on a Zen 5) is not the training loop's doing.
        var message = "", stopped: Date?
        while case let data = err.fileHandleForReading.availableData, !data.isEmpty {
            message += String(decoding: data, as: UTF8.self)
            if stopped == nil, message.contains("interrupted") { stopped = Date() }
        }
        process.waitUntilExit()
        let stopping = (stopped ?? Date()).timeIntervalSince(signalled)
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(stopping < perEpoch / 2, "stopped \(stopping) s after Ctrl-C; a batch takes \(perEpoch) s")
        let checkpoint = try Checkpoint(path: checkpoints + "/last.safetensors")
        #expect(checkpoint.state.epoch == 1 && checkpoint.state.batchesDone == 0)
        let result = try CLI.run(["train", "--resume", checkpoints, "--epochs", "2", "--save", resumed])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: resumed) == FileManager.default.contents(atPath: straight))
    }

    /// ThreadSanitizer's runtime (in the `nn` a `--sanitize=thread` build starts) dies of SIGBUS
    /// under a file-size limit before our code runs; the normal and ASan runs cover this test.
    static let underThreadSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil

    @Test(.enabled(if: !underThreadSanitizer, "the TSan runtime cannot run under prlimit --fsize"))
    func fullDiskWhileCheckpointingLeavesThePreviousCheckpoint() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("run").path
        #expect(try CLI.run(["train", "--epochs", "1", "--checkpoint", checkpoints] + Self.run).status == 0)
        let before = FileManager.default.contents(atPath: checkpoints + "/last.safetensors")
        // A 20 kB file-size limit: the next checkpoint (about 130 kB) cannot be written.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--fsize=20000", CLI.binary.path, "train", "--resume", checkpoints, "--epochs", "2"]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.split(separator: "\n").count == 1)
        #expect(FileManager.default.contents(atPath: checkpoints + "/last.safetensors") == before)
        #expect(try Checkpoint(path: checkpoints + "/last.safetensors").state.epoch == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: checkpoints).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}
