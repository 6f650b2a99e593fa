#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Computes exact distributions of expressions: convolution for sums, order statistics for
/// keep/drop, chains to a depth for explosions. Every step first asks the budget for the work it
/// is about to do, so an expression too large to analyse fails fast with a `.limit` error.
struct OddsEngine {
    let limits: Limits
    let stats: [Int64]
    private(set) var work = 0

    init(limits: Limits, stats: [Int64]) {
        self.limits = limits
        self.stats = stats
    }

    /// The smallest truncated tail an explosion chain is followed to (per die).
    static let explosionTail = 1e-18

    mutating func spend(_ amount: Int, _ what: @autoclosure () -> String) throws(EngineError) {
        let (total, overflowed) = work.addingReportingOverflow(max(amount, 0))
        guard !overflowed, total <= limits.maxOddsWork else {
            throw EngineError(.limit, "the odds of \(what()) need more work than the limit maxOddsWork, \(limits.maxOddsWork)")
        }
        work = total
    }

    /// Refuses, without spending, work that an estimate says would go beyond the limit.
    func require(_ estimate: (partialValue: Int, overflow: Bool), _ what: @autoclosure () -> String) throws(EngineError) {
        let (total, overflowed) = work.addingReportingOverflow(max(estimate.partialValue, 0))
        guard !estimate.overflow, !overflowed, total <= limits.maxOddsWork else {
            throw EngineError(.limit, "the odds of \(what()) need more work than the limit maxOddsWork, \(limits.maxOddsWork)")
        }
    }

    func checkSupport(_ span: UInt64, _ what: @autoclosure () -> String) throws(EngineError) {
        guard span <= UInt64(max(limits.maxOddsSupport, 0)) else {
            throw EngineError(.limit, "the odds of \(what()) span more values than the limit maxOddsSupport, \(limits.maxOddsSupport)")
        }
    }

    // MARK: - Expressions

    mutating func pmf(_ syntax: Syntax) throws(EngineError) -> PMF {
        switch syntax {
        case .number(let value):
            return .point(value)
        case .stat(_, let slot, _):
            return .point(stats[slot])
        case .dice(let term):
            return try dicePMF(term)
        case .negate(let inner, let column):
            return try negate(try pmf(inner), column: column)
        case .binary(let op, let left, let right, let column):
            let a = try pmf(left)
            let b = try pmf(right)
            switch op {
            case .add:
                return try convolve(a, b, column: column)
            case .subtract:
                return try convolve(a, try negate(b, column: column), column: column)
            case .multiply:
                return try combine(a, b, column: column) { x, y throws(EngineError) in
                    let (r, o) = x.multipliedReportingOverflow(by: y)
                    guard !o else { throw Evaluator.overflow(column) }
                    return r
                }
            case .divide(let rounding):
                if b.probability(of: 0) > 0 {
                    throw EngineError(.invalid, "division by zero is possible here, so the odds are undefined", at: TextLocation(column: column))
                }
                return try combine(a, b, column: column) { x, y throws(EngineError) in
                    try Evaluator.divide(x, y, rounding: rounding, column: column)
                }
            }
        case .abs(let inner, let column):
            let a = try pmf(inner)
            guard a.offset != Int64.min else { throw Evaluator.overflow(column) }
            if a.offset >= 0 { return a }
            return try map(a) { Swift.abs($0) }
        case .extremum(let isMax, let arguments):
            var parts: [PMF] = []
            var values = 0
            for argument in arguments {
                let part = try pmf(argument)
                // What the extremum will cost is known to grow with every part: refuse as soon as
                // it is out of reach, before holding the remaining parts in memory.
                values += part.count
                try require(values.multipliedReportingOverflow(by: arguments.count + 20), isMax ? "max(…)" : "min(…)")
                parts.append(part)
            }
            return try extremum(parts, isMax: isMax)
        case .group(let group):
            return try groupPMF(group)
        }
    }

    // MARK: - Building blocks

    /// A distribution from (value, probability) entries, summing repeated values, on the widest
    /// grid that holds them all (the greatest common divisor of their distances).
    mutating func fromEntries(_ entries: [(Int64, Double)], truncated: Double, _ what: @autoclosure () -> String) throws(EngineError) -> PMF {
        var low = Int64.max
        var high = Int64.min
        for (value, probability) in entries where probability > 0 {
            low = min(low, value)
            high = max(high, value)
        }
        guard low <= high else { return .empty(truncated: truncated) }
        var stride: UInt64 = 0
        for (value, probability) in entries where probability > 0 {
            stride = PMF.gcd(stride, UInt64(bitPattern: value) &- UInt64(bitPattern: low))
        }
        stride = max(stride, 1)
        let span = (UInt64(bitPattern: high) &- UInt64(bitPattern: low)) / stride
        try checkSupport(span, what())
        try spend(Int(span) + entries.count, what())
        var p = [Double](repeating: 0, count: Int(span) + 1)
        for (value, probability) in entries where probability > 0 {
            p[Int((UInt64(bitPattern: value) &- UInt64(bitPattern: low)) / stride)] += probability
        }
        return PMF(offset: low, stride: stride, p: p, truncated: truncated)
    }

    /// The same distribution on a finer grid (`stride` divides the current one).
    mutating func regrid(_ a: PMF, to stride: UInt64, _ what: @autoclosure () -> String) throws(EngineError) -> PMF {
        guard a.stride != stride, a.count > 1 else { return PMF(offset: a.offset, stride: stride, p: a.p, truncated: a.truncated) }
        let factor = a.stride / stride
        let span = UInt64(a.count - 1).multipliedReportingOverflow(by: factor)
        guard !span.overflow else { throw EngineError(.limit, "the odds of \(what()) span more values than the limit maxOddsSupport, \(limits.maxOddsSupport)") }
        try checkSupport(span.partialValue, what())
        try spend(Int(span.partialValue) + 1, what())
        var p = [Double](repeating: 0, count: Int(span.partialValue) + 1)
        for (index, probability) in a.p.enumerated() { p[index * Int(factor)] = probability }
        return PMF(offset: a.offset, stride: stride, p: p, truncated: a.truncated)
    }

    func negate(_ a: PMF, column: Int) throws(EngineError) -> PMF {
        guard !a.isEmpty else { return a }
        guard a.maximum != Int64.min else { throw Evaluator.overflow(column) }
        return PMF(offset: -a.maximum, stride: a.stride, p: a.p.reversed(), truncated: a.truncated)
    }

    /// The distribution of the sum of two independent values: direct convolution, in which every
    /// term is non-negative, so each probability keeps a small relative error.
    mutating func convolve(_ a: PMF, _ b: PMF, column: Int = 0) throws(EngineError) -> PMF {
        let truncated = PMF.combine(a.truncated, b.truncated)
        if a.isEmpty || b.isEmpty { return .empty(truncated: truncated) }
        let (offset, overflowed) = a.offset.addingReportingOverflow(b.offset)
        let (_, overflowed2) = a.maximum.addingReportingOverflow(b.maximum)
        guard !overflowed, !overflowed2 else { throw Evaluator.overflow(column) }
        // Both on one grid: the common divisor of their strides.
        let stride = a.count == 1 ? b.stride : (b.count == 1 ? a.stride : PMF.gcd(a.stride, b.stride))
        let x = try regrid(a, to: stride, "a sum")
        let y = try regrid(b, to: stride, "a sum")
        try checkSupport(UInt64(x.count + y.count - 2), "a sum")
        try spend(x.count * y.count, "a sum of \(x.count) by \(y.count) values")
        var result = [Double](repeating: 0, count: x.count + y.count - 1)
        // Put the longer array in the inner loop.
        let (outer, inner) = x.count <= y.count ? (x.p, y.p) : (y.p, x.p)
        result.withUnsafeMutableBufferPointer { r in
            inner.withUnsafeBufferPointer { row in
                guard let start = r.baseAddress else { return }
                for i in outer.indices {
                    let weight = outer[i]
                    if weight == 0 { continue }
                    let target = start + i
                    for j in 0..<row.count { target[j] += weight * row[j] }
                }
            }
        }
        var sum = PMF(offset: offset, stride: stride, p: result, truncated: truncated)
        sum.trim()
        return sum
    }

    /// The sum of `n` independent copies, by repeated squaring.
    mutating func power(_ a: PMF, _ n: Int, column: Int) throws(EngineError) -> PMF {
        var result = PMF.point(0)
        guard n > 0 else { return result }
        var base = a
        var k = n
        var first = true
        while k > 0 {
            if k & 1 == 1 {
                result = first ? base : try convolve(result, base, column: column)
                first = false
            }
            k >>= 1
            if k > 0 { base = try convolve(base, base, column: column) }
        }
        return result
    }

    /// Any function of two independent values, over every pair of outcomes.
    mutating func combine(_ a: PMF, _ b: PMF, column: Int, _ f: (Int64, Int64) throws(EngineError) -> Int64) throws(EngineError) -> PMF {
        let left = a.nonZero
        let right = b.nonZero
        try spend(left.count * right.count, "a product of \(left.count) by \(right.count) values")
        var entries: [(Int64, Double)] = []
        entries.reserveCapacity(left.count * right.count)
        for x in left {
            for y in right { entries.append((try f(x.value, y.value), x.probability * y.probability)) }
        }
        return try fromEntries(entries, truncated: PMF.combine(a.truncated, b.truncated), "a product")
    }

    /// `max(…)` or `min(…)` of independent values, from their cumulative distributions.
    mutating func extremum(_ parts: [PMF], isMax: Bool) throws(EngineError) -> PMF {
        let what = isMax ? "max(…)" : "min(…)"
        let truncated = parts.reduce(0.0) { PMF.combine($0, $1.truncated) }
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { return .empty(truncated: truncated) }
        // Every value any part can take, ascending; for each, the parts' cumulative masses.
        let outcomes = parts.map(\.nonZero)
        let total = outcomes.reduce(0) { $0 + $1.count }
        try spend(total * parts.count + total * 20, what)
        var values = outcomes.flatMap { $0.map(\.value) }
        values.sort()
        var cursor = [Int](repeating: 0, count: parts.count)
        var cumulative = [Double](repeating: 0, count: parts.count)
        let masses = parts.map(\.mass)
        var entries: [(Int64, Double)] = []
        var previous = isMax ? 0.0 : masses.reduce(1, *)
        var last: Int64?
        for value in values where value != last {
            last = value
            for k in parts.indices {
                while cursor[k] < outcomes[k].count && outcomes[k][cursor[k]].value <= value {
                    cumulative[k] += outcomes[k][cursor[k]].probability
                    cursor[k] += 1
                }
            }
            // max: P(max <= v) = prod F_k(v); min: P(min > v) = prod (mass_k - F_k(v)).
            var now = 1.0
            for k in parts.indices { now *= isMax ? cumulative[k] : max(masses[k] - cumulative[k], 0) }
            entries.append((value, max(isMax ? now - previous : previous - now, 0)))
            previous = now
        }
        var pmf = try fromEntries(entries, truncated: truncated, what)
        pmf.trim()
        return pmf
    }

    /// A mixture: each distribution weighted by the probability that it is the one that applies.
    /// `truncated` is the mass the weights themselves leave out.
    mutating func mixture(_ parts: [(weight: Double, pmf: PMF)], truncated: Double) throws(EngineError) -> PMF {
        var lost = truncated
        var entries: [(Int64, Double)] = []
        for part in parts where part.weight > 0 {
            lost += part.weight * part.pmf.truncated
            for outcome in part.pmf.nonZero { entries.append((outcome.value, part.weight * outcome.probability)) }
        }
        var pmf = try fromEntries(entries, truncated: min(lost, 1), "a mixture of \(parts.count) distributions")
        pmf.trim()
        return pmf
    }

    /// Maps every value through `f` (the value a die contributes, or its successes).
    mutating func map(_ a: PMF, _ f: (Int64) -> Int64) throws(EngineError) -> PMF {
        try fromEntries(a.nonZero.map { (f($0.value), $0.probability) }, truncated: a.truncated, "a mapping")
    }
}

/// Log-factorials for binomial probabilities that neither overflow nor underflow early.
struct LogFactorials {
    private var table: [Double] = [0]

    mutating func ensure(_ n: Int) {
        guard n >= table.count else { return }
        table.reserveCapacity(n + 1)
        var last = table[table.count - 1]
        for k in table.count...n {
            last += log(Double(k))
            table.append(last)
        }
    }

    subscript(_ n: Int) -> Double { table[n] }

    /// P(J = j) for J ~ Binomial(n, x).
    func binomial(_ n: Int, _ j: Int, _ x: Double, logX: Double, log1mX: Double) -> Double {
        if x <= 0 { return j == 0 ? 1 : 0 }
        if x >= 1 { return j == n ? 1 : 0 }
        return exp(table[n] - table[j] - table[n - j] + Double(j) * logX + Double(n - j) * log1mX)
    }
}
