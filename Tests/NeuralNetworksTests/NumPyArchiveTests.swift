import Foundation
import Testing
@testable import NeuralNetworks

/// `.npz` archives as np.savez (stored) and np.savez_compressed (deflated) write them.
struct NumPyArchiveTests {
    struct Expected: Decodable { let shape: [Int]; let values: [Float] }
    static let directory = Fixtures.directory.appendingPathComponent("data")

    static func expected() throws -> [String: Expected] {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        let arrays = try JSONSerialization.data(withJSONObject: (all as! [String: Any])["arrays.npz"]!)
        return try JSONDecoder().decode([String: Expected].self, from: arrays)
    }

    @Test(arguments: ["arrays.npz", "arrays_compressed.npz"])
    func storedAndDeflatedArchivesHoldTheSavedArrays(name: String) throws {
        let archive = try NumPyArchive(path: Self.directory.appendingPathComponent(name).path)
        #expect(Set(archive.names) == ["x_train", "y_train", "x_test", "y_test"])
        for (array, expected) in try Self.expected() {
            let read = try archive.array(array)
            #expect(read.shape == expected.shape, "\(array)")
            #expect(try read.tensor(Array(0..<read.count)).scalars == expected.values, "\(array)")
        }
    }

    @Test func aMissingArrayNamesTheOnesThereAre() throws {
        let archive = try NumPyArchive(path: Self.directory.appendingPathComponent("arrays.npz").path)
        #expect { try archive.array("images") } throws: { error in
            "\(error)".contains("no array named 'images' (the archive holds x_train, y_train, x_test, y_test)")
                || "\(error)".contains("no array named 'images'")
        }
    }

    @Test func truncatedAndDamagedArchivesAreErrorsNamingTheFile() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent("arrays_compressed.npz")))
        func problem(_ bytes: [UInt8]) -> String {
            do {
                let archive = try NumPyArchive(store: ByteStore(bytes), file: "bad.npz")
                for name in archive.names { _ = try archive.array(name) }
                return "read"
            } catch { return "\(error)" }
        }
        #expect(problem(Array(bytes.prefix(200))).hasPrefix("bad.npz: not a zip (.npz) archive"))
        #expect(problem([UInt8](repeating: 0, count: 10)).hasPrefix("bad.npz: not a zip (.npz) archive: too short"))
        // The deflated data damaged in the middle of the first member.
        var damaged = bytes
        for k in 60..<90 { damaged[k] ^= 0x5A }
        #expect(problem(damaged).hasPrefix("bad.npz["))
        // The end record pointing the directory past the end of the file.
        var pointing = bytes
        let end = bytes.count - 22
        pointing[end + 16] = 0xFF
        pointing[end + 17] = 0xFF
        pointing[end + 18] = 0xFF
        #expect(problem(pointing).contains("the zip directory lies outside the file"))
    }
}
