/// A character under a ruleset: base values for its stats and skills, and the modifiers active on
/// it (from items, conditions and other sources, or given directly). Asking for a value gives the
/// total after stacking, and its breakdown on request.
///
/// A value type: copy it freely; one copy is used by one thread at a time.
public struct CharacterSheet: Sendable {
    public let ruleset: Ruleset
    var base: [Int64]
    var active: [ActiveModifier] = []
    /// Every value's total without conditional modifiers, recomputed after each change.
    var totals: [Int64]
    /// Indices into `active` by target slot and by target check.
    var byValue: [[Int]]
    var byCheck: [[Int]]
    /// What stacking needs of each active modifier, as plain data (no strings to hash or copy).
    var stackable: [Stackable] = []
    /// Whether a modifier on a value has `when` tags (then checks may need values recomputed).
    var hasConditional = false

    /// A character with every stat and skill at its default.
    public init(ruleset: Ruleset) {
        self.ruleset = ruleset
        base = ruleset.values.map(\.defaultValue)
        totals = base
        byValue = Array(repeating: [], count: ruleset.values.count)
        byCheck = Array(repeating: [], count: ruleset.checks.count)
        // Defaults are in range and formulas were checked, so this cannot fail; an overflow in a
        // formula would surface on the first change instead.
        if let computed = try? computeTotals(tags: nil) { totals = computed }
    }

    // MARK: - Base values

    /// Sets the base value of a stat or skill, within its bounds.
    public mutating func set(_ id: String, to value: Int64) throws(EngineError) {
        let slot = try ruleset.slot(id, "stat or skill")
        let definition = ruleset.values[slot]
        guard definition.kind != .derived else {
            throw EngineError(.invalid, "'\(id)' is a derived value, computed by '\(definition.formula?.source ?? "")'; set the values it reads instead")
        }
        if let minimum = definition.minimum, value < minimum {
            throw EngineError(.invalid, "'\(id)' cannot be \(value); the minimum is \(minimum)")
        }
        if let maximum = definition.maximum, value > maximum {
            throw EngineError(.invalid, "'\(id)' cannot be \(value); the maximum is \(maximum)")
        }
        let previous = base[slot]
        base[slot] = value
        do {
            try refresh()
        } catch {
            base[slot] = previous
            try? refresh()
            throw error
        }
    }

    /// The base value of a stat or skill (before modifiers), or a derived value's formula result.
    public func baseValue(_ id: String) throws(EngineError) -> Int64 {
        try breakdown(id).base
    }

    /// The total of a stat, skill or derived value, with every active modifier that applies
    /// outside any check (modifiers with `when` tags count only inside checks carrying them, or
    /// when `tags` are given here).
    public func value(_ id: String, tags: Set<String> = []) throws(EngineError) -> Int64 {
        let slot = try ruleset.slot(id)
        if tags.isEmpty || !hasConditional { return totals[slot] }
        return try computeTotals(tags: tags)[slot]
    }

    // MARK: - Modifiers

    /// The ids of the sources applied, in the order they were applied.
    public var appliedSources: [String] {
        var seen: [String] = []
        for modifier in active where !seen.contains(modifier.source) { seen.append(modifier.source) }
        return seen
    }

    /// The active modifiers, with their sources and remaining rounds.
    public var activeModifiers: [(source: String, modifier: Ruleset.Modifier, remaining: Int?)] {
        active.map { ($0.source, $0.modifier, $0.remaining) }
    }

    /// Applies an item, condition or other source of the ruleset. Applying it again renews it
    /// (its durations start over). `duration` overrides the rounds of every modifier it brings.
    public mutating func apply(_ sourceId: String, duration: Int? = nil) throws(EngineError) {
        let source = ruleset.sources[try ruleset.sourcePosition(sourceId)]
        let sourceId = source.id
        if let duration, duration < 1 { throw EngineError(.invalid, "a duration must be at least 1 round, not \(duration)") }
        let previous = active
        active.removeAll { $0.source == sourceId }
        for modifier in source.modifiers {
            active.append(ActiveModifier(modifier: modifier, source: sourceId, remaining: duration ?? modifier.duration))
        }
        try commit(previous)
    }

    /// Removes every modifier a source brought. Throws `.notFound` when it is not applied.
    public mutating func remove(_ sourceId: String) throws(EngineError) {
        let sourceId = ruleset.sourceIndex.find(sourceId).map { ruleset.sources[$0].id } ?? sourceId
        guard active.contains(where: { $0.source == sourceId }) else {
            throw EngineError(.notFound, "'\(sourceId)' is not applied to this character")
        }
        let previous = active
        active.removeAll { $0.source == sourceId }
        try commit(previous)
    }

    /// Adds one modifier directly (a game master's ruling, a one-off effect) under a source name
    /// of the caller's choosing, which ``remove(_:)`` also removes.
    public mutating func add(_ modifier: Ruleset.Modifier, source: String) throws(EngineError) {
        guard !source.isEmpty else { throw EngineError(.invalid, "a modifier needs a source name") }
        let canonical = try Ruleset.validate(modifier, in: "modifier from '\(source)'", values: ruleset.valueIndex, checks: ruleset.checkIndex, types: ruleset.typeIndex)
        let previous = active
        active.append(ActiveModifier(modifier: canonical, source: source, remaining: modifier.duration))
        try commit(previous)
    }

    /// Advances time: every modifier with a duration loses `rounds` rounds, and those that reach
    /// zero end. Returns the sources none of whose modifiers remain.
    @discardableResult
    public mutating func advance(rounds: Int = 1) throws(EngineError) -> [String] {
        guard rounds >= 0 else { throw EngineError(.invalid, "cannot advance by \(rounds) rounds") }
        let before = Set(active.map(\.source))
        let previous = active
        active = active.compactMap { entry in
            var entry = entry
            if let remaining = entry.remaining {
                entry.remaining = remaining - rounds
                if remaining - rounds <= 0 { return nil }
            }
            return entry
        }
        try commit(previous)
        let after = Set(active.map(\.source))
        return appliedOrder(before.subtracting(after), from: previous)
    }

    private func appliedOrder(_ ids: Set<String>, from list: [ActiveModifier]) -> [String] {
        var result: [String] = []
        for entry in list where ids.contains(entry.source) && !result.contains(entry.source) { result.append(entry.source) }
        return result
    }

    /// Recomputes after a change to `active`; on failure (an overflow) restores `previous`.
    private mutating func commit(_ previous: [ActiveModifier]) throws(EngineError) {
        do {
            try refresh()
        } catch {
            active = previous
            try? refresh()
            throw error
        }
    }

    mutating func refresh() throws(EngineError) {
        byValue = Array(repeating: [], count: ruleset.values.count)
        byCheck = Array(repeating: [], count: ruleset.checks.count)
        hasConditional = false
        stackable = active.map { entry in
            let value: Int64
            let adds: Bool
            if case .add(let amount) = entry.modifier.effect {
                value = amount
                adds = true
            } else {
                value = 0
                adds = false
            }
            let type = entry.modifier.type.flatMap { ruleset.typeIndex.find($0) } ?? -1
            return Stackable(value: value, adds: adds, type: type, stacking: ruleset.stacking(of: entry.modifier.type), conditional: !entry.modifier.when.isEmpty)
        }
        for (index, entry) in active.enumerated() {
            if let slot = ruleset.valueIndex.find(entry.modifier.target) {
                byValue[slot].append(index)
            } else if let check = ruleset.checkIndex.find(entry.modifier.target) {
                byCheck[check].append(index)
            }
            if !entry.modifier.when.isEmpty && ruleset.valueIndex.find(entry.modifier.target) != nil { hasConditional = true }
        }
        totals = try computeTotals(tags: nil)
    }

    // MARK: - Computing values

    /// Every value's total, in slot order. `tags` nil means outside any check: modifiers with
    /// `when` tags do not apply.
    func computeTotals(tags: Set<String>?) throws(EngineError) -> [Int64] {
        var totals = base
        var recorder = NoRecorder()
        var rng = RNG(seed: 0)
        for slot in ruleset.evaluationOrder {
            let definition = ruleset.values[slot]
            var value = base[slot]
            if let formula = definition.formula {
                let inputs = definition.reads.map { totals[$0] }
                do {
                    value = try inputs.withUnsafeBufferPointer { (buffer) throws(EngineError) -> Int64 in
                        try Evaluator.run(formula.program, stats: buffer, limits: formula.limits, rng: &rng, recorder: &recorder)
                    }
                } catch {
                    throw EngineError(error.code, "derived value '\(definition.id)': \(error.message)")
                }
            }
            let (sum, _) = try stack(byValue[slot], tags: tags)
            let (total, overflowed) = value.addingReportingOverflow(sum)
            guard !overflowed else { throw EngineError(.invalid, "'\(definition.id)' is too large for a 64-bit integer") }
            totals[slot] = total
        }
        return totals
    }

    /// Whether a modifier applies in a context: outside checks (`tags` nil) only unconditional
    /// ones; inside, those whose `when` tags the check carries.
    @inline(__always)
    func applies(_ index: Int, tags: Set<String>?) -> Bool {
        guard stackable[index].conditional else { return true }
        guard let tags else { return false }
        return active[index].modifier.when.isSubset(of: tags)
    }

    /// The sum of the modifiers at `indices` after stacking, and for each whether it applies.
    func stack(_ indices: [Int], tags: Set<String>?) throws(EngineError) -> (total: Int64, status: [ModifierLine.Status]) {
        var total: Int64 = 0
        var status: [ModifierLine.Status] = []
        status.reserveCapacity(indices.count)
        for (position, index) in indices.enumerated() {
            guard stackable[index].adds else {
                status.append(.applied)
                continue
            }
            guard applies(index, tags: tags) else {
                status.append(.inactive)
                continue
            }
            if suppressed(position, in: indices, tags: tags) {
                status.append(.suppressed)
            } else {
                total = try add(total, stackable[index].value, index)
                status.append(.applied)
            }
        }
        return (total, status)
    }

    /// The sum of the modifiers at `indices` after stacking, without the per-modifier status
    /// (the path a check takes when no breakdown is asked for).
    func stackedTotal(_ indices: [Int], tags: Set<String>?) throws(EngineError) -> Int64 {
        var total: Int64 = 0
        for (position, index) in indices.enumerated() where stackable[index].adds && applies(index, tags: tags) {
            if !suppressed(position, in: indices, tags: tags) {
                total = try add(total, stackable[index].value, index)
            }
        }
        return total
    }

    @inline(__always)
    private func add(_ total: Int64, _ value: Int64, _ index: Int) throws(EngineError) -> Int64 {
        let (sum, overflowed) = total.addingReportingOverflow(value)
        guard !overflowed else { throw EngineError(.invalid, "modifiers on '\(active[index].modifier.target)' add up beyond a 64-bit integer") }
        return sum
    }

    /// Whether stacking rules let another modifier of the same type win over the one at
    /// `position`. Ties go to the modifier applied first.
    @inline(__always)
    private func suppressed(_ position: Int, in indices: [Int], tags: Set<String>?) -> Bool {
        let this = stackable[indices[position]]
        if this.stacking == .sum { return false }
        let value = this.value
        for (otherPosition, otherIndex) in indices.enumerated() where otherPosition != position {
            let other = stackable[otherIndex]
            guard other.type == this.type, other.adds, applies(otherIndex, tags: tags) else { continue }
            let otherValue = other.value
            let beats = otherValue > value || (otherValue == value && otherPosition < position)
            let beatsPenalty = otherValue < value || (otherValue == value && otherPosition < position)
            switch this.stacking {
            case .sum:
                return false
            case .highest:
                if beats { return true }
            case .highestBonusLowestPenalty:
                if value > 0 && otherValue > 0 && beats { return true }
                if value < 0 && otherValue < 0 && beatsPenalty { return true }
            }
        }
        return false
    }
}

/// What stacking needs of one active modifier.
struct Stackable: Sendable, Hashable {
    var value: Int64
    /// False for advantage and disadvantage.
    var adds: Bool
    /// The modifier type's index, or -1 for none.
    var type: Int
    var stacking: Ruleset.Stacking
    var conditional: Bool
}

/// A modifier active on a character.
struct ActiveModifier: Sendable, Hashable {
    var modifier: Ruleset.Modifier
    var source: String
    var remaining: Int?
}
