import ContentPacks
import Mechanics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The calling thread's last error message, in thread-local storage that the C side reads with
/// rfl_errmsg().
enum ErrorState {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in free(pointer) }
        return key
    }()

    nonisolated(unsafe) static let empty: UnsafePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    static func set(_ error: EngineError) {
        let message = error.description
        let copy = message.withCString { strdup($0) }
        let old = pthread_getspecific(key)
        pthread_setspecific(key, copy.map { UnsafeRawPointer($0) })
        free(old)
    }

    static var message: UnsafePointer<CChar> {
        guard let pointer = pthread_getspecific(key) else { return empty }
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }
}

/// Runs `body` and turns its outcome into a status: every engine error, pack error or misuse
/// becomes a code and a message, and nothing is thrown across the boundary.
@inline(__always)
func guarded(_ body: () throws(EngineError) -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch {
        ErrorState.set(error)
        return error.code.rawValue
    }
}

/// A C string argument as Swift text; NULL or invalid UTF-8 is a misuse.
@inline(__always)
func text(_ pointer: UnsafePointer<CChar>?, _ argument: String) throws(EngineError) -> String {
    guard let pointer else { throw EngineError(.misuse, "\(argument) is NULL") }
    guard let string = String(validatingCString: pointer) else { throw EngineError(.misuse, "\(argument) is not valid UTF-8") }
    return string
}

/// An out-parameter, checked for NULL.
@inline(__always)
func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ argument: String) throws(EngineError) -> UnsafeMutablePointer<T> {
    guard let pointer else { throw EngineError(.misuse, "\(argument) is NULL") }
    return pointer
}

/// Hands a string to C: a copy the caller frees with rfl_free().
func handOut(_ string: String, to pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws(EngineError) {
    guard let copy = string.withCString({ strdup($0) }) else { throw EngineError(.noMemory, "out of memory for a string of \(string.utf8.count) bytes") }
    pointer.pointee = copy
}
