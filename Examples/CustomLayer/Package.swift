// swift-tools-version:6.0
import PackageDescription

// A package of its own that extends NeuralNetworks from outside: a layer with weights, a loss
// and an optimizer, each one file, registered, trained, saved, loaded and resumed.
// Run: swift run -c release --package-path Examples/CustomLayer   (scripts/test.sh does)
let package = Package(
    name: "CustomLayer",
    dependencies: [.package(name: "NeuralNetworks", path: "../..")],
    targets: [
        .executableTarget(name: "CustomLayer", dependencies: [.product(name: "NeuralNetworks", package: "NeuralNetworks")]),
    ]
)
