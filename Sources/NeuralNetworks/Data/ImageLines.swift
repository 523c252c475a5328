/// Lines of 1 to `maxItems` images placed side by side, each squeezed to a random width with
/// random gaps between (a line of handwriting, a row of products), labelled with the sequence of
/// their classes: a transcription task for ``CTCLoss`` made from any data set of `[height, width]`
/// images, such as Fashion-MNIST's IDX files.
///
/// Samples are `[columns, height]`: the canvas's columns are the time steps, each column's pixels
/// its features. A line's layout (which images, their widths, the gaps) is drawn once from the
/// seed; its pixels are drawn when a batch reads it, so a set of lines costs a few integers each.
/// Widths run from half the image's width to all of it, gaps from 0 to `maxGap` columns, and the
/// canvas holds `maxItems` full-width images with the widest gaps, rounded up to a multiple of 4
/// (so that a model may read 2 or 4 columns per step); the rest of a line is background (0).
public struct ImageLines: SampleSource {
    /// One line: the images (indices into the source), each one's width and its left column.
    public struct Layout: Sendable, Equatable {
        public let images: [Int]
        public let widths: [Int]
        public let columns: [Int]
    }

    public let source: any SampleSource
    public let lines: [Layout]
    /// Columns of every line (the time steps).
    public let width: Int
    private let height: Int, imageWidth: Int

    public var count: Int { lines.count }
    public var sampleShape: [Int] { [width, height] }

    /// `count` lines of images from `images` (samples `[height, width]`), laid out from `seed`.
    public init(images: any SampleSource, count: Int, maxItems: Int = 5, maxGap: Int = 6, seed: UInt64) throws {
        guard images.sampleShape.count == 2 else {
            throw ShapeError("lines are made of images [height, width]; the samples are \(images.sampleShape)")
        }
        guard count >= 1, (1...64).contains(maxItems), (0...1024).contains(maxGap), images.count > 0 else {
            throw ShapeError("lines need at least one line, 1–64 images a line, gaps of 0–1024 columns and some images; "
                             + "got \(count) lines of up to \(maxItems) of \(images.count) images, gaps up to \(maxGap)")
        }
        (source, height, imageWidth) = (images, images.sampleShape[0], images.sampleShape[1])
        let canvas = (maxItems * imageWidth + (maxItems - 1) * maxGap + 3) / 4 * 4, imageWidth = imageWidth
        width = canvas
        var generator = RandomGenerator(seed: seed, stream: .imageLines)
        func draw(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(generator.next().multipliedFullWidth(by: UInt64(range.count)).high)
        }
        let smallest = max(1, (imageWidth + 1) / 2)
        lines = (0..<count).map { _ in
            let items = draw(1...maxItems)
            let chosen = (0..<items).map { _ in draw(0...(images.count - 1)) }
            let widths = (0..<items).map { _ in draw(smallest...imageWidth) }
            let gaps = (0..<(items - 1)).map { _ in draw(0...maxGap) }
            let used = widths.reduce(0, +) + gaps.reduce(0, +)
            var column = draw(0...(canvas - used)), columns: [Int] = []
            for item in 0..<items {
                columns.append(column)
                column += widths[item] + (item < items - 1 ? gaps[item] : 0)
            }
            return Layout(images: chosen, widths: widths, columns: columns)
        }
    }

    public func origin(of index: Int) -> String {
        "line \(index) (images \(lines[index].images.map { source.origin(of: $0) }.joined(separator: ", ")))"
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let size = sampleSize
        for (slot, index) in indices.enumerated() {
            let line = lines[index], canvas = destination.baseAddress! + slot * size
            canvas.update(repeating: 0, count: size)
            let pixels = try source.tensor(line.images)
            for item in line.images.indices {
                let start = item * height * imageWidth
                let squeezed = GreyImage.resample(Array(pixels.scalars[start..<(start + height * imageWidth)]),
                                                  width: imageWidth, height: height, channels: 1,
                                                  toWidth: line.widths[item], height: height)
                // Column-major on the canvas: column x holds the image's rows at x.
                for x in 0..<line.widths[item] {
                    let column = canvas + (line.columns[item] + x) * height
                    for row in 0..<height { column[row] = squeezed[row * line.widths[item] + x] }
                }
            }
        }
    }

    /// Lines of `images`' samples labelled with their classes in order: a data set for ``CTCLoss``.
    public static func dataset(from images: Dataset, count: Int, maxItems: Int = 5, seed: UInt64) throws -> Dataset {
        guard case .classes(let labels) = images.targets else {
            throw ShapeError("lines are labelled with their images' classes; these samples have no class labels")
        }
        let lines = try ImageLines(images: images.inputs, count: count, maxItems: maxItems, seed: seed)
        return try Dataset(inputs: lines, sequences: lines.lines.map { $0.images.map { labels[$0] } },
                           classCount: images.classCount, classNames: images.classNames)
    }
}
