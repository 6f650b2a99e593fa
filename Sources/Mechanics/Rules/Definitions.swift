extension Ruleset {
    /// A stat: a base value the player sets within its bounds.
    public struct Stat: Sendable, Hashable {
        public var id: String
        public var defaultValue: Int64
        public var minimum: Int64?
        public var maximum: Int64?

        public init(_ id: String, default defaultValue: Int64 = 0, minimum: Int64? = nil, maximum: Int64? = nil) {
            self.id = id
            self.defaultValue = defaultValue
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// A skill: like a stat, a base value (a rank) the player sets within its bounds.
    public typealias Skill = Stat

    /// A value computed by a formula in the dice language that reads other values with `@id`
    /// and rolls no dice, such as `floor(@vocabulary / 2) + 1`.
    public struct Derived: Sendable, Hashable {
        public var id: String
        public var formula: String

        public init(_ id: String, formula: String) {
            self.id = id
            self.formula = formula
        }
    }

    /// How modifiers of one type combine on one target.
    public enum Stacking: String, Sendable, Hashable, CaseIterable {
        /// Every modifier of the type adds.
        case sum
        /// Only the single highest modifier of the type applies.
        case highest
        /// The highest bonus and the lowest (most negative) penalty of the type apply, as in
        /// Pathfinder 2e.
        case highestBonusLowestPenalty = "highest-bonus-lowest-penalty"
    }

    /// A kind of modifier (circumstance, item, status…) and how several of it stack. A modifier
    /// without a type stacks by ``Stacking/sum``.
    public struct ModifierType: Sendable, Hashable {
        public var id: String
        public var stacking: Stacking

        public init(_ id: String, stacking: Stacking) {
            self.id = id
            self.stacking = stacking
        }
    }

    /// A modifier: a number added to a value or a check, or advantage or disadvantage on a check;
    /// of a type (for stacking), perhaps only while a check carries certain tags, perhaps for a
    /// number of rounds.
    public struct Modifier: Sendable, Hashable {
        public enum Effect: Sendable, Hashable {
            case add(Int64)
            case advantage
            case disadvantage
        }

        /// A stat, skill or derived value id, or a check id.
        public var target: String
        public var effect: Effect
        /// A modifier type id; nil stacks by sum.
        public var type: String?
        /// The modifier applies only to checks that carry every one of these tags.
        public var when: Set<String>
        /// Rounds the modifier lasts once applied; nil lasts until removed.
        public var duration: Int?

        public init(target: String, effect: Effect, type: String? = nil, when: Set<String> = [], duration: Int? = nil) {
            self.target = target
            self.effect = effect
            self.type = type
            self.when = when
            self.duration = duration
        }

        /// `value` added to `target`.
        public static func add(_ value: Int64, to target: String, type: String? = nil, when: Set<String> = [], duration: Int? = nil) -> Modifier {
            Modifier(target: target, effect: .add(value), type: type, when: when, duration: duration)
        }

        /// The bonus (or penalty) this modifier adds; 0 for advantage and disadvantage.
        public var value: Int64 {
            if case .add(let value) = effect { return value }
            return 0
        }
    }

    /// Something that carries modifiers: an item, a condition, a feat, a spell…
    public struct Source: Sendable, Hashable {
        public var id: String
        /// What kind of thing it is (`item`, `condition`, `feat`…), for people and filters.
        public var kind: String
        public var modifiers: [Modifier]

        public init(_ id: String, kind: String, modifiers: [Modifier]) {
            self.id = id
            self.kind = kind
            self.modifiers = modifiers
        }
    }

    /// A check: dice (such as `1d20`), the values that add to them, outcome bands by margin over
    /// the difficulty, and rules for natural rolls.
    public struct Check: Sendable, Hashable {
        public var id: String
        /// The dice in the dice language; they may read values with `@id`.
        public var dice: String
        /// Values (stats, skills, derived) whose totals add to the roll.
        public var adds: [String]
        /// Tags of the check; modifiers with `when` tags apply only to checks carrying them.
        public var tags: Set<String>
        /// Outcome bands from worst to best; each but the first starts at a margin (total minus
        /// difficulty) and runs up to the next band's start.
        public var bands: [Band]
        /// Rules for natural rolls, tried in order; the first that matches applies.
        public var naturalRules: [NaturalRule]

        public init(_ id: String, dice: String = "1d20", adds: [String] = [], tags: Set<String> = [], bands: [Band] = Check.passFail, naturalRules: [NaturalRule] = []) {
            self.id = id
            self.dice = dice
            self.adds = adds
            self.tags = tags
            self.bands = bands
            self.naturalRules = naturalRules
        }

        /// Failure below the difficulty, success from it.
        public static let passFail = [Band("failure"), Band("success", from: 0)]

        /// Four degrees as in Pathfinder 2e: critical failure 10 or more below, failure below,
        /// success from the difficulty, critical success 10 or more above.
        public static let fourDegrees = [Band("critical-failure"), Band("failure", from: -9), Band("success", from: 0), Band("critical-success", from: 10)]
    }

    /// An outcome band: where it starts, as a margin over the difficulty (nil for the lowest band).
    public struct Band: Sendable, Hashable {
        public var id: String
        public var from: Int64?

        public init(_ id: String, from: Int64? = nil) {
            self.id = id
            self.from = from
        }
    }

    /// A natural-roll rule: when the check's dice (before anything adds) meet `when`, the
    /// outcome changes.
    public struct NaturalRule: Sendable, Hashable {
        public enum Effect: Sendable, Hashable {
            /// Moves the outcome by this many bands (up when positive), within the bands.
            case shift(Int)
            /// Makes the outcome this band.
            case set(String)
            /// Raises the outcome to at least this band.
            case atLeast(String)
            /// Lowers the outcome to at most this band.
            case atMost(String)
        }

        public var when: ComparePoint
        public var effect: Effect

        public init(when: ComparePoint, _ effect: Effect) {
            self.when = when
            self.effect = effect
        }
    }
}

/// A check with its dice compiled and its references resolved to slots. A class: a check reads
/// it on every roll, and one reference costs less than copying its arrays.
final class CompiledCheck: Sendable {
    let dice: DiceExpression
    /// Slots the dice read, in the order of their stat references.
    let diceReads: [Int]
    let adds: [Int]
    /// Band starts (margins), ascending; the first band starts at -infinity.
    let starts: [Int64]
    /// Natural rules with band ids resolved to indices.
    let rules: [(when: ComparePoint, effect: ResolvedEffect)]

    enum ResolvedEffect: Sendable {
        case shift(Int)
        case set(Int)
        case atLeast(Int)
        case atMost(Int)
    }

    init(_ check: Ruleset.Check, values: IdIndex, limits: Limits) throws(EngineError) {
        let context = "check '\(check.id)'"
        do {
            dice = try DiceExpression(check.dice, limits: limits)
        } catch {
            throw EngineError(error.code, "\(context): dice '\(check.dice)': \(error.message)", at: error.location)
        }
        var reads: [Int] = []
        for reference in dice.statReferences {
            guard let slot = values.find(reference) else {
                throw EngineError(.notFound, "\(context): dice read '@\(reference)', which is no stat, skill or derived value\(Ruleset.suggestion(reference, values.keys))")
            }
            reads.append(slot)
        }
        diceReads = reads
        var adds: [Int] = []
        for id in check.adds {
            guard let slot = values.find(id) else {
                throw EngineError(.notFound, "\(context): adds '\(id)', which is no stat, skill or derived value\(Ruleset.suggestion(id, values.keys))")
            }
            adds.append(slot)
        }
        self.adds = adds
        guard !check.bands.isEmpty else { throw EngineError(.invalid, "\(context) has no outcome bands") }
        var starts: [Int64] = []
        var bandIndex: [String: Int] = [:]
        for (position, band) in check.bands.enumerated() {
            try Ruleset.checkId(band.id, "outcome band")
            guard bandIndex[band.id] == nil else { throw EngineError(.invalid, "\(context): band '\(band.id)' appears twice") }
            bandIndex[band.id] = position
            if position == 0 {
                guard band.from == nil else { throw EngineError(.invalid, "\(context): the first band, '\(band.id)', takes every margin below the next and has no start") }
                starts.append(Int64.min)
            } else {
                guard let from = band.from else { throw EngineError(.invalid, "\(context): band '\(band.id)' needs the margin it starts at") }
                guard from > starts[position - 1] else {
                    throw EngineError(.invalid, "\(context): band '\(band.id)' starts at \(from), not above the band before it")
                }
                starts.append(from)
            }
        }
        self.starts = starts
        var rules: [(ComparePoint, ResolvedEffect)] = []
        for rule in check.naturalRules {
            func band(_ id: String) throws(EngineError) -> Int {
                guard let index = bandIndex[id] else {
                    throw EngineError(.notFound, "\(context): natural rule names band '\(id)', which the check does not have\(Ruleset.suggestion(id, Array(bandIndex.keys)))")
                }
                return index
            }
            switch rule.effect {
            case .shift(let n): rules.append((rule.when, .shift(n)))
            case .set(let id): rules.append((rule.when, .set(try band(id))))
            case .atLeast(let id): rules.append((rule.when, .atLeast(try band(id))))
            case .atMost(let id): rules.append((rule.when, .atMost(try band(id))))
            }
        }
        self.rules = rules
    }

    /// The band of a margin before natural rules.
    @inline(__always)
    func band(forMargin margin: Int64) -> Int {
        var band = 0
        for index in 1..<starts.count where margin >= starts[index] { band = index }
        return band
    }

    /// The band after the first natural rule that matches, and which rule it was.
    @inline(__always)
    func applyNaturalRules(_ band: Int, natural: Int64) -> (band: Int, rule: Int?) {
        for (index, rule) in rules.enumerated() where rule.when.matches(natural) {
            let last = starts.count - 1
            switch rule.effect {
            case .shift(let n): return (min(max(band + n, 0), last), index)
            case .set(let target): return (target, index)
            case .atLeast(let target): return (max(band, target), index)
            case .atMost(let target): return (min(band, target), index)
            }
        }
        return (band, nil)
    }
}
