/// An exact probability distribution over integer values: what ``DiceExpression/odds(stats:)``
/// returns.
///
/// Probabilities are doubles computed by convolution and order-statistics recurrences over
/// non-negative numbers only, so every probability carries a small relative error (see
/// docs/dice.md, "Exact odds"); a probability below about 1e-308 underflows to zero.
public struct Distribution: Sendable, Hashable {
    /// The value of `probabilities[0]`.
    public let offset: Int64
    /// The distance between consecutive values: `probabilities[i]` is the probability of
    /// `offset + stride * i`. 1 for most expressions; larger when every outcome is a multiple
    /// apart (`2d6*10` has stride 10).
    public let stride: UInt64
    /// `probabilities[i]` is the probability of the value `offset + stride * i`.
    public let probabilities: [Double]
    /// Probability mass not represented: explosion chains deeper than the odds engine followed
    /// (see ``DiceExpression/odds(stats:)``). 0 for every expression without explosions.
    public let truncated: Double

    /// A distribution from probabilities on the grid `offset + stride * i`; zero entries at either
    /// end are trimmed.
    public init(offset: Int64, stride: UInt64 = 1, probabilities: [Double], truncated: Double = 0) {
        var pmf = PMF(offset: offset, stride: stride, p: probabilities, truncated: truncated)
        pmf.trim()
        self.offset = pmf.isEmpty ? 0 : pmf.offset
        self.stride = pmf.stride
        self.probabilities = pmf.p
        self.truncated = truncated
    }

    /// The distribution of a constant.
    public init(constant value: Int64) {
        self.init(offset: value, probabilities: [1])
    }

    private var grid: PMF { PMF(offset: offset, stride: stride, p: probabilities) }

    /// The smallest value with a probability above zero.
    public var minimum: Int64 { offset }
    /// The largest value with a probability above zero.
    public var maximum: Int64 { grid.maximum }

    /// The total probability represented: 1 minus ``truncated``, up to rounding.
    public var mass: Double { Distribution.sum(probabilities.indices) { probabilities[$0] } }

    /// Every value with a probability above zero, ascending.
    public var outcomes: [(value: Int64, probability: Double)] { grid.nonZero }

    /// The probability of exactly `value`.
    public func probability(of value: Int64) -> Double { grid.probability(of: value) }

    /// The probability of `value` or more: the chance to reach a target.
    public func probability(atLeast value: Int64) -> Double {
        guard !probabilities.isEmpty, value <= maximum else { return 0 }
        let first = value <= offset ? 0 : Int((UInt64(bitPattern: value) &- UInt64(bitPattern: offset) + stride - 1) / stride)
        return Distribution.sum(first..<probabilities.count) { probabilities[$0] }
    }

    /// The probability of `value` or less.
    public func probability(atMost value: Int64) -> Double {
        guard !probabilities.isEmpty, value >= offset else { return 0 }
        let last = value >= maximum ? probabilities.count - 1 : Int((UInt64(bitPattern: value) &- UInt64(bitPattern: offset)) / stride)
        return Distribution.sum(0..<(last + 1)) { probabilities[$0] }
    }

    /// The mean, over the represented mass.
    public var mean: Double {
        let total = mass
        guard total > 0 else { return 0 }
        return Double(offset) + Double(stride) * Distribution.sum(probabilities.indices) { Double($0) * probabilities[$0] } / total
    }

    /// The variance, over the represented mass.
    public var variance: Double {
        let total = mass
        guard total > 0 else { return 0 }
        let center = (mean - Double(offset)) / Double(stride)
        let spread = Distribution.sum(probabilities.indices) { index in
            let d = Double(index) - center
            return d * d * probabilities[index]
        } / total
        return spread * Double(stride) * Double(stride)
    }

    /// The standard deviation, over the represented mass.
    public var standardDeviation: Double { variance.squareRoot() }

    /// Neumaier's compensated sum: the moments stay exact to the last bit or two however many
    /// values there are.
    static func sum(_ indices: Range<Int>, _ term: (Int) -> Double) -> Double {
        var sum = 0.0
        var compensation = 0.0
        for index in indices {
            let x = term(index)
            let t = sum + x
            if Swift.abs(sum) >= Swift.abs(x) {
                compensation += (sum - t) + x
            } else {
                compensation += (x - t) + sum
            }
            sum = t
        }
        return sum + compensation
    }
}
