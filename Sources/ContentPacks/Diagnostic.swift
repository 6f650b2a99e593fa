import Mechanics

/// A problem found in a pack, at a place in a file: `path:line:column: error: message`.
public struct Diagnostic: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var path: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String
    /// A short stable name of the kind of problem (`xml`, `schema`, `unknown-reference`…).
    public var code: String

    public init(path: String, line: Int, column: Int, severity: Severity = .error, code: String, _ message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.severity = severity
        self.code = code
        self.message = message
    }

    /// `path:line:column: error: message`
    public var description: String { "\(path):\(line):\(column): \(severity.rawValue): \(message)" }

    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        (a.path, a.line, a.column, a.message) < (b.path, b.line, b.column, b.message)
    }
}

/// Loading failed: every problem found, errors and warnings, sorted by place.
public struct PackError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    /// The engine code the failure maps to: `.io` when a file could not be read, `.limit` when a
    /// limit was exceeded, `.invalid` otherwise.
    public var code: EngineError.Code

    public init(_ diagnostics: [Diagnostic], code: EngineError.Code = .invalid) {
        self.diagnostics = diagnostics.sorted()
        self.code = code
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// One diagnostic a line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// The same failure as an engine error, for callers that speak only those (the C ABI).
    public var engineError: EngineError {
        let first = errors.first ?? diagnostics.first
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        return EngineError(code, (first?.description ?? "the packs could not be loaded") + more)
    }
}

/// A place in a pack file.
struct Location: Hashable, Sendable {
    var line: Int
    var column: Int

    static let start = Location(line: 1, column: 1)
}

/// Collects diagnostics for one file.
struct DiagnosticSink {
    var path: String
    var diagnostics: [Diagnostic] = []

    mutating func error(_ location: Location, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(path: path, line: location.line, column: location.column, severity: .error, code: code, message))
    }

    mutating func warning(_ location: Location, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(path: path, line: location.line, column: location.column, severity: .warning, code: code, message))
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
