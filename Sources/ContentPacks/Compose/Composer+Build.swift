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
        let infos = order.map { documents[$0].info }
        return LoadedRuleset(ruleset: ruleset, packs: infos, texts: content.texts, warnings: diagnostics.filter { $0.severity == .warning })
    }
}

extension PackDocument {
    /// What the pack declares, as ``PackInfo``.
    var info: PackInfo {
        let entries = entities.map { entity in
            let (id, change): (String, PackInfo.Entry.Change) = switch entity.identity {
            case .new(let local): ("\(self.id):\(local)", .new)
            case .override(let target): (target, .override)
            case .extends(let target): (target, .extends)
            }
            return PackInfo.Entry(kind: entity.kind.noun, id: id, change: change, names: entity.names, descriptions: entity.descriptions)
        }
        return PackInfo(
            id: id, version: version, path: path, language: language, languages: languages, titles: titles, descriptions: descriptions,
            authors: authors, license: license, requires: requires.map { PackInfo.Requirement(id: $0.id, range: $0.range) }, entries: entries)
    }
}
