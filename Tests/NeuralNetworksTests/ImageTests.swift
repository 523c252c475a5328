import Foundation
import Testing
@testable import NeuralNetworks

struct ImageTests {
    @Test func binaryPGMIsRead() throws {
        let image = try NetpbmImage.decode(Array("P5\n# comment\n2 2\n255\n".utf8) + [0, 255, 51, 102], file: "a.pgm")
        #expect(image.width == 2 && image.height == 2)
        #expect(image.pixels == [0, 1, 0.2, 0.4])
    }

    @Test func colourPPMBecomesGreyByLuminance() throws {
        let image = try NetpbmImage.decode(Array("P3 1 1 255 255 0 0".utf8), file: "a.ppm")
        #expect(abs(image.pixels[0] - 0.299) < 1e-6)
    }

    @Test func truncatedOrForeignImagesAreRejected() {
        #expect(throws: ImageError.self) { try NetpbmImage.decode(Array("P5 4 4 255\n".utf8) + [1, 2], file: "a.pgm") }
        #expect(throws: ImageError.self) { try NetpbmImage.decode(Array("GIF89a".utf8), file: "a.gif") }
        #expect(throws: ImageError.self) { try NetpbmImage.decode(Array("P5 99999999 99999999 255\n".utf8), file: "a.pgm") }
    }

    @Test func resizingKeepsAConstantImageConstant() {
        let image = GreyImage(width: 3, height: 5, pixels: [Float](repeating: 0.5, count: 15)).resized(width: 28, height: 28)
        #expect(image.pixels.count == 784)
        #expect(image.pixels.allSatisfy { abs($0 - 0.5) < 1e-6 })
    }

    @Test func halvingAveragesNeighbours() {
        let image = GreyImage(width: 2, height: 1, pixels: [0, 1]).resized(width: 1, height: 1)
        #expect(image.pixels == [0.5])
    }
}

struct PNGImageTests {
    @Test func greyPNGIsReadExactly() throws {
        let image = try PNGImage.read(path: Fixtures.directory.appendingPathComponent("grey_4x3.png").path)
        #expect(image.width == 4 && image.height == 3)
        let expected: [Float] = [0, 85, 170, 255, 10, 20, 30, 40, 255, 255, 0, 0].map { $0 / 255 }
        for (a, e) in zip(image.pixels, expected) { #expect(abs(a - e) < 1e-5) }
    }

    @Test func colourPNGBecomesGreyAndAlphaCompositesOverBlack() throws {
        let image = try PNGImage.read(path: Fixtures.directory.appendingPathComponent("rgba_2x1.png").path)
        #expect(abs(image.pixels[0] - 0.299) < 1e-5)
        #expect(abs(image.pixels[1] - 128 / 255) < 1e-5)
    }

    @Test func corruptPNGIsAnError() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.directory.appendingPathComponent("grey_4x3.png")))
        bytes = Array(bytes.prefix(30))
        #expect(throws: ImageError.self) { try PNGImage.decode(bytes, file: "cut.png") }
        #expect(throws: ImageError.self) { try PNGImage.decode([1, 2, 3], file: "x.png") }
    }
}
