import ArgumentParser
import Foundation
import NeuralNetworks

/// A subcommand whose failures are one line on stderr and exit status 1 (argument errors keep
/// ArgumentParser's own message and status).
protocol ReportingCommand: ParsableCommand {
    func execute() throws
}

extension ReportingCommand {
    func run() throws {
        do {
            try execute()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("nn: error: \(message.replacingOccurrences(of: "\n", with: " "))\n".utf8))
}

/// A warning or note on standard error (not an error: the command goes on), on one line.
func printNote(_ message: String) {
    FileHandle.standardError.write(Data("nn: \(message.replacingOccurrences(of: "\n", with: " "))\n".utf8))
}

/// A user-facing failure with its own message.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Loads a model file, for the subcommands that use one.
func loadModel(_ path: String, recurrentActivation: GateActivation? = nil) throws -> Sequential {
    BLAS.threadCount = 1
    return try Sequential.load(from: path, recurrentActivation: recurrentActivation?.activation ?? .sigmoid)
}

extension Sequential {
    /// The loss the model's file at `path` keeps (nil for a file without one), where it is used:
    /// an error naming the file, and `remedy`, where it cannot be read or does not fit the model
    /// (a CTC blank beyond its outputs).
    func keptLoss(path: String, remedy: String) throws -> Loss? {
        if let lossReadError { throw CommandError("\(path): \(lossReadError): \(remedy)") }
        if let ctc = loss?.function as? CTCLoss, let blank = ctc.blank, let width = outputShape.last, blank >= width {
            throw CommandError("\(path): its ctc loss puts the blank at \(blank), outside the model's \(width) outputs per step: "
                               + remedy)
        }
        return loss
    }

    /// Checks that samples of `shape` fit the model's input.
    func requireInput(_ shape: [Int], data: String) throws {
        guard inputShape == shape else {
            throw CommandError("\(data): samples are \(shape.map(String.init).joined(separator: "×")), the model takes "
                               + inputShape!.map(String.init).joined(separator: "×"))
        }
    }
}

extension Precision: ExpressibleByArgument {}

/// A model architecture in JSON: a saved model's `architecture` metadata, or its `layers` alone.
struct ArchitectureFile: Decodable {
    let inputShape: [Int]?
    let layers: [LayerDescription]
    enum CodingKeys: String, CodingKey { case inputShape = "input_shape", layers }

    /// Reads `path`, given with `flag`; errors name both and what is wrong.
    static func read(_ path: String, flag: String) throws -> ArchitectureFile {
        let data = try InputFile.read(path) { CommandError("\(flag) \(path): \($0)") }
        do {
            let architecture = try JSONDecoder().decode(ArchitectureFile.self, from: data)
            guard !architecture.layers.isEmpty else { throw CommandError("\(flag) \(path): no layers") }
            return architecture
        } catch let error as ShapeError {
            throw CommandError("\(flag) \(path): \(error)")
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("\(flag) \(path): not a model architecture ({\"layers\": [{\"type\": …}, …]})")
        }
    }
}

/// What `nn` asks of a CTC loss beyond the library: per-step probabilities (CTC reads its outputs
/// as those: other outputs give a loss below 0 that means nothing).
func requireCTCAsNNReadsIt(_ loss: Loss, model: Sequential) throws {
    guard loss.function is CTCLoss else { return }
    guard (model.layers.last as? any OutputActivationLayer)?.activation == .softmax else {
        throw CommandError("ctc reads each step's outputs as probabilities: end the model with "
                           + "timedistributed(dense(classes, softmax))")
    }
}

extension Sequential {
    /// Whether the outputs are class probabilities (a softmax or sigmoid last layer).
    var classifies: Bool {
        guard let last = layers.last as? any OutputActivationLayer else { return classNames != nil }
        return last.activation == .softmax || last.activation == .sigmoid
    }
}

/// `--device`: where a model computes.
enum ComputeDevice: String, ExpressibleByArgument, CaseIterable {
    case cpu, cuda

    /// Gives `model` this device's backend; without a GPU or driver, `cuda` is a one-line error.
    /// `NN_CUDA_DRIVER=simulator` runs the GPU path on the CPU's CUDA simulator (for tests);
    /// `NN_CUDA_GRAPHS=0` enqueues training steps call by call instead of replaying them.
    /// `keptIn`: the checkpoint the device came from (its error then says how to move the run).
    func apply(to model: Sequential, keptIn checkpoint: String? = nil) throws {
        guard self == .cuda else { return }
        do {
            let backend = try CUDABackend(device: CUDADevice(driver: CUDADriver.fromEnvironment()))
            backend.recordsSteps = ProcessInfo.processInfo.environment["NN_CUDA_GRAPHS"] != "0"
            model.backend = backend
        } catch {
            guard let checkpoint else { throw CommandError("--device cuda: \(error)") }
            throw CommandError("\(checkpoint) trained with --device cuda: add --device cpu to continue it on the CPU "
                               + "(\(error))")
        }
    }
}
