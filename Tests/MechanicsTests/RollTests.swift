import Mechanics
import Testing

@Suite struct RollTests {
    static let expressions = [
        "1d20", "4d6kh3", "1d20+5", "3d6", "8d6!kh3", "6d10dh2dl2", "10d10>=8", "10d10>=8dbl10f1", "2d20kh1+5",
        "{2d6, 1d8+2}kh1", "1d6!!", "1d6!p", "4dF", "d%", "1d6r<3", "1d6ro1", "4d6min2max5", "(1d4)d6", "1d(1d6)",
        "max(1d6,1d6)", "abs(1d6-1d6)", "1d6*1d6", "20/1d6", "{1d20,1d20,1d20}>=10", "3d6!>=5cap2kl2", "10d6!r1",
        "{4d6kh3, 4d6kh3, 4d6kh3}dl1", "2d10!>=9>=8f1", "5d8!kl2", "-2d4", "ceil(3d6/2)", "round(1d100/3)",
    ]

    /// The traced roll and the bare total draw the same dice: same totals, same generator state.
    @Test(arguments: expressions)
    func tracedAndBareRollsAgree(_ source: String) throws {
        let expression = try DiceExpression(source)
        for seed in UInt64(0)..<200 {
            var bare = RNG(seed: seed)
            var traced = RNG(seed: seed)
            let total = try expression.roll(using: &bare)
            let roll = try expression.rollDetailed(using: &traced)
            #expect(total == roll.total, "\(source) seed \(seed)")
            #expect(bare == traced, "\(source) seed \(seed)")
        }
    }

    /// Plain NdM agrees with the independent reference (Tests/Fixtures/reference_rng.py).
    @Test func plainDiceAgreeWithTheReference() throws {
        for (seed, count, sides) in [(UInt64(42), 4, 6), (7, 3, 20), (2026, 10, 10), (1, 1, 1_000_000), (UInt64.max, 2, 100)] {
            let expected = try Reference.run(["sum", String(seed), String(count), String(sides), "50"])
            let expression = try DiceExpression("\(count)d\(sides)")
            var rng = RNG(seed: seed)
            let totals = try (0..<50).map { _ in UInt64(try expression.roll(using: &rng)) }
            #expect(totals == expected)
        }
    }

    /// Golden rolls: pinned once, never edited (users replay rolls from them).
    @Test func goldenRolls() throws {
        var rng = RNG(seed: 42)
        let roll = try DiceExpression("4d6kh3").rollDetailed(using: &rng)
        #expect(roll.total == 14)
        #expect(roll.dice.map(\.faces) == [[1], [3], [5], [6]])
        #expect(roll.dice.map(\.kept) == [false, true, true, true])
        rng = RNG(seed: 42)
        #expect(try DiceExpression("1d20+5").roll(using: &rng) == 7)
        rng = RNG(seed: 42)
        #expect(try DiceExpression("10d10>=8").roll(using: &rng) == 6)
    }

    /// Dice draw left to right; an explosion's extra dice are drawn before the next die.
    @Test func drawOrder() throws {
        for seed in UInt64(0)..<300 {
            var raw = RNG(seed: seed)
            var rng = RNG(seed: seed)
            let roll = try DiceExpression("3d6!").rollDetailed(using: &rng)
            let drawn = roll.dice.flatMap(\.faces)
            #expect(drawn == drawn.map { _ in Int64(raw.die(6)) }, "seed \(seed)")
            #expect(raw == rng)
            // Each explosion follows the die that set it off.
            for (index, die) in roll.dice.enumerated() where die.exploded {
                #expect(die.faces == [6])
                #expect(roll.dice[index + 1].fromExplosion)
            }
            #expect(roll.dice.filter { !$0.fromExplosion }.count == 3)
        }
        // Rerolls draw immediately after the face they discard.
        for seed in UInt64(0)..<100 {
            var raw = RNG(seed: seed)
            var rng = RNG(seed: seed)
            let roll = try DiceExpression("4d6r<3").rollDetailed(using: &rng)
            for die in roll.dice {
                for face in die.rerolled { #expect(face == Int64(raw.die(6)) && face < 3) }
                #expect(die.faces == [Int64(raw.die(6))])
                #expect(die.faces[0] >= 3)
            }
        }
    }

    @Test func keepAndDrop() throws {
        for (source, kept) in [("4d6kh3", 3), ("4d6kl1", 1), ("6d10dh2dl2", 2), ("5d6dl1", 4), ("5d6dh4", 1), ("3d6kh5", 3), ("4d6kh3dl1", 2), ("4d6k", 1)] {
            let expression = try DiceExpression(source)
            var rng = RNG(seed: 3)
            for _ in 0..<200 {
                let roll = try expression.rollDetailed(using: &rng)
                let keptDice = roll.dice.filter(\.kept)
                #expect(keptDice.count == kept, "\(source)")
                #expect(roll.total == keptDice.reduce(0) { $0 + $1.value })
                let sorted = roll.dice.map(\.value).sorted()
                let values = keptDice.map(\.value).sorted()
                // Kept values form one contiguous window of the sorted pool.
                #expect(sorted.indices.contains { start in start + values.count <= sorted.count && Array(sorted[start..<(start + values.count)]) == values })
            }
        }
        var rng = RNG(seed: 5)
        for _ in 0..<200 {
            let roll = try DiceExpression("6d10dh2dl2").rollDetailed(using: &rng)
            let sorted = roll.dice.map(\.value).sorted()
            #expect(roll.total == sorted[2] + sorted[3])
        }
    }

    @Test func successCounting() throws {
        var rng = RNG(seed: 11)
        for _ in 0..<300 {
            let roll = try DiceExpression("10d10>=8dbl10f1").rollDetailed(using: &rng)
            let expected = roll.dice.reduce(Int64(0)) { total, die in
                total + (die.value >= 8 ? (die.value == 10 ? 2 : 1) : 0) - (die.value == 1 ? 1 : 0)
            }
            #expect(roll.total == expected)
            for die in roll.dice {
                #expect(die.successes == (die.value >= 8 ? (die.value == 10 ? 2 : 1) : 0))
                #expect(die.failure == (die.value == 1))
            }
            let plain = try DiceExpression("6d6>4").rollDetailed(using: &rng)
            #expect(plain.total == Int64(plain.dice.filter { $0.value > 4 }.count))
            let kept = try DiceExpression("6d6kh3>=5").rollDetailed(using: &rng)
            #expect(kept.total == Int64(kept.dice.filter { $0.kept && $0.value >= 5 }.count))
            #expect(kept.dice.filter { !$0.kept }.allSatisfy { $0.successes == 0 })
        }
    }

    @Test func explosions() throws {
        var rng = RNG(seed: 17)
        for _ in 0..<300 {
            let compound = try DiceExpression("2d6!!").rollDetailed(using: &rng)
            #expect(compound.dice.count == 2)
            for die in compound.dice {
                #expect(die.value == die.faces.reduce(0, +))
                #expect(die.faces.dropLast().allSatisfy { $0 == 6 } && die.faces.last != 6)
                #expect(die.exploded == (die.faces.count > 1))
            }
            let penetrate = try DiceExpression("2d6!p").rollDetailed(using: &rng)
            for die in penetrate.dice {
                #expect(die.value == die.faces.reduce(0, +) - Int64(die.faces.count - 1))
            }
            let threshold = try DiceExpression("3d6!>=5cap2").rollDetailed(using: &rng)
            var chain = 0
            for die in threshold.dice {
                chain = die.fromExplosion ? chain + 1 : 0
                #expect(chain <= 2)
                #expect(die.exploded == (die.value >= 5 && chain < 2))
            }
        }
    }

    @Test func clampAndFudge() throws {
        var rng = RNG(seed: 23)
        for _ in 0..<300 {
            let clamp = try DiceExpression("4d6min2max5").rollDetailed(using: &rng)
            for die in clamp.dice {
                #expect(die.value == min(max(die.faces[0], 2), 5))
            }
            let fudge = try DiceExpression("4dF").rollDetailed(using: &rng)
            #expect(fudge.dice.allSatisfy { (-1...1).contains($0.value) && $0.label == "dF" })
            #expect((-4...4).contains(fudge.total))
        }
        var percent = RNG(seed: 1)
        let roll = try DiceExpression("d%").rollDetailed(using: &percent)
        #expect(roll.dice[0].label == "d%")
        #expect((1...100).contains(roll.total))
    }

    @Test func groups() throws {
        var rng = RNG(seed: 29)
        for _ in 0..<300 {
            let roll = try DiceExpression("{2d6, 1d8+2}kh1").rollDetailed(using: &rng)
            let first = roll.dice[0].value + roll.dice[1].value
            let second = roll.dice[2].value + 2
            #expect(roll.total == max(first, second))
            // The dropped item's dice are marked not kept.
            // Ties rank the earlier item lower, so the later one is kept.
            let firstKept = first > second
            #expect(roll.dice[0].kept == firstKept && roll.dice[1].kept == firstKept && roll.dice[2].kept == !firstKept)
            let successes = try DiceExpression("{1d20, 1d20, 1d20}>=10").rollDetailed(using: &rng)
            #expect(successes.total == Int64(successes.dice.filter { $0.value >= 10 }.count))
        }
    }

    @Test func stats() throws {
        let expression = try DiceExpression("1d20 + @grammar + floor(@vocabulary / 2)")
        var a = RNG(seed: 8)
        var b = RNG(seed: 8)
        let byName = try expression.roll(using: &a, stats: ["grammar": 3, "vocabulary": 5])
        let byOrder = try expression.roll(using: &b, statValues: [3, 5])
        #expect(byName == byOrder)
        #expect { try expression.roll(using: &a, stats: ["grammar": 1]) } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.code == .notFound && error.message.contains("@vocabulary") && error.location?.column == 25
        }
        #expect { try expression.roll(using: &a, statValues: [1]) } throws: { ($0 as? EngineError)?.code == .misuse }
        #expect { try expression.roll(using: &a) } throws: { ($0 as? EngineError)?.code == .notFound }
        let dynamic = try DiceExpression("(@level)d6")
        let roll = try dynamic.rollDetailed(using: &a, stats: ["level": 5])
        #expect(roll.dice.count == 5)
    }

    @Test func json() throws {
        var rng = RNG(seed: 42)
        let roll = try DiceExpression("4d6kh3").rollDetailed(using: &rng)
        #expect(roll.json == """
            {"total":14,"dice":[{"die":"d6","column":1,"faces":[1],"value":1,"kept":false},{"die":"d6","column":1,"faces":[3],"value":3,"kept":true},\
            {"die":"d6","column":1,"faces":[5],"value":5,"kept":true},{"die":"d6","column":1,"faces":[6],"value":6,"kept":true}]}
            """)
        rng = RNG(seed: 7)
        let flags = try DiceExpression("3d10!>=9r1>=8f2").rollDetailed(using: &rng)
        let text = flags.json
        #expect(text.hasPrefix("{\"total\":\(flags.total),\"dice\":["))
        for die in flags.dice where die.exploded { #expect(text.contains("\"exploded\":true")) }
        for die in flags.dice where die.successes > 0 { #expect(text.contains("\"success\":\(die.successes)")) }
    }
}
