import Mechanics
import Testing

@Suite struct ParserTests {
    /// Expressions that parse, with the constant they evaluate to where they have no dice.
    @Test(arguments: [
        "1d20", "d20", "D20", "4d6kh3", "4d6k3", "4d6kl1", "6d10dh2dl2", "8d6!kh3", "3d6!!", "3d6!p", "3d6!>=5", "3d6!!=6",
        "3d6!cap2", "2d6r1", "2d6r<3", "2d6ro1", "2d6r1r2", "8d10>=7", "8d10>=7f1", "8d10>=7f<=1dbl10", "8d10>7dbl",
        "4d6min2", "4d6max5", "4d6min2max5", "4dF", "4df", "d%", "2d%", "{2d6, 1d8+2}kh1", "{1d20,1d20}kl1", "{3d6,3d6,3d6}>=10",
        "(1d4)d6", "1d(2d4)", "(@level)d6", "1d20+@str", "1d20 + @core:speaking", "floor(7/2)", "ceil(7/2)", "round(7/2)",
        "abs(-3)", "min(1,2,3)", "max(1d6, 3)", " 1 d 20 + 5 ", "-1d4", "+1d4", "2*(1d6+1)", "1d6/2", "0d6", "1d1",
        "1d1000000", "10d10>=8!", "1d6 kh", "2d20kh1+5", "4d6kh3dl1", "1d20\t+\n5",
    ])
    func parses(_ source: String) throws {
        _ = try DiceExpression(source)
    }

    @Test(arguments: [
        ("7/2", Int64(3)), ("-7/2", -4), ("ceil(7/2)", 4), ("ceil(-7/2)", -3), ("round(7/2)", 4), ("round(-7/2)", -4),
        ("round(7/3)", 2), ("round(-7/3)", -2), ("floor(7/2)", 3), ("ceil(6/2)", 3), ("abs(-5)", 5), ("min(4, 2, 9)", 2),
        ("max(4, 2, 9)", 9), ("2+3*4", 14), ("(2+3)*4", 20), ("10-2-3", 5), ("-2*-3", 6), ("--3", 3), ("100/7/2", 7),
        ("ceil(7)", 7), ("0d6", 0), ("7/-2", -4), ("round(5/-2)", -3),
    ])
    func constants(_ source: String, _ value: Int64) throws {
        let expression = try DiceExpression(source)
        var rng = RNG(seed: 1)
        #expect(try expression.roll(using: &rng) == value)
        #expect(try expression.rollDetailed(using: &rng).total == value)
        #expect(try expression.odds().probability(of: value) == 1)
    }

    /// Every syntax error names the column and what was expected there.
    @Test(arguments: [
        ("", 1, "empty expression"),
        ("   ", 4, "empty expression"),
        ("2d6+", 5, "unexpected end of expression"),
        ("2d", 3, "expected the number of sides"),
        ("2dx", 3, "expected the number of sides, '%' or 'F' after 'd', found 'x'"),
        ("1d20 5", 6, "expected an operator"),
        ("(1d6", 5, "expected ')' to close the '(' at column 1"),
        ("1d6)", 4, "unbalanced ')'"),
        ("{1d6, 2d6", 10, "expected ',' or '}' in the group opened at column 1"),
        ("1d6}", 4, "unbalanced '}'"),
        ("foo(1)", 1, "unknown function 'foo'"),
        ("floor 3", 7, "expected '(' after 'floor'"),
        ("max(1,", 7, "unexpected end of expression"),
        ("floor(1, 2)", 1, "'floor' takes one argument, given 2"),
        ("@", 2, "expected a stat id after '@'"),
        ("@+1", 2, "expected a stat id after '@'"),
        ("1d6 d6", 5, "expected a modifier or an operator after the dice"),
        ("1d6!!!", 6, "a second explosion on one term"),
        ("8d10>=7>=8", 8, "a second success compare point"),
        ("8d10>=7f", 9, "expected a compare point after 'f'"),
        ("1d6r1ro2", 6, "'r' and 'ro' cannot be mixed"),
        ("4d6min", 7, "expected a number after 'min'"),
        ("4d6min1min2", 8, "'min' given twice"),
        ("4d6cap2", 8, "'cap' limits explosions"),
        ("1d6>=", 6, "expected a number after '>='"),
        ("1d6×2", 4, "found '×'"),
        ("1d20+éclair", 6, "found 'é'"),
        ("{1d6}!", 6, "only keep/drop"),
        ("99999999999999999999", 1, "too large"),
        ("1d6>=7f1>=2", 9, "a second success compare point"),
    ] as [(String, Int, String)])
    func syntaxErrors(_ source: String, _ column: Int, _ message: String) {
        #expect {
            try DiceExpression(source)
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            #expect(error.location?.column == column, "\(source): \(error)")
            #expect(error.message.contains(message), "\(source): \(error)")
            return [.syntax, .invalid].contains(error.code)
        }
    }

    /// Input that parses but cannot be rolled is refused at compile time, with its column.
    @Test(arguments: [
        ("1d0", 3, "at least 1 side"),
        ("2+1d6r<7", 3, "never stops"),
        ("1d6r1r2r3r4r5r6", 1, "never stops"),
        ("1dFr<=1", 1, "never stops"),
        ("1d6!>=1", 1, "never stops; add a cap"),
        ("1d1!", 1, "never stops"),
        ("1d6r<6!", 1, "never stops"),
        ("4d6min5max2", 1, "'min5' is above 'max2'"),
        ("4d6f1", 4, "needs a success compare point"),
        ("4d6dbl6", 4, "needs a success compare point"),
        ("{1d6,2}f1", 8, "needs a success compare point"),
    ] as [(String, Int, String)])
    func invalid(_ source: String, _ column: Int, _ message: String) {
        #expect {
            try DiceExpression(source)
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            #expect(error.location?.column == column, "\(source): \(error)")
            #expect(error.message.contains(message), "\(source): \(error)")
            return error.code == .invalid
        }
    }

    @Test func rerollOnceAndCapsMakeTheseValid() throws {
        _ = try DiceExpression("1d6ro<7")
        _ = try DiceExpression("1d6!>=1cap3")
        _ = try DiceExpression("1d1!cap2")
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect {
            try DiceExpression("é+1d6+")
        } throws: { error in
            (error as? EngineError)?.location?.column == 1
        }
        #expect {
            try DiceExpression("1+éé")
        } throws: { error in
            (error as? EngineError)?.location?.column == 3
        }
    }

    @Test func statReferencesAreCollectedOnce() throws {
        let expression = try DiceExpression("@str + 1d20 + @core:speaking - @str + @max-hp")
        #expect(expression.statReferences == ["str", "core:speaking", "max-hp"])
        // A hyphen followed by a digit is subtraction.
        #expect(try DiceExpression("@str-2").statReferences == ["str"])
        #expect(try DiceExpression("@str-d6").statReferences == ["str-d6"])
        // Braces take any id, a hyphen before a digit included.
        let braced = try DiceExpression("@{level-2} * 2 + @{core:max-hp}")
        #expect(braced.statReferences == ["level-2", "core:max-hp"])
        var rng = RNG(seed: 1)
        #expect(try braced.roll(using: &rng, stats: ["level-2": 3, "core:max-hp": 10]) == 16)
        #expect { try DiceExpression("@{}") } throws: { ($0 as? EngineError)?.message.contains("expected a stat id after '@{'") == true }
        #expect { try DiceExpression("@{a b}") } throws: { ($0 as? EngineError)?.location?.column == 4 }
    }
}

@Suite struct LimitTests {
    func expectLimit(_ source: String, _ limits: Limits = .default, _ message: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            try DiceExpression(source, limits: limits)
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
            return error.code == .limit
        }
    }

    @Test func expressionLength() {
        expectLimit(String(repeating: "1+", count: 500) + "1", .default, "maxExpressionLength is 1000")
        var limits = Limits()
        limits.maxExpressionLength = 5
        expectLimit("1d20+5", limits, "maxExpressionLength is 5")
    }

    @Test func nesting() throws {
        expectLimit(String(repeating: "(", count: 40) + "1" + String(repeating: ")", count: 40), .default, "maxNesting is 32")
        expectLimit(String(repeating: "-", count: 40) + "1", .default, "maxNesting is 32")
        expectLimit(String(repeating: "{", count: 40) + "1" + String(repeating: "}", count: 40), .default, "maxNesting is 32")
        _ = try DiceExpression(String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30))
    }

    @Test func diceCountAndSides() throws {
        expectLimit("10001d6", .default, "the limit maxDice is 10000")
        expectLimit("5000d6+5001d6", .default, "maxDice is 10000")
        expectLimit("1d1000001", .default, "maxSides, 1000000")
        _ = try DiceExpression("10000d6")
        _ = try DiceExpression("1d1000000")
        let limits = Limits(maxDice: 3, maxSides: 8)
        expectLimit("4d6", limits, "maxDice is 3")
        expectLimit("1d10", limits, "maxSides, 8")
        _ = try DiceExpression("3d8", limits: limits)
    }

    @Test func dynamicDiceAreCheckedWhenRolled() throws {
        let expression = try DiceExpression("(@n)d6", limits: Limits(maxDice: 50))
        var rng = RNG(seed: 1)
        #expect(try expression.roll(using: &rng, stats: ["n": 50]) >= 50)
        #expect { try expression.roll(using: &rng, stats: ["n": 51]) } throws: { ($0 as? EngineError)?.code == .limit }
        #expect { try expression.roll(using: &rng, stats: ["n": -1]) } throws: { ($0 as? EngineError)?.code == .invalid }
        let sides = try DiceExpression("1d(@m)")
        #expect { try sides.roll(using: &rng, stats: ["m": 0]) } throws: { ($0 as? EngineError)?.code == .invalid }
        #expect { try sides.roll(using: &rng, stats: ["m": 2_000_000]) } throws: { ($0 as? EngineError)?.code == .limit }
        let never = try DiceExpression("1d(@m)r<7")
        #expect { try never.roll(using: &rng, stats: ["m": 6]) } throws: { ($0 as? EngineError)?.message.contains("never stops") == true }
        #expect(try never.roll(using: &rng, stats: ["m": 8]) >= 7)
    }

    @Test func explosionAndRerollDepth() throws {
        expectLimit("1d6!cap101", .default, "maxExplosions, 100")
        var limits = Limits()
        limits.maxExplosions = 3
        limits.maxRerolls = 2
        expectLimit("1d6!cap4", limits, "maxExplosions, 3")
        // A d2 that explodes on 2 hits the cap of 3 explosions often; it never goes beyond.
        let exploding = try DiceExpression("1d2!!", limits: limits)
        let rerolling = try DiceExpression("1d2r1", limits: limits)
        var rng = RNG(seed: 9)
        var sawCap = false
        for _ in 0..<2000 {
            let roll = try exploding.rollDetailed(using: &rng)
            #expect(roll.dice[0].faces.count <= 4)
            sawCap = sawCap || roll.dice[0].faces.count == 4
            let reroll = try rerolling.rollDetailed(using: &rng)
            #expect(reroll.dice[0].rerolled.count <= 2)
        }
        #expect(sawCap)
    }

    @Test func groupSize() throws {
        let items = Array(repeating: "1", count: 101).joined(separator: ",")
        expectLimit("{\(items)}", .default, "maxGroupSize is 100")
        _ = try DiceExpression("{" + Array(repeating: "1", count: 100).joined(separator: ",") + "}")
    }

    @Test func comparePointsPerSetOnLargeDice() throws {
        expectLimit("1d100" + (1...9).map { "r\($0)" }.joined(), .default, "more than 8 compare points")
        _ = try DiceExpression("1d6" + (1...5).map { "r\($0)" }.joined())
        expectLimit("10d6" + Array(repeating: "dl1", count: 9).joined(), .default, "more than 8 keep/drop rules")
    }

    @Test func oddsWork() throws {
        var limits = Limits()
        limits.maxOddsWork = 10_000
        #expect { try DiceExpression("100d100", limits: limits).odds() } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.code == .limit && error.message.contains("maxOddsWork, 10000")
        }
        #expect { try DiceExpression("1d1000000*1d1000000").odds() } throws: { ($0 as? EngineError)?.code == .limit }
        limits.maxOddsSupport = 100
        limits.maxOddsWork = .max
        #expect { try DiceExpression("1d200", limits: limits).odds() } throws: { error in
            (error as? EngineError)?.message.contains("maxOddsSupport, 100") == true
        }
    }

    @Test func overflowIsAnErrorNotATrap() throws {
        var rng = RNG(seed: 1)
        for source in ["9223372036854775807+1", "-9223372036854775807-2", "9223372036854775807*2", "abs(-9223372036854775807-1)",
                       "(-9223372036854775807-1)/-1", "4611686018427387904*2", "1d6*9223372036854775807*2"] {
            let expression = try DiceExpression(source)
            #expect(throws: EngineError.self, "\(source)") { try expression.roll(using: &rng) }
            #expect(throws: EngineError.self, "\(source)") { try expression.odds() }
        }
        // A divisor that may come out as zero fails only on the rolls where it does.
        let divide = try DiceExpression("1d6/(1d2-1)")
        var failures = 0
        for _ in 0..<40 {
            do {
                #expect(try divide.roll(using: &rng) >= 1)
            } catch {
                #expect(error.message == "division by zero" && error.location?.column == 4)
                failures += 1
            }
        }
        #expect(failures > 0 && failures < 40)
        #expect { try DiceExpression("1d6/(1d2-1)").odds() } throws: { ($0 as? EngineError)?.message.contains("division by zero") == true }
    }
}
