import ArgumentParser

@main
struct NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Train and use neural networks (NeuralNetworks, native Swift on Linux).",
        subcommands: [Train.self, Evaluate.self, Predict.self, Summary.self, Export.self, Plot.self, Download.self, Bench.self],
        defaultSubcommand: Train.self)

    static func main() {
        OpenBLASCore.preferFastestKernels()
        main(nil)
    }
}
