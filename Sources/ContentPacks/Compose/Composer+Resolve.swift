import Mechanics

/// The composed content, resolved: ready to become a `Ruleset`.
struct ResolvedContent {
    var stats: [Ruleset.Stat] = []
    var skills: [Ruleset.Skill] = []
    var derived: [Ruleset.Derived] = []
    var modifierTypes: [Ruleset.ModifierType] = []
    var checks: [Ruleset.Check] = []
    var sources: [Ruleset.Source] = []
    var texts: [String: EntityTexts] = [:]
}

/// The names and descriptions of one entity (or one band, keyed `check/band`).
struct EntityTexts: Sendable {
    var kind: String
    var names: [String: String]
    var descriptions: [String: String]
    /// The default language of the pack that wrote it.
    var language: String
}

extension Composer {
    mutating func resolve() -> ResolvedContent? {
        var content = ResolvedContent()
        var derivedReads: [String: (reads: [String], entity: MergedEntity)] = [:]
        for id in declared[.values] ?? [] {
            guard let entity = tables[.values]?[id] else { continue }
            addTexts(entity, to: &content)
            switch entity.kind {
            case .stat, .skill:
                if let stat = resolveStat(entity) {
                    if entity.kind == .stat { content.stats.append(stat) } else { content.skills.append(stat) }
                }
            case .derived:
                var reads: [String] = []
                if let formula = resolveFormula(entity, attribute: "formula", deterministic: true, reads: &reads) {
                    content.derived.append(Ruleset.Derived(id, formula: formula))
                }
                derivedReads[id] = (reads, entity)
            case .check:
                if let check = resolveCheck(entity, texts: &content.texts) { content.checks.append(check) }
            default:
                break
            }
        }
        for id in declared[.modifierTypes] ?? [] {
            guard let entity = tables[.modifierTypes]?[id] else { continue }
            addTexts(entity, to: &content)
            guard let stacking = entity.attributes["stacking"] else {
                error(entity.file, entity.declaration, "missing-attribute", "modifier type '\(id)' needs stacking=\"sum\", \"highest\" or \"highest-bonus-lowest-penalty\"")
                continue
            }
            guard let value = Ruleset.Stacking(rawValue: stacking.value) else { continue }  // The schema reports it.
            content.modifierTypes.append(Ruleset.ModifierType(id, stacking: value))
        }
        for id in declared[.sources] ?? [] {
            guard let entity = tables[.sources]?[id] else { continue }
            addTexts(entity, to: &content)
            guard case .source(let kind) = entity.kind else { continue }
            var modifiers: [Ruleset.Modifier] = []
            for piece in entity.modifiers {
                if let modifier = resolveModifier(piece) { modifiers.append(modifier) }
            }
            content.sources.append(Ruleset.Source(id, kind: kind, modifiers: modifiers))
        }
        checkCycles(derivedReads)
        return hasErrors ? nil : content
    }

    private func addTexts(_ entity: MergedEntity, to content: inout ResolvedContent) {
        content.texts[entity.id] = EntityTexts(kind: entity.kind.noun, names: entity.names, descriptions: entity.descriptions,
                                               language: documents[entity.owner].language)
    }

    // MARK: - References

    /// What kind of entity a reference may name.
    enum Acceptance: Hashable {
        case any
        /// A stat, skill or derived value: not a check.
        case value
        case check

        func accepts(_ kind: EntityKind) -> Bool {
            switch self {
            case .any: true
            case .value: kind != .check
            case .check: kind == .check
            }
        }
    }

    /// Resolves a reference written in pack `scope`: an unqualified id means that pack's own
    /// entity; `pack:id` an entity of that pack, which must be the pack itself or a dependency.
    mutating func reference(
        _ reference: String, scope: Int, namespace: EntityKind.Namespace, accept: Acceptance, what: String,
        file: XMLFile, at location: Location
    ) -> String? {
        let qualified: String
        if let colon = reference.firstIndex(of: ":") {
            let packId = String(reference[..<colon])
            guard let pack = byId[packId], pack == scope || closure[scope].contains(pack) else {
                let loaded = byId[packId] != nil
                error(file, location, "unknown-reference", loaded
                      ? "'\(reference)' is in pack '\(packId)', which this pack does not require; add <pack id=\"\(packId)\"/> to <requires>"
                      : "'\(reference)' names pack '\(packId)', which is not loaded")
                return nil
            }
            qualified = reference
        } else {
            qualified = "\(documents[scope].id):\(reference)"
        }
        if let kind = tables[namespace]?[qualified]?.kind, accept.accepts(kind) { return qualified }
        var message = "unknown \(what) '\(reference)'"
        if let kind = tables[namespace]?[qualified]?.kind {
            message = "'\(reference)' is a \(kind.noun), not a \(what)"
        }
        // Suggestions compare against every visible id: a pack with thousands of mistakes gets
        // them for its first ones only, so that it still loads in bounded time.
        guard suggestionBudget > 0 else {
            error(file, location, "unknown-reference", message)
            return nil
        }
        suggestionBudget -= 1
        let visible = visibleIds(scope: scope, namespace: namespace, accept: accept)
        if !reference.contains(":"), let match = visible.first(where: { $0.hasSuffix(":" + reference) }) {
            message += "; ids of other packs are written pack:id: did you mean '\(match)'?"
        } else if let match = invisible(reference, scope: scope, namespace: namespace, accept: accept), let colon = match.firstIndex(of: ":") {
            message += "; pack '\(match[..<colon])' declares '\(match)', but this pack does not require it"
        } else if let match = Ruleset.closest(reference, visible) {
            message += "; did you mean '\(match)'?"
        }
        error(file, location, "unknown-reference", message)
        return nil
    }

    /// The ids pack `scope` can reference in a namespace: its own unqualified, its dependencies'
    /// qualified. Computed once per pack, namespace and kind.
    private mutating func visibleIds(scope: Int, namespace: EntityKind.Namespace, accept: Acceptance) -> [String] {
        let key = VisibleKey(scope: scope, namespace: namespace, accept: accept)
        if let cached = visibleCache[key] { return cached }
        let own = documents[scope].id + ":"
        var visible: [String] = []
        for id in declared[namespace] ?? [] {
            guard let kind = tables[namespace]?[id]?.kind, accept.accepts(kind) else { continue }
            if id.hasPrefix(own) {
                visible.append(String(id.dropFirst(own.count)))
            } else if let colon = id.firstIndex(of: ":"), let pack = byId[String(id[..<colon])], closure[scope].contains(pack) {
                visible.append(id)
            }
        }
        visibleCache[key] = visible
        return visible
    }

    /// An entity with this short id in a pack that `scope` does not require, if any.
    private func invisible(_ reference: String, scope: Int, namespace: EntityKind.Namespace, accept: Acceptance) -> String? {
        guard !reference.contains(":") else { return nil }
        for (pack, document) in documents.enumerated() where pack != scope && !closure[scope].contains(pack) {
            let id = "\(document.id):\(reference)"
            if let kind = tables[namespace]?[id]?.kind, accept.accepts(kind) { return id }
        }
        return nil
    }

    // MARK: - Entities

    private mutating func integer(_ entity: MergedEntity, _ name: String) -> (Int64, MergedEntity.Scoped<String>)? {
        guard let piece = entity.attributes[name], let value = PackReader.integer(piece.value) else { return nil }
        return (value, piece)
    }

    private mutating func resolveStat(_ entity: MergedEntity) -> Ruleset.Stat? {
        let value = integer(entity, "default")
        let minimum = integer(entity, "min")
        let maximum = integer(entity, "max")
        if let minimum, let maximum, minimum.0 > maximum.0 {
            error(maximum.1.file, maximum.1.file.location(of: "max", in: maximum.1.element), "range", "max \(maximum.0) is below min \(minimum.0)")
            return nil
        }
        let defaultValue = value?.0 ?? minimum?.0 ?? 0
        if let minimum, defaultValue < minimum.0 {
            let place = value?.1 ?? minimum.1
            error(place.file, place.file.location(of: value == nil ? "min" : "default", in: place.element), "range",
                  "default \(defaultValue) is below min \(minimum.0)")
            return nil
        }
        if let maximum, defaultValue > maximum.0 {
            let place = value?.1 ?? maximum.1
            error(place.file, place.file.location(of: value == nil ? "max" : "default", in: place.element), "range",
                  "default \(defaultValue) is above max \(maximum.0)")
            return nil
        }
        return Ruleset.Stat(entity.id, default: defaultValue, minimum: minimum?.0, maximum: maximum?.0)
    }

    /// Parses a formula or dice attribute, resolves its `@` references and rewrites them to
    /// qualified ids. Errors point at the column inside the attribute.
    mutating func resolveFormula(_ entity: MergedEntity, attribute: String, deterministic: Bool, fallback: String? = nil, reads: inout [String]) -> String? {
        let piece = entity.attributes[attribute]
        guard let text = piece?.value ?? fallback else {
            error(entity.file, entity.declaration, "missing-attribute", "\(entity.kind.noun) '\(entity.id)' needs a \(attribute)")
            return nil
        }
        let file = piece?.file ?? entity.file
        let element = piece?.element ?? entity.file.root
        let scope = piece?.scope ?? entity.owner
        func at(_ column: Int) -> Location { piece == nil ? entity.declaration : file.location(of: attribute, in: element, column: column) }
        let expression: DiceExpression
        do {
            expression = try DiceExpression(text, limits: limits.expressions)
        } catch {
            self.error(file, at(error.location?.column ?? 1), "formula", "\(attribute) '\(text)': \(error.message)")
            return nil
        }
        if deterministic && !expression.isDeterministic {
            error(file, at(1), "formula", "\(attribute) '\(text)' rolls dice; a derived value must be a fixed number")
            return nil
        }
        var rewritten = Array(text.utf8)
        var failed = false
        // Replace from the end so earlier ranges stay valid.
        for span in expression.referenceSpans.reversed() {
            let column = text.utf8.prefix(span.range.lowerBound).reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
            // `@level-2` reads as @level minus 2; when the id `level-2` exists, say how to write it.
            let after = text.utf8.dropFirst(span.range.upperBound)
            if after.first == UInt8(ascii: "-"), let digit = after.dropFirst().first, (0x30...0x39).contains(digit) {
                let digits = after.dropFirst().prefix { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "-") }
                let longer = span.id + "-" + String(decoding: digits, as: UTF8.self)
                let qualified = longer.contains(":") ? longer : "\(documents[scope].id):\(longer)"
                if tables[.values]?[qualified] != nil && tables[.values]?[span.id.contains(":") ? span.id : "\(documents[scope].id):\(span.id)"] == nil {
                    error(file, at(column), "formula", "'@\(longer)' reads as @\(span.id) minus a number; write @{\(longer)} for the id '\(longer)'")
                    failed = true
                    continue
                }
            }
            guard let qualified = reference(span.id, scope: scope, namespace: .values, accept: .value, what: "stat, skill or derived value",
                                            file: file, at: at(column)) else {
                failed = true
                continue
            }
            reads.insert(qualified, at: 0)
            rewritten.replaceSubrange(span.range, with: Array(qualified.utf8))
        }
        return failed ? nil : String(decoding: rewritten, as: UTF8.self)
    }

    private mutating func resolveCheck(_ entity: MergedEntity, texts: inout [String: EntityTexts]) -> Ruleset.Check? {
        var failed = false
        var reads: [String] = []
        guard let dice = resolveFormula(entity, attribute: "dice", deterministic: false, fallback: "1d20", reads: &reads) else { return nil }
        var adds: [String] = []
        for piece in entity.adds {
            if let id = reference(piece.value, scope: piece.scope, namespace: .values, accept: .value, what: "stat, skill or derived value",
                                  file: piece.file, at: piece.file.location(of: "adds", in: piece.element)) {
                adds.append(id)
            } else {
                failed = true
            }
        }
        // Bands: explicit ones, else a preset (pass-fail by default).
        var bands: [Ruleset.Band] = []
        var bandTexts: [String: (Texts, Texts)] = [:]
        if let explicit = entity.bands {
            var seen: [String: Location] = [:]
            var previous: Int64?
            for (position, band) in explicit.value.enumerated() {
                let location = band.element.location
                if let first = seen[band.id] {
                    error(explicit.file, location, "duplicate-id", "band '\(band.id)' appears twice in this check (first at line \(first.line))")
                    failed = true
                }
                seen[band.id] = location
                if position == 0, band.from != nil {
                    error(explicit.file, explicit.file.location(of: "from", in: band.element), "bands",
                          "the first band takes every margin below the next one and has no 'from'")
                    failed = true
                } else if position == 0 {
                    // The first band starts at the lowest margin there is.
                    previous = Int64.min
                } else {
                    guard let from = band.from else {
                        error(explicit.file, location, "bands", "band '\(band.id)' needs 'from', the margin it starts at")
                        failed = true
                        continue
                    }
                    if let previous, from <= previous {
                        error(explicit.file, explicit.file.location(of: "from", in: band.element), "bands",
                              "band '\(band.id)' starts at \(from), which is not above the band before it (\(previous)); list bands worst first")
                        failed = true
                    }
                    previous = from
                }
                bands.append(Ruleset.Band(band.id, from: band.from))
                bandTexts[band.id] = (band.names, band.descriptions)
            }
        } else {
            let preset = entity.attributes["bands"]?.value ?? "pass-fail"
            bands = preset == "four-degrees" ? Ruleset.Check.fourDegrees : Ruleset.Check.passFail
            for band in bands { bandTexts[band.id] = (PresetBands.names[band.id] ?? [:], [:]) }
        }
        let bandIds = bands.map(\.id)
        var rules: [Ruleset.NaturalRule] = []
        for piece in entity.naturals {
            let natural = piece.value
            let (attribute, band): (String?, String?) = switch natural.effect {
            case .shift: (nil, nil)
            case .set(let id): ("set", id)
            case .atLeast(let id): ("at-least", id)
            case .atMost(let id): ("at-most", id)
            }
            if let attribute, let band, !bandIds.contains(band) {
                error(piece.file, piece.file.location(of: attribute, in: natural.element), "unknown-reference",
                      "unknown band '\(band)'; this check's bands are \(bandIds.joined(separator: ", "))\(Ruleset.suggestion(band, bandIds))")
                failed = true
                continue
            }
            rules.append(Ruleset.NaturalRule(when: natural.when, natural.effect))
        }
        for (band, (names, descriptions)) in bandTexts {
            texts["\(entity.id)/\(band)"] = EntityTexts(kind: "band", names: names, descriptions: descriptions, language: documents[entity.owner].language)
        }
        guard !failed, !bands.isEmpty else { return nil }
        return Ruleset.Check(entity.id, dice: dice, adds: adds, tags: Set(entity.tags), bands: bands, naturalRules: rules)
    }

    private mutating func resolveModifier(_ piece: MergedEntity.Scoped<ModifierDefinition>) -> Ruleset.Modifier? {
        let modifier = piece.value
        let grants: Bool = if case .add = modifier.effect { false } else { true }
        let target = reference(modifier.target, scope: piece.scope, namespace: .values,
                               accept: grants ? .check : .any,
                               what: grants ? "check (advantage and disadvantage apply to checks)" : "stat, skill, derived value or check",
                               file: piece.file, at: piece.file.location(of: "target", in: modifier.element))
        var type: String?
        if let written = modifier.type {
            guard let resolved = reference(written, scope: piece.scope, namespace: .modifierTypes, accept: .any, what: "modifier type",
                                           file: piece.file, at: piece.file.location(of: "type", in: modifier.element)) else { return nil }
            type = resolved
        }
        guard let target else { return nil }
        return Ruleset.Modifier(target: target, effect: modifier.effect, type: type, when: modifier.when, duration: modifier.duration)
    }

    /// A cycle among derived values, named at the formula of its first member. (One is reported:
    /// fixing it may reveal another.)
    private mutating func checkCycles(_ reads: [String: (reads: [String], entity: MergedEntity)]) {
        let ids = reads.keys.sorted()
        var index: [String: Int] = [:]
        for (position, id) in ids.enumerated() { index[id] = position }
        let edges = ids.map { id in (reads[id]?.reads ?? []).compactMap { index[$0] } }
        guard let cycle = Graph.depthFirst(count: ids.count, edges: { edges[$0] }, finished: { _ in }),
              let first = cycle.first, let node = reads[ids[first]] else { return }
        let entity = node.entity
        let place = entity.attributes["formula"]
        error(place?.file ?? entity.file, place.map { $0.file.location(of: "formula", in: $0.element) } ?? entity.declaration, "cycle",
              "derived values form a cycle: \(cycle.map { ids[$0] }.joined(separator: " -> "))")
    }

}

/// Names of the preset bands in the languages the game ships.
enum PresetBands {
    static let names: [String: [String: String]] = [
        "critical-failure": ["en": "Critical failure", "es": "Fallo crítico", "fr": "Échec critique"],
        "failure": ["en": "Failure", "es": "Fallo", "fr": "Échec"],
        "success": ["en": "Success", "es": "Éxito", "fr": "Réussite"],
        "critical-success": ["en": "Critical success", "es": "Éxito crítico", "fr": "Réussite critique"],
    ]
}
