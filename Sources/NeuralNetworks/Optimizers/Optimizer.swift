/// Updates parameters in place from their gradients.
public protocol Optimizer: AnyObject {
    /// Updates made so far (Keras' `iterations`; learning-rate schedules depend on it).
    var iterations: Int { get }
    /// The learning rate of update number `iteration` (0-based).
    func learningRate(iteration: Int) -> Float
    func update(_ parameters: [Parameter])
}

extension Optimizer {
    /// The learning rate the next update will use.
    public var currentLearningRate: Float { learningRate(iteration: iterations) }
}
