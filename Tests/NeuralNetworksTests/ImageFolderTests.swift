import CZlib
import Foundation
import Testing
@testable import NeuralNetworks

/// Folders of PNGs with one subfolder per class (Keras' image_dataset_from_directory layout).
struct ImageFolderTests {
    /// A minimal 8-bit PNG (grey, or RGB when `rgb`), written with zlib as any encoder would.
    static func png(width: Int, height: Int, rgb: Bool = false, value: (Int, Int, Int) -> UInt8) -> [UInt8] {
        let channels = rgb ? 3 : 1
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)
            for x in 0..<width { for c in 0..<channels { raw.append(value(y, x, c)) } }
        }
        func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(data.count) + body + be(Int(body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }))
        }
        let header = be(width) + be(height) + [8, rgb ? 2 : 0, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + chunk("IDAT", deflated(raw)) + chunk("IEND", [])
    }

    static func deflated(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        _ = compress(&out, &size, bytes, uLong(bytes.count))
        return Array(out.prefix(Int(size)))
    }

    /// `root/<split>/<class>/<n>.png` for each (split, class, count).
    static func folder(_ layout: [(String, String, Int)], width: Int = 4, height: Int = 3, rgb: Bool = false) throws -> URL {
        let root = try IDXBytes.temporaryDirectory()
        for (split, name, count) in layout {
            let directory = root.appendingPathComponent(split).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for n in 0..<count {
                let bytes = png(width: width, height: height, rgb: rgb) { y, x, c in UInt8((y * 16 + x * 4 + c + n) % 256) }
                try Data(bytes).write(to: directory.appendingPathComponent("\(n).png"))
            }
        }
        return root
    }

    @Test func classFoldersBecomeNamedClassesAndTestUsesTheSameNames() throws {
        let root = try Self.folder([("train", "cat", 2), ("train", "dog", 3), ("test", "dog", 1)])
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try ImageFolder.load(directory: root.path)
        #expect(folder.train.count == 5 && folder.train.sampleShape == [3, 4])
        #expect(folder.train.classNames == ["cat", "dog"] && folder.train.labels == [0, 0, 1, 1, 1])
        let test = try #require(folder.test)
        #expect(test.labels == [1] && test.classCount == 2)
        let first = try folder.train.inputs.tensor([0]).scalars
        #expect(first[0] == 0 && first[5] == Float(16 + 4) / 255)  // row 1, column 1
    }

    @Test func colourImagesAreHeightWidthThreeAndResizedOnRequest() throws {
        let root = try Self.folder([("train", "red", 1), ("train", "blue", 1)], width: 4, height: 2, rgb: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try ImageFolder.load(directory: root.path)
        #expect(folder.train.sampleShape == [2, 4, 3])
        #expect(try folder.train.inputs.tensor([0]).scalars[0..<3] == [0, 1 / 255, 2 / 255])
        let resized = try ImageFolder.load(directory: root.path, size: (4, 8))
        #expect(resized.train.sampleShape == [4, 8, 3])
        #expect(try resized.train.inputs.tensor([1]).count == 96)
    }

    @Test func imagesOfAnotherSizeAreAnErrorNamingTheFile() throws {
        let root = try Self.folder([("train", "a", 1)])
        defer { try? FileManager.default.removeItem(at: root) }
        let odd = root.appendingPathComponent("train/b/odd.png")
        try FileManager.default.createDirectory(at: odd.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(Self.png(width: 5, height: 3) { _, _, _ in 0 }).write(to: odd)
        #expect { try ImageFolder.load(directory: root.path) } throws: { error in
            "\(error)".contains("odd.png: is 5×3, the first image") && "\(error)".contains("--image-size")
        }
        #expect(try ImageFolder.load(directory: root.path, size: (3, 4)).train.count == 2)
    }

    @Test func aCorruptImageIsNamedWhenItsBatchIsRead() throws {
        let root = try Self.folder([("train", "a", 2)])
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("train/a/1.png")
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes.removeLast(20)
        try Data(bytes).write(to: file)
        let folder = try ImageFolder.load(directory: root.path)
        #expect(throws: ImageError.self) { try folder.train.batch([1]) }
        #expect(try folder.train.batch([0]).inputs.count == 12)
    }

    @Test func noClassFoldersIsAClearError() throws {
        let root = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ImageFolder.load(directory: root.path) } throws: { "\($0)".contains("no class folders") }
    }
}
