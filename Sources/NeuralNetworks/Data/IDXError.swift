/// What is wrong with an IDX data file; every case names the file.
public enum IDXError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case badMagic(file: String, found: [UInt8])
    case unsupportedElementType(file: String, code: UInt8)
    case unexpectedRank(file: String, expected: Int, found: Int)
    case sizeOverflow(file: String, dimensions: [Int])
    case tooLarge(file: String, claimedBytes: Int, limit: Int)
    case truncated(file: String, expectedBytes: Int, actualBytes: Int)
    case trailingBytes(file: String, expectedBytes: Int, actualBytes: Int)
    case corruptGzip(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the file (\(reason))"
        case let .badMagic(file, found):
            let hex = found.map { String($0, radix: 16, uppercase: false) }.map { $0.count == 1 ? "0" + $0 : $0 }
            return "\(file): not an IDX file (magic number 0x\(hex.joined()), expected 0x0000 then type and rank)"
        case let .unsupportedElementType(file, code):
            return "\(file): unsupported IDX element type 0x\(String(code, radix: 16)) (only unsigned bytes, 0x08, are supported)"
        case let .unexpectedRank(file, expected, found):
            return "\(file): expected \(expected) dimension(s), the header has \(found)"
        case let .sizeOverflow(file, dimensions):
            return "\(file): dimensions \(dimensions) overflow"
        case let .tooLarge(file, claimedBytes, limit):
            return "\(file): header claims \(claimedBytes) bytes of data, more than the limit of \(limit)"
        case let .truncated(file, expected, actual):
            return "\(file): truncated: the header needs \(expected) bytes, the file has \(actual)"
        case let .trailingBytes(file, expected, actual):
            return "\(file): holds more bytes than its header describes (\(expected) expected, at least \(actual) found)"
        case let .corruptGzip(file, reason):
            return "\(file): corrupt gzip stream (\(reason))"
        }
    }
}

/// A data set whose files do not fit together.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case missingFile(directory: String, candidates: [String])
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case labelOutOfRange(file: String, index: Int, label: Int, classCount: Int)
    case shapeMismatch(file: String, expected: [Int], found: [Int])
    case empty(file: String)
    case skippedClasses(file: String, missing: [Int], label: Int, index: Int)
    case emptyImages(file: String, rows: Int, columns: Int)
    case badSplit(fraction: Double, count: Int)
    case nonFinite(origin: String, what: String, offset: Int, value: Float)
    case badSequenceLength(file: String, index: Int, length: Int, steps: Int)
    case notSequences(file: String, sampleShape: [Int])
    case lengthCountMismatch(file: String, lengthCount: Int, sampleCount: Int)

    public var description: String {
        switch self {
        case let .missingFile(directory, candidates):
            return "\(directory): no \(candidates.joined(separator: " or ")) found"
        case let .countMismatch(images, imageCount, labels, labelCount):
            return "\(images) holds \(imageCount) samples but \(labels) holds \(labelCount) targets"
        case let .labelOutOfRange(file, index, label, classCount):
            return "\(file): label \(label) at index \(index) is outside the \(classCount) classes 0...\(classCount - 1)"
        case let .shapeMismatch(file, expected, found):
            return "\(file): images are \(found.map(String.init).joined(separator: "×")), expected \(expected.map(String.init).joined(separator: "×"))"
        case let .empty(file):
            return "\(file): holds no samples"
        case let .skippedClasses(file, missing, label, index):
            let shown = missing.count > 3 ? "\(missing[0])…\(missing.last!) (\(missing.count) classes)" : missing.map(String.init).joined(separator: ", ")
            return "\(file): no sample has label \(shown), yet label \(label) (first at index \(index)) makes "
                + "\(label + 1) classes; fix the labels, or pass --classes \(label + 1) to train with empty classes"
        case let .emptyImages(file, rows, columns):
            return "\(file): the header gives images of \(rows)×\(columns) pixels; they need at least one row and one column"
        case let .nonFinite(origin, what, offset, value):
            return "\(origin): \(what) value \(offset) is \(value); the data must hold finite numbers"
        case let .badSequenceLength(file, index, length, steps):
            return "\(file): sequence length \(length) at index \(index) is outside 1...\(steps), the steps of a sample"
        case let .lengthCountMismatch(file, lengthCount, sampleCount):
            return "\(file) holds \(lengthCount) sequence lengths for \(sampleCount) samples"
        case let .notSequences(file, sampleShape):
            return "\(file): sequence lengths need samples with a steps axis ([steps, features], or ids [steps]), these are "
                + (sampleShape.isEmpty ? "single values" : sampleShape.map(String.init).joined(separator: "×"))
        case let .badSplit(fraction, count):
            return "a validation split of \(fraction) leaves no sample on one side of \(count) samples: "
                + "give a fraction between 0 and 1 that holds out at least one sample and keeps one"
        }
    }
}
