/// Bounds on the work one expression, roll or odds computation may ask of the engine.
///
/// Every limit has a default suited to a public server; an embedding program raises or lowers
/// them by passing its own `Limits` where an expression is compiled or odds are computed. An input
/// beyond a limit is refused with an ``EngineError`` of code `.limit` that names the limit and
/// its value.
public struct Limits: Hashable, Sendable {
    /// Longest expression, in UTF-8 bytes.
    public var maxExpressionLength: Int
    /// Deepest nesting of parentheses, function calls and groups.
    public var maxNesting: Int
    /// Most dice one roll may start (the sum over all its dice terms, before explosions).
    public var maxDice: Int
    /// Most sides on one die.
    public var maxSides: Int
    /// Most explosions one die may chain (`!`, `!!`, `!p`); an explicit `cap N` may only lower it.
    public var maxExplosions: Int
    /// Most rerolls of one draw under `r` (`ro` rerolls at most once).
    public var maxRerolls: Int
    /// Most items in one group `{…}`.
    public var maxGroupSize: Int
    /// Most elementary steps one odds computation may take: multiply-adds, and every value it
    /// stores (about a quarter of a second, and memory in proportion, at the default).
    public var maxOddsWork: Int
    /// Most distinct values one distribution may span while odds are computed.
    public var maxOddsSupport: Int

    /// The defaults.
    public static let `default` = Limits()

    /// The limits with every field given; fields left out keep their defaults.
    public init(
        maxExpressionLength: Int = 1000,
        maxNesting: Int = 32,
        maxDice: Int = 10_000,
        maxSides: Int = 1_000_000,
        maxExplosions: Int = 100,
        maxRerolls: Int = 100,
        maxGroupSize: Int = 100,
        maxOddsWork: Int = 100_000_000,
        maxOddsSupport: Int = 10_000_000
    ) {
        self.maxExpressionLength = maxExpressionLength
        self.maxNesting = maxNesting
        self.maxDice = maxDice
        self.maxSides = maxSides
        self.maxExplosions = maxExplosions
        self.maxRerolls = maxRerolls
        self.maxGroupSize = maxGroupSize
        self.maxOddsWork = maxOddsWork
        self.maxOddsSupport = maxOddsSupport
    }
}
