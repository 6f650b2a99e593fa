import Mechanics

/// One measured operation: `body(n)` performs it `n` times and returns a value that depends on
/// every result, so the optimizer cannot drop the work.
struct Benchmark {
    var name: String
    var body: (Int) throws -> UInt64

    init(_ name: String, _ body: @escaping (Int) throws -> UInt64) {
        self.name = name
        self.body = body
    }

    func measure(runs: Int, minimumNanoseconds: Double) -> BenchResult {
        // Calibrate: double the iterations until one batch lasts a tenth of the run time.
        var iterations = 1
        var elapsed = time(iterations)
        while elapsed < minimumNanoseconds / 10 && iterations < 1 << 40 {
            iterations *= 2
            elapsed = time(iterations)
        }
        iterations = max(1, Int(Double(iterations) * minimumNanoseconds / max(elapsed, 1)))
        var samples: [Double] = []
        for _ in 0..<runs { samples.append(time(iterations) / Double(iterations)) }
        samples.sort()
        return BenchResult(median: samples[samples.count / 2], minimum: samples[0], maximum: samples[samples.count - 1], iterations: iterations)
    }

    private func time(_ iterations: Int) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let sink = (try? body(iterations)) ?? 0
        let duration = clock.now - start
        blackHole(sink)
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}

struct BenchResult {
    var median: Double
    var minimum: Double
    var maximum: Double
    var iterations: Int
}

@inline(never)
func blackHole(_ value: UInt64) {
    if value == 0x5EED_5EED_5EED_5EED { print("") }
}

extension Benchmark {
    /// The benchmarks, named as docs/performance.md quotes them.
    static func all() throws -> [Benchmark] {
        let d20 = try DiceExpression("1d20")
        let keep = try DiceExpression("4d6kh3")
        let plus = try DiceExpression("1d20+5")
        let exploding = try DiceExpression("8d6!kh3")
        let pool = try DiceExpression("10d10>=8")
        var list: [Benchmark] = [
            Benchmark("rng.next") { n in
                var rng = RNG(seed: 1)
                var sink: UInt64 = 0
                for _ in 0..<n { sink ^= rng.next() }
                return sink
            },
            Benchmark("rng.die(20)") { n in
                var rng = RNG(seed: 1)
                var sink: UInt64 = 0
                for _ in 0..<n { sink &+= UInt64(rng.die(20)) }
                return sink
            },
            roll("roll 1d20", d20),
            roll("roll 4d6kh3", keep),
            roll("roll 1d20+5", plus),
            roll("roll 8d6!kh3", exploding),
            roll("roll 10d10>=8", pool),
            Benchmark("parse+roll 1d20+5") { n in
                var rng = RNG(seed: 1)
                var sink: UInt64 = 0
                for _ in 0..<n { sink &+= UInt64(bitPattern: try DiceExpression("1d20+5").roll(using: &rng)) }
                return sink
            },
            Benchmark("rollDetailed 4d6kh3") { n in
                var rng = RNG(seed: 1)
                var sink: UInt64 = 0
                for _ in 0..<n { sink &+= UInt64(bitPattern: try keep.rollDetailed(using: &rng).total) }
                return sink
            },
        ]
        let hero = try benchCharacter()
        list.append(Benchmark("check, 5 modifiers") { n in
            var rng = RNG(seed: 1)
            var sink: UInt64 = 0
            for _ in 0..<n { sink &+= UInt64(bitPattern: try hero.checkOutcome("persuade-merchant", dc: 15, using: &rng).total) }
            return sink
        })
        list.append(Benchmark("check, 5 modifiers, with breakdown") { n in
            var rng = RNG(seed: 1)
            var sink: UInt64 = 0
            for _ in 0..<n { sink &+= UInt64(bitPattern: try hero.check("persuade-merchant", dc: 15, using: &rng).total) }
            return sink
        })
        list.append(Benchmark("check odds, 5 modifiers") { n in
            var sink: UInt64 = 0
            for _ in 0..<n { sink &+= UInt64(try hero.checkOdds("persuade-merchant", dc: 15).bands.count) }
            return sink
        })
        for source in ["10d6", "4d6kh3", "2d20kh1+5", "10d10>=8", "20d6", "40d6kh3", "100d10", "500d6", "10d100kh5", "100d6kh50", "1000d6", "1000d6kh3", "8d6!kh3"] {
            let expression = try DiceExpression(source)
            list.append(Benchmark("odds \(source)") { n in
                var sink: UInt64 = 0
                for _ in 0..<n { sink &+= UInt64(try expression.odds().probabilities.count) }
                return sink
            })
        }
        return list + packs()
    }

    /// A character whose persuasion check carries five modifiers: two on the skill it adds
    /// (an item bonus and a status penalty) and three on the check (two circumstance bonuses, of
    /// which stacking keeps the higher, and an untyped one).
    static func benchCharacter() throws -> CharacterSheet {
        let ruleset = try Ruleset(
            stats: [Ruleset.Stat("speaking", default: 3), Ruleset.Stat("culture", default: 2)],
            skills: [Ruleset.Skill("haggling", default: 1)],
            modifierTypes: [Ruleset.ModifierType("circumstance", stacking: .highest), Ruleset.ModifierType("item", stacking: .highestBonusLowestPenalty),
                            Ruleset.ModifierType("status", stacking: .highestBonusLowestPenalty)],
            checks: [Ruleset.Check("persuade-merchant", dice: "1d20", adds: ["speaking", "haggling"], tags: ["social"], bands: Ruleset.Check.fourDegrees,
                                   naturalRules: [Ruleset.NaturalRule(when: ComparePoint(.equal, 20), .shift(1))])],
            sources: [
                Ruleset.Source("phrasebook", kind: "item", modifiers: [.add(2, to: "speaking", type: "item")]),
                Ruleset.Source("tired", kind: "condition", modifiers: [.add(-1, to: "speaking", type: "status")]),
                Ruleset.Source("smile", kind: "feat", modifiers: [.add(1, to: "persuade-merchant", type: "circumstance")]),
                Ruleset.Source("gift", kind: "item", modifiers: [.add(2, to: "persuade-merchant", type: "circumstance")]),
                Ruleset.Source("tip", kind: "condition", modifiers: [.add(1, to: "persuade-merchant")]),
            ])
        var hero = CharacterSheet(ruleset: ruleset)
        for source in ["phrasebook", "tired", "smile", "gift", "tip"] { try hero.apply(source) }
        return hero
    }

    static func roll(_ name: String, _ expression: DiceExpression) -> Benchmark {
        Benchmark(name) { n in
            var rng = RNG(seed: 1)
            var sink: UInt64 = 0
            for _ in 0..<n { sink &+= UInt64(bitPattern: try expression.roll(using: &rng)) }
            return sink
        }
    }
}

enum BenchReport {
    static func json(_ results: [(Benchmark, BenchResult)], runs: Int) -> String {
        var lines: [String] = []
        for (benchmark, result) in results {
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("name", benchmark.name)
            writer.field("ns_per_op", rounded(result.median))
            writer.field("min_ns", rounded(result.minimum))
            writer.field("max_ns", rounded(result.maximum))
            writer.field("iterations", result.iterations)
            writer.endObject()
            lines.append("    " + writer.output)
        }
        var ratios: [String] = []
        let byName = Dictionary(results.map { ($0.0.name, $0.1.median) }, uniquingKeysWith: { a, _ in a })
        if let raw = byName["rng.next"] {
            for name in ["rng.die(20)", "roll 1d20", "roll 4d6kh3", "check, 5 modifiers"] {
                if let value = byName[name] { ratios.append("    \"\(name) / rng.next\": \(rounded(value / raw))") }
            }
        }
        return """
            {
              "version": "\(EngineVersion.string)",
              "unit": "nanoseconds per operation, median of \(runs) runs",
              "results": [
            \(lines.joined(separator: ",\n"))
              ],
              "ratios": {
            \(ratios.joined(separator: ",\n"))
              }
            }
            """
    }

    static func rounded(_ value: Double) -> Double {
        value >= 100 ? value.rounded() : (value * 100).rounded() / 100
    }
}
