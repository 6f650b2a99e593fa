/// A compiled dice expression: parsed and checked once, then rolled or analysed any number of
/// times without parsing again. Immutable and safe to share between threads.
///
/// ```swift
/// let expression = try DiceExpression("4d6kh3")
/// var rng = RNG(seed: 42)
/// let total = try expression.roll(using: &rng)
/// let roll = try expression.rollDetailed(using: &rng)   // total and every die
/// let odds = try expression.odds()                      // exact distribution
/// ```
public final class DiceExpression: Sendable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    /// The limits it was compiled under, which also bound its rolls and its odds.
    public let limits: Limits
    /// The distinct `@id` stat references, in order of first appearance.
    public let statReferences: [String]
    /// Every `@id` occurrence with the UTF-8 byte range of its id in ``source``, for tools that
    /// rewrite references (the pack loader qualifies ids with their pack).
    package let referenceSpans: [(id: String, range: Range<Int>)]
    let syntax: Syntax
    let program: Program
    /// For `NdM+k` without modifiers or stats (the commonest rolls), N, M and k, so that
    /// ``roll(using:)`` can be inlined into the caller. `plainCount` is 0 for every other shape.
    @usableFromInline let plainCount: Int
    @usableFromInline let plainSides: UInt64
    @usableFromInline let plainOffset: Int64

    /// Parses and checks `source`. Throws `.syntax` with the column and what was expected there,
    /// `.invalid` for what parses but cannot be rolled (a `d0`, a reroll that can never stop), and
    /// `.limit` for what exceeds `limits`.
    public init(_ source: String, limits: Limits = .default) throws(EngineError) {
        var parser = Parser(source, limits: limits)
        let syntax = try parser.parse()
        self.source = source
        self.limits = limits
        self.statReferences = parser.statReferences
        self.referenceSpans = parser.referenceSpans
        self.syntax = syntax
        let program = try Program(syntax, fixedDice: parser.fixedDice, limits: limits)
        self.program = program
        if case .plainDice(let count, let sides, let offset) = program.shortcut, count > 0,
           !Int64(count).multipliedReportingOverflow(by: Int64(sides)).overflow,
           !offset.addingReportingOverflow(Int64(count) * Int64(sides)).overflow,
           !offset.addingReportingOverflow(Int64(count)).overflow {
            plainCount = count
            plainSides = sides
            plainOffset = offset
        } else {
            plainCount = 0
            plainSides = 0
            plainOffset = 0
        }
    }

    public var description: String { source }

    /// True when the expression rolls no dice, so every evaluation gives the same value.
    public var isDeterministic: Bool { program.terms.isEmpty }

    // MARK: - Rolling

    /// Rolls the expression and returns its total. The expression must have no `@stat` references.
    @inlinable
    public func roll(using rng: inout RNG) throws(EngineError) -> Int64 {
        if plainCount == 1 { return Int64(bitPattern: rng.uniform(plainSides)) &+ 1 &+ plainOffset }
        if plainCount > 1 {
            var total = plainOffset
            for _ in 0..<plainCount { total &+= Int64(bitPattern: rng.uniform(plainSides)) &+ 1 }
            return total
        }
        return try rollAnyShape(using: &rng)
    }

    @usableFromInline
    func rollAnyShape(using rng: inout RNG) throws(EngineError) -> Int64 {
        guard statReferences.isEmpty else { throw missingStat(statReferences[0]) }
        var recorder = NoRecorder()
        return try Evaluator.run(program, stats: UnsafeBufferPointer(start: nil, count: 0), limits: limits, rng: &rng, recorder: &recorder)
    }

    /// Rolls the expression with `@stat` references taken from `stats`.
    public func roll(using rng: inout RNG, stats: some StatLookup) throws(EngineError) -> Int64 {
        let values = try resolveStats(stats)
        var recorder = NoRecorder()
        return try values.withUnsafeBufferPointer { (buffer) throws(EngineError) -> Int64 in
            try Evaluator.run(program, stats: buffer, limits: limits, rng: &rng, recorder: &recorder)
        }
    }

    /// Rolls the expression with the values of ``statReferences`` given in the same order: the
    /// fastest way when the same stats are used again and again.
    public func roll(using rng: inout RNG, statValues: [Int64]) throws(EngineError) -> Int64 {
        guard statValues.count == statReferences.count else { throw wrongStatCount(statValues.count) }
        var recorder = NoRecorder()
        return try statValues.withUnsafeBufferPointer { (buffer) throws(EngineError) -> Int64 in
            try Evaluator.run(program, stats: buffer, limits: limits, rng: &rng, recorder: &recorder)
        }
    }

    /// Rolls the expression and returns the total with a trace of every die. Draws exactly the
    /// same dice as ``roll(using:)`` from the same generator state.
    public func rollDetailed(using rng: inout RNG) throws(EngineError) -> Roll {
        try rollDetailed(using: &rng, statValues: try resolveStats([String: Int64]()))
    }

    /// Rolls with `@stat` references from `stats`, returning the total and every die.
    public func rollDetailed(using rng: inout RNG, stats: some StatLookup) throws(EngineError) -> Roll {
        try rollDetailed(using: &rng, statValues: try resolveStats(stats))
    }

    /// Rolls with the values of ``statReferences`` in order, returning the total and every die.
    public func rollDetailed(using rng: inout RNG, statValues: [Int64]) throws(EngineError) -> Roll {
        guard statValues.count == statReferences.count else { throw wrongStatCount(statValues.count) }
        var recorder = TraceRecorder()
        let total = try statValues.withUnsafeBufferPointer { (buffer) throws(EngineError) -> Int64 in
            try Evaluator.run(program, stats: buffer, limits: limits, rng: &rng, recorder: &recorder)
        }
        return Roll(total: total, dice: recorder.dice)
    }

    // MARK: - Stats

    func resolveStats(_ stats: some StatLookup) throws(EngineError) -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(statReferences.count)
        for id in statReferences {
            guard let value = stats.statValue(id) else { throw missingStat(id) }
            values.append(value)
        }
        return values
    }

    private func missingStat(_ id: String) -> EngineError {
        var column: Int?
        func find(_ syntax: Syntax) {
            guard column == nil else { return }
            switch syntax {
            case .stat(let statId, _, let at) where statId == id: column = at
            case .number, .stat: break
            case .dice(let term):
                if case .dynamic(let count) = term.count { find(count) }
                if case .dynamic(let sides) = term.sides { find(sides) }
            case .negate(let inner, _), .abs(let inner, _): find(inner)
            case .binary(_, let left, let right, _):
                find(left)
                find(right)
            case .extremum(_, let arguments): arguments.forEach(find)
            case .group(let group): group.items.forEach(find)
            }
        }
        find(syntax)
        return EngineError(.notFound, "no value given for '@\(id)'", at: column.map { TextLocation(column: $0) })
    }

    private func wrongStatCount(_ count: Int) -> EngineError {
        EngineError(.misuse, "\(count) stat values given for \(statReferences.count) stat references")
    }
}

/// Where `@id` references in an expression take their values from.
public protocol StatLookup {
    func statValue(_ id: String) -> Int64?
}

extension Dictionary: StatLookup where Key == String, Value == Int64 {
    public func statValue(_ id: String) -> Int64? { self[id] }
}

extension DiceExpression {
    // MARK: - Odds

    /// The exact distribution of the expression's value. The expression must have no `@stat`
    /// references. Throws `.limit` when the computation would exceed `limits.maxOddsWork` or
    /// `limits.maxOddsSupport`, and `.invalid` when a division by zero is possible.
    ///
    /// Explosion chains are followed to the die's cap, or until the chance of going deeper falls
    /// below 10^-18 per die; the mass left out is ``Distribution/truncated``.
    public func odds() throws(EngineError) -> Distribution {
        guard statReferences.isEmpty else { throw EngineError(.notFound, "no value given for '@\(statReferences[0])'") }
        return try odds(statValues: [])
    }

    /// The exact distribution with `@stat` references taken from `stats`.
    public func odds(stats: some StatLookup) throws(EngineError) -> Distribution {
        try odds(statValues: try resolveStats(stats))
    }

    /// The exact distribution with the values of ``statReferences`` given in order.
    public func odds(statValues: [Int64]) throws(EngineError) -> Distribution {
        guard statValues.count == statReferences.count else {
            throw EngineError(.misuse, "\(statValues.count) stat values given for \(statReferences.count) stat references")
        }
        var engine = OddsEngine(limits: limits, stats: statValues)
        return try engine.pmf(syntax).distribution
    }
}
