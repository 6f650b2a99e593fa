extension StringProtocol {
    /// Without leading and trailing white space.
    func trimmed() -> String {
        guard let first = firstIndex(where: { !isXMLSpace($0) }), let last = lastIndex(where: { !isXMLSpace($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Split on white space, dropping empty pieces (XSD list values).
    func words() -> [String] {
        var result: [String] = []
        var current = ""
        for c in self {
            if isXMLSpace(c) {
                if !current.isEmpty { result.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

/// XML white space: space, tab, line feed, carriage return.
func isXMLSpace(_ c: Swift.Character) -> Bool {
    c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\r\n"
}

/// The pack format's fixed names.
enum PackFormat {
    /// The namespace of format 1; its last component is the format's major version.
    static let namespace = "urn:roll-for-language:pack:1"
    static let namespacePrefix = "urn:roll-for-language:pack:"
    static let version = 1
}

extension PackFormat {
    /// Attributes each element allows, for "did you mean" on a mistyped one.
    static let attributes: [String: [String]] = [
        "pack": ["id", "version", "languages"],
        "stat": ["id", "override", "extends", "default", "min", "max"],
        "skill": ["id", "override", "extends", "default", "min", "max"],
        "value": ["id", "override", "extends", "formula"],
        "modifier-type": ["id", "override", "extends", "stacking"],
        "check": ["id", "override", "extends", "dice", "adds", "tags", "bands"],
        "band": ["id", "from"],
        "natural": ["when", "shift", "set", "at-least", "at-most"],
        "item": ["id", "override", "extends", "duration"],
        "condition": ["id", "override", "extends", "duration"],
        "feat": ["id", "override", "extends", "duration"],
        "source": ["id", "override", "extends", "duration", "kind"],
        "modifier": ["target", "value", "grants", "type", "when", "duration"],
        "author": ["email", "url"],
        "pack-requirement": ["id", "version"],
    ]

    /// Every element of the format, for "did you mean" on a mistyped one.
    static let elements = [
        "pack", "title", "description", "author", "license", "requires", "stats", "stat", "skills", "skill", "derived", "value",
        "modifier-types", "modifier-type", "checks", "check", "band", "natural", "items", "item", "conditions", "condition",
        "feats", "feat", "sources", "source", "modifier", "name",
    ]

    static func closest(_ name: String, among names: [String]) -> String? {
        Mechanics.Ruleset.closest(name, names)
    }
}

import Mechanics
