/// The parsed form of a dice expression: what the odds engine walks and the compiler flattens.
indirect enum Syntax: Sendable {
    case number(Int64)
    /// `@id`; `slot` indexes the expression's ``DiceExpression/statReferences``.
    case stat(id: String, slot: Int, column: Int)
    case dice(DiceTerm)
    case negate(Syntax, column: Int)
    case binary(BinaryOperator, Syntax, Syntax, column: Int)
    case abs(Syntax, column: Int)
    /// `max(…)` when `isMax`, else `min(…)`.
    case extremum(isMax: Bool, [Syntax])
    case group(Group)
}

enum BinaryOperator: Hashable, Sendable {
    case add, subtract, multiply
    case divide(Rounding)
}

/// How a division rounds: `/` floors; `ceil(a/b)` and `round(a/b)` divide with their own rounding.
enum Rounding: Hashable, Sendable {
    case floor, ceil, round
}

/// `{a, b, …}` with its modifiers: keep/drop on the items' totals, then success counting.
struct Group: Sendable {
    var items: [Syntax]
    var keep: [KeepRule]
    var scoring: Scoring?
    /// The faces of `dbl`, which on a group always has an explicit compare point.
    var double: FaceSet?
    var column: Int
}

/// Which of a pool's values count: applied in the order written, each to the values still kept.
struct KeepRule: Hashable, Sendable, CustomStringConvertible {
    enum Kind: String, Hashable, Sendable {
        case keepHighest = "kh", keepLowest = "kl", dropHighest = "dh", dropLowest = "dl"
    }

    var kind: Kind
    var count: Int

    var description: String { "\(kind.rawValue)\(count)" }

    /// The kept window `lo..<hi` of a pool of `size` values sorted in ascending order.
    static func window(_ rules: [KeepRule], size: Int) -> (lo: Int, hi: Int) {
        var lo = 0
        var hi = size
        for rule in rules {
            switch rule.kind {
            case .keepHighest: lo = max(lo, hi - rule.count)
            case .keepLowest: hi = min(hi, lo + rule.count)
            case .dropHighest: hi = max(lo, hi - rule.count)
            case .dropLowest: lo = min(hi, lo + rule.count)
            }
        }
        return (lo, hi)
    }
}

/// Success counting: each value that meets `success` scores 1 (2 if it also meets `double`); each
/// that meets `failure` scores -1.
struct Scoring: Hashable, Sendable {
    var success: ComparePoint
    var failure: ComparePoint?
    var double: FaceRule?

    @inline(__always)
    func score(_ value: Int64, double doubleSet: FaceSet?) -> Int64 {
        var score: Int64 = 0
        if success.matches(value) { score = (doubleSet?.contains(value) ?? false) ? 2 : 1 }
        if let failure, failure.matches(value) { score -= 1 }
        return score
    }
}

/// Faces named by compare points, plus (the defaults of `r`, `!` and `dbl`) the lowest or the
/// highest face of the die, resolved once the die's sides are known.
struct FaceRule: Hashable, Sendable {
    var points: [ComparePoint] = []
    var lowestFace = false
    var highestFace = false
    /// The highest face or more: for tests of a die's value, which explosions can take past it.
    var highestFaceOrMore = false

    static let lowest = FaceRule(lowestFace: true)
    static let highest = FaceRule(highestFace: true)
    static let highestOrMore = FaceRule(highestFaceOrMore: true)

    func resolved(low: Int64, high: Int64) -> FaceSet {
        var all = points
        if lowestFace { all.append(ComparePoint(.equal, low)) }
        if highestFace { all.append(ComparePoint(.equal, high)) }
        if highestFaceOrMore { all.append(ComparePoint(.greaterOrEqual, high)) }
        return FaceSet(points: all)
    }
}

/// How an explosion adds its extra dice.
enum ExplosionKind: String, Hashable, Sendable {
    /// `!`: each extra die joins the pool as a die of its own.
    case separate = "!"
    /// `!!`: extra dice add into the die that exploded.
    case compound = "!!"
    /// `!p`: as `!!`, with 1 taken off every extra die.
    case penetrate = "!p"
}

/// One dice term, `NdM` with its modifiers, as written. A class: the tree, the program and the
/// odds engine share one instance instead of copying it.
final class DiceTerm: Sendable {
    enum Count: Sendable {
        case fixed(Int)
        case dynamic(Syntax)
    }

    enum Sides: Sendable {
        case fixed(Int)
        case percent
        case fudge
        case dynamic(Syntax)
    }

    let column: Int
    let count: Count
    let sides: Sides
    let modifiers: DiceModifiers
    /// The term with count and sides known, computed once when both are fixed.
    let resolved: ResolvedDice?

    private init(column: Int, count: Count, sides: Sides, modifiers: DiceModifiers, resolved: ResolvedDice?) {
        self.column = column
        self.count = count
        self.sides = sides
        self.modifiers = modifiers
        self.resolved = resolved
    }

    /// The term as written, resolved at once when its count and sides are fixed.
    static func make(column: Int, count: Count, sides: Sides, modifiers: DiceModifiers, limits: Limits) throws(EngineError) -> DiceTerm {
        let draft = DiceTerm(column: column, count: count, sides: sides, modifiers: modifiers, resolved: nil)
        guard case .fixed(let n) = count else { return draft }
        let resolved: ResolvedDice
        switch sides {
        case .fixed(let m): resolved = try draft.resolve(count: n, sides: Int64(m), limits: limits)
        case .percent: resolved = try draft.resolve(count: n, sides: 100, limits: limits)
        case .fudge: resolved = try draft.resolve(count: n, sides: nil, limits: limits)
        case .dynamic: return draft
        }
        return DiceTerm(column: column, count: count, sides: sides, modifiers: modifiers, resolved: resolved)
    }
}

/// A dice term's modifiers as written (each kind at most once, keep/drop any number of times).
struct DiceModifiers: Hashable, Sendable {
    var reroll: FaceRule?
    var rerollOnce = false
    var explosion: ExplosionKind?
    var explodeOn: FaceRule?
    var cap: Int?
    var clampMin: Int64?
    var clampMax: Int64?
    var keep: [KeepRule] = []
    var scoring: Scoring?

    var isEmpty: Bool {
        reroll == nil && explosion == nil && clampMin == nil && clampMax == nil && keep.isEmpty && scoring == nil
    }
}

/// A dice term with its count and sides known and every default resolved: what a roll and the
/// odds engine work from.
struct ResolvedDice: Sendable {
    var column: Int
    var count: Int
    /// Faces run `low...high`: `1...sides`, or `-1...1` for Fudge dice.
    var low: Int64
    var high: Int64
    var fudge: Bool
    var label: String
    var reroll: FaceSet?
    var rerollOnce: Bool
    var maxRerolls: Int
    var explosion: ExplosionKind?
    var explodeOn: FaceSet
    var cap: Int
    var clampMin: Int64?
    var clampMax: Int64?
    var keep: [KeepRule]
    var scoring: Scoring?
    var double: FaceSet?
    /// No modifier at all: the sum of plain dice.
    var isPlain: Bool

    var sides: Int { Int(high - low + 1) }

    /// Stands in the kernel table for a term resolved only at roll time.
    static let placeholder = ResolvedDice(
        column: 0, count: 0, low: 1, high: 1, fudge: false, label: "", reroll: nil, rerollOnce: false, maxRerolls: 0,
        explosion: nil, explodeOn: FaceSet(points: []), cap: 0, clampMin: nil, clampMax: nil, keep: [], scoring: nil,
        double: nil, isPlain: true)

    @inline(__always)
    func clamp(_ face: Int64) -> Int64 {
        var value = face
        if let clampMin, value < clampMin { value = clampMin }
        if let clampMax, value > clampMax { value = clampMax }
        return value
    }
}
