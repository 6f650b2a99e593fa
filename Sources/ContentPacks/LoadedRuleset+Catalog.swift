import Mechanics

extension LoadedRuleset {
    /// Everything the packs define, with names and descriptions in `language` (falling back as
    /// ``name(of:language:)`` does), as one JSON object: what a client needs to offer stats,
    /// checks and sources to a player.
    ///
    /// `{"language":…,"packs":[{"id","version","title"}],"stats":[…],"skills":[…],
    /// "derived":[…],"modifier_types":[…],"checks":[…],"sources":[…]}`; see docs/packs.md.
    public func catalogJSON(language: String) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("language", language)
        writer.key("packs")
        writer.beginArray()
        for pack in packs {
            writer.beginObject()
            writer.field("id", pack.id)
            writer.field("version", pack.version.description)
            writer.field("title", pack.title(language))
            writer.endObject()
        }
        writer.endArray()
        for (key, list) in [("stats", ruleset.stats), ("skills", ruleset.skills)] {
            writer.key(key)
            writer.beginArray()
            for stat in list {
                beginEntity(stat.id, language, &writer)
                writer.field("default", stat.defaultValue)
                optional("minimum", stat.minimum, &writer)
                optional("maximum", stat.maximum, &writer)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.key("derived")
        writer.beginArray()
        for derived in ruleset.derived {
            beginEntity(derived.id, language, &writer)
            writer.field("formula", derived.formula)
            writer.endObject()
        }
        writer.endArray()
        writer.key("modifier_types")
        writer.beginArray()
        for type in ruleset.modifierTypes {
            beginEntity(type.id, language, &writer)
            writer.field("stacking", type.stacking.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.key("checks")
        writer.beginArray()
        for check in ruleset.checks {
            beginEntity(check.id, language, &writer)
            writer.field("dice", check.dice)
            strings("adds", check.adds, &writer)
            strings("tags", check.tags.sorted(), &writer)
            writer.key("bands")
            writer.beginArray()
            for band in check.bands {
                writer.beginObject()
                writer.field("id", band.id)
                writer.key("name")
                if let name = bandName(check: check.id, band: band.id, language: language) { writer.value(name) } else { writer.null() }
                optional("from", band.from, &writer)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.key("sources")
        writer.beginArray()
        for source in ruleset.sources {
            beginEntity(source.id, language, &writer)
            writer.field("kind", source.kind)
            writer.key("modifiers")
            writer.beginArray()
            for modifier in source.modifiers {
                writer.beginObject()
                writer.field("target", modifier.target)
                switch modifier.effect {
                case .add(let value): writer.field("value", value)
                case .advantage: writer.field("effect", "advantage")
                case .disadvantage: writer.field("effect", "disadvantage")
                }
                if let type = modifier.type { writer.field("type", type) }
                if !modifier.when.isEmpty { strings("when", modifier.when.sorted(), &writer) }
                if let duration = modifier.duration { writer.field("duration", duration) }
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.output
    }

    /// Opens an entity's object with its id, name and description.
    private func beginEntity(_ id: String, _ language: String, _ writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", id)
        writer.key("name")
        if let name = name(of: id, language: language) { writer.value(name) } else { writer.null() }
        writer.key("description")
        if let description = description(of: id, language: language) { writer.value(description) } else { writer.null() }
    }

    private func optional(_ key: String, _ value: Int64?, _ writer: inout JSONWriter) {
        writer.key(key)
        if let value { writer.value(value) } else { writer.null() }
    }

    private func strings(_ key: String, _ values: [String], _ writer: inout JSONWriter) {
        writer.key(key)
        writer.beginArray()
        for value in values { writer.value(value) }
        writer.endArray()
    }
}
