import Foundation

/// Writes files so that a reader (or a crash) never sees a half-written one: the data goes to a
/// temporary file in the same directory, is flushed to disk, then renamed over the target.
public enum AtomicFile {
    static let temporarySuffix = ".partial-write"

    /// Removes temporary files that a killed writer left in `directory` (a process killed
    /// mid-write leaves its `.NAME.UUID.partial-write`; the file it was replacing is intact).
    public static func removeStaleTemporaries(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(temporarySuffix) {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    /// Writes `data` to `path` through a temporary file in the same directory, flushed, then
    /// renamed. A failure is one ``WriteError`` naming `path` (never the temporary file) and the
    /// reason, and leaves the previous file as it was.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { append in try data.withUnsafeBytes { try append($0) } }
    }

    /// As ``write(_:to:)``, for a file made in parts: `produce` calls `append` with each part in
    /// order, so that a file larger than memory can be written. An error `produce` throws (its
    /// own, or `append`'s ``WriteError``) leaves the previous file as it was.
    public static func write(to path: String,
                             _ produce: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        func fail(_ code: Int32) -> WriteError { WriteError(file: path, code: code) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw fail(EISDIR)
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw fail(FileManager.default.fileExists(atPath: directory.path) ? ENOTDIR : EACCES)
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)\(temporarySuffix)").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail(errno) }
        var failure: Int32?
        do {
            try produce { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw fail(errno)
                    }
                    offset += written
                }
            }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        if fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0, failure == nil { failure = errno }
        if failure == nil, rename(temporary, path) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw fail(failure)
        }
    }
}

/// A file that could not be written: the file the user asked for and why, in one line.
public struct WriteError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let code: Int32

    public init(file: String, code: Int32) {
        self.file = file
        self.code = code
    }

    public var reason: String {
        switch code {
        case ENOSPC, EDQUOT: return "no space left on the device"
        case EFBIG: return "the file is larger than allowed (file size limit)"
        case EROFS: return "read-only file system"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "it is a directory"
        case ENOTDIR: return "a part of the path is not a directory"
        case ENOENT: return "no such directory"
        default: return String(cString: strerror(code))
        }
    }

    public var description: String { "cannot write \(file): \(reason)" }
}
