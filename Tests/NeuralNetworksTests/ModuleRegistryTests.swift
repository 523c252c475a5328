import Testing
@testable import NeuralNetworks

/// `ModuleRegistry.standard` lists the library's modules from its sources (the StandardModules
/// build plugin): every type that declares a `typeName` is registered, with no list to edit.
struct ModuleRegistryTests {
    @Test func theStandardRegistryKnowsEveryModuleOfTheLibrary() {
        let registry = ModuleRegistry.standard
        // A sample across the folders; a new layer file joins without this list growing.
        #expect(Set(registry.layerTypes).isSuperset(of: ["Activation", "Bidirectional", "Chain", "Concatenate", "Dense",
                                                         "Dropout", "Flatten", "GRU", "LSTM", "Normalization", "SimpleRNN"]))
        #expect(registry.layerTypes == registry.layerTypes.sorted())
        #expect(Set(registry.optimizerTypes).isSuperset(of: ["Adagrad", "Adam", "RMSprop", "SGD"]))
        #expect(Set(registry.lossTypes).isSuperset(of: ["binary_crossentropy", "categorical_crossentropy", "ctc", "mean_squared_error"]))
    }

    @Test func addingAMixedListSortsLayersOptimizersAndLosses() {
        let registry = ModuleRegistry().adding(contentsOf: [Dense.self, Adam.self, MeanSquaredError.self])
        #expect(registry.layerTypes == ["Dense"])
        #expect(registry.optimizerTypes == ["Adam"])
        #expect(registry.lossTypes == ["mean_squared_error"])
    }
}
