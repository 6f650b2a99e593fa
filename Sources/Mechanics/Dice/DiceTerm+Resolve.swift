extension DiceTerm {
    /// Resolves the term for a known count and number of sides (nil for Fudge dice) and checks
    /// what can only be checked then: a reroll or an explosion that can never stop, a clamp whose
    /// bounds cross. Called once at compile time for fixed terms, at roll time for dynamic ones.
    func resolve(count: Int, sides: Int64?, limits: Limits) throws(EngineError) -> ResolvedDice {
        let at = TextLocation(column: column)
        guard count >= 0 else {
            throw EngineError(.invalid, "cannot roll \(count) dice", at: at)
        }
        guard count <= limits.maxDice else {
            throw EngineError(.limit, "\(count) dice in one term; the limit maxDice is \(limits.maxDice)", at: at)
        }
        let low: Int64
        let high: Int64
        let label: String
        if let sides {
            guard sides >= 1 else { throw EngineError(.invalid, "a die needs at least 1 side, not \(sides)", at: at) }
            guard sides <= Int64(limits.maxSides) else {
                throw EngineError(.limit, "d\(sides) has more sides than the limit maxSides, \(limits.maxSides)", at: at)
            }
            low = 1
            high = sides
            if case .percent = self.sides { label = "d%" } else { label = "d\(sides)" }
        } else {
            low = -1
            high = 1
            label = "dF"
        }
        let m = modifiers
        if m.isEmpty {
            return ResolvedDice(
                column: column, count: count, low: low, high: high, fudge: sides == nil, label: label,
                reroll: nil, rerollOnce: false, maxRerolls: 0, explosion: nil, explodeOn: FaceSet(points: []),
                cap: 0, clampMin: nil, clampMax: nil, keep: [], scoring: nil, double: nil, isPlain: true)
        }
        if let clampMin = m.clampMin, let clampMax = m.clampMax, clampMin > clampMax {
            throw EngineError(.invalid, "'min\(clampMin)' is above 'max\(clampMax)'", at: at)
        }
        let reroll = m.reroll?.resolved(low: low, high: high)
        if let reroll, !m.rerollOnce, reroll.containsAll(low, high) {
            throw EngineError(.invalid, "'r\(reroll.description)' rerolls every face of a \(label), so it never stops; use 'ro' to reroll once", at: at)
        }
        let explodeOn = (m.explodeOn ?? .highest).resolved(low: low, high: high)
        if let kind = m.explosion, m.cap == nil {
            // An explosion sees the faces that survive rerolls: with `r`, those outside the set.
            var stopping = explodeOn.points
            if let reroll, !m.rerollOnce { stopping += reroll.points }
            if FaceSet(points: stopping).containsAll(low, high) {
                throw EngineError(.invalid, "'\(kind.rawValue)' explodes on every face of a \(label) that can come up, so it never stops; add a cap such as 'cap3'", at: at)
            }
        }
        let double = m.scoring?.double?.resolved(low: low, high: high)
        let dice = ResolvedDice(
            column: column, count: count, low: low, high: high, fudge: sides == nil, label: label,
            reroll: reroll, rerollOnce: m.rerollOnce, maxRerolls: m.rerollOnce ? 1 : limits.maxRerolls,
            explosion: m.explosion, explodeOn: explodeOn, cap: m.cap ?? limits.maxExplosions,
            clampMin: m.clampMin, clampMax: m.clampMax, keep: m.keep, scoring: m.scoring, double: double,
            isPlain: m.isEmpty)
        if high - low >= 64 {
            for set in [reroll, explodeOn, double].compactMap({ $0 }) where set.points.count > FacePredicate.maxPoints {
                throw EngineError(.limit, "more than \(FacePredicate.maxPoints) compare points in one set of faces", at: at)
            }
        }
        guard m.keep.count <= KeepRules.maxRules else {
            throw EngineError(.limit, "more than \(KeepRules.maxRules) keep/drop rules on one term", at: at)
        }
        return dice
    }
}
