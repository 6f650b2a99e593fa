/// One modifier as it bears on a value or a check: where it comes from, what it adds, and
/// whether it applies.
public struct ModifierLine: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// It counts.
        case applied
        /// Stacking rules let another modifier of the same type win.
        case suppressed
        /// Its `when` tags are not all carried by the check (or there is no check).
        case inactive
    }

    public var source: String
    public var type: String?
    public var effect: Ruleset.Modifier.Effect
    public var status: Status
    public var when: [String]
    public var remaining: Int?

    /// What it adds (0 for advantage and disadvantage).
    public var value: Int64 {
        if case .add(let value) = effect { return value }
        return 0
    }
}

/// A value with everything that makes it up.
public struct ValueBreakdown: Sendable, Hashable {
    public var id: String
    public var kind: ValueKind
    /// The base value of a stat or skill, or what a derived value's formula gives.
    public var base: Int64
    /// A derived value's formula.
    public var formula: String?
    public var modifiers: [ModifierLine]
    public var total: Int64
}

extension CharacterSheet {
    /// The breakdown of a stat, skill or derived value: its base (or formula result) and every
    /// modifier on it, applied, suppressed by stacking, or inactive for want of tags.
    public func breakdown(_ id: String, tags: Set<String> = []) throws(EngineError) -> ValueBreakdown {
        let slot = try ruleset.slot(id)
        let context: Set<String>? = tags.isEmpty ? nil : tags
        let values = context == nil ? totals : try computeTotals(tags: context)
        return try breakdown(slot: slot, values: values, tags: context)
    }

    /// Breakdowns of every value, stats first, then skills, then derived values.
    public func breakdowns(tags: Set<String> = []) throws(EngineError) -> [ValueBreakdown] {
        let context: Set<String>? = tags.isEmpty ? nil : tags
        let values = context == nil ? totals : try computeTotals(tags: context)
        var result: [ValueBreakdown] = []
        for slot in ruleset.values.indices { result.append(try breakdown(slot: slot, values: values, tags: context)) }
        return result
    }

    func breakdown(slot: Int, values: [Int64], tags: Set<String>?) throws(EngineError) -> ValueBreakdown {
        let definition = ruleset.values[slot]
        let (sum, status) = try stack(byValue[slot], tags: tags)
        return ValueBreakdown(
            id: definition.id, kind: definition.kind, base: values[slot] - sum, formula: definition.formula?.source,
            modifiers: lines(byValue[slot], status), total: values[slot])
    }

    func lines(_ indices: [Int], _ status: [ModifierLine.Status]) -> [ModifierLine] {
        zip(indices, status).map { index, status in
            let entry = active[index]
            return ModifierLine(source: entry.source, type: entry.modifier.type, effect: entry.modifier.effect, status: status,
                                when: entry.modifier.when.sorted(), remaining: entry.remaining)
        }
    }
}
