import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn train` under `mpirun`: one process per rank, found from Open MPI's environment
/// (`OMPI_COMM_WORLD_SIZE`); no flag is needed. Rank 0 alone prints and writes files; the others
/// train silently. Before training, every rank must have prepared without error and hold the
/// settings of rank 0, or all stop, the rank at fault naming what is wrong.
struct DistributedTraining {
    let mpi: OpenMPI
    let dataParallel: DataParallel

    var rank: Int { mpi.rank }
    var isLeader: Bool { mpi.rank == 0 }

    /// Joins the job when started by `mpirun` with more than one process; nil otherwise.
    static func join(checksReplicas: Bool) throws -> DistributedTraining? {
        guard let size = OpenMPI.launchedSize, size > 1 else {
            if checksReplicas { throw CommandError("--check-replicas compares the processes of an mpirun job; this run has one") }
            return nil
        }
        let mpi: OpenMPI
        do { mpi = try OpenMPI() } catch { throw CommandError("\(error)") }
        let training = DistributedTraining(mpi: mpi, dataParallel: DataParallel(mpi, checksReplicas: checksReplicas))
        if !training.isLeader {
            // Only rank 0 reports: the others' standard output goes nowhere (errors still show).
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO) }
        }
        return training
    }

    /// Runs `prepare` on every rank, then makes sure all succeeded: a rank that failed rethrows
    /// its error, the others stop quietly (its message is the one to read).
    func agree<T>(_ prepare: () throws -> T) throws -> T {
        var value: T?, failure: Error?
        do { value = try prepare() } catch { failure = error }
        guard try mpi.allAgree(failure == nil), let value else {
            mpi.finish()
            throw failure ?? ExitCode.failure
        }
        return value
    }

    /// Throws, on each rank whose `settings` differ from rank 0's, which setting differs.
    func requireSameSettings(_ settings: [String: String]) throws {
        try agree {
            let own = try canonicalJSON(settings)
            let leader = try mpi.broadcast(own)
            guard leader != own else { return }
            let theirs = (try? JSONDecoder().decode([String: String].self, from: Data(leader.utf8))) ?? [:]
            let key = Set(settings.keys).union(theirs.keys).sorted().first { settings[$0] != theirs[$0] } ?? "?"
            throw CommandError("rank \(rank) was started with other settings than rank 0: \(key) is "
                               + "\(settings[key] ?? "unset") here, \(theirs[key] ?? "unset") on rank 0")
        }
    }

    /// After training: what the reductions cost, for rank 0 to print (collective: every rank calls it).
    func summary() throws -> String {
        let values = dataParallel.valuesPerReduction, count = max(dataParallel.reductions, 1)
        let alone = try dataParallel.measureAllreduce()
        // Two lines that fit an 80-column terminal.
        return String(format: "data parallel: %d processes (Open MPI), %@ values (%@ KB) reduced per batch\n"
                      + "allreduce: %.2f ms alone, %.2f ms with the wait for the slowest rank (%d batches)",
                      mpi.size, Sequential.grouped(values), Sequential.grouped(values * 4 / 1000), alone * 1000,
                      dataParallel.reductionSeconds * 1000 / Double(count), dataParallel.reductions)
    }
}
