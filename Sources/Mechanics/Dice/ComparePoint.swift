/// A compare point: an operator and a number that a die's face or value is tested against, as in
/// `>=7`, `<=1` or `=6` (a bare number means `=`).
public struct ComparePoint: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public enum Operator: String, Hashable, Sendable, CaseIterable, BitwiseCopyable {
        case equal = "="
        case less = "<"
        case greater = ">"
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
    }

    public var op: Operator
    public var value: Int64

    public init(_ op: Operator, _ value: Int64) {
        self.op = op
        self.value = value
    }

    @inline(__always)
    public func matches(_ x: Int64) -> Bool {
        switch op {
        case .equal: x == value
        case .less: x < value
        case .greater: x > value
        case .lessOrEqual: x <= value
        case .greaterOrEqual: x >= value
        }
    }

    public var description: String { "\(op.rawValue)\(value)" }
}

/// A set of faces given by compare points (`r1r2` rerolls on 1 or 2): a face belongs when any
/// point matches.
struct FaceSet: Hashable, Sendable {
    var points: [ComparePoint]

    @inline(__always)
    func contains(_ x: Int64) -> Bool {
        for point in points where point.matches(x) { return true }
        return false
    }

    /// Whether every face in `low...high` belongs. The complement of a union of compare points is
    /// a union of intervals whose ends are `low`, `high` or a point's value plus or minus one, so
    /// testing those candidates decides it without visiting a million faces.
    func containsAll(_ low: Int64, _ high: Int64) -> Bool {
        var candidates: [Int64] = [low, high]
        for point in points {
            candidates.append(point.value)
            if point.value > Int64.min { candidates.append(point.value - 1) }
            if point.value < Int64.max { candidates.append(point.value + 1) }
        }
        for candidate in candidates where candidate >= low && candidate <= high && !contains(candidate) {
            return false
        }
        return true
    }

    var description: String { points.map(\.description).joined(separator: ",") }
}
