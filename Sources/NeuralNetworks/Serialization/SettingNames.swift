/// The keys a configuration's encoding names, the optional ones that are nil included: the
/// settings a spec may give a layer or loss, for the error that names them. (Their synthesized
/// `encode(to:)` calls `encodeIfPresent` for an optional, which this encoder records as well.)
enum SettingNames {
    static func of(_ configuration: any Encodable) -> [String] {
        let recorder = Recorder()
        try? configuration.encode(to: recorder)
        return recorder.keys.sorted()
    }

    private final class Recorder: Encoder {
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        var keys: Set<String> = []
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keys<Key>(recorder: self))
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { Ignored() }
        func singleValueContainer() -> any SingleValueEncodingContainer { Ignored() }
    }

    /// Records each key the configuration writes, with a value or none, and nothing below it.
    private struct Keys<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        private func note(_ key: Key) { recorder.keys.insert(key.stringValue) }
        mutating func encodeNil(forKey key: Key) throws { note(key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { note(key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { note(key) }
        mutating func encode(_ value: String, forKey key: Key) throws { note(key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { note(key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { note(key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { note(key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { note(key) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                            forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            note(key)
            return KeyedEncodingContainer(Keys<NestedKey>(recorder: Recorder()))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            note(key)
            return Ignored()
        }
        mutating func superEncoder() -> any Encoder { Recorder() }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            note(key)
            return Recorder()
        }
    }

    /// Takes any value and keeps nothing.
    private struct Ignored: UnkeyedEncodingContainer, SingleValueEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int { 0 }
        mutating func encodeNil() throws {}
        mutating func encode<T: Encodable>(_ value: T) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keys<NestedKey>(recorder: Recorder()))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { Ignored() }
        mutating func superEncoder() -> any Encoder { Recorder() }
    }
}
