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

    func checkSupport(_ span: Int64, _ what: @autoclosure () -> String) throws(EngineError) {
        guard span >= 0, span <= Int64(limits.maxOddsSupport) else {
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
            return try combine(a, .point(1), column: column) { x, _ in Swift.abs(x) }
        case .extremum(let isMax, let arguments):
            var parts: [PMF] = []
            for argument in arguments { parts.append(try pmf(argument)) }
            return extremum(parts, isMax: isMax)
        case .group(let group):
            return try groupPMF(group)
        }
    }

    // MARK: - Building blocks

    func negate(_ a: PMF, column: Int) throws(EngineError) -> PMF {
        guard !a.isEmpty else { return a }
        guard a.maximum != Int64.min else { throw Evaluator.overflow(column) }
        return PMF(offset: -a.maximum, p: a.p.reversed(), truncated: a.truncated)
    }

    /// The distribution of the sum of two independent values: direct convolution, which keeps
    /// every probability's relative error small (all terms are non-negative).
    mutating func convolve(_ a: PMF, _ b: PMF, column: Int = 0) throws(EngineError) -> PMF {
        if a.isEmpty || b.isEmpty { return PMF(offset: 0, p: [], truncated: PMF.combine(a.truncated, b.truncated)) }
        let (offset, overflowed) = a.offset.addingReportingOverflow(b.offset)
        let (top, overflowed2) = a.maximum.addingReportingOverflow(b.maximum)
        guard !overflowed, !overflowed2 else { throw Evaluator.overflow(column) }
        try checkSupport(top - offset, "a sum")
        try spend(a.count * b.count, "a sum of \(a.count) by \(b.count) values")
        var result = [Double](repeating: 0, count: a.count + b.count - 1)
        // Put the longer array in the inner loop.
        let (outer, inner) = a.count <= b.count ? (a.p, b.p) : (b.p, a.p)
        result.withUnsafeMutableBufferPointer { r in
            inner.withUnsafeBufferPointer { y in
                guard let start = r.baseAddress else { return }
                for i in outer.indices {
                    let x = outer[i]
                    if x == 0 { continue }
                    let row = start + i
                    for j in 0..<y.count { row[j] += x * y[j] }
                }
            }
        }
        var sum = PMF(offset: offset, p: result, truncated: PMF.combine(a.truncated, b.truncated))
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
        var low = Int64.max
        var high = Int64.min
        for x in left {
            for y in right {
                let v = try f(x.value, y.value)
                low = min(low, v)
                high = max(high, v)
            }
        }
        let truncated = PMF.combine(a.truncated, b.truncated)
        guard low <= high else { return PMF(offset: 0, p: [], truncated: truncated) }
        let (span, overflowed) = high.subtractingReportingOverflow(low)
        guard !overflowed else { throw Evaluator.overflow(column) }
        try checkSupport(span, "a product")
        var result = [Double](repeating: 0, count: Int(span) + 1)
        for x in left {
            for y in right {
                result[Int(try f(x.value, y.value) - low)] += x.probability * y.probability
            }
        }
        return PMF(offset: low, p: result, truncated: truncated)
    }

    /// `max(…)` or `min(…)` of independent values, from their cumulative distributions.
    func extremum(_ parts: [PMF], isMax: Bool) -> PMF {
        let truncated = parts.reduce(0.0) { PMF.combine($0, $1.truncated) }
        let live = parts.filter { !$0.isEmpty }
        guard live.count == parts.count, let first = live.first else { return PMF(offset: 0, p: [], truncated: truncated) }
        let low = live.map(\.offset).min() ?? first.offset
        let high = live.map(\.maximum).max() ?? first.maximum
        let count = Int(high - low) + 1
        // For max: P(max <= v) = prod F_i(v). For min: P(min > v) = prod S_i(v), S_i = mass_i - F_i.
        var result = [Double](repeating: 0, count: count)
        var previous = 0.0
        let masses = live.map(\.mass)
        var cumulative = [Double](repeating: 0, count: live.count)
        var previousSurvival = masses.reduce(1, *)
        for index in 0..<count {
            let value = low + Int64(index)
            for (k, part) in live.enumerated() { cumulative[k] += part.probability(of: value) }
            if isMax {
                let now = cumulative.reduce(1, *)
                result[index] = max(now - previous, 0)
                previous = now
            } else {
                var survival = 1.0
                for k in live.indices { survival *= max(masses[k] - cumulative[k], 0) }
                result[index] = max(previousSurvival - survival, 0)
                previousSurvival = survival
            }
        }
        var pmf = PMF(offset: low, p: result, truncated: truncated)
        pmf.trim()
        return pmf
    }

    /// A mixture: each distribution weighted by the probability that it is the one that applies.
    /// `truncated` is the mass the weights themselves leave out.
    func mixture(_ parts: [(weight: Double, pmf: PMF)], truncated: Double) -> PMF {
        let live = parts.filter { $0.weight > 0 && !$0.pmf.isEmpty }
        var lost = truncated
        for part in parts where part.weight > 0 { lost += part.weight * part.pmf.truncated }
        guard let low = live.map(\.pmf.offset).min(), let high = live.map(\.pmf.maximum).max() else {
            return PMF(offset: 0, p: [], truncated: min(lost, 1))
        }
        var result = [Double](repeating: 0, count: Int(high - low) + 1)
        for part in live {
            let shift = Int(part.pmf.offset - low)
            for (index, p) in part.pmf.p.enumerated() { result[shift + index] += part.weight * p }
        }
        var pmf = PMF(offset: low, p: result, truncated: min(lost, 1))
        pmf.trim()
        return pmf
    }

    /// Maps every value through `f` (the value a die contributes, or its successes).
    func map(_ a: PMF, _ f: (Int64) -> Int64) -> PMF {
        let mapped = a.nonZero.map { (f($0.value), $0.probability) }
        guard let low = mapped.map(\.0).min(), let high = mapped.map(\.0).max() else { return a }
        var result = [Double](repeating: 0, count: Int(high - low) + 1)
        for (value, p) in mapped { result[Int(value - low)] += p }
        return PMF(offset: low, p: result, truncated: a.truncated)
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
