import BigInt
import Foundation
import Mechanics
import Testing

/// Exact references computed apart from the engine: enumeration of every outcome for small
/// pools, BigInt counts for large ones.
enum Exact {
    /// Counts of `value(faces)` over all sides^count outcomes (faces are 1...sides).
    static func enumerate(_ count: Int, _ sides: Int, low: Int = 1, _ value: ([Int]) -> Int) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        var faces = [Int](repeating: low, count: count)
        while true {
            counts[value(faces), default: 0] += 1
            var index = 0
            while index < count {
                faces[index] += 1
                if faces[index] <= low + sides - 1 { break }
                faces[index] = low
                index += 1
            }
            if index == count { break }
        }
        return counts
    }

    /// Exact counts of the sum of `count` dice with `sides` faces: the coefficients of
    /// (x + … + x^sides)^count.
    static func sumCounts(_ count: Int, _ sides: Int) -> [BigInt] {
        var poly: [BigInt] = [1]
        for _ in 0..<count {
            var next = [BigInt](repeating: 0, count: poly.count + sides)
            for (i, c) in poly.enumerated() where c != 0 {
                for face in 1...sides { next[i + face] += c }
            }
            poly = next
        }
        return poly
    }

    static func ratio(_ numerator: BigInt, _ denominator: BigInt) -> Double {
        // Scale so both fit in a double's range before dividing.
        let shift = max(0, denominator.bitWidth - 1000)
        return Double(numerator >> shift) / Double(denominator >> shift)
    }
}

func expectClose(_ actual: Double, _ expected: Double, relative: Double = 1e-12, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = expected == 0 ? abs(actual) : abs(actual - expected) / expected
    #expect(error <= relative, "\(actual) vs \(expected) (relative error \(error)) \(comment?.description ?? "")", sourceLocation: sourceLocation)
}

@Suite struct OddsTests {
    func check(_ source: String, against counts: [Int: Int], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let distribution = try DiceExpression(source).odds()
        let total = Double(counts.values.reduce(0, +))
        #expect(distribution.outcomes.count == counts.count, "\(source)", sourceLocation: sourceLocation)
        for (value, count) in counts {
            expectClose(distribution.probability(of: Int64(value)), Double(count) / total, relative: 1e-12, "\(source) at \(value)", sourceLocation: sourceLocation)
        }
        #expect(distribution.truncated == 0)
    }

    @Test func sumsAgainstEnumeration() throws {
        try check("2d6", against: Exact.enumerate(2, 6) { $0.reduce(0, +) })
        try check("3d6+2", against: Exact.enumerate(3, 6) { $0.reduce(0, +) + 2 })
        try check("1d20-1d4", against: Exact.enumerate(2, 20) { $0[0] - ($0[1] - 1) % 4 - 1 })
        try check("4dF", against: Exact.enumerate(4, 3, low: -1) { $0.reduce(0, +) })
        try check("1d6*1d6", against: Exact.enumerate(2, 6) { $0[0] * $0[1] })
        try check("12/1d6", against: Exact.enumerate(1, 6) { 12 / $0[0] })
        try check("max(1d8,1d8,1d8)", against: Exact.enumerate(3, 8) { $0.max() ?? 0 })
        try check("min(1d8,1d8)", against: Exact.enumerate(2, 8) { $0.min() ?? 0 })
        try check("abs(1d6-1d6)", against: Exact.enumerate(2, 6) { abs($0[0] - $0[1]) })
        try check("-2d4", against: Exact.enumerate(2, 4) { -$0.reduce(0, +) })
        try check("ceil(3d6/4)", against: Exact.enumerate(3, 6) { ($0.reduce(0, +) + 3) / 4 })
    }

    @Test func keepAndDropAgainstEnumeration() throws {
        func window(_ faces: [Int], _ lo: Int, _ hi: Int) -> Int { Array(faces.sorted()[lo..<hi]).reduce(0, +) }
        try check("4d6kh3", against: Exact.enumerate(4, 6) { window($0, 1, 4) })
        try check("4d6kl1", against: Exact.enumerate(4, 6) { window($0, 0, 1) })
        try check("6d10dh2dl2", against: Exact.enumerate(6, 10) { window($0, 2, 4) })
        try check("5d8dl1", against: Exact.enumerate(5, 8) { window($0, 1, 5) })
        try check("5d8kh3dl1", against: Exact.enumerate(5, 8) { window($0, 3, 5) })
        try check("2d20kh1+5", against: Exact.enumerate(2, 20) { window($0, 1, 2) + 5 })
        try check("3d6kh5", against: Exact.enumerate(3, 6) { $0.reduce(0, +) })
        try check("7d4kh2", against: Exact.enumerate(7, 4) { window($0, 5, 7) })
        try check("7d4kl3", against: Exact.enumerate(7, 4) { window($0, 0, 3) })
        try check("4d6min2kh3", against: Exact.enumerate(4, 6) { window($0.map { max($0, 2) }, 1, 4) })
    }

    @Test func successCountingAgainstEnumeration() throws {
        func score(_ v: Int) -> Int { (v >= 8 ? (v == 10 ? 2 : 1) : 0) - (v == 1 ? 1 : 0) }
        try check("5d10>=8", against: Exact.enumerate(5, 10) { $0.filter { $0 >= 8 }.count })
        try check("5d10>=8dbl10f1", against: Exact.enumerate(5, 10) { $0.map(score).reduce(0, +) })
        // dbl without a compare point doubles values at or above the highest face, so it also
        // doubles a compounded 6 (which is 7 or more, never 6).
        let compounded = try DiceExpression("1d6!!6>=5dbl").odds()
        #expect(abs(compounded.probability(of: 2) - 1.0 / 6) < 1e-12)  // truncated: 1e-20
        #expect(abs(compounded.probability(of: 1) - 1.0 / 6) < 1e-12)
        #expect(abs(compounded.probability(of: 0) - 4.0 / 6) < 1e-12)
        try check("5d10kh3>=8", against: Exact.enumerate(5, 10) { $0.sorted().suffix(3).filter { $0 >= 8 }.count })
        try check("{1d6, 1d6, 1d6}>4", against: Exact.enumerate(3, 6) { $0.filter { $0 > 4 }.count })
        try check("{1d6, 1d8}kh1", against: Exact.enumerate(2, 24) { faces in
            max((faces[0] - 1) % 6 + 1, (faces[1] - 1) % 8 + 1)
        })
    }

    @Test func rerollClosedForm() throws {
        // r<3 on a d6 rerolls up to 100 times: a face below 3 survives only if all 101 draws are.
        let r = try DiceExpression("1d6r<3").odds()
        let q = 2.0 / 6.0
        let stay = (1 - pow(q, 101)) / (1 - q) / 6
        for face in Int64(3)...6 { expectClose(r.probability(of: face), stay) }
        expectClose(r.probability(of: 1), pow(q, 100) / 6)
        // ro1: a 1 is rerolled once.
        let once = try DiceExpression("1d6ro1").odds()
        expectClose(once.probability(of: 1), 1.0 / 36)
        expectClose(once.probability(of: 4), 1.0 / 6 + 1.0 / 36)
        // Against enumeration of both draws.
        try check("1d6ro<3", against: Exact.enumerate(2, 6) { $0[0] < 3 ? $0[1] : $0[0] })
    }

    @Test func explosionSeries() throws {
        // 1d6!! : value 6k + r (r in 1...5) has probability 6^-(k+1).
        let compound = try DiceExpression("1d6!!").odds()
        for k in 0..<10 {
            for r in 1...5 { expectClose(compound.probability(of: Int64(6 * k + r)), pow(1.0 / 6, Double(k + 1))) }
            #expect(compound.probability(of: Int64(6 * k + 6)) == 0)
        }
        #expect(compound.truncated > 0 && compound.truncated < 1e-17)
        expectClose(compound.mean, 4.2, relative: 1e-12)
        // With a cap of 2 the distribution is exact: nothing is truncated.
        let capped = try DiceExpression("1d6!!cap2").odds()
        #expect(capped.truncated == 0)
        expectClose(capped.probability(of: 18), 1.0 / 216)
        expectClose(capped.probability(of: 13), 1.0 / 216)
        // Penetration takes one off every extra die.
        let penetrate = try DiceExpression("1d6!p").odds()
        expectClose(penetrate.probability(of: 6 + 5 - 1), 1.0 / 36)
        expectClose(penetrate.mean, 4.0, relative: 1e-12)
        // `!` and `!!` give the same totals without keep/drop.
        let separate = try DiceExpression("3d6!").odds()
        let together = try DiceExpression("3d6!!").odds()
        for (a, b) in zip(separate.probabilities, together.probabilities) { expectClose(a, b, relative: 1e-12) }
    }

    @Test func explodingPoolsAgainstEnumeration() throws {
        // 2d4!cap1kh1: each die explodes at most once; enumerate both chains fully.
        var counts: [Int: Int] = [:]
        for faces in Exact.enumerate(4, 4, { faces in
            var pool: [Int] = []
            for die in 0..<2 {
                pool.append(faces[die * 2])
                if faces[die * 2] == 4 { pool.append(faces[die * 2 + 1]) }
            }
            return pool.max() ?? 0
        }) { counts[faces.key, default: 0] += faces.value }
        // A die that does not explode leaves its second face unused: every outcome still counts once per face.
        try check("2d4!cap1kh1", against: counts)
        var lowest: [Int: Int] = [:]
        for faces in Exact.enumerate(4, 4, { faces in
            var pool: [Int] = []
            for die in 0..<2 {
                pool.append(faces[die * 2])
                if faces[die * 2] >= 3 { pool.append(faces[die * 2 + 1]) }
            }
            return pool.sorted().prefix(2).reduce(0, +)
        }) { lowest[faces.key, default: 0] += faces.value }
        try check("2d4!>=3cap1kl2", against: lowest)
    }

    @Test func largeSumsAgainstBigInt() throws {
        for (count, sides) in [(30, 6), (100, 10), (25, 20)] {
            let exact = Exact.sumCounts(count, sides)
            let total = BigInt(sides).power(count)
            let distribution = try DiceExpression("\(count)d\(sides)").odds()
            #expect(distribution.minimum == Int64(count) && distribution.maximum == Int64(count * sides))
            for value in count...(count * sides) {
                let expected = Exact.ratio(exact[value], total)
                guard expected > 1e-250 else { continue }
                expectClose(distribution.probability(of: Int64(value)), expected, relative: 1e-11, "\(count)d\(sides) at \(value)")
            }
        }
    }

    @Test func keepHighestAgainstBigIntMultinomials() throws {
        // 20d6kh3 exactly: sum over the counts of each face (c1..c6) of 20!/(c1!…c6!).
        let n = 20
        var factorial: [BigInt] = [1]
        for k in 1...n { factorial.append(factorial[k - 1] * BigInt(k)) }
        var counts: [Int: BigInt] = [:]
        func visit(_ face: Int, _ remaining: Int, _ multiplicity: [Int]) {
            if face == 1 {
                let m = multiplicity + [remaining]
                var coefficient = factorial[n]
                for c in m { coefficient /= factorial[c] }
                // m is for faces 6,5,…,1: take the three highest.
                var left = 3
                var sum = 0
                for (index, c) in m.enumerated() where left > 0 {
                    let take = min(left, c)
                    sum += take * (6 - index)
                    left -= take
                }
                counts[sum, default: 0] += coefficient
                return
            }
            for c in 0...remaining { visit(face - 1, remaining - c, multiplicity + [c]) }
        }
        visit(6, n, [])
        let total = BigInt(6).power(n)
        let distribution = try DiceExpression("20d6kh3").odds()
        for (value, count) in counts {
            expectClose(distribution.probability(of: Int64(value)), Exact.ratio(count, total), relative: 1e-11, "at \(value)")
        }
    }

    @Test func largeComputationsStayExact() throws {
        let big = try DiceExpression("1000d6").odds()
        expectClose(big.mean, 3500, relative: 1e-12)
        expectClose(big.variance, 1000 * 35.0 / 12, relative: 1e-9)
        let keep = try DiceExpression("1000d6kh3").odds()
        // 18 needs at least three sixes among 1000 dice.
        let five: Double = 5.0 / 6.0
        let none: Double = pow(five, 1000.0)
        let one: Double = 1000.0 / 6.0 * pow(five, 999.0)
        let two: Double = 499_500.0 / 36.0 * pow(five, 998.0)
        expectClose(keep.probability(of: 18), 1 - none - one - two, relative: 1e-9)
        let middle = try DiceExpression("100d6kh50").odds()
        expectClose(middle.mass, 1, relative: 1e-12)
        let wide = try DiceExpression("10d100kh5").odds()
        expectClose(wide.mass, 1, relative: 1e-12)
    }

    @Test func distributionQueries() throws {
        let d = try DiceExpression("2d6").odds()
        expectClose(d.probability(atLeast: 7), 21.0 / 36)
        expectClose(d.probability(atMost: 7), 21.0 / 36)
        #expect(d.probability(atLeast: 2) > 0.9999999)
        #expect(d.probability(atLeast: 13) == 0)
        #expect(d.probability(atMost: 1) == 0)
        expectClose(d.mean, 7)
        expectClose(d.standardDeviation, (35.0 / 6).squareRoot())
        #expect(d.minimum == 2 && d.maximum == 12)
        let json = d.json(expression: "2d6", atLeast: 7)
        #expect(json.hasPrefix("{\"expression\":\"2d6\",\"distribution\":[{\"value\":2,\"probability\":0.0277777777777777"))
        #expect(json.contains("\"mean\":7"))
        #expect(json.contains("\"at_least\":7,\"probability\":0.58333333333333"))
        #expect(json.hasSuffix("}"))
    }

    @Test func statsAndDynamicDice() throws {
        let d = try DiceExpression("1d20+@bonus").odds(stats: ["bonus": 4])
        #expect(d.minimum == 5 && d.maximum == 24)
        try check("(1d3)d4", against: Exact.enumerate(4, 12) { faces in
            let count = (faces[0] - 1) % 3 + 1
            return (0..<count).map { (faces[$0 + 1] - 1) % 4 + 1 }.reduce(0, +)
        })
        #expect { try DiceExpression("(1d3-2)d6").odds() } throws: { ($0 as? EngineError)?.code == .invalid }
    }

    /// Sampling agrees with the exact distribution (fixed seeds: deterministic).
    @Test(arguments: RollTests.expressions.filter { !["1d6*1d6", "20/1d6"].contains($0) } + ["1d6*1d6", "20/1d6"])
    func samplingAgrees(_ source: String) throws {
        let expression = try DiceExpression(source)
        let distribution = try expression.odds()
        var rng = RNG(seed: 2026)
        let n = 20_000
        var counts: [Int64: Int] = [:]
        var sum = 0.0
        for _ in 0..<n {
            let value = try expression.roll(using: &rng)
            counts[value, default: 0] += 1
            sum += Double(value)
            #expect(distribution.probability(of: value) > 0, "\(source): sampled \(value) has probability 0")
        }
        let standardError = distribution.standardDeviation / Double(n).squareRoot()
        #expect(abs(sum / Double(n) - distribution.mean) <= 5 * standardError + 1e-9, "\(source)")
        // Total variation distance between the sample and the distribution.
        var distance = 0.0
        for outcome in distribution.outcomes { distance += abs(Double(counts[outcome.value] ?? 0) / Double(n) - outcome.probability) }
        #expect(distance / 2 < 0.02 + 0.0005 * Double(distribution.outcomes.count), "\(source): distance \(distance / 2)")
    }
}

/// Random expressions built from the language's pieces, for property tests.
enum ExpressionGen {
    static let terms: [String] = [
        "{n}d{m}", "{n}d{m}kh{k}", "{n}d{m}kl{k}", "{n}d{m}dl{k}", "{n}d{m}dh{k}dl{k}", "{n}d{m}!", "{n}d{m}!!", "{n}d{m}!p",
        "{n}d{m}r1", "{n}d{m}ro<{k}", "{n}d{m}>={t}", "{n}d{m}>={t}f1", "{n}d{m}>={t}dbl", "{n}dF", "{n}d{m}min{k}",
        "{n}d{m}!kh{k}", "{n}d{m}!cap2kl{k}", "{n}d{m}max{t}", "{c}", "@s",
    ]
    static let shapes: [String] = [
        "A", "A+B", "A-B", "A*{c}", "A/{c}", "max(A,B)", "min(A,B)", "abs(A-B)", "{A,B}kh1", "{A,B,A}dl1", "{A,B}>={t}", "(A)", "ceil(A/{c})",
    ]

    /// The expression for one seed: the same on every run, so a failure names its seed.
    static func make(seed: UInt64) -> String {
        var rng = RNG(seed: seed)
        func pick(_ list: [String]) -> String { list[Int(rng.uniform(UInt64(list.count)))] }
        func fill(_ template: String) -> String {
            template
                .replacing("{n}", with: String(1 + rng.uniform(4)))
                .replacing("{m}", with: String([2, 3, 4, 6, 8, 10, 12, 20][Int(rng.uniform(8))]))
                .replacing("{k}", with: String(1 + rng.uniform(3)))
                .replacing("{t}", with: String(2 + rng.uniform(5)))
                .replacing("{c}", with: String(1 + rng.uniform(5)))
        }
        return fill(pick(shapes).replacing("A", with: pick(terms)).replacing("B", with: pick(terms)))
    }
}

@Suite struct OddsPropertyTests {
    /// Every distribution sums to one with what it reports as truncated, and every sampled total
    /// lies inside it with a probability above zero. A few generated expressions (three exploding
    /// pools of different shapes under one keep) go past the odds work limit: they must be refused
    /// with that limit named, and must still roll.
    @Test func distributionsAreProbabilities() throws {
        var refused: [String] = []
        for seed in UInt64(0)..<400 {
            let source = ExpressionGen.make(seed: seed)
            let expression = try DiceExpression(source)
            var rng = RNG(seed: 99)
            let result = Result { () throws(EngineError) in try expression.odds(stats: ["s": 3]) }
            if case .failure(let error) = result, error.code == .limit, error.message.contains("maxOddsWork") {
                refused.append(source)
                _ = try expression.roll(using: &rng, stats: ["s": 3])
                continue
            }
            let distribution = try result.get()
            #expect(abs(distribution.mass + distribution.truncated - 1) < 1e-9, "seed \(seed), \(source)")
            #expect(distribution.probabilities.allSatisfy { $0 >= 0 && $0 <= 1 }, "seed \(seed), \(source)")
            for _ in 0..<200 {
                let value = try expression.roll(using: &rng, stats: ["s": 3])
                #expect(value >= distribution.minimum && value <= distribution.maximum, "seed \(seed), \(source): \(value)")
                #expect(distribution.probability(of: value) > 0, "seed \(seed), \(source): \(value)")
            }
        }
        #expect(refused.count <= 4, "refused: \(refused)")
    }
}
