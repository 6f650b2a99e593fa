#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A working probability mass function: dense probabilities from `offset`, plus the mass that
/// truncation left out. The odds engine's values are PMFs until the end.
struct PMF: Hashable, Sendable {
    var offset: Int64
    var p: [Double]
    var truncated: Double = 0

    static func point(_ value: Int64) -> PMF { PMF(offset: value, p: [1]) }

    var count: Int { p.count }
    var maximum: Int64 { offset + Int64(p.count - 1) }
    var isEmpty: Bool { p.isEmpty }

    /// Drops zero entries at both ends.
    mutating func trim() {
        var first = 0
        var last = p.count - 1
        while first <= last && p[first] == 0 { first += 1 }
        while last >= first && p[last] == 0 { last -= 1 }
        if first > last {
            p = []
            return
        }
        if first > 0 || last < p.count - 1 {
            p = Array(p[first...last])
            offset += Int64(first)
        }
    }

    /// The total represented mass.
    var mass: Double { p.reduce(0, +) }

    func probability(of value: Int64) -> Double {
        guard value >= offset, value <= maximum, !p.isEmpty else { return 0 }
        return p[Int(value - offset)]
    }

    /// Entries with a probability above zero.
    var nonZero: [(value: Int64, probability: Double)] {
        p.indices.compactMap { p[$0] > 0 ? (offset + Int64($0), p[$0]) : nil }
    }

    /// The public form; rounding can carry a probability a hair above 1, which is clamped.
    var distribution: Distribution { Distribution(offset: offset, probabilities: p.map { min($0, 1) }, truncated: truncated) }

    /// Combined truncation of independent parts: 1 - (1-a)(1-b).
    static func combine(_ a: Double, _ b: Double) -> Double { a + b - a * b }

    /// Truncation of `n` independent parts each truncated by `t`: 1 - (1-t)^n, accurate for tiny t.
    static func repeated(_ t: Double, _ n: Int) -> Double {
        guard t > 0, n > 0 else { return 0 }
        return -expm1(Double(n) * log1p(-t))
    }
}
