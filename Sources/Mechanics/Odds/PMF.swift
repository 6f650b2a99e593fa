#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A working probability mass function: probabilities of the values `offset + stride * i`, plus
/// the mass that truncation left out. The stride keeps sparse outcomes (`1d2*100000000`, two
/// values far apart) as small as dense ones. The odds engine's values are PMFs until the end.
struct PMF: Hashable, Sendable {
    var offset: Int64
    var stride: UInt64 = 1
    var p: [Double]
    var truncated: Double = 0

    init(offset: Int64, stride: UInt64 = 1, p: [Double], truncated: Double = 0) {
        self.offset = offset
        self.stride = max(stride, 1)
        self.p = p
        self.truncated = truncated
    }

    static func point(_ value: Int64) -> PMF { PMF(offset: value, p: [1]) }
    static func empty(truncated: Double) -> PMF { PMF(offset: 0, p: [], truncated: truncated) }

    var count: Int { p.count }
    var isEmpty: Bool { p.isEmpty }

    /// The value at `index`; it is a value the distribution was built from, so it fits.
    @inline(__always)
    func value(_ index: Int) -> Int64 {
        Int64(bitPattern: UInt64(bitPattern: offset) &+ stride &* UInt64(index))
    }

    var maximum: Int64 { p.isEmpty ? offset : value(p.count - 1) }

    /// The index of `value`, if it lies on the grid.
    func index(of value: Int64) -> Int? {
        guard !p.isEmpty, value >= offset else { return nil }
        let distance = UInt64(bitPattern: value) &- UInt64(bitPattern: offset)
        guard distance % stride == 0 else { return nil }
        let index = distance / stride
        return index < UInt64(p.count) ? Int(index) : nil
    }

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
            offset = value(first)
            p = Array(p[first...last])
        }
        if p.count == 1 { stride = 1 }
    }

    /// The total represented mass.
    var mass: Double { p.reduce(0, +) }

    func probability(of value: Int64) -> Double {
        index(of: value).map { p[$0] } ?? 0
    }

    /// Entries with a probability above zero, ascending.
    var nonZero: [(value: Int64, probability: Double)] {
        p.indices.compactMap { p[$0] > 0 ? (value($0), p[$0]) : nil }
    }

    /// The public form; rounding can carry a probability a hair above 1, which is clamped.
    var distribution: Distribution {
        Distribution(offset: offset, stride: stride, probabilities: p.map { min($0, 1) }, truncated: truncated)
    }

    /// Combined truncation of independent parts: 1 - (1-a)(1-b).
    static func combine(_ a: Double, _ b: Double) -> Double { a + b - a * b }

    /// Truncation of `n` independent parts each truncated by `t`: 1 - (1-t)^n, accurate for tiny t.
    static func repeated(_ t: Double, _ n: Int) -> Double {
        guard t > 0, n > 0 else { return 0 }
        return -expm1(Double(n) * log1p(-t))
    }

    /// Greatest common divisor.
    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
