/// A setting that is one of a few names (an activation, a padding, a reduction). Read from a file
/// or a spec, a name it does not have is an error that lists the ones it has (Foundation's says
/// "Cannot initialize Padding from invalid String value full"). Upper case reads as lower.
public protocol NamedSetting: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension NamedSetting {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) ?? Self(rawValue: name.lowercased()) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(ModelSpec.quoted(name))\" is not one of "
                    + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }
}
