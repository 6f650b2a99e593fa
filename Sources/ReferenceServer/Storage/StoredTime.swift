import Foundation

/// The stored form of every time, on every engine: milliseconds since 1970 in a 64-bit integer.
package enum StoredTime {
    /// Milliseconds since 1970 (rounded down unless `rule` says otherwise). Total: a time beyond
    /// what 64 bits of milliseconds hold (about 292 million years either way) is stored as the
    /// nearest of those bounds, and a NaN time as 1970, where `Int64(_:)` would trap.
    static func ms(_ date: Date) -> Int64 { ms(date, rounding: .down) }
    static func ms(_ date: Date, rounding rule: FloatingPointRoundingRule) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(rule)
        if value.isNaN { return 0 }
        if value >= 0x1p63 { return .max }
        if value <= -0x1p63 { return .min }
        return Int64(value)
    }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
    static func date(_ ms: Int64?) -> Date? { ms.map(date) }
}
