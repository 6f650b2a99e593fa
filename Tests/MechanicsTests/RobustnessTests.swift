import Mechanics
import Testing

/// Inputs found by review and by fuzzing: each must give a value or an `EngineError`, never a
/// trap, a hang or a result that changes from run to run.
@Suite struct RobustnessTests {
    /// Random strings over the language's own pieces (with seeds, so every run tries the same
    /// ones): parsing, rolling and the odds either succeed or throw.
    @Test func randomTextNeverTraps() {
        let pieces = ["1", "6", "20", "0", "-", "+", "*", "/", "d", "D", "F", "%", "!", "!!", "!p", "cap", "k", "kh", "kl", "dh", "dl",
                      "r", "ro", "<", ">", "=", ">=", "<=", "f", "dbl", "min", "max", "(", ")", "{", "}", ",", "@s", "@{s}", "abs(",
                      "floor(", " ", "\t", "\n", "\u{0}", "é", "9223372036854775807", "999999"]
        var limits = Limits()
        limits.maxOddsWork = 2_000_000
        var failures: [String] = []
        for seed in UInt64(0)..<3000 {
            var rng = RNG(seed: seed)
            let length = 1 + Int(rng.uniform(12))
            let source = (0..<length).map { _ in pieces[Int(rng.uniform(UInt64(pieces.count)))] }.joined()
            do {
                let expression = try DiceExpression(source, limits: limits)
                _ = try? expression.roll(using: &rng, stats: ["s": 2])
                _ = try? expression.odds(stats: ["s": 2])
            } catch {
                // A syntax error names a column inside the text (or just past its end).
                if let column = error.location?.column, column < 1 || column > source.count + 1 { failures.append(source) }
            }
        }
        #expect(failures.isEmpty, "columns outside the text: \(failures)")
    }

    @Test func aRerollWithoutACompareAtTheEndIsARerollOfOnes() throws {
        // `1d6r` once trapped: `r` at the very end rerolls the lowest face (up to the reroll
        // depth, after which a 1 stands: that is all the mass left on 1).
        let expression = try DiceExpression("1d6r")
        let odds = try expression.odds()
        #expect(odds.probability(of: 1) < 1e-50)
        #expect(abs(odds.probability(of: 6) - 1.0 / 5) < 1e-12)
        #expect(throws: EngineError.self) { try DiceExpression("1d6r<") }
    }

    @Test func controlCharactersAreNamedNotPrinted() {
        do {
            _ = try DiceExpression("1d6+\u{1}")
            Issue.record("parsed a control character")
        } catch {
            #expect(error.code == .syntax)
            #expect(!error.message.contains("\u{1}"), "\(error.message)")
            #expect(error.location?.column == 5)
        }
        // Tabs and other white space separate tokens like spaces.
        #expect((try? DiceExpression("1d6\t+\u{0B}2\r\n")) != nil)
    }

    @Test func extremesOfSixtyFourBits() throws {
        let big = try DiceExpression("max(9223372036854775807,-1)").odds()
        #expect(big.minimum == Int64.max && big.maximum == Int64.max)
        let small = try DiceExpression("min(-9223372036854775807-1,1d6)").odds()
        #expect(small.minimum == Int64.min && small.maximum == Int64.min && abs(small.probability(of: Int64.min) - 1) < 1e-12)
        let spread = try DiceExpression("{1d2*4611686018427387903, -4611686018427387903}kh1").odds()
        #expect(spread.probability(of: 4611686018427387903 * 2) == 0.5)
    }

    @Test func sparseDistributionsKeepTheirStride() throws {
        // Values 10^8 apart: the distribution holds two values, not 10^8 zeros in between.
        let sparse = try DiceExpression("1d2*100000000").odds()
        #expect(sparse.stride == 100_000_000)
        #expect(sparse.probabilities == [0.5, 0.5])
        #expect(sparse.probability(of: 200_000_000) == 0.5 && sparse.probability(of: 150_000_000) == 0)
        let sum = try DiceExpression("3d2*1000000000+7").odds()
        #expect(sum.stride == 1_000_000_000 && sum.minimum == 3_000_000_007 && sum.maximum == 6_000_000_007)
        #expect(abs(sum.probability(of: 4_000_000_007) - 3.0 / 8) < 1e-12)
        // Mixed strides fall back to their greatest common divisor.
        let mixed = try DiceExpression("1d2*6+1d2*4").odds()
        #expect(mixed.stride == 2 && mixed.minimum == 10 && mixed.maximum == 20)
        #expect(mixed.probability(of: 14) == 0.25 && mixed.probability(of: 12) == 0)
    }

    @Test func oddsAreTheSameOnEveryRun() throws {
        // Dictionary order varies between processes; sums must not depend on it.
        for source in ["{2d6!,1d8,1d10}kh2", "(1d4)d6kh2", "{1d6,2d4,1d8}dl1>=4", "3d6!!6>=5dbl"] {
            let expression = try DiceExpression(source)
            let first = try expression.odds().json(expression: source)
            for _ in 0..<5 { #expect(try DiceExpression(source).odds().json(expression: source) == first, "\(source)") }
        }
    }

    @Test func longChainsOfDerivedValuesDoNotExhaustTheStack() throws {
        // 100,000 derived values, each reading the one before: ordered without recursion.
        let count = 100_000
        var derived = [Ruleset.Derived("v0", formula: "@base + 1")]
        for index in 1..<count { derived.append(Ruleset.Derived("v\(index)", formula: "@v\(index - 1)")) }
        let ruleset = try Ruleset(stats: [Ruleset.Stat("base", default: 1)], derived: derived.reversed())
        let sheet = CharacterSheet(ruleset: ruleset)
        #expect(try sheet.value("v\(count - 1)") == 2)
        // And a cycle through all of them is named.
        derived[0] = Ruleset.Derived("v0", formula: "@v\(count - 1)")
        do {
            _ = try Ruleset(derived: derived)
            Issue.record("accepted a cycle")
        } catch {
            #expect(error.message.hasPrefix("derived values form a cycle: v"), "\(error.message.prefix(200))")
        }
    }
}

extension RobustnessTests {
    @Test func dicePoolsOfRolledSizeNameTheWholeTermWhenTooCostly() {
        do {
            _ = try DiceExpression("(1d100)d(1d100)").odds()
            Issue.record("computed a mixture beyond the work limit")
        } catch {
            #expect(error.code == .limit)
            #expect(error.message == "the odds of the dice term at column 1, a mixture of 10000 dice pools (one for every count and number of sides it can roll), need more work than the limit maxOddsWork, 100000000")
        }
    }
}
