import Mechanics
import Testing

/// A small ruleset in the spirit of the game, written in Swift (packs come in ContentPacks).
enum Sample {
    static func ruleset() throws -> Ruleset {
        try Ruleset(
            stats: ["vocabulary", "grammar", "listening", "speaking", "culture"].map { Ruleset.Stat($0, default: 2, minimum: 0, maximum: 10) },
            skills: [Ruleset.Skill("haggling", default: 0, minimum: 0, maximum: 5)],
            derived: [
                Ruleset.Derived("fluency", formula: "floor((@vocabulary + @grammar) / 2)"),
                Ruleset.Derived("composure", formula: "10 + @culture + @fluency"),
            ],
            modifierTypes: [
                Ruleset.ModifierType("circumstance", stacking: .highest),
                Ruleset.ModifierType("item", stacking: .highestBonusLowestPenalty),
                Ruleset.ModifierType("status", stacking: .highestBonusLowestPenalty),
            ],
            checks: [
                Ruleset.Check("persuade-merchant", dice: "1d20", adds: ["speaking", "haggling"], tags: ["social", "market"],
                              bands: Ruleset.Check.fourDegrees,
                              naturalRules: [Ruleset.NaturalRule(when: ComparePoint(.equal, 20), .shift(1)),
                                             Ruleset.NaturalRule(when: ComparePoint(.equal, 1), .shift(-1))]),
                Ruleset.Check("eavesdrop", dice: "1d20", adds: ["listening"]),
                Ruleset.Check("debate", dice: "2d6", adds: ["fluency"], tags: ["social"]),
                Ruleset.Check("recall", dice: "(@grammar)d6", adds: [], bands: [Ruleset.Band("blank"), Ruleset.Band("remembers", from: 0)],
                              naturalRules: [Ruleset.NaturalRule(when: ComparePoint(.lessOrEqual, 2), .atMost("blank"))]),
            ],
            sources: [
                Ruleset.Source("phrasebook", kind: "item", modifiers: [.add(2, to: "vocabulary", type: "item")]),
                Ruleset.Source("dictionary", kind: "item", modifiers: [.add(1, to: "vocabulary", type: "item")]),
                Ruleset.Source("tired", kind: "condition", modifiers: [.add(-2, to: "listening", type: "status", duration: 3),
                                                                       .add(-1, to: "speaking", type: "status", duration: 3)]),
                Ruleset.Source("flustered", kind: "condition", modifiers: [.add(-3, to: "speaking", type: "status")]),
                Ruleset.Source("market-regular", kind: "feat", modifiers: [.add(2, to: "persuade-merchant", type: "circumstance", when: ["market"])]),
                Ruleset.Source("friendly-smile", kind: "feat", modifiers: [.add(1, to: "persuade-merchant", type: "circumstance")]),
                Ruleset.Source("local-accent", kind: "feat", modifiers: [.add(1, to: "speaking", when: ["market"])]),
                Ruleset.Source("lucky-charm", kind: "item", modifiers: [Ruleset.Modifier(target: "persuade-merchant", effect: .advantage)]),
                Ruleset.Source("rattled", kind: "condition", modifiers: [Ruleset.Modifier(target: "persuade-merchant", effect: .disadvantage)]),
                Ruleset.Source("tip", kind: "condition", modifiers: [.add(3, to: "persuade-merchant"), .add(2, to: "persuade-merchant")]),
            ])
    }
}

func expectError(_ code: EngineError.Code, _ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \"\(message)\"", sourceLocation: sourceLocation)
    } catch let error as EngineError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct RulesetTests {
    @Test func valuesAndDerived() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        #expect(try hero.value("vocabulary") == 2)
        #expect(try hero.value("fluency") == 2)
        #expect(try hero.value("composure") == 14)
        try hero.set("vocabulary", to: 7)
        try hero.set("grammar", to: 4)
        #expect(try hero.value("fluency") == 5)
        #expect(try hero.value("composure") == 17)
        try hero.apply("phrasebook")
        #expect(try hero.value("vocabulary") == 9)
        #expect(try hero.value("fluency") == 6)  // derived values read modified totals
        let breakdown = try hero.breakdown("fluency")
        #expect(breakdown.base == 6 && breakdown.formula == "floor((@vocabulary + @grammar) / 2)" && breakdown.kind == .derived)
        #expect(try hero.baseValue("vocabulary") == 7)
        #expect(try hero.breakdowns().map(\.id) == ["vocabulary", "grammar", "listening", "speaking", "culture", "haggling", "fluency", "composure"])
    }

    @Test func baseValuesStayInBounds() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        expectError(.invalid, "'vocabulary' cannot be 11; the maximum is 10") { try hero.set("vocabulary", to: 11) }
        expectError(.invalid, "the minimum is 0") { try hero.set("haggling", to: -1) }
        expectError(.invalid, "is a derived value") { try hero.set("fluency", to: 3) }
        expectError(.notFound, "no stat or skill 'vocabuary'; did you mean 'vocabulary'?") { try hero.set("vocabuary", to: 3) }
        expectError(.notFound, "did you mean 'speaking'") { _ = try hero.value("speking") }
        #expect(try hero.value("vocabulary") == 2)
    }

    @Test func stacking() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.apply("phrasebook")
        try hero.apply("dictionary")
        // Item bonuses: only the highest applies.
        let vocabulary = try hero.breakdown("vocabulary")
        #expect(vocabulary.total == 4)
        #expect(vocabulary.modifiers.map(\.status) == [.applied, .suppressed])
        // Status penalties: only the lowest applies.
        try hero.set("speaking", to: 5)
        try hero.apply("tired")
        try hero.apply("flustered")
        let speaking = try hero.breakdown("speaking")
        #expect(speaking.total == 2)
        #expect(speaking.modifiers.map(\.status) == [.suppressed, .applied])
        // Untyped modifiers all add.
        try hero.apply("tip")
        var dice = RNG(seed: 12345)
        let outcome = try hero.checkOutcome("persuade-merchant", dc: 0, using: &dice)
        #expect(outcome.total == outcome.natural + 2 + 0 + 5)
        // Highest-only: of two circumstance bonuses the larger counts.
        try hero.apply("friendly-smile")
        try hero.apply("market-regular")
        var rng = RNG(seed: 4)
        let result = try hero.check("persuade-merchant", dc: 15, using: &rng)
        #expect(result.modifiers.map(\.status) == [.applied, .applied, .suppressed, .applied])
        #expect(result.total == result.natural + 2 + 0 + 5 + 2)
    }

    @Test func conditionalModifiers() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.set("speaking", to: 4)
        try hero.apply("local-accent")
        #expect(try hero.value("speaking") == 4)
        #expect(try hero.value("speaking", tags: ["market"]) == 5)
        #expect(try hero.breakdown("speaking").modifiers.map(\.status) == [.inactive])
        // The check carries `market`, so the accent counts there…
        var rng = RNG(seed: 1)
        let persuade = try hero.check("persuade-merchant", dc: 10, using: &rng)
        #expect(persuade.total == persuade.natural + 5)
        #expect(persuade.contributions[0].modifiers.map(\.status) == [.applied])
        // …but not in a debate, unless the situation adds the tag.
        let speakingInDebate = try hero.value("speaking", tags: ["social"])
        #expect(speakingInDebate == 4)
    }

    @Test func durations() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.apply("tired")
        try hero.apply("flustered")
        #expect(hero.appliedSources == ["tired", "flustered"])
        #expect(try hero.advance(rounds: 2).isEmpty)
        #expect(try hero.value("listening") == 0)
        #expect(try hero.advance() == ["tired"])
        #expect(try hero.value("listening") == 2)
        #expect(hero.appliedSources == ["flustered"])
        try hero.apply("flustered", duration: 1)
        #expect(try hero.advance() == ["flustered"])
        #expect(hero.appliedSources.isEmpty)
        expectError(.invalid, "at least 1 round") { try hero.apply("tired", duration: 0) }
        expectError(.invalid, "cannot advance") { try hero.advance(rounds: -1) }
    }

    @Test func applyRemoveAndAdHoc() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.apply("phrasebook")
        try hero.apply("phrasebook")  // renews, does not stack
        #expect(try hero.value("vocabulary") == 4)
        try hero.remove("phrasebook")
        #expect(try hero.value("vocabulary") == 2)
        expectError(.notFound, "'phrasebook' is not applied") { try hero.remove("phrasebook") }
        expectError(.notFound, "no item, condition or other source 'phrasbook'; did you mean 'phrasebook'?") { try hero.apply("phrasbook") }
        try hero.add(.add(5, to: "culture"), source: "gm-ruling")
        #expect(try hero.value("culture") == 7)
        expectError(.notFound, "which is no stat, skill, derived value or check") { try hero.add(.add(1, to: "nothing"), source: "gm") }
        expectError(.notFound, "modifier type 'itme' is not declared; did you mean 'item'?") { try hero.add(.add(1, to: "culture", type: "itme"), source: "gm") }
        try hero.remove("gm-ruling")
        #expect(try hero.value("culture") == 2)
    }

    @Test func overflowIsRefusedAndNothingChanges() throws {
        let ruleset = try Ruleset(stats: [Ruleset.Stat("big", default: 0)], derived: [Ruleset.Derived("double", formula: "@big * 2")])
        var hero = CharacterSheet(ruleset: ruleset)
        try hero.set("big", to: Int64.max / 2)
        expectError(.invalid, "too large") { try hero.set("big", to: Int64.max) }
        #expect(try hero.value("big") == Int64.max / 2)
        expectError(.invalid, "too large for a 64-bit integer") { try hero.add(.add(Int64.max, to: "big"), source: "a") }
        #expect(try hero.value("big") == Int64.max / 2)
    }

    @Test func validation() {
        expectError(.invalid, "derived values form a cycle: a -> b -> c -> a") {
            _ = try Ruleset(derived: [Ruleset.Derived("a", formula: "@b"), Ruleset.Derived("b", formula: "@c + 1"), Ruleset.Derived("c", formula: "@a")])
        }
        expectError(.invalid, "rolls dice; derived values must be fixed numbers") { _ = try Ruleset(derived: [Ruleset.Derived("a", formula: "1d6")]) }
        expectError(.notFound, "formula reads '@speekin', which is no stat, skill or derived value; did you mean 'speaking'?") {
            _ = try Ruleset(stats: [Ruleset.Stat("speaking")], derived: [Ruleset.Derived("a", formula: "@speekin")])
        }
        do {
            _ = try Ruleset(derived: [Ruleset.Derived("a", formula: "2 + ")])
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.code == .syntax && error.location?.column == 5 && error.message.hasPrefix("derived value 'a': formula '2 + ':"))
        }
        expectError(.invalid, "has the id of another") { _ = try Ruleset(stats: [Ruleset.Stat("a")], skills: [Ruleset.Skill("a")]) }
        expectError(.invalid, "check 'a' has the id of a stat") { _ = try Ruleset(stats: [Ruleset.Stat("a")], checks: [Ruleset.Check("a")]) }
        expectError(.invalid, "may use only lowercase letters") { _ = try Ruleset(stats: [Ruleset.Stat("Speaking")]) }
        expectError(.invalid, "minimum 5 is above maximum 1") { _ = try Ruleset(stats: [Ruleset.Stat("a", default: 1, minimum: 5, maximum: 1)]) }
        expectError(.invalid, "default 0 is below the minimum 1") { _ = try Ruleset(stats: [Ruleset.Stat("a", minimum: 1)]) }
        expectError(.invalid, "check 'c' is declared twice") { _ = try Ruleset(checks: [Ruleset.Check("c"), Ruleset.Check("c")]) }
        expectError(.notFound, "check 'c': adds 'speking', which is no stat") {
            _ = try Ruleset(stats: [Ruleset.Stat("speaking")], checks: [Ruleset.Check("c", adds: ["speking"])])
        }
        expectError(.invalid, "band 'b' starts at -5, not above the band before it") {
            _ = try Ruleset(checks: [Ruleset.Check("c", bands: [Ruleset.Band("a"), Ruleset.Band("c", from: 0), Ruleset.Band("b", from: -5)])])
        }
        expectError(.invalid, "the first band, 'a', takes every margin") { _ = try Ruleset(checks: [Ruleset.Check("c", bands: [Ruleset.Band("a", from: 0)])]) }
        expectError(.invalid, "has no outcome bands") { _ = try Ruleset(checks: [Ruleset.Check("c", bands: [])]) }
        expectError(.notFound, "natural rule names band 'sucess', which the check does not have; did you mean 'success'?") {
            _ = try Ruleset(checks: [Ruleset.Check("c", naturalRules: [Ruleset.NaturalRule(when: ComparePoint(.equal, 20), .set("sucess"))])])
        }
        expectError(.syntax, "check 'c': dice '1d': expected the number of sides") { _ = try Ruleset(checks: [Ruleset.Check("c", dice: "1d")]) }
        expectError(.notFound, "advantage and disadvantage apply to checks") {
            _ = try Ruleset(stats: [Ruleset.Stat("a")], sources: [Ruleset.Source("s", kind: "item", modifiers: [Ruleset.Modifier(target: "a", effect: .advantage)])])
        }
        expectError(.invalid, "modifier source 's' is declared twice") {
            _ = try Ruleset(sources: [Ruleset.Source("s", kind: "item", modifiers: []), Ruleset.Source("s", kind: "item", modifiers: [])])
        }
    }
}

@Suite struct CheckTests {
    @Test func totalsMarginsAndBands() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.set("speaking", to: 4)
        try hero.set("haggling", to: 2)
        for seed in UInt64(0)..<300 {
            var rng = RNG(seed: seed)
            let result = try hero.check("persuade-merchant", dc: 15, using: &rng)
            #expect(result.total == result.natural + 6)
            #expect(result.margin == result.total - 15)
            #expect(result.contributions.map(\.id) == ["speaking", "haggling"])
            let expectedBefore = result.margin >= 10 ? 3 : result.margin >= 0 ? 2 : result.margin >= -9 ? 1 : 0
            #expect(result.bandBeforeNaturalRule == expectedBefore)
            switch result.natural {
            case 20: #expect(result.band == min(expectedBefore + 1, 3) && result.naturalRule == 0)
            case 1: #expect(result.band == max(expectedBefore - 1, 0) && result.naturalRule == 1)
            default: #expect(result.band == expectedBefore && result.naturalRule == nil)
            }
            #expect(result.bandId == Ruleset.Check.fourDegrees[result.band].id)
            // The fast path draws the same die and gives the same numbers.
            var again = RNG(seed: seed)
            let outcome = try hero.checkOutcome("persuade-merchant", dc: 15, using: &again)
            #expect(outcome == result.outcome)
            #expect(again == rng)
        }
    }

    @Test func advantage() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        for seed in UInt64(0)..<100 {
            var rng = RNG(seed: seed)
            let up = try hero.check("eavesdrop", dc: 10, advantage: 1, using: &rng)
            #expect(up.advantage == .advantage && up.rolls.count == 2 && up.natural == max(up.rolls[0].total, up.rolls[1].total))
            let down = try hero.check("eavesdrop", dc: 10, advantage: -2, using: &rng)
            #expect(down.advantage == .disadvantage && down.natural == min(down.rolls[0].total, down.rolls[1].total))
            #expect(down.rolls[down.keptRoll].total == down.natural)
        }
        // Sources grant advantage and disadvantage; together they cancel, whatever their number.
        try hero.apply("lucky-charm")
        var rng = RNG(seed: 1)
        #expect(try hero.check("persuade-merchant", dc: 10, using: &rng).advantage == .advantage)
        #expect(try hero.check("persuade-merchant", dc: 10, advantage: -1, using: &rng).advantage == .none)
        try hero.apply("rattled")
        let cancelled = try hero.check("persuade-merchant", dc: 10, advantage: 1, using: &rng)
        #expect(cancelled.advantage == .none && cancelled.rolls.count == 1)
        #expect(cancelled.modifiers.map(\.effect) == [.advantage, .disadvantage])
    }

    @Test func opposed() throws {
        var a = CharacterSheet(ruleset: try Sample.ruleset())
        var b = CharacterSheet(ruleset: try Sample.ruleset())
        try a.set("vocabulary", to: 8)
        try b.set("grammar", to: 6)
        var ties = 0
        for seed in UInt64(0)..<300 {
            var rng = RNG(seed: seed)
            let result = try a.check("debate", against: b, using: &rng)
            let opponent = try #require(result.opponent?.result)
            #expect(result.dc == nil && opponent.dc == nil)
            #expect(result.margin == result.total - opponent.total)
            #expect(opponent.margin == -result.margin)
            // This side rolls first.
            var replay = RNG(seed: seed)
            #expect(try DiceExpression("2d6").roll(using: &replay) == result.natural)
            #expect(try DiceExpression("2d6").roll(using: &replay) == opponent.natural)
            if result.margin == 0 {
                ties += 1
                #expect(result.bandId == "success")
            }
        }
        #expect(ties > 0)
    }

    @Test func diceReadValuesAndNaturalRulesCap() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.set("grammar", to: 3)
        var rng = RNG(seed: 5)
        for _ in 0..<200 {
            let result = try hero.check("recall", dc: 8, using: &rng)
            #expect(result.rolls[0].dice.count == 3)
            if result.natural <= 2 { #expect(result.bandId == "blank") }
        }
        expectError(.notFound, "no check 'persuade'") { _ = try hero.check("persuade", dc: 1, using: &rng) }
    }

    @Test func odds() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.set("listening", to: 5)
        let plain = try hero.checkOdds("eavesdrop", dc: 15)
        #expect(abs(plain.reach - 11.0 / 20) < 1e-12)
        #expect(abs(plain.bands[1].probability - 11.0 / 20) < 1e-12)
        #expect(plain.total.minimum == 6 && plain.total.maximum == 25)
        // Four degrees with natural 20 up and natural 1 down, counted face by face.
        try hero.set("speaking", to: 4)
        let odds = try hero.checkOdds("persuade-merchant", dc: 15)
        var expected = [Double](repeating: 0, count: 4)
        for face in 1...20 {
            let margin = face + 4 - 15
            var band = margin >= 10 ? 3 : margin >= 0 ? 2 : margin >= -9 ? 1 : 0
            if face == 20 { band = min(band + 1, 3) }
            if face == 1 { band = max(band - 1, 0) }
            expected[band] += 1.0 / 20
        }
        for (band, probability) in zip(odds.bands, expected) { #expect(abs(band.probability - probability) < 1e-12, "\(band.id)") }
        // Advantage: P(max of two d20 >= k) = 1 - ((k-1)/20)^2.
        let up = try hero.checkOdds("eavesdrop", dc: 15, advantage: 1)
        #expect(abs(up.reach - (1 - (9.0 / 20) * (9.0 / 20))) < 1e-12)
        // Odds agree with sampling the check (fixed seed).
        var rng = RNG(seed: 77)
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<20_000 { counts[try hero.checkOutcome("persuade-merchant", dc: 15, using: &rng).band] += 1 }
        for (count, band) in zip(counts, odds.bands) { #expect(abs(Double(count) / 20_000 - band.probability) < 0.015) }
    }

    @Test func opposedOdds() throws {
        let a = CharacterSheet(ruleset: try Sample.ruleset())
        let b = CharacterSheet(ruleset: try Sample.ruleset())
        let odds = try a.checkOdds("debate", against: b)
        // Equal sides: 2d6 - 2d6 >= 0 has probability (1 + P(tie)) / 2 = (1 + 146/1296) / 2.
        #expect(abs(odds.reach - (1 + 146.0 / 1296) / 2) < 1e-12)
        #expect(abs(odds.bands.map(\.probability).reduce(0, +) - 1) < 1e-12)
        #expect(odds.margin.minimum == -10 && odds.margin.maximum == 10)
    }

    @Test func json() throws {
        var hero = CharacterSheet(ruleset: try Sample.ruleset())
        try hero.apply("phrasebook")
        try hero.apply("friendly-smile")
        var rng = RNG(seed: 3)
        let text = try hero.check("persuade-merchant", dc: 12, using: &rng).json
        #expect(text.hasPrefix("{\"check\":\"persuade-merchant\",\"dc\":12,\"advantage\":\"none\",\"total\":"))
        #expect(text.contains("\"contributions\":[{\"id\":\"speaking\",\"kind\":\"stat\",\"base\":2,\"total\":2,\"modifiers\":[]}"))
        #expect(text.contains("\"modifiers\":[{\"source\":\"friendly-smile\",\"type\":\"circumstance\",\"value\":1,\"status\":\"applied\",\"when\":[],\"remaining\":null}]"))
        let odds = try hero.checkOdds("persuade-merchant", dc: 12).json
        #expect(odds.hasPrefix("{\"check\":\"persuade-merchant\",\"dc\":12,\"advantage\":\"none\",\"bands\":[{\"id\":\"critical-failure\",\"probability\":"))
    }
}
