import Foundation

/// How much memory training a model will take, found before anything large is allocated, so that
/// `nn train --units 16384` is one line naming the need and what is free instead of a 15 GB climb
/// and a crash.
public enum MemoryEstimate {
    /// Bytes to train `layers` on inputs of `inputShape` in batches of `batchSize` with an optimizer
    /// keeping `optimizerSlots` arrays per parameter: parameters, their gradients and slots, each
    /// layer's output and output gradient, and the layers' own workspaces. The layers are built
    /// without drawing their values (zeroed memory that is never touched costs no pages).
    public static func trainingBytes(layers: [LayerDescription], inputShape: [Int], batchSize: Int,
                                     optimizerSlots: Int) throws -> Int {
        let model = Sequential(layers: try layers.map { try $0.makeLayer() })
        try model.build(inputShape: inputShape, seed: 0, initializesValues: false)
        var values = Double(model.parameterCount) * Double(2 + optimizerSlots)
        var shape = inputShape
        for (layer, output) in zip(model.layers, model.layerOutputShapes) {
            values += Double(layer.workspaceValues(inputShape: shape, batchSize: batchSize))
            values += 2 * Double(batchSize) * output.reduce(1.0) { $0 * Double($1) }
            shape = output
        }
        return Int(min(values * 4, Double(Int.max / 2)))
    }

    /// Bytes this process may still take: the smaller of the system's available memory and what
    /// its cgroup (a container's limit) leaves; nil when neither can be read.
    public static func availableBytes() -> Int? {
        var limits: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            limits.append(kilobytes * 1024)
        }
        func number(_ path: String) -> Int? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        if let maximum = number("/sys/fs/cgroup/memory.max"), let current = number("/sys/fs/cgroup/memory.current") {
            limits.append(max(maximum - current, 0))
        }
        return limits.min()
    }

    /// "1.2 GB".
    public static func describe(_ bytes: Int) -> String {
        let gigabytes = Double(bytes) / 1e9
        return gigabytes >= 1 ? String(format: "%.1f GB", gigabytes) : String(format: "%.0f MB", Double(bytes) / 1e6)
    }
}

/// The product of `factors`, or `Int.max` where it overflows: sizes of workspaces and passes that
/// a hostile shape can push past Int, which the memory check then refuses instead of trapping.
func saturatingProduct(_ factors: Int...) -> Int {
    factors.reduce(1) { product, factor in
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        return overflow ? .max : result
    }
}

/// `a + b`, or `Int.max` where it overflows.
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : sum
}
