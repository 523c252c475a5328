import ArgumentParser
import NeuralNetworks

/// `nn presets`: the experiments `nn train --preset NAME` runs.
struct Presets: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the preset experiments (nn train --preset NAME), or show one in full.")

    @Argument(help: "A preset to show with its model spec and every setting.")
    var name: String?

    func execute() throws {
        guard let name else {
            let width = Preset.all.map(\.name.count).max() ?? 0
            for preset in Preset.all {
                let marker = preset.name == Preset.reference.name ? " (default)" : ""
                print(preset.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + preset.about + marker)
            }
            print("\nnn presets NAME shows one in full; nn train --preset NAME [flags] trains it.")
            return
        }
        guard let preset = Preset.named(name) else {
            throw CommandError("no preset \(name); there are \(Preset.all.map(\.name).joined(separator: ", "))")
        }
        print("\(preset.name): \(preset.about)")
        // One layer a line, so that the spec reads on an 80-column terminal.
        let layers = preset.model.replacingOccurrences(of: ") ", with: ")\n            ")
            .replacingOccurrences(of: "flatten ", with: "flatten\n            ")
        print("model:      \(layers)")
        print("loss:       \(preset.loss)")
        var optimizer = "\(preset.optimizer), learning rate \(preset.learningRate)"
        if preset.momentum > 0 { optimizer += ", \(preset.nesterov ? "Nesterov " : "")momentum \(preset.momentum)" }
        if preset.decay > 0 { optimizer += ", decay \(preset.decay)" }
        print("optimizer:  \(optimizer)")
        if let clip = preset.clipNorm { print("clip norm:  \(clip) (gradients scaled to this global norm at most)") }
        if let lines = preset.lines { print("data:       lines of the images, \(lines.train) to train, \(lines.test) to test (--lines)") }
        print("epochs:     \(preset.epochs), batch \(preset.batchSize), \(preset.shuffle ? "shuffled" : "not shuffled") each epoch")
        if let (reference, keras) = preset.mnistAccuracy {
            print("MNIST test accuracy: reference library \(reference), Keras \(keras) (Fashion-MNIST is harder)")
        }
    }
}
