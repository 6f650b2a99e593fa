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
        var parts: [(weight: Double, pmf: PMF)] = []
        for count in counts.nonZero {
            guard count.value <= Int64(limits.maxDice) else {
                throw EngineError(.limit, "the dice count can come out as \(count.value), beyond the limit maxDice, \(limits.maxDice)", at: TextLocation(column: term.column))
            }
            for (sides, weight) in sidesOptions where weight > 0 {
                let dice = try term.resolve(count: Int(max(count.value, -1)), sides: sides, limits: limits)
                parts.append((count.probability * weight, try resolvedPMF(dice)))
            }
        }
        return mixture(parts, truncated: PMF.combine(counts.truncated, sidesTruncated))
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
            let values = map(faces, clamp)
            if dice.keep.isEmpty { return try power(map(values, contribution), dice.count, column: dice.column) }
            return try keptPMF(types: [(dice.count, values)], keep: dice.keep, contribution: contribution, what: what)
        case .compound, .penetrate:
            let penalty: Int64 = dice.explosion == .penetrate ? 1 : 0
            let values = try chainPMF(dice, faces: faces, first: clamp, next: { clamp($0) - penalty })
            if dice.keep.isEmpty { return try power(map(values, contribution), dice.count, column: dice.column) }
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
        try checkSupport(Int64(sides), "a d\(sides)")
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
        let (triggerFirst, stopFirst) = split(faces, dice.explodeOn, value: first)
        let (triggerNext, stopNext) = split(faces, dice.explodeOn, value: next)
        let q = triggerFirst.mass
        let cap = dice.cap
        if cap == 0 || q == 0 { return sum(triggerFirst, stopFirst) }
        let depth = explosionDepth(trigger: q, cap: cap)
        let anyNext = sum(triggerNext, stopNext)
        var result = stopFirst
        var open = triggerFirst
        for k in 1...depth {
            if k < cap {
                result = sum(result, try convolve(open, stopNext, column: dice.column))
                open = try convolve(open, triggerNext, column: dice.column)
            } else {
                result = sum(result, try convolve(open, anyNext, column: dice.column))
                open = PMF(offset: 0, p: [])
            }
        }
        result.truncated = open.mass
        return result
    }

    /// Splits a face distribution into the faces that explode and the faces that stop, each
    /// mapped to its value (sub-distributions: their masses add up to the whole).
    func split(_ faces: PMF, _ trigger: FaceSet, value: (Int64) -> Int64) -> (PMF, PMF) {
        var triggering: [(Int64, Double)] = []
        var stopping: [(Int64, Double)] = []
        for face in faces.nonZero {
            if trigger.contains(face.value) {
                triggering.append((value(face.value), face.probability))
            } else {
                stopping.append((value(face.value), face.probability))
            }
        }
        return (dense(triggering), dense(stopping))
    }

    func dense(_ entries: [(Int64, Double)]) -> PMF {
        guard let low = entries.map(\.0).min(), let high = entries.map(\.0).max() else { return PMF(offset: 0, p: []) }
        var p = [Double](repeating: 0, count: Int(high - low) + 1)
        for (value, probability) in entries { p[Int(value - low)] += probability }
        return PMF(offset: low, p: p)
    }

    /// Pointwise sum of two sub-distributions (disjoint events).
    func sum(_ a: PMF, _ b: PMF) -> PMF {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        let low = min(a.offset, b.offset)
        let high = max(a.maximum, b.maximum)
        var p = [Double](repeating: 0, count: Int(high - low) + 1)
        for (index, value) in a.p.enumerated() { p[Int(a.offset - low) + index] += value }
        for (index, value) in b.p.enumerated() { p[Int(b.offset - low) + index] += value }
        return PMF(offset: low, p: p, truncated: 0)
    }

    /// Keep/drop over a pool in which `!` adds each explosion as a die of its own. A chain is some
    /// faces that exploded followed by one that did not (or, at the cap, one more face of any
    /// kind), so the pool holds K dice drawn from the exploding faces and U from the others.
    /// The odds condition on (K, U), whose joint distribution is a convolution over the chains,
    /// and take order statistics of the two-type pool for each.
    mutating func separatePoolPMF(_ dice: ResolvedDice, faces: PMF, clamp: (Int64) -> Int64, contribution: @escaping (Int64) -> Int64, what: String) throws(EngineError) -> PMF {
        let (exploding, stopping) = split(faces, dice.explodeOn, value: clamp)
        let q = exploding.mass
        if q == 0 {
            return try keptPMF(types: [(dice.count, stopping)], keep: dice.keep, contribution: contribution, what: what)
        }
        let cap = dice.cap
        let depth = explosionDepth(trigger: q, cap: cap)
        // One chain: (exploding faces, stopping faces) -> probability.
        var chain: [Int: [Int: Double]] = [:]
        for j in 0...depth { chain[j, default: [:]][1, default: 0] += pow(q, Double(j)) * (1 - q) }
        var perChainTruncated = 0.0
        if depth == cap {
            chain[cap + 1, default: [:]][0, default: 0] += pow(q, Double(cap + 1))
        } else {
            perChainTruncated = pow(q, Double(depth + 1))
        }
        // Joint over all chains, one chain at a time.
        var joint: [Int: [Int: Double]] = [0: [0: 1]]
        for _ in 0..<dice.count {
            var next: [Int: [Int: Double]] = [:]
            var steps = 0
            for (k, row) in joint {
                for (u, p) in row {
                    for (dk, chainRow) in chain {
                        for (du, cp) in chainRow {
                            next[k + dk, default: [:]][u + du, default: 0] += p * cp
                            steps += 1
                        }
                    }
                }
            }
            try spend(steps, what)
            joint = next
        }
        var parts: [(weight: Double, pmf: PMF)] = []
        let explodingValues = PMF(offset: exploding.offset, p: exploding.p.map { $0 / q })
        let stoppingMass = stopping.mass
        let stoppingValues = stoppingMass > 0 ? PMF(offset: stopping.offset, p: stopping.p.map { $0 / stoppingMass }) : stopping
        for k in joint.keys.sorted() {
            guard let row = joint[k] else { continue }
            for u in row.keys.sorted() {
                guard let weight = row[u], weight > 0 else { continue }
                let kept = try keptPMF(types: [(k, explodingValues), (u, stoppingValues)], keep: dice.keep, contribution: contribution, what: what)
                parts.append((weight, kept))
            }
        }
        return mixture(parts, truncated: PMF.repeated(perChainTruncated, dice.count))
    }
}
