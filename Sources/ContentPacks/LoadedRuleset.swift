import Mechanics

/// Packs loaded and composed: the `Ruleset` they make, what each pack declares, and the names
/// and descriptions of everything in every language they give. Immutable and shareable.
public final class LoadedRuleset: Sendable {
    public let ruleset: Ruleset
    /// The packs in load order (each after the packs it requires).
    public let packs: [PackInfo]
    /// Warnings found while loading (missing translations); loading fails on errors.
    public let warnings: [Diagnostic]
    let texts: [String: EntityTexts]
    /// Short ids (`speaking`) to the full id, or to nil where several packs use the short id.
    private let shortIds: [String: String?]

    init(ruleset: Ruleset, packs: [PackInfo], texts: [String: EntityTexts], warnings: [Diagnostic]) {
        self.ruleset = ruleset
        self.packs = packs
        self.texts = texts
        self.warnings = warnings
        var short: [String: String?] = [:]
        for key in texts.keys where !key.contains("/") {
            guard let colon = key.lastIndex(of: ":") else { continue }
            let id = String(key[key.index(after: colon)...])
            short[id] = short[id] == nil ? .some(key) : .some(nil)
        }
        shortIds = short
    }

    /// The full id (`core:speaking`) of an entity given in full or by its short form, when the
    /// short form is unambiguous.
    public func qualifiedId(_ id: String) -> String? {
        if texts[id] != nil { return id }
        return shortIds[id] ?? nil
    }

    /// The name of a stat, skill, derived value, check, modifier type or source in `language`
    /// (with fallback to the primary language, the pack's language, English, then any).
    public func name(of id: String, language: String) -> String? {
        guard let key = qualifiedId(id), let entry = texts[key] else { return nil }
        return LocalizedText.pick(entry.names, language, fallback: entry.language)
    }

    public func description(of id: String, language: String) -> String? {
        guard let key = qualifiedId(id), let entry = texts[key] else { return nil }
        return LocalizedText.pick(entry.descriptions, language, fallback: entry.language)
    }

    /// The name of an outcome band of a check.
    public func bandName(check: String, band: String, language: String) -> String? {
        guard let key = qualifiedId(check), let entry = texts["\(key)/\(band)"] else { return nil }
        return LocalizedText.pick(entry.names, language, fallback: entry.language)
    }

    /// Every language some name is given in.
    public var languages: [String] {
        var all = Set<String>()
        for entry in texts.values { all.formUnion(entry.names.keys) }
        return all.sorted()
    }
}
