import Foundation

/// Reading a file a user named, with one clear reason when it cannot be read: a directory, a
/// named pipe or a device (which would hang or crash a plain read), a missing file, no permission.
public enum InputFile {
    /// Why `path` cannot be read as a regular file, or nil when it can.
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case ENOENT: return "no such file"
            case EACCES: return "permission denied"
            case ENOTDIR: return "a part of the path is not a directory"
            default: return String(cString: strerror(errno))
            }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return "is a directory, not a file"
        case S_IFIFO: return "is a named pipe, not a regular file"
        case S_IFCHR, S_IFBLK: return "is a device, not a regular file"
        case S_IFSOCK: return "is a socket, not a regular file"
        default: return "is not a regular file"
        }
        guard access(path, R_OK) == 0 else { return "permission denied" }
        return nil
    }

    /// The bytes of `path`, or `failure(reason)` thrown.
    public static func read(_ path: String, failure: (String) -> Error) throws -> Data {
        if let problem = problem(path) { throw failure(problem) }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw failure(String(cString: strerror((error as NSError).userInfo[NSUnderlyingErrorKey]
                .flatMap { ($0 as? NSError)?.code }.map(Int32.init) ?? EIO)))
        }
    }
}
