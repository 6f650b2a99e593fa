extension OddsEngine {
    /// The distribution of a group `{a, b, …}` with its keep/drop and success counting.
    mutating func groupPMF(_ group: Group) throws(EngineError) -> PMF {
        var items: [PMF] = []
        for item in group.items { items.append(try pmf(item)) }
        let scoring = group.scoring
        let double = group.double
        let contribution: (Int64) -> Int64 = { Evaluator.contribution($0, scoring, double) }
        if group.keep.isEmpty {
            var total = PMF.point(0)
            for item in items {
                total = try convolve(total, scoring == nil ? item : try map(item, contribution), column: group.column)
            }
            return total
        }
        let what = "the group at column \(group.column)"
        if let first = items.first, items.allSatisfy({ $0 == first }) {
            return try keptPMF(types: [(items.count, first)], keep: group.keep, contribution: contribution, what: what)
        }
        return try unequalKeptPMF(items, keep: group.keep, contribution: contribution, what: what)
    }

    /// Keep/drop over independent values with different distributions: items are added one at a
    /// time to a state holding the best `b` values so far (sorted), where `b` reaches the far
    /// end of the window from the nearer side.
    mutating func unequalKeptPMF(_ items: [PMF], keep: [KeepRule], contribution: (Int64) -> Int64, what: String) throws(EngineError) -> PMF {
        let size = items.count
        let (lo, hi) = KeepRule.window(keep, size: size)
        let truncated = items.reduce(0.0) { PMF.combine($0, $1.truncated) }
        guard lo < hi else { return PMF(offset: 0, p: [1], truncated: truncated) }
        let descending = size - lo <= hi
        let (a, b) = descending ? (size - hi, size - lo) : (lo, hi)
        // States in a fixed order, so that sums are added in the same order on every run (a
        // dictionary's order would change the last bits of the result from run to run).
        var states: [(state: [Int64], p: Double)] = [([], 1)]
        for item in items {
            let outcomes = item.nonZero
            // Each step copies and hashes a state of up to `b` values; once the table outgrows
            // the caches a step costs several times more (measured: 3 items of 2d3!p with dl1,
            // 4M steps, take 0.24 s; 4 such items, 160M steps, take 57 s).
            let perStep = (b + 4) * (states.count < 1 << 16 ? 2 : 16)
            try spend(states.count * outcomes.count * perStep, what)
            var next: [[Int64]: Int] = [:]
            var list: [(state: [Int64], p: Double)] = []
            next.reserveCapacity(states.count)
            for (state, p) in states {
                for outcome in outcomes {
                    var updated = state
                    let position = updated.firstIndex { descending ? outcome.value > $0 : outcome.value < $0 } ?? updated.count
                    if position < b {
                        updated.insert(outcome.value, at: position)
                        if updated.count > b { updated.removeLast() }
                    }
                    if let slot = next[updated] {
                        list[slot].p += p * outcome.probability
                    } else {
                        next[updated] = list.count
                        list.append((updated, p * outcome.probability))
                    }
                }
            }
            states = list
        }
        var entries: [(Int64, Double)] = []
        for (state, p) in states {
            var total: Int64 = 0
            for rank in a..<min(b, state.count) {
                let (sum, overflowed) = total.addingReportingOverflow(contribution(state[rank]))
                guard !overflowed else { throw Evaluator.overflow(0) }
                total = sum
            }
            entries.append((total, p))
        }
        var result = try fromEntries(entries, truncated: truncated, what)
        result.trim()
        return result
    }
}
