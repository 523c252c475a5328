import ArgumentParser
import Foundation
import NeuralNetworks

@main
struct NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Train and use neural networks (NeuralNetworks, native Swift on Linux).",
        version: NN.version,
        subcommands: [Train.self, Presets.self, Evaluate.self, Predict.self, Summary.self, Export.self, Import.self, Plot.self,
                      Download.self, Bench.self, Lines.self, CUDA.self])

    static let version = "0.4.0"

    static func main() {
        OpenBLASCore.preferFastestKernels()
        if let problem = PanelKernel.environmentProblem(ProcessInfo.processInfo.environment["NN_KERNEL"]) {
            FileHandle.standardError.write(Data("nn: warning: \(problem)\n".utf8))
        }
        if getenv("NN_VERBOSE") != nil {
            FileHandle.standardError.write(Data("nn: kernels: \(PanelKernel.choiceDescription)\n".utf8))
        }
        // A file-size limit reached while writing is then an error (EFBIG) that leaves the
        // previous file intact, not a kill by SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `nn help bogus` would print the top-level help and succeed: name the unknown subcommand.
        if arguments.first == "help", arguments.count > 1,
           !configuration.subcommands.contains(where: { $0._commandName == arguments[1] }) {
            FileHandle.standardError.write(Data("nn: error: no subcommand \(arguments[1]); nn help lists them\n".utf8))
            Foundation.exit(64)
        }
        // Under mpirun every rank would run the same evaluation or export and print it: only
        // training is split over the ranks.
        if let ranks = OpenMPI.launchedSize, ranks > 1, let command = arguments.first, !command.hasPrefix("-"),
           command != "train", command != "help" {
            if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] == "0" {
                FileHandle.standardError.write(Data("nn: error: nn \(command) runs in one process; only nn train runs under mpirun\n".utf8))
            }
            Foundation.exit(64)
        }
        main(negativeValuesAttached(arguments))
    }

    /// `--batch-size -1` reads as a flag named `-1` to ArgumentParser ("Missing value"); attached,
    /// `--batch-size=-1`, the option's own range check explains what is wrong.
    static func negativeValuesAttached(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count,
               arguments[index + 1].hasPrefix("-"), Double(arguments[index + 1]) != nil {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }
}
