import Foundation
import NeuralNetworks

/// Checks, before training starts, that every file a run will write can be written, so that no
/// run ends with its work unsaved, and that a run does not replace another run's checkpoints.
enum OutputPaths {
    /// A file to be written at `path` (by atomic rename): not a directory, in a writable directory.
    static func checkFile(_ path: String, flag: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandError("\(flag) \(path) is a directory; name a file")
        }
        let directory = (absolutePath(path) as NSString).deletingLastPathComponent
        try checkWritableDirectory(directory, flag: flag, naming: path)
    }

    /// `directory` exists (or can be made) and a file can be created in it.
    static func checkWritableDirectory(_ directory: String, flag: String, naming: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandError("\(flag) \(naming): \(directory) is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CommandError("\(flag) \(naming): cannot create the directory \(directory) (\(reason(errno)))")
            }
        }
        // access(2) says yes to root on a read-only file system: create a file to know.
        let probe = (directory as NSString).appendingPathComponent(".nn-write-check-\(getpid())")
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw CommandError("\(flag) \(naming): cannot write in \(directory) (\(reason(errno)))")
        }
        close(descriptor)
        unlink(probe)
    }

    /// A checkpoint directory: writable, and not holding another run's checkpoint unless this run
    /// resumes from it or `overwrite` says so.
    static func checkCheckpointDirectory(_ directory: String, resuming: String?, overwrite: Bool) throws {
        try checkWritableDirectory(directory, flag: "--checkpoint", naming: directory)
        let last = (directory as NSString).appendingPathComponent("last.safetensors")
        let resumesHere = resuming.map { absolutePath($0) == absolutePath(directory) } ?? false
        guard !overwrite, !resumesHere, FileManager.default.fileExists(atPath: last) else { return }
        let epoch = (try? Checkpoint(path: last)).map { " (\($0.state.epoch) epochs)" } ?? ""
        throw CommandError("--checkpoint \(directory) holds another run's checkpoint\(epoch): continue it with "
                           + "--resume \(directory), choose another directory, or pass --overwrite to replace it")
    }

    static func reason(_ code: Int32) -> String { WriteError(file: "", code: code).reason }

    /// Writes `model` to `path`; if that fails, to a file of its own in the temporary directory,
    /// and says where, so that a trained model is never lost to a full disk or a vanished folder.
    static func save(_ model: Sequential, to path: String) throws {
        do {
            try model.save(to: path)
        } catch {
            let rescue = (NSTemporaryDirectory() as NSString).appendingPathComponent("nn-model-\(getpid()).safetensors")
            do {
                try model.save(to: rescue)
            } catch {
                throw CommandError("could not write the model to \(path) or \(rescue): \(error)")
            }
            throw CommandError("could not write the model to \(path) (\(error)); it was saved to \(rescue) instead")
        }
    }
}
