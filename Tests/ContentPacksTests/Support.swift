import ContentPacks
import Foundation
import Mechanics
import Testing

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rulesets = root.appendingPathComponent("rulesets").path
    static let core = root.appendingPathComponent("rulesets/core.xml").path
    static let nightMarket = root.appendingPathComponent("rulesets/night-market.xml").path

    /// A pack around `body`, with `id` and optional requirements; line 3 is the first line of body.
    static func pack(_ id: String, version: String = "1.0.0", requires: String = "", languages: String = "", _ body: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <pack xmlns="urn:roll-for-language:pack:1" id="\(id)" version="\(version)"\(languages.isEmpty ? "" : " languages=\"\(languages)\"")>
        \(body)
        </pack>
        """.replacing("\n\n</pack>", with: "\n</pack>")
    }

    static func title(_ name: String = "Test") -> String { "  <title>\(name)</title>" }

    /// Diagnostics for packs given as (path, xml).
    static func diagnostics(_ packs: [(String, String)]) -> [Diagnostic] {
        PackLoader().validate(sources: packs.map { ($0.0, Array($0.1.utf8)) })
    }

    static func load(_ packs: [(String, String)]) throws -> LoadedRuleset {
        try PackLoader().load(sources: packs.map { ($0.0, Array($0.1.utf8)) })
    }
}

/// Expects exactly one error diagnostic matching `path:line:column` containing `message`.
func expectDiagnostic(_ diagnostics: [Diagnostic], _ place: String, _ message: String, severity: Diagnostic.Severity = .error,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    let matches = diagnostics.filter { "\($0.path):\($0.line):\($0.column)" == place && $0.severity == severity && $0.message.contains(message) }
    #expect(matches.count == 1, "wanted \(place): \(severity.rawValue): …\(message)… in:\n\(diagnostics.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

/// `path:line:column` of the first `needle` on `line` of `xml`, plus `offset` characters; with
/// `value: true`, the first character after it (an attribute's value after `name="`).
func place(_ path: String, _ xml: String, line: Int, _ needle: String, value: Bool = false) -> String {
    let lines = xml.split(separator: "\n", omittingEmptySubsequences: false)
    guard line - 1 < lines.count, let range = lines[line - 1].firstRange(of: needle) else { return "\(path):\(line):?" }
    let column = lines[line - 1].distance(from: lines[line - 1].startIndex, to: value ? range.upperBound : range.lowerBound) + 1
    return "\(path):\(line):\(column)"
}
