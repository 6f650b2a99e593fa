/// An error from the engine: a code from an open set that maps one to one onto the C ABI's
/// `rfl_status`, a message for people, and where the problem is when there is a place to point at.
public struct EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of error this is. The raw values are the C ABI's `rfl_status` codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// An error that fits no other code.
        public static let error = Code(rawValue: 1)
        /// The caller broke an API rule (a missing argument, a handle used wrongly).
        public static let misuse = Code(rawValue: 2)
        /// A dice expression or a formula does not parse.
        public static let syntax = Code(rawValue: 3)
        /// The input parses but means nothing valid (a d0, a reroll that never stops, a cycle).
        public static let invalid = Code(rawValue: 4)
        /// An id names nothing: an unknown stat, check or modifier source.
        public static let notFound = Code(rawValue: 5)
        /// The input exceeds a configured limit; the message names the limit and its value.
        public static let limit = Code(rawValue: 6)
        /// A file could not be read or written.
        public static let io = Code(rawValue: 7)
        /// Memory ran out.
        public static let noMemory = Code(rawValue: 8)

        public var description: String {
            switch self {
            case .error: "error"
            case .misuse: "misuse"
            case .syntax: "syntax"
            case .invalid: "invalid"
            case .notFound: "not found"
            case .limit: "limit"
            case .io: "io"
            case .noMemory: "no memory"
            default: "code \(rawValue)"
            }
        }
    }

    public var code: Code
    public var message: String
    /// Where the problem is: the column (and line) inside an expression or a file.
    public var location: TextLocation?

    public init(_ code: Code, _ message: String, at location: TextLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    /// "column 7: expected a number after 'd'", or the message alone when there is no location.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// A place in a text: 1-based line and column, counted in characters.
public struct TextLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int = 1, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: TextLocation, b: TextLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { line == 1 ? "column \(column)" : "line \(line), column \(column)" }
}
