import Foundation

/// A folder of PNG images with one subfolder per class, as Keras' `image_dataset_from_directory`
/// and torchvision's `ImageFolder` read: `DIR/train/<class>/*.png` and `DIR/test/<class>/*.png`,
/// or the class folders directly in `DIR` (then there is no test part: hold one out with
/// ``Dataset/split(validationFraction:seed:)``).
///
/// Only the headers are read when the folder is opened; each image is decoded when a batch draws
/// it, so a set larger than memory trains with bounded memory. Grey images are `[H, W]` samples
/// (as IDX images); when any image is in colour, all are `[H, W, 3]` (grey ones replicated). With
/// a `size`, every image is resized to it (bilinear); without, an image whose size differs from
/// the first one's is an error naming it.
public struct ImageFolder: Sendable {
    public let train: Dataset
    public let test: Dataset?

    /// The train part (and the test part, when `DIR/test` exists) of `directory`; with `size`,
    /// every image is resized to it.
    public static func load(directory: String, size: (height: Int, width: Int)? = nil) throws -> ImageFolder {
        let root = directory as NSString
        let trainDirectory = root.appendingPathComponent("train")
        let hasSplits = isDirectory(trainDirectory)
        let train = try source(directory: hasSplits ? trainDirectory : directory, size: size, classNames: nil, channels: nil)
        let testDirectory = root.appendingPathComponent("test")
        var test: Dataset?
        if hasSplits && isDirectory(testDirectory) {
            test = try source(directory: testDirectory, size: (train.shape[0], train.shape[1]),
                              classNames: train.dataset.classNames, channels: train.shape.count == 3 ? 3 : 1).dataset
        }
        return ImageFolder(train: train.dataset, test: test)
    }

    /// The class folders of `directory` read for a model that takes `sampleShape` and knows
    /// `classNames` (a folder it has no name for is an error): evaluation and prediction. With
    /// `sampleShape` nil, grey images of the first one's size (images made into lines).
    public static func load(directory: String, sampleShape: [Int]?, classNames: [String]?) throws -> Dataset {
        let root = directory as NSString
        let folder = isDirectory(root.appendingPathComponent("test")) ? root.appendingPathComponent("test") : directory
        guard let sampleShape else { return try source(directory: folder, size: nil, classNames: classNames, channels: 1).dataset }
        guard sampleShape.count == 2 || (sampleShape.count == 3 && sampleShape[2] == 3) else {
            throw ImageError(file: directory, "the model takes samples of \(sampleShape), not [height, width] or [height, width, 3] images")
        }
        return try source(directory: folder, size: (sampleShape[0], sampleShape[1]), classNames: classNames,
                          channels: sampleShape.count == 3 ? 3 : 1).dataset
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    private static func listing(_ directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw ImageError(file: directory, "cannot list the folder (\(InputFile.problem(directory) ?? "permission denied"))")
        }
    }

    private static func source(directory: String, size: (height: Int, width: Int)?, classNames known: [String]?,
                               channels knownChannels: Int?) throws -> (dataset: Dataset, shape: [Int]) {
        guard isDirectory(directory) else { throw ImageError(file: directory, "no such folder") }
        let folders = try listing(directory).filter { isDirectory((directory as NSString).appendingPathComponent($0)) }
        guard !folders.isEmpty else {
            throw ImageError(file: directory, "no class folders (expected \(directory)/<class>/*.png, or train/ and test/ with class folders)")
        }
        let names = known ?? folders
        var files: [String] = [], labels: [Int] = []
        for folder in folders {
            guard let label = names.firstIndex(of: folder) else {
                throw ImageError(file: (directory as NSString).appendingPathComponent(folder),
                                 "a class the model does not know (it knows \(names.prefix(10).joined(separator: ", ")))")
            }
            let path = (directory as NSString).appendingPathComponent(folder)
            for name in try listing(path) where (name as NSString).pathExtension.lowercased() == "png" {
                files.append((path as NSString).appendingPathComponent(name))
                labels.append(label)
            }
        }
        guard !files.isEmpty else { throw ImageError(file: directory, "no .png images in its class folders") }
        // Training classes come from the folders: an empty one would be a class never seen.
        if known == nil, case let seen = Set(labels), let empty = folders.indices.first(where: { !seen.contains($0) }) {
            throw ImageError(file: (directory as NSString).appendingPathComponent(folders[empty]),
                             "a class folder without .png images: a class needs samples (remove the folder)")
        }
        // Headers only: sizes and colour, so that a bad file is named now, not mid-epoch.
        var first: (width: Int, height: Int)?
        var colour = false
        for file in files {
            let header = try pngHeader(file)
            colour = colour || header.colour
            if let first, size == nil, (header.width, header.height) != (first.width, first.height) {
                throw ImageError(file: file, "is \(header.width)×\(header.height), the first image \(files[0]) is "
                                 + "\(first.width)×\(first.height): give a size to resize them all (nn: --image-size HxW)")
            }
            if first == nil { first = (header.width, header.height) }
        }
        let channels = knownChannels ?? (colour ? 3 : 1)
        let height = size?.height ?? first!.height, width = size?.width ?? first!.width
        let shape = channels == 3 ? [height, width, 3] : [height, width]
        let inputs = ImageFiles(files: files, sampleShape: shape)
        return (try Dataset(inputs: inputs, labels: labels, classCount: names.count, classNames: names,
                            inputsName: directory, labelsName: directory), shape)
    }

    /// A PNG's size and whether it stores colour, from its IHDR chunk (the first 33 bytes): the
    /// pixels are checked when a batch decodes them.
    private static func pngHeader(_ path: String) throws -> (width: Int, height: Int, colour: Bool) {
        if let problem = InputFile.problem(path) { throw ImageError(file: path, "cannot read the file (\(problem))") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageError(file: path, "cannot open the file") }
        defer { try? handle.close() }
        let bytes = [UInt8]((try? handle.read(upToCount: 33)) ?? Data())
        guard PNGImage.isPNG(bytes) else { throw ImageError(file: path, "not a PNG image") }
        guard bytes.count == 33, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw ImageError(file: path, "corrupt PNG (no image header)")
        }
        func number(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let (width, height) = (number(16), number(20))
        guard width > 0, height > 0, width * height <= NetpbmImage.pixelLimit else {
            throw ImageError(file: path, "\(width)×\(height) pixels: outside 1 pixel to the limit of \(NetpbmImage.pixelLimit)")
        }
        return (width, height, bytes[25] & 2 != 0)
    }
}

/// PNG files decoded as batches draw them, resized to the sample shape.
public struct ImageFiles: SampleSource {
    public let files: [String]
    public let sampleShape: [Int]
    public var count: Int { files.count }
    public func origin(of index: Int) -> String { files[index] }

    /// PNG `files` read as samples of `sampleShape`: `[height, width]` (grey) or `[height, width, 3]`.
    public init(files: [String], sampleShape: [Int]) {
        precondition(sampleShape.count == 2 || (sampleShape.count == 3 && sampleShape[2] == 3), "images are [H, W] or [H, W, 3]")
        (self.files, self.sampleShape) = (files, sampleShape)
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let (height, width) = (sampleShape[0], sampleShape[1])
        let channels = sampleShape.count == 3 ? sampleShape[2] : 1
        for (slot, index) in indices.enumerated() {
            let file = files[index]
            let bytes = [UInt8](try InputFile.read(file) { ImageError(file: file, "cannot read the file (\($0))") })
            let image = try PNGImage.decode(bytes, file: file, channels: channels)
            let pixels = GreyImage.resample(image.pixels, width: image.width, height: image.height, channels: channels,
                                            toWidth: width, height: height)
            pixels.withUnsafeBufferPointer {
                (destination.baseAddress! + slot * sampleSize).update(from: $0.baseAddress!, count: sampleSize)
            }
        }
    }
}
