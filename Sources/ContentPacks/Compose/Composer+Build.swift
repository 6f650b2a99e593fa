import Mechanics

extension Composer {
    /// Warnings for names and descriptions missing in a language the pack promises.
    mutating func checkTranslations() {
        for (index, document) in documents.enumerated() where byId[document.id] == index {
            for language in document.languages {
                if document.titles[language] == nil {
                    warning(index, document.location, "translation", "the pack has no title in '\(language)'")
                }
                if !document.descriptions.isEmpty && document.descriptions[language] == nil {
                    warning(index, document.location, "translation", "the pack has no description in '\(language)'")
                }
                for entity in document.entities {
                    let label: String
                    switch entity.identity {
                    case .new(let id): label = "\(entity.kind.noun) '\(id)'"
                    case .override(let id): label = "the override of '\(id)'"
                    case .extends: continue  // An extension may add texts, and need not.
                    }
                    if entity.names[language] == nil {
                        warning(index, entity.element.location, "translation", "\(label) has no name in '\(language)'")
                    }
                    if !entity.descriptions.isEmpty && entity.descriptions[language] == nil {
                        warning(index, entity.element.location, "translation", "\(label) has no description in '\(language)'")
                    }
                    for band in entity.bands where band.names[language] == nil {
                        warning(index, band.element.location, "translation", "band '\(band.id)' of \(label) has no name in '\(language)'")
                    }
                }
            }
        }
    }

    /// The ruleset itself, from content the composer has fully checked.
    mutating func build(_ content: ResolvedContent) -> LoadedRuleset? {
        let ruleset: Ruleset
        do {
            ruleset = try Ruleset(stats: content.stats, skills: content.skills, derived: content.derived, modifierTypes: content.modifierTypes,
                                  checks: content.checks, sources: content.sources, limits: limits.expressions)
        } catch {
            // Everything Ruleset checks was checked above with places; this is a last safety net.
            let pack = order.last ?? 0
            self.error(pack, documents[pack].location, "ruleset", "the composed ruleset is not valid: \(error.message)")
            return nil
        }
        var infos: [PackInfo] = []
        for pack in order {
            let document = documents[pack]
            var entities: [String: [String]] = [:]
            var overrides: [String] = []
            var extensions: [String] = []
            for entity in document.entities {
                switch entity.identity {
                case .new(let id): entities[entity.kind.noun, default: []].append("\(document.id):\(id)")
                case .override(let id): overrides.append(id)
                case .extends(let id): extensions.append(id)
                }
            }
            infos.append(PackInfo(
                id: document.id, version: document.version, path: document.path, language: document.language, languages: document.languages,
                titles: document.titles, descriptions: document.descriptions, authors: document.authors, license: document.license,
                requires: document.requires.map { PackInfo.Requirement(id: $0.id, range: $0.range) },
                entities: entities, overrides: overrides, extensions: extensions))
        }
        return LoadedRuleset(ruleset: ruleset, packs: infos, texts: content.texts, warnings: diagnostics.filter { $0.severity == .warning })
    }
}
