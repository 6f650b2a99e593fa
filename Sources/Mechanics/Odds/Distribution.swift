/// An exact probability distribution over integer values: what ``DiceExpression/odds(stats:)``
/// returns.
///
/// Probabilities are doubles computed by convolution and order-statistics recurrences over
/// non-negative numbers only, so every probability carries a small relative error (see
/// docs/dice.md, "Exact odds"); a probability below about 1e-308 underflows to zero.
public struct Distribution: Sendable, Hashable {
    /// The value of `probabilities[0]`.
    public let offset: Int64
    /// `probabilities[i]` is the probability of the value `offset + i`.
    public let probabilities: [Double]
    /// Probability mass not represented: explosion chains deeper than the odds engine followed
    /// (see ``DiceExpression/odds(stats:)``). 0 for every expression without explosions.
    public let truncated: Double

    /// A distribution from dense probabilities starting at `offset`; zero entries at either end
    /// are trimmed.
    public init(offset: Int64, probabilities: [Double], truncated: Double = 0) {
        var first = 0
        var last = probabilities.count - 1
        while first <= last && probabilities[first] == 0 { first += 1 }
        while last >= first && probabilities[last] == 0 { last -= 1 }
        if first > last {
            self.offset = 0
            self.probabilities = []
        } else {
            self.offset = offset + Int64(first)
            self.probabilities = first == 0 && last == probabilities.count - 1 ? probabilities : Array(probabilities[first...last])
        }
        self.truncated = truncated
    }

    /// The distribution of a constant.
    public init(constant value: Int64) {
        self.init(offset: value, probabilities: [1])
    }

    /// The smallest value with a probability above zero.
    public var minimum: Int64 { offset }
    /// The largest value with a probability above zero.
    public var maximum: Int64 { offset + Int64(max(probabilities.count - 1, 0)) }

    /// The total probability represented: 1 minus ``truncated``, up to rounding.
    public var mass: Double { Distribution.sum(probabilities.indices) { probabilities[$0] } }

    /// Every value with a probability above zero, ascending.
    public var outcomes: [(value: Int64, probability: Double)] {
        probabilities.indices.compactMap { index in
            probabilities[index] > 0 ? (offset + Int64(index), probabilities[index]) : nil
        }
    }

    /// The probability of exactly `value`.
    public func probability(of value: Int64) -> Double {
        guard value >= offset, value <= maximum, !probabilities.isEmpty else { return 0 }
        return probabilities[Int(value - offset)]
    }

    /// The probability of `value` or more: the chance to reach a target.
    public func probability(atLeast value: Int64) -> Double {
        guard !probabilities.isEmpty else { return 0 }
        if value <= offset { return sumFrom(0) }
        if value > maximum { return 0 }
        return sumFrom(Int(value - offset))
    }

    /// The probability of `value` or less.
    public func probability(atMost value: Int64) -> Double {
        guard !probabilities.isEmpty, value >= offset else { return 0 }
        if value >= maximum { return sumFrom(0) }
        return Distribution.sum(0..<(Int(value - offset) + 1)) { probabilities[$0] }
    }

    private func sumFrom(_ index: Int) -> Double {
        Distribution.sum(index..<probabilities.count) { probabilities[$0] }
    }

    /// The mean, over the represented mass.
    public var mean: Double {
        let total = mass
        guard total > 0 else { return 0 }
        return Double(offset) + Distribution.sum(probabilities.indices) { Double($0) * probabilities[$0] } / total
    }

    /// The variance, over the represented mass.
    public var variance: Double {
        let total = mass
        guard total > 0 else { return 0 }
        let center = mean - Double(offset)
        return Distribution.sum(probabilities.indices) { index in
            let d = Double(index) - center
            return d * d * probabilities[index]
        } / total
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
