/// Advantage rolls a check's dice twice and keeps the higher; disadvantage keeps the lower. Any
/// source of each cancels out to neither.
public enum Advantage: String, Sendable, Hashable {
    case none, advantage, disadvantage
}

/// The numbers of a check without its breakdown: what the fast path returns.
public struct CheckOutcome: Sendable, Hashable {
    public var total: Int64
    /// What the check's dice showed (the kept roll under advantage or disadvantage).
    public var natural: Int64
    /// Total minus the difficulty (or the opposing total).
    public var margin: Int64
    /// Index of the outcome band, 0 the worst.
    public var band: Int
}

/// A check resolved in full: the rolls, what added to them, the outcome band and why.
public struct CheckResult: Sendable {
    public var check: String
    /// The difficulty, or nil for an opposed check.
    public var dc: Int64?
    /// The opposing side of an opposed check.
    public var opponent: Opponent?
    public var advantage: Advantage
    /// The dice rolls: one, or two under advantage or disadvantage.
    public var rolls: [Roll]
    /// Which of `rolls` counts.
    public var keptRoll: Int
    public var natural: Int64
    /// Each value the check adds, with its breakdown.
    public var contributions: [ValueBreakdown]
    /// Modifiers on the check itself (bonuses, advantage, disadvantage).
    public var modifiers: [ModifierLine]
    public var total: Int64
    public var margin: Int64
    public var band: Int
    public var bandId: String
    /// The band the margin gave before a natural rule changed it.
    public var bandBeforeNaturalRule: Int
    /// Index of the natural rule that applied, if one did.
    public var naturalRule: Int?

    /// The opposing side's result (a class so a result can hold another).
    public final class Opponent: Sendable {
        public let result: CheckResult
        init(_ result: CheckResult) { self.result = result }
    }

    public var outcome: CheckOutcome { CheckOutcome(total: total, natural: natural, margin: margin, band: band) }
}

extension CharacterSheet {
    /// Rolls a check against a difficulty. `advantage` is positive for advantage, negative for
    /// disadvantage; modifiers on the check may add either, and both together cancel. `tags` add
    /// to the check's own for this roll (a situation: `market`, `night`).
    public func check(_ id: String, dc: Int64, advantage: Int = 0, tags: Set<String> = [], using rng: inout RNG) throws(EngineError) -> CheckResult {
        let context = try prepare(id, advantage: advantage, tags: tags)
        return try resolve(context, against: .dc(dc), using: &rng)
    }

    /// Rolls an opposed check: this character's check against the opponent's (the same check
    /// unless `opposingCheck` names another). This side rolls first. A tie is a margin of 0.
    public func check(_ id: String, against opponent: CharacterSheet, opposingCheck: String? = nil, advantage: Int = 0,
                      opposingAdvantage: Int = 0, tags: Set<String> = [], using rng: inout RNG) throws(EngineError) -> CheckResult {
        let context = try prepare(id, advantage: advantage, tags: tags)
        let other = try opponent.prepare(opposingCheck ?? id, advantage: opposingAdvantage, tags: tags)
        return try resolve(context, against: .opponent(opponent, other), using: &rng)
    }

    /// The fast path of ``check(_:dc:advantage:tags:using:)``: the same dice, the same numbers,
    /// no breakdown.
    public func checkOutcome(_ id: String, dc: Int64, advantage: Int = 0, tags: Set<String> = [], using rng: inout RNG) throws(EngineError) -> CheckOutcome {
        let context = try prepare(id, advantage: advantage, tags: tags)
        let natural = try rollNatural(context, using: &rng)
        let total = try add(natural, context.constant, id)
        let (margin, overflowed) = total.subtractingReportingOverflow(dc)
        guard !overflowed else { throw EngineError(.invalid, "check '\(id)': the margin is beyond a 64-bit integer") }
        let band = context.compiled.applyNaturalRules(context.compiled.band(forMargin: margin), natural: natural).band
        return CheckOutcome(total: total, natural: natural, margin: margin, band: band)
    }

    // MARK: - Resolution

    /// Everything about a check that does not depend on the dice.
    struct CheckContext {
        var position: Int
        var compiled: CompiledCheck
        var tags: Set<String>
        var values: [Int64]
        var advantage: Advantage
        /// What the adds and the check's own modifiers add up to.
        var constant: Int64
        var diceStats: [Int64]
    }

    enum Opposition {
        case dc(Int64)
        case opponent(CharacterSheet, CheckContext)
    }

    func prepare(_ id: String, advantage: Int, tags extra: Set<String>) throws(EngineError) -> CheckContext {
        let position = try ruleset.checkPosition(id)
        let compiled = ruleset.compiledChecks[position]
        let tags = extra.isEmpty ? ruleset.checks[position].tags : ruleset.checks[position].tags.union(extra)
        let values = hasConditional && conditionalApplies(tags) ? try computeTotals(tags: tags) : totals
        var hasAdvantage = advantage > 0
        var hasDisadvantage = advantage < 0
        for index in byCheck[position] where !stackable[index].adds && applies(index, tags: tags) {
            switch active[index].modifier.effect {
            case .advantage: hasAdvantage = true
            case .disadvantage: hasDisadvantage = true
            case .add: break
            }
        }
        let state: Advantage = hasAdvantage == hasDisadvantage ? .none : (hasAdvantage ? .advantage : .disadvantage)
        var constant = try stackedTotal(byCheck[position], tags: tags)
        for slot in compiled.adds { constant = try add(constant, values[slot], id) }
        let diceStats = compiled.diceReads.isEmpty ? [] : compiled.diceReads.map { values[$0] }
        return CheckContext(position: position, compiled: compiled, tags: tags, values: values, advantage: state, constant: constant, diceStats: diceStats)
    }

    /// Whether a conditional modifier on a value applies under these tags (then values must be
    /// recomputed; conditional modifiers on the check itself are stacked with the tags anyway).
    func conditionalApplies(_ tags: Set<String>) -> Bool {
        for slotModifiers in byValue {
            for index in slotModifiers where !active[index].modifier.when.isEmpty && active[index].modifier.when.isSubset(of: tags) {
                return true
            }
        }
        return false
    }

    /// The check's dice: once, or twice keeping the higher (advantage) or lower (disadvantage).
    func rollNatural(_ context: CheckContext, using rng: inout RNG) throws(EngineError) -> Int64 {
        let dice = context.compiled.dice
        let first = context.diceStats.isEmpty ? try dice.roll(using: &rng) : try dice.roll(using: &rng, statValues: context.diceStats)
        guard context.advantage != .none else { return first }
        let second = context.diceStats.isEmpty ? try dice.roll(using: &rng) : try dice.roll(using: &rng, statValues: context.diceStats)
        return context.advantage == .advantage ? max(first, second) : min(first, second)
    }

    func rollsDetailed(_ context: CheckContext, using rng: inout RNG) throws(EngineError) -> (rolls: [Roll], kept: Int) {
        let dice = context.compiled.dice
        let first = try dice.rollDetailed(using: &rng, statValues: context.diceStats)
        guard context.advantage != .none else { return ([first], 0) }
        let second = try dice.rollDetailed(using: &rng, statValues: context.diceStats)
        let keepSecond = context.advantage == .advantage ? second.total > first.total : second.total < first.total
        return ([first, second], keepSecond ? 1 : 0)
    }

    func resolve(_ context: CheckContext, against opposition: Opposition, using rng: inout RNG) throws(EngineError) -> CheckResult {
        let check = ruleset.checks[context.position]
        let (rolls, kept) = try rollsDetailed(context, using: &rng)
        let natural = rolls[kept].total
        let total = try add(natural, context.constant, check.id)
        var dc: Int64?
        var opponentResult: CheckResult?
        let against: Int64
        switch opposition {
        case .dc(let value):
            dc = value
            against = value
        case .opponent(let character, let otherContext):
            // The opponent rolls after this side; its margin is over this side's total.
            var result = try character.resolve(otherContext, against: .dc(total), using: &rng)
            result.dc = nil
            opponentResult = result
            against = result.total
        }
        let (margin, overflowed) = total.subtractingReportingOverflow(against)
        guard !overflowed else { throw EngineError(.invalid, "check '\(check.id)': the margin is beyond a 64-bit integer") }
        let before = context.compiled.band(forMargin: margin)
        let (band, rule) = context.compiled.applyNaturalRules(before, natural: natural)
        var contributions: [ValueBreakdown] = []
        for slot in context.compiled.adds {
            contributions.append(try breakdown(slot: slot, values: context.values, tags: context.tags))
        }
        let (_, status) = try stack(byCheck[context.position], tags: context.tags)
        return CheckResult(
            check: check.id, dc: dc, opponent: opponentResult.map(CheckResult.Opponent.init), advantage: context.advantage,
            rolls: rolls, keptRoll: kept, natural: natural, contributions: contributions, modifiers: lines(byCheck[context.position], status),
            total: total, margin: margin, band: band, bandId: check.bands[band].id, bandBeforeNaturalRule: before, naturalRule: rule)
    }

    @inline(__always)
    func add(_ a: Int64, _ b: Int64, _ check: String) throws(EngineError) -> Int64 {
        let (sum, overflowed) = a.addingReportingOverflow(b)
        guard !overflowed else { throw EngineError(.invalid, "check '\(check)': the total is beyond a 64-bit integer") }
        return sum
    }
}
