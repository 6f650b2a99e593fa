/// The rules of a game, independent of any file format: stats, skills, derived values, modifier
/// types with their stacking rules, checks, and the sources of modifiers (items, conditions,
/// feats…). Built once, checked as a whole, immutable and safe to share between threads.
///
/// Stats, skills and derived values share one namespace of *values*; checks have ids in the same
/// namespace (a modifier may target either), so no check may share an id with a value.
public final class Ruleset: Sendable {
    public let stats: [Stat]
    public let skills: [Skill]
    public let derived: [Derived]
    public let modifierTypes: [ModifierType]
    public let checks: [Check]
    public let sources: [Source]

    /// Every value (stats, then skills, then derived values) by slot.
    let values: [ValueSlot]
    let valueIndex: IdIndex
    let checkIndex: IdIndex
    let sourceIndex: IdIndex
    let typeIndex: IdIndex
    /// Slots in an order where every derived value follows what its formula reads.
    let evaluationOrder: [Int]
    /// Per check: the compiled dice and the slots its `adds` and its dice read.
    let compiledChecks: [CompiledCheck]

    /// Builds and checks a ruleset. Throws `.invalid` or `.notFound` naming the entity and the
    /// problem: a duplicate id, an unknown reference, a formula that does not parse (with its
    /// column), a cycle among derived values (naming the cycle), bands out of order.
    public init(
        stats: [Stat] = [], skills: [Skill] = [], derived: [Derived] = [], modifierTypes: [ModifierType] = [],
        checks: [Check] = [], sources: [Source] = [], limits: Limits = .default
    ) throws(EngineError) {
        self.stats = stats
        self.skills = skills
        self.derived = derived
        self.modifierTypes = modifierTypes
        self.checks = checks

        var slots: [ValueSlot] = []
        var index = IdIndex()
        func addValue(_ id: String, _ kind: ValueKind, _ bounds: Stat? = nil) throws(EngineError) {
            try Ruleset.checkId(id, kind.noun)
            guard index.insert(id, at: slots.count) else {
                throw EngineError(.invalid, "\(kind.noun) '\(id)' has the id of another stat, skill or derived value")
            }
            var slot = ValueSlot(id: id, kind: kind)
            if let bounds {
                try Ruleset.checkRange(id, bounds.defaultValue, bounds.minimum, bounds.maximum)
                slot.defaultValue = bounds.defaultValue
                slot.minimum = bounds.minimum
                slot.maximum = bounds.maximum
            }
            slots.append(slot)
        }
        for stat in stats { try addValue(stat.id, .stat, stat) }
        for skill in skills { try addValue(skill.id, .skill, skill) }
        for value in derived { try addValue(value.id, .derived) }
        // Derived formulas: parse, resolve references, refuse dice.
        for value in derived {
            let expression: DiceExpression
            do {
                expression = try DiceExpression(value.formula, limits: limits)
            } catch {
                throw EngineError(error.code, "derived value '\(value.id)': formula '\(value.formula)': \(error.message)", at: error.location)
            }
            guard expression.isDeterministic else {
                throw EngineError(.invalid, "derived value '\(value.id)': formula '\(value.formula)' rolls dice; derived values must be fixed numbers")
            }
            var reads: [Int] = []
            for reference in expression.statReferences {
                guard let slot = index[reference] else {
                    throw EngineError(.notFound, "derived value '\(value.id)': formula reads '@\(reference)', which is no stat, skill or derived value\(Ruleset.suggestion(reference, index.keys))")
                }
                reads.append(slot)
            }
            guard let slot = index[value.id] else { continue }
            slots[slot].formula = expression
            slots[slot].reads = reads
        }
        values = slots
        valueIndex = index
        evaluationOrder = try Ruleset.order(slots)

        var types = IdIndex()
        for (position, type) in modifierTypes.enumerated() {
            try Ruleset.checkId(type.id, "modifier type")
            guard types.insert(type.id, at: position) else { throw EngineError(.invalid, "modifier type '\(type.id)' is declared twice") }
        }
        typeIndex = types

        var checkPositions = IdIndex()
        var compiled: [CompiledCheck] = []
        for (position, check) in checks.enumerated() {
            try Ruleset.checkId(check.id, "check")
            guard index[check.id] == nil else { throw EngineError(.invalid, "check '\(check.id)' has the id of a stat, skill or derived value") }
            guard checkPositions.insert(check.id, at: position) else { throw EngineError(.invalid, "check '\(check.id)' is declared twice") }
            compiled.append(try CompiledCheck(check, values: index, limits: limits))
        }
        checkIndex = checkPositions
        compiledChecks = compiled

        var sourcePositions = IdIndex()
        var canonicalSources: [Source] = []
        for (position, source) in sources.enumerated() {
            try Ruleset.checkId(source.id, "modifier source")
            guard sourcePositions.insert(source.id, at: position) else { throw EngineError(.invalid, "modifier source '\(source.id)' is declared twice") }
            var canonical = source
            canonical.modifiers = []
            for modifier in source.modifiers {
                canonical.modifiers.append(try Ruleset.validate(modifier, in: "modifier source '\(source.id)'", values: index, checks: checkPositions, types: types))
            }
            canonicalSources.append(canonical)
        }
        self.sources = canonicalSources
        sourceIndex = sourcePositions
    }

    // MARK: - Lookups

    /// What kind of value `id` is, or nil when it names no stat, skill or derived value. Here and
    /// in every lookup, an id qualified by its pack (`core:speaking`) may be given by its short
    /// form (`speaking`) when no other pack uses it.
    public func valueKind(of id: String) -> ValueKind? { valueIndex.find(id).map { values[$0].kind } }
    /// The ids of every value, stats first, then skills, then derived values.
    public var valueIds: [String] { values.map(\.id) }
    public func check(_ id: String) -> Check? { checkIndex.find(id).map { checks[$0] } }
    public func source(_ id: String) -> Source? { sourceIndex.find(id).map { sources[$0] } }
    public func modifierType(_ id: String) -> ModifierType? { typeIndex.find(id).map { modifierTypes[$0] } }

    func slot(_ id: String, _ what: String = "stat, skill or derived value") throws(EngineError) -> Int {
        guard let slot = valueIndex.find(id) else { throw valueIndex.notFound(id, what) }
        return slot
    }

    func checkPosition(_ id: String) throws(EngineError) -> Int {
        guard let position = checkIndex.find(id) else { throw checkIndex.notFound(id, "check") }
        return position
    }

    func sourcePosition(_ id: String) throws(EngineError) -> Int {
        guard let position = sourceIndex.find(id) else { throw sourceIndex.notFound(id, "item, condition or other source") }
        return position
    }

    func stacking(of type: String?) -> Stacking {
        guard let type, let position = typeIndex.find(type) else { return .sum }
        return modifierTypes[position].stacking
    }

    // MARK: - Checks on construction

    static func checkId(_ id: String, _ what: String) throws(EngineError) {
        guard !id.isEmpty else { throw EngineError(.invalid, "a \(what) has an empty id") }
        for scalar in id.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || "._-:".unicodeScalars.contains(scalar)
            guard ok else {
                throw EngineError(.invalid, "\(what) id '\(id)' may use only lowercase letters, digits, '.', '_', '-' and ':' (a pack prefix)")
            }
        }
    }

    static func checkRange(_ id: String, _ value: Int64, _ minimum: Int64?, _ maximum: Int64?) throws(EngineError) {
        if let minimum, let maximum, minimum > maximum {
            throw EngineError(.invalid, "'\(id)': minimum \(minimum) is above maximum \(maximum)")
        }
        if let minimum, value < minimum { throw EngineError(.invalid, "'\(id)': default \(value) is below the minimum \(minimum)") }
        if let maximum, value > maximum { throw EngineError(.invalid, "'\(id)': default \(value) is above the maximum \(maximum)") }
    }

    /// Checks a modifier and returns it with its target and type spelled as their full ids.
    static func validate(_ modifier: Modifier, in context: String, values: IdIndex, checks: IdIndex, types: IdIndex) throws(EngineError) -> Modifier {
        var canonical = modifier
        switch modifier.effect {
        case .add:
            if let slot = values.find(modifier.target) {
                canonical.target = values.keys[slot]
            } else if let check = checks.find(modifier.target) {
                canonical.target = checks.keys[check]
            } else {
                throw EngineError(.notFound, "\(context): modifier targets '\(modifier.target)', which is no stat, skill, derived value or check\(suggestion(modifier.target, values.keys + checks.keys))")
            }
        case .advantage, .disadvantage:
            guard let check = checks.find(modifier.target) else {
                throw EngineError(.notFound, "\(context): advantage and disadvantage apply to checks, and '\(modifier.target)' is no check\(suggestion(modifier.target, checks.keys))")
            }
            canonical.target = checks.keys[check]
        }
        if let type = modifier.type {
            guard let position = types.find(type) else {
                throw EngineError(.notFound, "\(context): modifier type '\(type)' is not declared\(suggestion(type, types.keys))")
            }
            canonical.type = types.keys[position]
        }
        if let duration = modifier.duration, duration < 1 {
            throw EngineError(.invalid, "\(context): a duration must be at least 1 round, not \(duration)")
        }
        return canonical
    }

    /// A topological order of the value slots; a cycle among derived values is an error that
    /// names it. Iterative, so that a chain of any length cannot overflow the stack.
    static func order(_ slots: [ValueSlot]) throws(EngineError) -> [Int] {
        var order: [Int] = []
        order.reserveCapacity(slots.count)
        if let cycle = Graph.depthFirst(count: slots.count, edges: { slots[$0].reads }, finished: { order.append($0) }) {
            throw EngineError(.invalid, "derived values form a cycle: \(cycle.map { slots[$0].id }.joined(separator: " -> "))")
        }
        return order
    }

    /// ", did you mean 'x'?" for the closest known id, when one is close.
    public static func suggestion(_ id: String, _ known: [String]) -> String {
        guard let best = closest(id, known) else { return "" }
        return "; did you mean '\(best)'?"
    }

    /// The known id nearest to `id` by edit distance (a swap of two neighbours counts as one
    /// edit), if it is near enough to be a likely typo. Ids qualified by a pack (`core:speaking`)
    /// are also compared by their short form, so `speking` finds `core:speaking`.
    public static func closest(_ id: String, _ known: [String]) -> String? {
        var best: (String, Int)?
        let short = id.split(separator: ":").last.map(String.init) ?? id
        let allowed = max(1, short.count / 3)
        let length = id.unicodeScalars.count
        let shortLength = short.unicodeScalars.count
        for candidate in known {
            // Lengths that differ by more than the edits allowed cannot be close: skip the work.
            let candidateLength = candidate.unicodeScalars.count
            var distance = Int.max
            if abs(candidateLength - length) <= allowed {
                distance = editDistance(id, candidate)
            }
            if !id.contains(":"), let colon = candidate.lastIndex(of: ":") {
                let tail = String(candidate[candidate.index(after: colon)...])
                if abs(tail.unicodeScalars.count - shortLength) <= allowed {
                    distance = min(distance, editDistance(short, tail))
                }
            }
            guard distance <= allowed, distance < short.count else { continue }
            if best.map({ distance < $0.1 || (distance == $0.1 && candidate < $0.0) }) ?? true {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    /// two neighbouring characters each cost one.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

/// Whether a value is a stat, a skill or a derived value.
public enum ValueKind: String, Sendable, Hashable {
    case stat, skill, derived

    /// For messages: "stat", "skill", "derived value".
    public var noun: String { self == .derived ? "derived value" : rawValue }
}

/// One value of the ruleset as the engine stores it.
struct ValueSlot: Sendable {
    var id: String
    var kind: ValueKind
    var defaultValue: Int64 = 0
    var minimum: Int64?
    var maximum: Int64?
    var formula: DiceExpression?
    /// Slots the formula reads, in the order of its stat references.
    var reads: [Int] = []
}
