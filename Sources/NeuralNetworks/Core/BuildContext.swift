/// What a layer's `build` draws on: the initialisation stream, whether values are initialised at
/// all (not when they come from a file next), and a bound on how many values may be allocated,
/// so that a hostile model file or a mistyped `--units` is refused before memory runs out.
public struct BuildContext {
    /// The run's `initialization` stream; layers draw their initial values from it in build order.
    public var generator: RandomGenerator
    /// False when every value will be overwritten (loading a file): initializers are skipped,
    /// so an orthogonal initialisation (cubic in the units) is not wasted.
    public let initializesValues: Bool
    /// Values (parameters and buffers) that may still be allocated.
    public private(set) var remainingValues: Int

    public init(generator: RandomGenerator, initializesValues: Bool = true, maximumValues: Int = .max) {
        self.generator = generator
        self.initializesValues = initializesValues
        remainingValues = maximumValues
    }

    /// Counts `shape`'s values against the bound; throws ``ShapeError`` on a negative or
    /// overflowing shape or when the bound would be passed. Nothing is allocated.
    public mutating func reserve(_ shape: [Int], for what: String) throws -> Int {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension > 0, !overflow else { throw ShapeError("\(what): shape \(shape) is not a valid size", isTooLarge: true) }
            count = product
        }
        guard count <= remainingValues else {
            throw ShapeError("\(what): \(count) values are more than the \(remainingValues) allowed", isTooLarge: true)
        }
        remainingValues -= count
        return count
    }

    /// A new parameter named `name` within its layer, initialised by `initializer` (unless the
    /// values come from a file). `trainable: false` makes a buffer (saved, not optimised).
    public mutating func parameter(_ name: String, shape: [Int], initializer: Initializer,
                                   trainable: Bool = true) throws -> Parameter {
        let parameter = Parameter(name: name, shape: shape, in: try block(shape, for: name), offset: 0, trainable: trainable)
        initialize(parameter, initializer)
        return parameter
    }

    /// A zeroed block for parameters that must lie side by side (an LSTM's [kernel; recurrent; bias]).
    mutating func block(_ shape: [Int], for what: String) throws -> ParameterBlock {
        let count = try reserve(shape, for: what)
        guard let block = ParameterBlock(zeroed: count) else {
            throw ShapeError("\(what): cannot allocate \(count) values (\(MemoryEstimate.describe(8 * count)) with gradients)",
                             isTooLarge: true)
        }
        return block
    }

    /// Draws `parameter`'s first values from `initializer` (nothing when loading).
    mutating func initialize(_ parameter: Parameter, _ initializer: Initializer,
                             adjust: (inout [Float]) -> Void = { _ in }) {
        guard initializesValues else { return }
        var values = initializer.values(shape: parameter.shape, generator: &generator)
        adjust(&values)
        parameter.tensor = Tensor(shape: parameter.shape, scalars: values)
    }
}
