import Mechanics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The library's version string, kept for the process's life.
nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = {
    let string = EngineVersion.string
    return UnsafePointer(string.withCString { strdup($0) } ?? UnsafeMutablePointer(mutating: ErrorState.empty))
}()

/// The ABI version; it changes only on an incompatible change, with the SONAME.
let abiVersion: Int32 = 1

@_cdecl("rfl_version")
public func rfl_version() -> UnsafePointer<CChar> { versionString }

@_cdecl("rfl_abi_version")
public func rfl_abi_version() -> Int32 { abiVersion }

@_cdecl("rfl_errmsg")
public func rfl_errmsg() -> UnsafePointer<CChar> { ErrorState.message }

nonisolated(unsafe) private let statusNames: [UnsafePointer<CChar>] = [
    "RFL_OK", "RFL_ERROR", "RFL_MISUSE", "RFL_SYNTAX", "RFL_INVALID", "RFL_NOTFOUND", "RFL_LIMIT", "RFL_IO", "RFL_NOMEM", "RFL_UNKNOWN",
].map { name in UnsafePointer(name.withCString { strdup($0) } ?? UnsafeMutablePointer(mutating: ErrorState.empty)) }

@_cdecl("rfl_status_name")
public func rfl_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    statusNames[status >= 0 && status < 9 ? Int(status) : 9]
}

@_cdecl("rfl_free")
public func rfl_free(_ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}

/// The C struct rfl_limits, field for field.
public struct CLimits {
    var version: UInt32
    var maxExpressionLength: Int64
    var maxNesting: Int64
    var maxDice: Int64
    var maxSides: Int64
    var maxExplosions: Int64
    var maxRerolls: Int64
    var maxGroupSize: Int64
    var maxOddsWork: Int64
    var maxOddsSupport: Int64
}

let limitsVersion: UInt32 = 1

@_cdecl("rfl_limits_default")
public func rfl_limits_default(_ out: UnsafeMutableRawPointer?) -> Int32 {
    guarded { () throws(EngineError) in
        guard let out else { throw EngineError(.misuse, "out is NULL") }
        let d = Limits.default
        out.storeBytes(of: CLimits(version: limitsVersion, maxExpressionLength: Int64(d.maxExpressionLength), maxNesting: Int64(d.maxNesting),
                                   maxDice: Int64(d.maxDice), maxSides: Int64(d.maxSides), maxExplosions: Int64(d.maxExplosions),
                                   maxRerolls: Int64(d.maxRerolls), maxGroupSize: Int64(d.maxGroupSize), maxOddsWork: Int64(d.maxOddsWork),
                                   maxOddsSupport: Int64(d.maxOddsSupport)), as: CLimits.self)
    }
}

/// Engine limits from the C struct; a wrong version or a value out of range is a misuse.
func limits(from pointer: UnsafeRawPointer?) throws(EngineError) -> Limits {
    guard let pointer else { return .default }
    let c = pointer.loadUnaligned(as: CLimits.self)
    guard c.version == limitsVersion else {
        throw EngineError(.misuse, "limits->version is \(c.version); this library knows version \(limitsVersion) (use rfl_limits_default)")
    }
    func field(_ value: Int64, _ name: String) throws(EngineError) -> Int {
        guard value >= 0, value <= Int64(Int32.max) * 1024 else { throw EngineError(.misuse, "limits->\(name) is \(value), out of range") }
        return Int(value)
    }
    return Limits(
        maxExpressionLength: try field(c.maxExpressionLength, "max_expression_length"), maxNesting: try field(c.maxNesting, "max_nesting"),
        maxDice: try field(c.maxDice, "max_dice"), maxSides: try field(c.maxSides, "max_sides"),
        maxExplosions: try field(c.maxExplosions, "max_explosions"), maxRerolls: try field(c.maxRerolls, "max_rerolls"),
        maxGroupSize: try field(c.maxGroupSize, "max_group_size"), maxOddsWork: try field(c.maxOddsWork, "max_odds_work"),
        maxOddsSupport: try field(c.maxOddsSupport, "max_odds_support"))
}
