import Foundation
import Testing
@testable import NeuralNetworks

/// `nn train` under Open MPI's `mpirun`, two ranks on this machine (scripts/setup.sh installs
/// openmpi-bin). Both transports: shared memory (vader) and TCP over loopback.
@Suite(.serialized)
struct DistributedTrainingTests {
    static let run = ["--units", "16", "--train-limit", "600", "--test-limit", "200", "--batch-size", "64",
                      "--threads", "1", "--seed", "4"]

    static var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `mpirun` with `ranks` copies of `nn arguments` (or one command per rank: MPMD), over `transport`.
    static func process(ranks: Int, _ arguments: [String], transport: String = "self,vader",
                        perRank: [[String]]? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(mpirun, "mpirun is missing: bash scripts/setup.sh installs openmpi-bin"))
        var launch = ["--oversubscribe", "--mca", "btl", transport]
        // Root in CI containers; vader's single-copy path needs ptrace rights containers may lack.
        launch += ["--allow-run-as-root", "--mca", "btl_vader_single_copy_mechanism", "none"]
        // TCP over loopback, as on a machine with no other interface.
        if transport.contains("tcp") { launch += ["--mca", "btl_tcp_if_include", "lo"] }
        if let perRank {
            launch += perRank.enumerated().flatMap { index, extra in
                (index > 0 ? [":"] : []) + ["-np", "1", CLI.binary.path] + arguments + extra
            }
        } else {
            launch += ["-np", "\(ranks)", CLI.binary.path] + arguments
        }
        process.arguments = launch
        return process
    }

    static func mpi(ranks: Int, _ arguments: [String], transport: String = "self,vader",
                    perRank: [[String]]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try CLI.collect(try process(ranks: ranks, arguments, transport: transport, perRank: perRank))
    }

    static func history(_ path: String) throws -> [EpochReport] {
        try JSONDecoder().decode([EpochReport].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func expectClose(_ a: [EpochReport], _ b: [EpochReport]) {
        #expect(a.map(\.epoch) == b.map(\.epoch))
        for (x, y) in zip(a, b) {
            #expect(abs(x.trainLoss - y.trainLoss) <= 1e-4, "epoch \(x.epoch): train \(x.trainLoss) vs \(y.trainLoss)")
            #expect(abs(x.testLoss! - y.testLoss!) <= 1e-4, "epoch \(x.epoch): test \(x.testLoss!) vs \(y.testLoss!)")
        }
    }

    /// The global batch of 64 split in two halves: the per-epoch losses of one process, to 1e-4;
    /// rank 0 alone prints and writes; the replicas' hashes agree every epoch.
    @Test(arguments: ["self,vader", "self,tcp"])
    func twoRanksGiveTheLossesOfOneProcess(transport: String) throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = directory.appendingPathComponent("one.json").path, two = directory.appendingPathComponent("two.json").path
        let single = try CLI.run(["train", "--epochs", "3", "--history", one] + Self.run)
        #expect(single.status == 0, "\(single.stderr)")
        let result = try Self.mpi(ranks: 2, ["train", "--epochs", "3", "--history", two, "--check-replicas"] + Self.run,
                                  transport: transport)
        #expect(result.status == 0, "\(result.stderr)")
        Self.expectClose(try Self.history(two), try Self.history(one))
        #expect(result.stdout.components(separatedBy: "Total params:").count == 2, "one summary, from rank 0")
        #expect(result.stdout.contains("data parallel: 2 processes (Open MPI)"))
    }

    /// A checkpoint of two ranks resumes in one process, and one process's in two, to the losses
    /// of the run that was never stopped.
    @Test func aRunResumesWithAnotherNumberOfRanks() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let straight = directory.appendingPathComponent("straight.json").path
        #expect(try CLI.run(["train", "--epochs", "4", "--history", straight] + Self.run).status == 0)
        let reference = try Self.history(straight)

        let fromTwo = directory.appendingPathComponent("two").path
        var result = try Self.mpi(ranks: 2, ["train", "--epochs", "2", "--checkpoint", fromTwo] + Self.run)
        #expect(result.status == 0, "\(result.stderr)")
        result = try CLI.run(["train", "--resume", fromTwo, "--epochs", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        Self.expectClose(try Self.history(fromTwo + "/history.json"), reference)

        let fromOne = directory.appendingPathComponent("one").path
        result = try CLI.run(["train", "--epochs", "2", "--checkpoint", fromOne] + Self.run)
        #expect(result.status == 0, "\(result.stderr)")
        result = try Self.mpi(ranks: 2, ["train", "--resume", fromOne, "--epochs", "4", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        Self.expectClose(try Self.history(fromOne + "/history.json"), reference)
    }

    /// SIGKILL to one rank mid-run: mpirun ends the whole job within seconds with a non-zero
    /// status; the last checkpoint is whole and the run resumes from it.
    @Test func aKilledRankStopsTheJobAndTheRunResumes() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = directory.appendingPathComponent("run").path
        let process = try Self.process(ranks: 2, ["train", "--epochs", "200", "--checkpoint", checkpoints] + Self.run)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let last = checkpoints + "/last.safetensors"
        var deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: last) && Date() < deadline { usleep(10_000) }
        let ranks = Self.children(of: process.processIdentifier)
        #expect(ranks.count == 2)
        kill(try #require(ranks.last), SIGKILL)
        let killed = Date()
        deadline = killed.addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        #expect(!process.isRunning, "mpirun still running 30 s after a rank died")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(Date().timeIntervalSince(killed) < 15)
        #expect(Self.children(of: process.processIdentifier).isEmpty)

        let checkpoint = try Checkpoint(path: last)
        let epochs = checkpoint.state.epoch + 1
        let result = try CLI.run(["train", "--resume", checkpoints, "--epochs", "\(epochs)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Checkpoint(path: last).state.epoch == epochs)
    }

    /// Ctrl-C reaching one rank only (not through mpirun): every rank stops after the same batch,
    /// rank 0 checkpoints though it had no signal, and the run resumed with 2 ranks has the
    /// uninterrupted 2-rank run's losses, to the bit.
    @Test func aSignalToOneRankStopsAllAndTheRunResumes() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let straight = directory.appendingPathComponent("straight.json").path
        #expect(try Self.mpi(ranks: 2, ["train", "--epochs", "8", "--history", straight] + Self.run).status == 0)
        let checkpoints = directory.appendingPathComponent("run").path
        let process = try Self.process(ranks: 2, ["train", "--epochs", "8", "--checkpoint", checkpoints] + Self.run)
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoints + "/last.safetensors") && Date() < deadline { usleep(10_000) }
        kill(try #require(Self.children(of: process.processIdentifier).last), SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.contains("continue with: nn train --resume \(checkpoints) --epochs 8"), "\(message)")
        let stopped = try Checkpoint(path: checkpoints + "/last.safetensors").state
        #expect(stopped.epoch < 8)
        let result = try Self.mpi(ranks: 2, ["train", "--resume", checkpoints, "--epochs", "8", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let (resumed, uninterrupted) = (try Self.history(checkpoints + "/history.json"), try Self.history(straight))
        #expect(resumed.map(\.trainLoss) == uninterrupted.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == uninterrupted.map(\.testLoss))
    }

    /// A rank started with another batch size: refused in one line naming the setting, before training.
    @Test func aRankWithOtherSettingsIsRefused() throws {
        let result = try Self.mpi(ranks: 2, ["train", "--epochs", "1"] + Self.run,
                                  perRank: [[], ["--batch-size=32"]])
        #expect(result.status != 0)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("nn: error:") }
        #expect(errors == ["nn: error: rank 1 was started with other settings than rank 0: batch_size is 32 here, 64 on rank 0"])
        #expect(!result.stdout.contains("loss: "))
    }

    /// Only training is split over ranks: another subcommand under mpirun is one error line, not
    /// the same output from every rank.
    @Test func otherSubcommandsRefuseToRunUnderMPI() throws {
        let result = try Self.mpi(ranks: 2, ["presets"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("nn: error:") }
                == ["nn: error: nn presets runs in one process; only nn train runs under mpirun"])
        #expect(result.stdout.isEmpty)
    }

    /// The processes whose parent is `pid` (mpirun starts the ranks of one machine itself).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }.sorted()
    }
}
