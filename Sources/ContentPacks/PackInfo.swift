/// What a pack declares about itself.
public struct PackInfo: Sendable, Hashable {
    public struct Author: Sendable, Hashable {
        public var name: String
        public var email: String?
        public var url: String?
    }

    public struct Requirement: Sendable, Hashable {
        public var id: String
        public var range: VersionRange
    }

    public var id: String
    public var version: SemanticVersion
    public var path: String
    /// The pack's default language.
    public var language: String
    /// Languages every name and description should be given in.
    public var languages: [String]
    public var titles: [String: String]
    public var descriptions: [String: String]
    public var authors: [Author]
    public var license: String?
    public var requires: [Requirement]
    /// Everything the pack declares, overrides or extends, in document order.
    public var entries: [Entry]

    /// One entity of the pack.
    public struct Entry: Sendable, Hashable {
        public enum Change: String, Sendable, Hashable {
            /// Declared by this pack.
            case new
            /// A dependency's entity, replaced.
            case override
            /// A dependency's entity, added to.
            case extends
        }

        /// `stat`, `skill`, `derived value`, `modifier type`, `check`, `item`, `condition`…
        public var kind: String
        /// The qualified id: this pack's for a new entity, the dependency's otherwise.
        public var id: String
        public var change: Change
        public var names: [String: String]
        public var descriptions: [String: String]

        public func name(_ language: String, fallback: String = "en") -> String? { LocalizedText.pick(names, language, fallback: fallback) }
        public func description(_ language: String, fallback: String = "en") -> String? { LocalizedText.pick(descriptions, language, fallback: fallback) }
    }

    /// The title in `language`, falling back as ``LocalizedText`` does.
    public func title(_ language: String) -> String { LocalizedText.pick(titles, language, fallback: self.language) ?? id }
    public func description(_ language: String) -> String? { LocalizedText.pick(descriptions, language, fallback: self.language) }
}

/// Choosing a text by language: the exact tag (`es-MX`), then its primary language (`es`), then
/// the pack's default language, then English, then any.
public enum LocalizedText {
    public static func pick(_ texts: [String: String], _ language: String, fallback: String = "en") -> String? {
        if texts.isEmpty { return nil }
        let wanted = language.lowercased()
        if let exact = texts.first(where: { $0.key.lowercased() == wanted }) { return exact.value }
        let primary = wanted.split(separator: "-").first.map(String.init) ?? wanted
        if let match = texts.first(where: { $0.key.lowercased() == primary }) { return match.value }
        if let match = texts.first(where: { $0.key.lowercased().split(separator: "-").first.map(String.init) == primary }) { return match.value }
        if let value = texts[fallback] { return value }
        if let value = texts["en"] { return value }
        return texts.sorted { $0.key < $1.key }.first?.value
    }
}
