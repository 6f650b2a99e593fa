/// The exact odds of a check: the distribution of its total and the probability of each outcome
/// band, natural rules included.
public struct CheckOdds: Sendable {
    public struct BandOdds: Sendable, Hashable {
        public var id: String
        public var probability: Double
    }

    public var check: String
    /// The difficulty, or nil for an opposed check.
    public var dc: Int64?
    public var advantage: Advantage
    /// The distribution of the check's total.
    public var total: Distribution
    /// The distribution of the margin (total minus difficulty or opposing total).
    public var margin: Distribution
    /// Every band, worst first, with its probability.
    public var bands: [BandOdds]
    /// The probability of a margin of 0 or more: reaching the difficulty (or tying or beating the
    /// opponent), before natural rules.
    public var reach: Double
}

extension CharacterSheet {
    /// The exact odds of a check against a difficulty.
    public func checkOdds(_ id: String, dc: Int64, advantage: Int = 0, tags: Set<String> = []) throws(EngineError) -> CheckOdds {
        let context = try prepare(id, advantage: advantage, tags: tags)
        return try odds(context, against: .point(dc), dc: dc)
    }

    /// The exact odds of an opposed check against another character.
    public func checkOdds(_ id: String, against opponent: CharacterSheet, opposingCheck: String? = nil, advantage: Int = 0,
                          opposingAdvantage: Int = 0, tags: Set<String> = []) throws(EngineError) -> CheckOdds {
        let context = try prepare(id, advantage: advantage, tags: tags)
        let other = try opponent.prepare(opposingCheck ?? id, advantage: opposingAdvantage, tags: tags)
        let opposing = try opponent.naturalPMF(other)
        var engine = OddsEngine(limits: other.compiled.dice.limits, stats: [])
        let opposingTotal = try engine.convolve(opposing, .point(other.constant))
        return try odds(context, against: opposingTotal, dc: nil)
    }

    /// The distribution of the check's dice, under advantage or disadvantage.
    func naturalPMF(_ context: CheckContext) throws(EngineError) -> PMF {
        let dice = context.compiled.dice
        var engine = OddsEngine(limits: dice.limits, stats: context.diceStats)
        let single = try engine.pmf(dice.syntax)
        switch context.advantage {
        case .none: return single
        case .advantage: return try engine.extremum([single, single], isMax: true)
        case .disadvantage: return try engine.extremum([single, single], isMax: false)
        }
    }

    func odds(_ context: CheckContext, against: PMF, dc: Int64?) throws(EngineError) -> CheckOdds {
        let check = ruleset.checks[context.position]
        let natural = try naturalPMF(context)
        var engine = OddsEngine(limits: context.compiled.dice.limits, stats: [])
        let total = try engine.convolve(natural, .point(context.constant))
        let margin = try engine.convolve(total, try engine.negate(against, column: 0))
        try engine.spend(natural.count * against.count, "check '\(check.id)'")
        // Compensated sums: many small products add up to a band without drifting.
        var bands = [Double](repeating: 0, count: check.bands.count)
        var compensation = [Double](repeating: 0, count: check.bands.count)
        for n in natural.nonZero {
            let (value, overflowed) = n.value.addingReportingOverflow(context.constant)
            guard !overflowed else { throw EngineError(.invalid, "check '\(check.id)': the total is beyond a 64-bit integer") }
            for t in against.nonZero {
                let (m, overflowed) = value.subtractingReportingOverflow(t.value)
                guard !overflowed else { throw EngineError(.invalid, "check '\(check.id)': the margin is beyond a 64-bit integer") }
                let band = context.compiled.applyNaturalRules(context.compiled.band(forMargin: m), natural: n.value).band
                let x = n.probability * t.probability
                let sum = bands[band] + x
                compensation[band] += abs(bands[band]) >= abs(x) ? (bands[band] - sum) + x : (x - sum) + bands[band]
                bands[band] = sum
            }
        }
        return CheckOdds(
            check: check.id, dc: dc, advantage: context.advantage, total: total.distribution, margin: margin.distribution,
            bands: check.bands.indices.map { CheckOdds.BandOdds(id: check.bands[$0].id, probability: min(bands[$0] + compensation[$0], 1)) },
            reach: margin.distribution.probability(atLeast: 0))
    }
}
