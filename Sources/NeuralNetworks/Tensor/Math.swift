#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Scalar libm calls for the few places outside hot loops that need them.
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _logFloat(_ x: Float) -> Float { logf(x) }
@inline(__always) func _sin(_ x: Double) -> Double { sin(x) }
