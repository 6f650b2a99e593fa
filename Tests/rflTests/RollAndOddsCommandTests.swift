import Foundation
import Testing

@Suite struct RollCommandTests {
    @Test func jsonIsExactAndReplayable() throws {
        let output = try CLI.run("roll", "4d6kh3", "--seed", "42", "--json")
        #expect(output.status == 0)
        #expect(output.stdout == """
            {"expression":"4d6kh3","seed":42,"seed_string":"42","rolls":[{"total":14,"dice":[{"die":"d6","column":1,"faces":[1],"value":1,"kept":false},\
            {"die":"d6","column":1,"faces":[3],"value":3,"kept":true},{"die":"d6","column":1,"faces":[5],"value":5,"kept":true},\
            {"die":"d6","column":1,"faces":[6],"value":6,"kept":true}]}]}

            """)
    }

    @Test func countRollsFromOneGenerator() throws {
        let output = try CLI.run("roll", "1d20", "--seed", "18446744073709551615", "--count", "5", "--json")
        #expect(output.status == 0)
        let json = try #require(output.json)
        #expect(json["seed"] as? NSNumber == NSNumber(value: UInt64.max))
        let totals = (json["rolls"] as? [[String: Any]])?.compactMap { $0["total"] as? Int }
        // The independent reference gives these five d20 for that seed
        // (`python3 Tests/Fixtures/reference_rng.py`, the RNG contract written apart from the engine).
        #expect(totals == [12, 16, 11, 15, 12])
        // The seed also as a string, for JSON readers whose numbers are doubles.
        #expect(json["seed_string"] as? String == "18446744073709551615")
        let again = try CLI.run("roll", "1d20", "--seed", "18446744073709551615", "--count", "5", "--json")
        #expect(again.stdout == output.stdout)
    }

    @Test func withoutSeedTheSeedIsReported() throws {
        let output = try CLI.run("roll", "3d6", "--json")
        let json = try #require(output.json)
        let seed = try #require((json["seed"] as? NSNumber)?.uint64Value)
        let replay = try CLI.run("roll", "3d6", "--seed", String(seed), "--json")
        #expect(replay.stdout == output.stdout)
        let text = try CLI.run("roll", "3d6", "--seed", "7")
        #expect(text.stdout.hasPrefix("3d6 = "))
        #expect(text.stdout.hasSuffix("seed 7\n"))
    }

    @Test func statsAndText() throws {
        let output = try CLI.run("roll", "1d20+@grammar", "--seed", "42", "--stat", "grammar=3")
        #expect(output.stdout == "1d20+@grammar = 5   d20[2]\nseed 42\n")
        let dropped = try CLI.run("roll", "4d6kh3", "--seed", "42")
        #expect(dropped.stdout == "4d6kh3 = 14   d6[(1) 3 5 6]\nseed 42\n")
    }

    @Test func invalidInputExitsOneWithTheColumn() throws {
        let output = try CLI.run("roll", "2d6+", "--seed", "1")
        #expect(output.status == 1)
        #expect(output.stderr == "error: column 5: unexpected end of expression: expected a number, a die such as 'd20', '(', '{', '@stat' or a function\n")
        let missing = try CLI.run("roll", "1d20+@grammar")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no value given for '@grammar'"))
        let never = try CLI.run("roll", "1d6r<7")
        #expect(never.status == 1 && never.stderr.contains("never stops"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CLI.run("roll").status == 2)
        #expect(try CLI.run("roll", "1d6", "--count", "0").status == 2)
        #expect(try CLI.run("roll", "1d6", "--seed", "-1").status == 2)
        #expect(try CLI.run("roll", "1d6", "--seed", "18446744073709551616").status == 2)
        #expect(try CLI.run("roll", "1d6", "--stat", "grammar").status == 2)
        let twice = try CLI.run("roll", "1d6+@a", "--stat", "a=1", "--stat", "a=2")
        #expect(twice.status == 2 && twice.stderr.contains("--stat gives 'a' twice") && twice.stderr.contains("Usage: rfl roll"))
        #expect(try CLI.run("frobnicate").status == 2)
        #expect(try CLI.run("--help").status == 0)
        let version = try CLI.run("--version")
        #expect(version.status == 0 && version.stdout.split(separator: ".").count == 3)
    }
}

@Suite struct OddsCommandTests {
    @Test func json() throws {
        let output = try CLI.run("odds", "2d6", "--at-least", "7", "--json")
        #expect(output.status == 0)
        let json = try #require(output.json)
        #expect(json["expression"] as? String == "2d6")
        let distribution = try #require(json["distribution"] as? [[String: Any]])
        #expect(distribution.count == 11)
        #expect(distribution.first?["value"] as? Int == 2)
        #expect(abs((distribution.first?["probability"] as? Double ?? 0) - 1.0 / 36) < 1e-15)
        #expect(abs((json["mean"] as? Double ?? 0) - 7) < 1e-12)
        #expect(abs((json["probability"] as? Double ?? 0) - 21.0 / 36) < 1e-12)
        #expect(json["stddev"] != nil && json["min"] as? Int == 2 && json["max"] as? Int == 12)
    }

    @Test func histogram() throws {
        let output = try CLI.run("odds", "4d6kh3", "--at-least", "15")
        #expect(output.status == 0)
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("4d6kh3   mean 12.24   sd 2.85   range 3..18") == true)
        #expect(lines.contains { $0.hasPrefix(" 3     0.08%") })
        #expect(lines.contains { $0.hasPrefix("13    13.27%  ") && $0.hasSuffix("█") })
        #expect(lines.last == "P(4d6kh3 >= 15) = 23.15%")
        // Wide distributions are grouped into buckets.
        let wide = try CLI.run("odds", "100d10")
        #expect(wide.stdout.split(separator: "\n").count <= 62)
    }

    @Test func errors() throws {
        let output = try CLI.run("odds", "1d6/(1d2-1)")
        #expect(output.status == 1 && output.stderr.contains("division by zero is possible"))
        let big = try CLI.run("odds", "10000d1000")
        #expect(big.status == 1 && big.stderr.contains("maxOdds"))
        // Options that only mean something for a check.
        for option in [["--advantage"], ["--disadvantage"], ["--dc", "10"], ["--apply", "phrasebook"], ["--packs", "rulesets"]] {
            let output = try CLI.run(["odds", "1d20"] + option)
            #expect(output.status == 2 && output.stderr.contains("\(option[0]) goes with --check"), "\(option)")
        }
    }

    @Test func histogramsOfValuesSpreadOverAllSixtyFourBits() throws {
        let output = try CLI.run("odds", "(1d100-50)*184467440737095516")
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.first?.hasSuffix("range -9038904596117680284..9223372036854775800") == true)
        #expect(lines.count <= 62)
        #expect(lines.last?.hasPrefix("  8919000759638568234..9223372036854775800 ") == true, "\(lines.last ?? "")")
    }
}

@Suite struct BenchCommandTests {
    @Test func printsJSONFigures() throws {
        let output = try CLI.run("bench", "--filter", "rng.next", "--runs", "1", "--min-time", "1")
        #expect(output.status == 0)
        let json = try #require(output.json)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.count == 1 && results[0]["name"] as? String == "rng.next")
        #expect((results[0]["ns_per_op"] as? Double ?? 0) > 0)
    }
}
