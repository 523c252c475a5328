// swift-tools-version:6.0
import Foundation
import PackageDescription

// Vector code needs a CPU target: without one Swift emits SSE2 only and turns `fma` into
// library calls. `unsafeFlags` would forbid using this package as a dependency, so the flag
// is opt-in: `NN_TARGET_CPU=native swift build -c release` (the README's commands set it).
let targetCPU = ProcessInfo.processInfo.environment["NN_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
// With a CPU target, `NN_FMA` lets the vector code use fused multiply-adds (see VectorMath).
let cpuSettings: [SwiftSetting] = targetCPU.map { [.unsafeFlags(["-target-cpu", $0]), .define("NN_FMA")] } ?? []
// `NN_FUZZ=1` (scripts/fuzz.sh): the library and the fuzz targets built for libFuzzer with
// AddressSanitizer. Per target, not with -Xswiftc: that would also give the build plugin's tool
// libFuzzer's `main`.
let fuzzing = ProcessInfo.processInfo.environment["NN_FUZZ"] != nil
let fuzzSettings: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"]), .define("FUZZING")] : []
let fuzzLinking: [LinkerSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []

let package = Package(
    name: "NeuralNetworks",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .executable(name: "nn", targets: ["nn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // CSV tables (quoted fields, streaming from a file).
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // `swift package generate-documentation --target NeuralNetworks`: the DocC catalog.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        // The bfloat16 GEMM kernel (AVX512-BF16), compiled for that target by function attribute.
        .target(name: "CBF16", path: "Sources/CBF16"),
        // The float32 kernels for products with a reused right operand (AVX2 + FMA, AVX-512), the same way.
        .target(name: "CPanelGEMM", path: "Sources/CPanelGEMM"),
        // The element-wise kernels (LSTM step, sigmoid, tanh) at AVX-512, AVX2 or portable width, the same way.
        .target(name: "CElementwise", path: "Sources/CElementwise"),
        // The CUDA kernels' source (for NVRTC), and a CUDA driver and cuBLAS simulated on the CPU
        // that runs them in the tests (no GPU here).
        .target(name: "CCUDA", path: "Sources/CCUDA", exclude: ["nn_kernels.cuh"]),
        // PNG samples as stored (libpng's low-level API: no gamma or sRGB conversion).
        .target(name: "CPNGDecode", path: "Sources/CPNGDecode", linkerSettings: [.linkedLibrary("png16")]),
        // Flushing denormals to zero, per thread (MXCSR / FPCR).
        .target(name: "CFloatControl", path: "Sources/CFloatControl"),
        .target(
            name: "NeuralNetworks",
            dependencies: ["CBLAS", "CZlib", "CBF16", "CPanelGEMM", "CElementwise", "CFloatControl", "CPNGDecode", "CCUDA",
                           .product(name: "CSV", package: "CSV.swift")],
            swiftSettings: cpuSettings + fuzzSettings,
            // ModuleRegistry.standard's list, made from the sources: a new module is one file.
            plugins: ["StandardModules"]
        ),
        .executableTarget(name: "ModuleListGenerator", path: "Sources/ModuleListGenerator"),
        .plugin(name: "StandardModules", capability: .buildTool(), dependencies: ["ModuleListGenerator"]),
        .executableTarget(
            name: "nn",
            dependencies: [
                "NeuralNetworks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuSettings
        ),
        // Fuzz targets for the file parsers: scripts/fuzz.sh builds them with -sanitize=fuzzer.
        .executableTarget(name: "NNFuzz", dependencies: ["NeuralNetworks", "CLibFuzzer"], swiftSettings: fuzzSettings,
                          linkerSettings: fuzzLinking),
        .testTarget(
            name: "NeuralNetworksTests",
            dependencies: [
                "NeuralNetworks",
                "nn",  // built for the CLI tests, which run the binary
                .product(name: "Numerics", package: "swift-numerics"),
            ],
            exclude: ["Fixtures"]
        ),
    ]
)
