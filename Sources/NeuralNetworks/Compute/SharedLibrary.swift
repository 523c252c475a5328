import Foundation

/// A shared library opened at run time with `dlopen`, for the engines that are used when asked
/// for and never linked (Open MPI, the CUDA driver, NVRTC, cuBLAS): building needs none of them,
/// and a run that does not use one never loads it.
struct SharedLibrary {
    /// The name (or path) that loaded.
    let name: String
    private let handle: UnsafeMutableRawPointer
    private let missingSymbol: (_ library: String, _ symbol: String) -> Error

    /// The first of `names` that loads (`RTLD_NOW`; `global`: `RTLD_GLOBAL` too, for libraries
    /// whose own plugins resolve symbols against them); nil when none does. A symbol it lacks is
    /// the error `missingSymbol` makes.
    init?(firstOf names: [String], global: Bool = false,
          missingSymbol: @escaping (_ library: String, _ symbol: String) -> Error) {
        let flags = RTLD_NOW | (global ? RTLD_GLOBAL : 0)
        guard let (name, handle) = names.lazy.compactMap({ name in dlopen(name, flags).map { (name, $0) } }).first else {
            return nil
        }
        (self.name, self.handle, self.missingSymbol) = (name, handle, missingSymbol)
    }

    /// The address of `symbol` (a function, or a global such as Open MPI's predefined handles).
    func address(_ symbol: String) throws -> UnsafeMutableRawPointer {
        guard let address = dlsym(handle, symbol) else { throw missingSymbol(name, symbol) }
        return address
    }

    /// The C function `symbol`, as the `@convention(c)` type the caller declares.
    func function<F>(_ symbol: String) throws -> F { unsafeBitCast(try address(symbol), to: F.self) }
}
