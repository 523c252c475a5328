/// Steps cut from the start and end of sequences (Keras `Cropping1D`): inputs `[steps, features]`,
/// outputs `[steps − start − end, features]`; backward, the gradient with zeros at the cut
/// steps. It is a ``Cropping2D`` of one-row images, sharing its passes and GPU form; it changes
/// what a step is: padded sequences are refused.
public final class Cropping1D: OneRowLayer {
    public static let typeName = "Cropping1D"
    public static let positionalKeys = ["cropping"]
    public static let specAliases = ["crop1d"]
    public let images: Cropping2D
    public let cropping: SequenceMargins

    public init(cropping: SequenceMargins = SequenceMargins(0)) {
        self.cropping = cropping
        images = Cropping2D(cropping: cropping.oneRow)
        images.name = "cropping1d"
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var cropping: SequenceMargins?
    }
    public var configuration: Configuration { Configuration(cropping: cropping) }
    public convenience init(configuration c: Configuration) throws {
        let margins = c.cropping ?? SequenceMargins(0)
        guard margins.oneRow.isValid() else { throw ShapeError("Cropping1D: cropping \(margins) must be in 0...\(1 << 20)") }
        self.init(cropping: margins)
    }
}
