import Mechanics

/// Reads a parsed pack file into a ``PackDocument``. What the schema already reports (a missing
/// required attribute, a malformed id) is skipped here silently; what only this layer can see
/// (an entity with both `id` and `override`, two names in one language) is reported.
enum PackReader {
    static func read(_ file: XMLFile, sink: inout DiagnosticSink) -> PackDocument? {
        let root = file.root
        guard root.name == "pack", root.namespace == PackFormat.namespace else {
            if let namespace = root.namespace, namespace.hasPrefix(PackFormat.namespacePrefix) {
                let version = namespace.dropFirst(PackFormat.namespacePrefix.count)
                sink.error(root.location, "format", "this pack is in format \(version); this version of the engine reads format \(PackFormat.version) ('\(PackFormat.namespace)')")
            } else if root.name == "pack" {
                sink.error(root.location, "format", "the root element must be in the pack namespace: <pack xmlns=\"\(PackFormat.namespace)\" …>")
            } else {
                sink.error(root.location, "format", "the root element is <\(root.name)>; a pack's root element is <pack xmlns=\"\(PackFormat.namespace)\">")
            }
            return nil
        }
        guard let id = root.attribute("id"), let versionText = root.attribute("version") else { return nil }
        guard let version = SemanticVersion(versionText) else { return nil }
        let language = root.language ?? "en"
        var document = PackDocument(
            path: file.path, file: file, id: id, version: version, location: root.location, language: language,
            languages: root.attribute("languages")?.words() ?? [], titles: [:], descriptions: [:], authors: [], license: nil,
            requires: [], entities: [])
        for child in root.children where child.namespace == PackFormat.namespace {
            switch child.name {
            case "title":
                addText(child, to: &document.titles, language: language, what: "title", sink: &sink)
            case "description":
                addText(child, to: &document.descriptions, language: language, what: "description", sink: &sink)
            case "author":
                document.authors.append(PackInfo.Author(name: child.text.trimmed(), email: child.attribute("email"), url: child.attribute("url")))
            case "license":
                document.license = child.text.trimmed()
            case "requires":
                for requirement in child.children where requirement.name == "pack" {
                    guard let requiredId = requirement.attribute("id") else { continue }
                    let text = requirement.attribute("version") ?? "*"
                    do {
                        let range = try VersionRange(text)
                        document.requires.append(PackDocument.Requirement(
                            id: requiredId, range: range, location: requirement.location,
                            rangeLocation: file.location(of: "version", in: requirement)))
                    } catch {
                        sink.error(file.location(of: "version", in: requirement), "version", "version range '\(text)' is not valid: \(error.message)")
                    }
                }
            case "stats", "skills", "derived", "modifier-types", "checks", "items", "conditions", "feats", "sources":
                for element in child.children where element.namespace == PackFormat.namespace {
                    if let entity = readEntity(element, section: child.name, file: file, language: language, sink: &sink) {
                        document.entities.append(entity)
                    }
                }
            default:
                break  // The schema reports unknown elements.
            }
        }
        return document
    }

    private static func kind(of element: XMLElement, section: String) -> EntityKind? {
        switch (section, element.name) {
        case ("stats", "stat"): .stat
        case ("skills", "skill"): .skill
        case ("derived", "value"): .derived
        case ("modifier-types", "modifier-type"): .modifierType
        case ("checks", "check"): .check
        case ("items", "item"): .source("item")
        case ("conditions", "condition"): .source("condition")
        case ("feats", "feat"): .source("feat")
        case ("sources", "source"): element.attribute("kind").map { .source($0) }
        default: nil
        }
    }

    private static func readEntity(_ element: XMLElement, section: String, file: XMLFile, language: String, sink: inout DiagnosticSink) -> Entity? {
        guard let kind = kind(of: element, section: section) else { return nil }
        let given = [("id", element.attribute("id")), ("override", element.attribute("override")), ("extends", element.attribute("extends"))]
            .compactMap { name, value in value.map { (name, $0) } }
        guard given.count == 1, let (how, value) = given.first else {
            let message = given.isEmpty
                ? "a <\(element.name)> needs one of id (a new \(kind.noun)), override or extends (a dependency's \(kind.noun))"
                : "a <\(element.name)> takes only one of id, override and extends, not \(given.map(\.0).joined(separator: " and "))"
            sink.error(element.location, "identity", message)
            return nil
        }
        let identity: Identity = switch how {
        case "id": .new(value)
        case "override": .override(value)
        default: .extends(value)
        }
        var entity = Entity(kind: kind, identity: identity, element: element)
        for child in element.children where child.namespace == PackFormat.namespace {
            switch child.name {
            case "name":
                let lang = child.language ?? language
                if entity.names[lang] != nil { sink.error(child.location, "text", "a second name in '\(lang)'") }
                entity.names[lang] = child.text.trimmed()
                entity.textLocations["name:" + lang] = child.location
            case "description":
                let lang = child.language ?? language
                if entity.descriptions[lang] != nil { sink.error(child.location, "text", "a second description in '\(lang)'") }
                entity.descriptions[lang] = child.text.trimmed()
                entity.textLocations["description:" + lang] = child.location
            case "band":
                guard let id = child.attribute("id") else { continue }
                var names: Texts = [:]
                var descriptions: Texts = [:]
                for text in child.children {
                    if text.name == "name" { names[text.language ?? language] = text.text.trimmed() }
                    if text.name == "description" { descriptions[text.language ?? language] = text.text.trimmed() }
                }
                let from = child.attribute("from").flatMap(integer)
                entity.bands.append(BandDefinition(id: id, from: from, names: names, descriptions: descriptions, element: child))
            case "natural":
                if let natural = readNatural(child, file: file, sink: &sink) { entity.naturals.append(natural) }
            case "modifier":
                let duration = child.attribute("duration").flatMap { Int($0) } ?? element.attribute("duration").flatMap { Int($0) }
                if let modifier = readModifier(child, duration: duration, sink: &sink) { entity.modifiers.append(modifier) }
            default:
                break
            }
        }
        return entity
    }

    private static func readNatural(_ element: XMLElement, file: XMLFile, sink: inout DiagnosticSink) -> NaturalDefinition? {
        guard let whenText = element.attribute("when") else { return nil }
        guard let when = comparePoint(whenText) else {
            sink.error(file.location(of: "when", in: element), "natural", "'\(whenText)' is not a compare point such as =20, >=19 or <2")
            return nil
        }
        var effects: [Ruleset.NaturalRule.Effect] = []
        if let shift = element.attribute("shift"), let n = Int(shift.hasPrefix("+") ? String(shift.dropFirst()) : shift) { effects.append(.shift(n)) }
        if let band = element.attribute("set") { effects.append(.set(band)) }
        if let band = element.attribute("at-least") { effects.append(.atLeast(band)) }
        if let band = element.attribute("at-most") { effects.append(.atMost(band)) }
        guard effects.count == 1, let effect = effects.first else {
            sink.error(element.location, "natural", "a <natural> rule takes exactly one of shift, set, at-least and at-most")
            return nil
        }
        return NaturalDefinition(when: when, effect: effect, element: element)
    }

    private static func readModifier(_ element: XMLElement, duration: Int?, sink: inout DiagnosticSink) -> ModifierDefinition? {
        guard let target = element.attribute("target") else { return nil }
        let value = element.attribute("value").flatMap(integer)
        let grants = element.attribute("grants")
        let effect: Ruleset.Modifier.Effect
        switch (value, grants) {
        case (let value?, nil): effect = .add(value)
        case (nil, "advantage"): effect = .advantage
        case (nil, "disadvantage"): effect = .disadvantage
        case (nil, nil):
            sink.error(element.location, "modifier", "a <modifier> needs value (a bonus or penalty) or grants (advantage or disadvantage)")
            return nil
        default:
            if element.attribute("value") != nil && grants != nil {
                sink.error(element.location, "modifier", "a <modifier> takes value or grants, not both")
            }
            return nil
        }
        return ModifierDefinition(target: target, effect: effect, type: element.attribute("type"),
                                  when: Set(element.attribute("when")?.words() ?? []), duration: duration, element: element)
    }

    private static func addText(_ element: XMLElement, to texts: inout Texts, language: String, what: String, sink: inout DiagnosticSink) {
        let lang = element.language ?? language
        if texts[lang] != nil { sink.error(element.location, "text", "a second \(what) in '\(lang)'") }
        texts[lang] = element.text.trimmed()
    }

    static func integer(_ text: String) -> Int64? {
        Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// `=20`, `>=19`, `<2`, or a bare number meaning `=`.
    static func comparePoint(_ text: String) -> ComparePoint? {
        let trimmed = text.trimmed()
        for (prefix, op) in [(">=", ComparePoint.Operator.greaterOrEqual), ("<=", .lessOrEqual), (">", .greater), ("<", .less), ("=", .equal)]
        where trimmed.hasPrefix(prefix) {
            return integer(String(trimmed.dropFirst(prefix.count))).map { ComparePoint(op, $0) }
        }
        return integer(trimmed).map { ComparePoint(.equal, $0) }
    }
}
