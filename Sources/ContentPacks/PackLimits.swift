import Mechanics

/// Bounds on what loading packs may take. Inputs beyond them are refused with a diagnostic that
/// names the limit and its value, before the XML parser sees them where possible.
public struct PackLimits: Hashable, Sendable {
    /// Largest pack file, in bytes.
    public var maxFileSize: Int
    /// Deepest element nesting.
    public var maxDepth: Int
    /// Most elements in one file.
    public var maxElements: Int
    /// Most attributes on one element (checking for duplicates costs the XML parser the square
    /// of the number).
    public var maxAttributes: Int
    /// Most pack files in one load.
    public var maxPacks: Int
    /// Limits for formulas and check dice.
    public var expressions: Limits

    public init(maxFileSize: Int = 16 << 20, maxDepth: Int = 32, maxElements: Int = 500_000, maxAttributes: Int = 64, maxPacks: Int = 256,
                expressions: Limits = .default) {
        self.maxFileSize = maxFileSize
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxAttributes = maxAttributes
        self.maxPacks = maxPacks
        self.expressions = expressions
    }

    public static let `default` = PackLimits()
}
