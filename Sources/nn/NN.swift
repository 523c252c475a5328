import ArgumentParser
import Foundation

@main
struct NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Train and use neural networks (NeuralNetworks, native Swift on Linux).",
        version: NN.version,
        subcommands: [Train.self, Presets.self, Evaluate.self, Predict.self, Summary.self, Export.self, Plot.self,
                      Download.self, Bench.self])

    static let version = "0.4.0"

    static func main() {
        OpenBLASCore.preferFastestKernels()
        // A file-size limit reached while writing is then an error (EFBIG) that leaves the
        // previous file intact, not a kill by SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        main(nil)
    }
}
