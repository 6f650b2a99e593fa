/// A resolved dice term in plain-old-data form: what the roll loop reads. It holds no reference,
/// so reading it costs no reference counting, and its face tests are a bit mask for dice of up
/// to 64 faces.
struct DiceKernel: BitwiseCopyable, Sendable {
    enum Explosion: UInt8, BitwiseCopyable, Sendable {
        case none, separate, compound, penetrate
    }

    var column: Int
    var count: Int
    var low: Int64
    var high: Int64
    var fudge: Bool
    var plain: Bool
    var hasReroll: Bool
    var reroll: FacePredicate
    var maxRerolls: Int
    var explosion: Explosion
    var explodeOn: FacePredicate
    var cap: Int
    var clampLow: Int64
    var clampHigh: Int64
    var keep: KeepRules
    var scoring: Bool
    var success: ComparePoint
    var hasFailure: Bool
    var failure: ComparePoint
    var hasDouble: Bool
    var double: FacePredicate

    init(_ dice: ResolvedDice) throws(EngineError) {
        column = dice.column
        count = dice.count
        low = dice.low
        high = dice.high
        fudge = dice.fudge
        plain = dice.isPlain
        hasReroll = dice.reroll != nil
        reroll = try FacePredicate(dice.reroll, low: dice.low, high: dice.high, column: dice.column)
        maxRerolls = dice.maxRerolls
        explosion = switch dice.explosion {
        case nil: .none
        case .separate: .separate
        case .compound: .compound
        case .penetrate: .penetrate
        }
        explodeOn = try FacePredicate(dice.explosion == nil ? nil : dice.explodeOn, low: dice.low, high: dice.high, column: dice.column)
        cap = dice.cap
        clampLow = dice.clampMin ?? Int64.min
        clampHigh = dice.clampMax ?? Int64.max
        keep = try KeepRules(dice.keep, column: dice.column)
        scoring = dice.scoring != nil
        success = dice.scoring?.success ?? ComparePoint(.equal, 0)
        hasFailure = dice.scoring?.failure != nil
        failure = dice.scoring?.failure ?? ComparePoint(.equal, 0)
        hasDouble = dice.double != nil
        double = try FacePredicate(dice.double, low: dice.low, high: dice.high, column: dice.column)
    }

    @inline(__always)
    func clamp(_ face: Int64) -> Int64 {
        min(max(face, clampLow), clampHigh)
    }

    /// What a value adds to the term's total: the value, or its successes minus its failure.
    @inline(__always)
    func contribution(_ value: Int64) -> Int64 {
        guard scoring else { return value }
        // Written without branches on the outcome: dice outcomes are random, so a branch on them
        // would be mispredicted about as often as not.
        let success: Int64 = self.success.matches(value) ? 1 : 0
        let double: Int64 = hasDouble && self.double.contains(value) ? 1 : 0
        let failure: Int64 = hasFailure && self.failure.matches(value) ? 1 : 0
        return success + (success & double) - failure
    }
}

/// A set of faces as a 64-bit mask when the die has at most 64 faces, else as up to eight
/// compare points.
struct FacePredicate: BitwiseCopyable, Sendable {
    static let maxPoints = 8

    var low: Int64
    var usesMask: Bool
    var mask: UInt64
    var points: InlineArray<8, ComparePoint>
    var pointCount: Int

    init(_ set: FaceSet?, low: Int64, high: Int64, column: Int) throws(EngineError) {
        self.low = low
        mask = 0
        points = InlineArray(repeating: ComparePoint(.equal, 0))
        pointCount = 0
        usesMask = high - low < 64
        guard let set else { return }
        if usesMask {
            for offset in 0...(high - low) where set.contains(low + offset) { mask |= 1 << UInt64(offset) }
            return
        }
        guard set.points.count <= FacePredicate.maxPoints else {
            throw EngineError(.limit, "more than \(FacePredicate.maxPoints) compare points in one set of faces", at: TextLocation(column: column))
        }
        for point in set.points {
            points[pointCount] = point
            pointCount += 1
        }
    }

    @inline(__always)
    func contains(_ face: Int64) -> Bool {
        if usesMask {
            let offset = UInt64(bitPattern: face &- low)
            return offset < 64 && (mask >> offset) & 1 != 0
        }
        for index in 0..<pointCount where points[index].matches(face) { return true }
        return false
    }
}

/// Up to eight keep/drop rules, applied in order to a pool of any size.
struct KeepRules: BitwiseCopyable, Sendable {
    static let maxRules = 8

    var rules: InlineArray<8, (kind: UInt8, count: Int)>
    var count: Int

    init(_ list: [KeepRule], column: Int) throws(EngineError) {
        rules = InlineArray(repeating: (0, 0))
        count = 0
        guard list.count <= KeepRules.maxRules else {
            throw EngineError(.limit, "more than \(KeepRules.maxRules) keep/drop rules on one term", at: TextLocation(column: column))
        }
        for rule in list {
            let kind: UInt8 = switch rule.kind {
            case .keepHighest: 0
            case .keepLowest: 1
            case .dropHighest: 2
            case .dropLowest: 3
            }
            rules[count] = (kind, rule.count)
            count += 1
        }
    }

    var isEmpty: Bool { count == 0 }

    /// The kept window `lo..<hi` of a pool of `size` values sorted ascending.
    @inline(__always)
    func window(size: Int) -> (lo: Int, hi: Int) {
        var lo = 0
        var hi = size
        for index in 0..<count {
            let rule = rules[index]
            switch rule.kind {
            case 0: lo = max(lo, hi - rule.count)
            case 1: hi = min(hi, lo + rule.count)
            case 2: hi = max(lo, hi - rule.count)
            default: lo = min(hi, lo + rule.count)
            }
        }
        return (lo, hi)
    }
}
