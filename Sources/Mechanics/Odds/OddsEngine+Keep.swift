#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension OddsEngine {
    /// The distribution of the kept window's total (of `contribution` per value) for a pool made
    /// of independent dice of one or two types, each type with its own count and distribution.
    ///
    /// Order statistics without enumerating outcomes: the values are visited from one end (the
    /// end nearer the window), and a state is (dice of each type placed so far, kept total so
    /// far). At each value the number of remaining dice of a type that show it is binomial given
    /// that none showed an earlier value; the dice placed there take the next ranks. Once the
    /// window is passed the rest cannot matter, so the state completes. Work is about
    /// values × window² × (range of kept totals), independent of how many dice lie beyond it.
    mutating func keptPMF(types input: [(count: Int, pmf: PMF)], keep: [KeepRule], contribution: (Int64) -> Int64, what: String) throws(EngineError) -> PMF {
        var types = input.filter { $0.count > 0 }
        let poolSize = types.reduce(0) { $0 + $1.count }
        var (lo, hi) = KeepRule.window(keep, size: poolSize)
        var truncated = 0.0
        var scale = 1.0
        for index in types.indices {
            let mass = types[index].pmf.mass
            guard mass > 0 else { return PMF(offset: 0, p: [], truncated: 1) }
            scale *= pow(mass, Double(types[index].count))
            truncated = PMF.combine(truncated, PMF.repeated(types[index].pmf.truncated, types[index].count))
            if mass != 1 { types[index].pmf.p = types[index].pmf.p.map { $0 / mass } }
        }
        guard lo < hi else { return PMF(offset: 0, p: [1], truncated: truncated) }
        // Visit values from the end that reaches the window sooner.
        let descending = poolSize - lo <= hi
        let (a, b) = descending ? (poolSize - hi, poolSize - lo) : (lo, hi)
        lo = a
        hi = b
        var values = Set<Int64>()
        for type in types { for entry in type.pmf.nonZero { values.insert(entry.value) } }
        let order = descending ? values.sorted(by: >) : values.sorted()
        let typeCount = types.count
        // Per type: probability at each visited value, and the mass at or after it.
        var at = [[Double]](repeating: [Double](repeating: 0, count: order.count), count: typeCount)
        var remaining = at
        for t in 0..<typeCount {
            for (i, value) in order.enumerated() { at[t][i] = types[t].pmf.probability(of: value) }
            var running = 0.0
            for i in order.indices.reversed() {
                running += at[t][i]
                remaining[t][i] = running
            }
        }
        let contributions = order.map(contribution)
        let keptCount = Int64(hi - lo)
        let lowest = min(contributions.min() ?? 0, 0)
        let highest = max(contributions.max() ?? 0, 0)
        let (spanLow, o1) = keptCount.multipliedReportingOverflow(by: lowest)
        let (spanHigh, o2) = keptCount.multipliedReportingOverflow(by: highest)
        guard !o1, !o2 else { throw Evaluator.overflow(0) }
        let (span, spanOverflow) = spanHigh.subtractingReportingOverflow(spanLow)
        guard !spanOverflow else { throw Evaluator.overflow(0) }
        try checkSupport(UInt64(span), what)
        let width = Int(spanHigh - spanLow) + 1
        // States: n0 in 0..<b (and n1 with n0 + n1 < b for a second type).
        let count0 = types.first?.count ?? 0
        let count1 = typeCount > 1 ? types[1].count : 0
        let stride1 = hi
        func slot(_ n0: Int, _ n1: Int) -> Int { n0 * stride1 + n1 }
        var current = [[Double]](repeating: [], count: hi * stride1)
        current[slot(0, 0)] = [Double](repeating: 0, count: width)
        current[slot(0, 0)][Int(-spanLow)] = 1
        var result = [Double](repeating: 0, count: width)
        var factorials = LogFactorials()
        // The whole computation at worst, refused before any of it when it is too much: per
        // value, the binomial rows and every state's transitions and arrays.
        let states = typeCount > 1 ? hi * (hi + 1) / 2 : hi
        let perValue = typeCount * hi * (hi + 8) + states * width * (typeCount > 1 ? hi * hi : hi) / max(hi / 4, 1)
        try require(order.count.multipliedReportingOverflow(by: max(perValue, 1)), what)
        factorials.ensure(max(count0, count1))

        for i in order.indices {
            let g = contributions[i]
            // Charge before working: the binomial rows, then every state's transitions at worst.
            try spend(typeCount * hi * (hi + 8), what)
            let active = current.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
            try spend(active * width * (typeCount > 1 ? hi * hi : hi), what)
            // Binomial rows for each type: pmf[R][j] for j < b, tail[R][k] = P(J >= k) for k <= b.
            var pmfRows = [[[Double]]](repeating: [], count: typeCount)
            var tailRows = [[[Double]]](repeating: [], count: typeCount)
            for t in 0..<typeCount {
                let x = remaining[t][i] > 0 ? min(at[t][i] / remaining[t][i], 1) : 0
                let total = types[t].count
                var pmfs = [[Double]](repeating: [], count: total + 1)
                var tails = [[Double]](repeating: [], count: total + 1)
                for r in max(0, total - hi + 1)...total {
                    let row = (0..<hi).map { j in j <= r ? binomial(r, j, x, &factorials) : 0 }
                    pmfs[r] = row
                    // P(J >= hi) directly, then down: P(J >= k) = P(J >= k+1) + P(J = k).
                    var tail = [Double](repeating: 0, count: hi + 1)
                    tail[hi] = binomialTail(r, hi, x, row, &factorials)
                    for k in stride(from: hi - 1, through: 0, by: -1) { tail[k] = tail[k + 1] + row[k] }
                    tails[r] = tail
                }
                pmfRows[t] = pmfs
                tailRows[t] = tails
            }
            var next = [[Double]](repeating: [], count: hi * stride1)
            for n0 in 0..<hi {
                for n1 in 0..<(typeCount > 1 ? hi - n0 : 1) {
                    let state = current[slot(n0, n1)]
                    if state.isEmpty { continue }
                    let n = n0 + n1
                    let need = hi - n
                    let r0 = count0 - n0
                    let r1 = count1 - n1
                    guard r0 >= 0, r1 >= 0 else { continue }
                    let completeKept = Int64(hi - max(n, lo))
                    // Completion: at least `need` of the remaining dice show this value.
                    var complete: Double
                    if typeCount > 1 {
                        complete = tailRows[0][r0][need]
                        for j0 in 0..<need where j0 <= r0 { complete += pmfRows[0][r0][j0] * tailRows[1][r1][need - j0] }
                    } else {
                        complete = tailRows[0][r0][need]
                    }
                    if complete > 0 {
                        let shift = Int(completeKept * g)
                        for s in 0..<width where state[s] > 0 { result[s + shift] += state[s] * complete }
                    }
                    for j0 in 0..<need where j0 <= r0 {
                        let p0 = pmfRows[0][r0][j0]
                        if p0 == 0 { continue }
                        for j1 in 0..<(typeCount > 1 ? need - j0 : 1) where j1 <= r1 {
                            let p = typeCount > 1 ? p0 * pmfRows[1][r1][j1] : p0
                            if p == 0 { continue }
                            let j = j0 + j1
                            let kept = Int64(max(0, min(n + j, hi) - max(n, lo)))
                            let shift = Int(kept * g)
                            let target = slot(n0 + j0, n1 + j1)
                            if next[target].isEmpty { next[target] = [Double](repeating: 0, count: width) }
                            next[target].withUnsafeMutableBufferPointer { out in
                                state.withUnsafeBufferPointer { from in
                                    if shift >= 0 {
                                        for s in 0..<(width - shift) where from[s] > 0 { out[s + shift] += from[s] * p }
                                    } else {
                                        for s in (-shift)..<width where from[s] > 0 { out[s + shift] += from[s] * p }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            current = next
        }
        var pmf = PMF(offset: spanLow, p: scale == 1 ? result : result.map { $0 * scale }, truncated: truncated)
        pmf.trim()
        return pmf
    }

    private func binomial(_ n: Int, _ j: Int, _ x: Double, _ factorials: inout LogFactorials) -> Double {
        if x <= 0 { return j == 0 ? 1 : 0 }
        if x >= 1 { return j == n ? 1 : 0 }
        return factorials.binomial(n, j, x, logX: log(x), log1mX: log1p(-x))
    }

    /// P(J >= k) for J ~ Binomial(n, x), summed on the side that keeps it accurate: upward from
    /// k when k lies above the mean (a small upper tail), else 1 minus the terms below k.
    private func binomialTail(_ n: Int, _ k: Int, _ x: Double, _ pmfBelow: [Double], _ factorials: inout LogFactorials) -> Double {
        if k <= 0 { return 1 }
        if k > n { return 0 }
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if Double(k) > Double(n) * x {
            let logX = log(x)
            let log1mX = log1p(-x)
            var sum = 0.0
            for j in k...n {
                let term = factorials.binomial(n, j, x, logX: logX, log1mX: log1mX)
                sum += term
                if term < sum * 1e-18 || (term == 0 && j > k) { break }
            }
            return sum
        }
        var below = 0.0
        for j in 0..<k { below += j < pmfBelow.count ? pmfBelow[j] : binomial(n, j, x, &factorials) }
        return max(1 - below, 0)
    }
}
