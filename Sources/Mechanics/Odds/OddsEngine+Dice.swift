#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension OddsEngine {
    /// The distribution of one dice term; a term with a dynamic count or sides is the mixture
    /// over every count and number of sides it can take.
    mutating func dicePMF(_ term: DiceTerm) throws(EngineError) -> PMF {
        if let resolved = term.resolved { return try resolvedPMF(resolved) }
        let counts: PMF
        switch term.count {
        case .fixed(let n): counts = .point(Int64(n))
        case .dynamic(let syntax): counts = try pmf(syntax)
        }
        var sidesOptions: [(Int64?, Double)]
        var sidesTruncated = 0.0
        switch term.sides {
        case .fixed(let m): sidesOptions = [(Int64(m), 1)]
        case .percent: sidesOptions = [(100, 1)]
        case .fudge: sidesOptions = [(nil, 1)]
        case .dynamic(let syntax):
            let sides = try pmf(syntax)
            sidesOptions = sides.nonZero.map { ($0.value, $0.probability) }
            sidesTruncated = sides.truncated
        }
        // Accumulate the mixture one case at a time: only the running total is kept in memory.
        var accumulated: [Int64: Double] = [:]
        var lost = PMF.combine(counts.truncated, sidesTruncated)
        for count in counts.nonZero {
            guard count.value <= Int64(limits.maxDice) else {
                throw EngineError(.limit, "the dice count can come out as \(count.value), beyond the limit maxDice, \(limits.maxDice)", at: TextLocation(column: term.column))
            }
            for (sides, weight) in sidesOptions where weight > 0 {
                let dice = try term.resolve(count: Int(max(count.value, -1)), sides: sides, limits: limits)
                let part: PMF
                do {
                    part = try resolvedPMF(dice)
                } catch where error.code == .limit && error.message.contains("maxOddsWork") {
                    // The case that ran out is only a part of the cost: name the whole term.
                    let cases = counts.nonZero.count * sidesOptions.count
                    throw EngineError(.limit, "the odds of the dice term at column \(term.column), a mixture of \(cases) dice pools (one for every count and number of sides it can roll), need more work than the limit maxOddsWork, \(limits.maxOddsWork)")
                }
                let share = count.probability * weight
                lost += share * part.truncated
                let outcomes = part.nonZero
                try spend(outcomes.count * 4, "the dice term at column \(term.column)")
                for outcome in outcomes { accumulated[outcome.value, default: 0] += share * outcome.probability }
                try checkSupport(UInt64(accumulated.count), "the dice term at column \(term.column)")
            }
        }
        var result = try fromEntries(accumulated.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, truncated: min(lost, 1), "the dice term at column \(term.column)")
        result.trim()
        return result
    }

    /// The distribution of a dice term with known count and sides.
    mutating func resolvedPMF(_ dice: ResolvedDice) throws(EngineError) -> PMF {
        if dice.count == 0 { return .point(0) }
        let faces = try faceDistribution(dice)
        let what = "\(dice.count)\(dice.label) at column \(dice.column)"
        if dice.isPlain { return try power(faces, dice.count, column: dice.column) }
        let scoring = dice.scoring
        let double = dice.double
        let contribution: (Int64) -> Int64 = { value in Evaluator.contribution(value, scoring, double) }
        let clamp: (Int64) -> Int64 = { face in dice.clamp(face) }
        switch dice.explosion {
        case nil:
            let values = try map(faces, clamp)
            if dice.keep.isEmpty { return try power(try map(values, contribution), dice.count, column: dice.column) }
            return try keptPMF(types: [(dice.count, values)], keep: dice.keep, contribution: contribution, what: what)
        case .compound, .penetrate:
            let penalty: Int64 = dice.explosion == .penetrate ? 1 : 0
            let values = try chainPMF(dice, faces: faces, first: clamp, next: { clamp($0) - penalty })
            if dice.keep.isEmpty { return try power(try map(values, contribution), dice.count, column: dice.column) }
            return try keptPMF(types: [(dice.count, values)], keep: dice.keep, contribution: contribution, what: what)
        case .separate:
            if dice.keep.isEmpty {
                // Without keep/drop, each chain's dice only add up: one value per chain.
                let chain = try chainPMF(dice, faces: faces, first: { contribution(clamp($0)) }, next: { contribution(clamp($0)) })
                return try power(chain, dice.count, column: dice.column)
            }
            return try separatePoolPMF(dice, faces: faces, clamp: clamp, contribution: contribution, what: what)
        }
    }

    /// The distribution of one draw's face, rerolls included. Under `r` with at most `c` rerolls
    /// and a share `q` of faces in the reroll set, a face outside the set comes up with
    /// probability (1 + q + … + q^c)/M, a face inside it with q^c/M (`ro` is c = 1).
    mutating func faceDistribution(_ dice: ResolvedDice) throws(EngineError) -> PMF {
        let sides = dice.sides
        try checkSupport(UInt64(sides), "a d\(sides)")
        try spend(sides, "a d\(sides)")
        let uniform = 1 / Double(sides)
        guard let reroll = dice.reroll else {
            return PMF(offset: dice.low, p: [Double](repeating: uniform, count: sides))
        }
        var inSet = [Bool](repeating: false, count: sides)
        var matching = 0
        for index in 0..<sides where reroll.contains(dice.low + Int64(index)) {
            inSet[index] = true
            matching += 1
        }
        let q = Double(matching) / Double(sides)
        let c = Double(dice.maxRerolls)
        let stay = q >= 1 ? 0 : (q == 0 ? 1 : (1 - pow(q, c + 1)) / (1 - q))
        let last = pow(q, c)
        var p = [Double](repeating: 0, count: sides)
        for index in 0..<sides { p[index] = uniform * (inSet[index] ? last : stay) }
        var pmf = PMF(offset: dice.low, p: p)
        pmf.trim()
        return pmf
    }

    /// How deep the odds follow an explosion chain: to the die's cap, or sooner where the chance
    /// of going deeper falls below ``explosionTail`` (that mass is reported as truncated).
    func explosionDepth(trigger q: Double, cap: Int) -> Int {
        if q <= 0 { return 0 }
        if q >= 1 { return cap }
        let needed = Int((log(OddsEngine.explosionTail) / log(q)).rounded(.up))
        return min(cap, max(needed, 1))
    }

    /// The distribution of what one die's explosion chain adds up to: `first` maps the first
    /// face to its value, `next` every face after it.
    mutating func chainPMF(_ dice: ResolvedDice, faces: PMF, first: (Int64) -> Int64, next: (Int64) -> Int64) throws(EngineError) -> PMF {
        let (triggerFirst, stopFirst) = try split(faces, dice.explodeOn, value: first)
        let (triggerNext, stopNext) = try split(faces, dice.explodeOn, value: next)
        let q = triggerFirst.mass
        let cap = dice.cap
        if cap == 0 || q == 0 { return try sum(triggerFirst, stopFirst) }
        let depth = explosionDepth(trigger: q, cap: cap)
        let anyNext = try sum(triggerNext, stopNext)
        var result = stopFirst
        var open = triggerFirst
        for k in 1...depth {
            if k < cap {
                result = try sum(result, try convolve(open, stopNext, column: dice.column))
                open = try convolve(open, triggerNext, column: dice.column)
            } else {
                result = try sum(result, try convolve(open, anyNext, column: dice.column))
                open = .empty(truncated: 0)
            }
        }
        result.truncated = open.mass
        return result
    }

    /// Splits a face distribution into the faces that explode and the faces that stop, each
    /// mapped to its value (sub-distributions: their masses add up to the whole).
    mutating func split(_ faces: PMF, _ trigger: FaceSet, value: (Int64) -> Int64) throws(EngineError) -> (PMF, PMF) {
        var triggering: [(Int64, Double)] = []
        var stopping: [(Int64, Double)] = []
        for face in faces.nonZero {
            if trigger.contains(face.value) {
                triggering.append((value(face.value), face.probability))
            } else {
                stopping.append((value(face.value), face.probability))
            }
        }
        return (try fromEntries(triggering, truncated: 0, "exploding faces"), try fromEntries(stopping, truncated: 0, "faces"))
    }

    /// Pointwise sum of two sub-distributions (disjoint events).
    mutating func sum(_ a: PMF, _ b: PMF) throws(EngineError) -> PMF {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return try fromEntries(a.nonZero + b.nonZero, truncated: 0, "a sum of cases")
    }

    /// Keep/drop over a pool in which `!` adds each explosion as a die of its own. A chain is some
    /// faces that exploded followed by one that did not (or, at the cap, one more face of any
    /// kind), so the pool holds K dice drawn from the exploding faces and U from the others.
    /// The odds condition on (K, U), whose joint distribution is a convolution over the chains,
    /// and take order statistics of the two-type pool for each.
    mutating func separatePoolPMF(_ dice: ResolvedDice, faces: PMF, clamp: (Int64) -> Int64, contribution: @escaping (Int64) -> Int64, what: String) throws(EngineError) -> PMF {
        let (exploding, stopping) = try split(faces, dice.explodeOn, value: clamp)
        let q = exploding.mass
        if q == 0 {
            return try keptPMF(types: [(dice.count, stopping)], keep: dice.keep, contribution: contribution, what: what)
        }
        let cap = dice.cap
        let depth = explosionDepth(trigger: q, cap: cap)
        let count = dice.count
        // The pool holds K exploding faces and U = N - Z stopping ones, Z the chains that reached
        // the cap on an exploding face (possible only when the odds follow chains to the cap).
        // Per chain: j exploding faces then a stopping one, j = 0...depth, with probability
        // q^j (1-q); at the cap, cap+1 exploding faces and no stopping one, with q^(cap+1).
        let capped = depth == cap
        let kRange = count * (capped ? cap + 1 : depth) + 1
        let zRange = capped ? count + 1 : 1
        try checkSupport(UInt64(kRange) * UInt64(zRange), what)
        // Chain by chain; pools whose probability falls below 1e-40 are pruned into the truncated
        // mass, so that only the likely counts are carried (a few hundred for 1000d6!).
        var joint = [[Double]](repeating: [Double](repeating: 0, count: kRange), count: zRange)
        joint[0][0] = 1
        var active = [(low: Int, high: Int)](repeating: (1, 0), count: zRange)
        active[0] = (0, 0)
        var pruned = 0.0
        let prune = 1e-40
        let stay = (0...depth).map { pow(q, Double($0)) * (1 - q) }
        let overflow = pow(q, Double(cap + 1))
        for _ in 0..<count {
            let entries = active.reduce(0) { $0 + max($1.high - $1.low + 1, 0) }
            try spend(entries * (depth + 3), what)
            var next = [[Double]](repeating: [Double](repeating: 0, count: kRange), count: zRange)
            for z in 0..<zRange where active[z].low <= active[z].high {
                for k in active[z].low...active[z].high where joint[z][k] > 0 {
                    let weight = joint[z][k]
                    for j in 0...depth where k + j < kRange { next[z][k + j] += weight * stay[j] }
                    if capped, z + 1 < zRange, k + cap + 1 < kRange { next[z + 1][k + cap + 1] += weight * overflow }
                }
            }
            var reach = active
            for z in 0..<zRange {
                // Row z receives from row z (0...depth further) and row z-1 (cap+1 further).
                var from = active[z].low <= active[z].high ? active[z].low : kRange
                var to = active[z].low <= active[z].high ? active[z].high + depth : -1
                if z > 0, active[z - 1].low <= active[z - 1].high {
                    from = min(from, active[z - 1].low + cap + 1)
                    to = max(to, active[z - 1].high + cap + 1)
                }
                reach[z] = (from, min(to, kRange - 1))
            }
            for z in 0..<zRange {
                var low = kRange
                var high = -1
                guard reach[z].low <= reach[z].high else {
                    active[z] = (1, 0)
                    continue
                }
                for k in reach[z].low...reach[z].high where next[z][k] > 0 {
                    if next[z][k] < prune {
                        pruned += next[z][k]
                        next[z][k] = 0
                    } else {
                        low = min(low, k)
                        high = k
                    }
                }
                active[z] = (low, high)
            }
            joint = next
        }
        let perChainTruncated = capped ? 0 : pow(q, Double(depth + 1))
        let explodingValues = PMF(offset: exploding.offset, stride: exploding.stride, p: exploding.p.map { $0 / q })
        let stoppingMass = stopping.mass
        let stoppingValues = stoppingMass > 0 ? PMF(offset: stopping.offset, stride: stopping.stride, p: stopping.p.map { $0 / stoppingMass }) : stopping
        // Pools too unlikely to matter (below the explosion tail) join the truncated mass rather
        // than each costing an order-statistics pass.
        var parts: [(weight: Double, pmf: PMF)] = []
        var skipped = 0.0
        for z in 0..<zRange {
            for k in 0..<kRange where joint[z][k] > 0 {
                if joint[z][k] < OddsEngine.explosionTail {
                    skipped += joint[z][k]
                    continue
                }
                let kept = try keptPMF(types: [(k, explodingValues), (count - z, stoppingValues)], keep: dice.keep, contribution: contribution, what: what)
                parts.append((joint[z][k], kept))
            }
        }
        return try mixture(parts, truncated: PMF.combine(PMF.repeated(perChainTruncated, count), skipped + pruned))
    }
}
