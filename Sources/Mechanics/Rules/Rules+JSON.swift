extension CheckResult: JSONWritable {
    /// The JSON of a check result, as `rfl check --json` prints it and `rfl_check_json` returns it.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("check", check)
        writer.key("dc")
        if let dc { writer.value(dc) } else { writer.null() }
        writer.field("advantage", advantage.rawValue)
        writer.field("total", total)
        writer.field("natural", natural)
        writer.field("margin", margin)
        writer.field("band", band)
        writer.field("band_id", bandId)
        writer.field("band_before_natural_rule", bandBeforeNaturalRule)
        writer.key("natural_rule")
        if let naturalRule { writer.value(naturalRule) } else { writer.null() }
        writer.key("rolls")
        writer.beginArray()
        for roll in rolls { roll.write(to: &writer) }
        writer.endArray()
        writer.field("kept_roll", keptRoll)
        writer.key("contributions")
        writer.beginArray()
        for contribution in contributions { contribution.write(to: &writer) }
        writer.endArray()
        writer.key("modifiers")
        ModifierLine.write(modifiers, to: &writer)
        if let opponent {
            writer.key("opponent")
            opponent.result.write(to: &writer)
        }
        writer.endObject()
    }
}

extension ValueBreakdown: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", id)
        writer.field("kind", kind.rawValue)
        writer.field("base", base)
        if let formula { writer.field("formula", formula) }
        writer.field("total", total)
        writer.key("modifiers")
        ModifierLine.write(modifiers, to: &writer)
        writer.endObject()
    }
}

extension ModifierLine: JSONWritable {
    static func write(_ lines: [ModifierLine], to writer: inout JSONWriter) {
        writer.beginArray()
        for line in lines { line.write(to: &writer) }
        writer.endArray()
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("source", source)
        writer.key("type")
        if let type { writer.value(type) } else { writer.null() }
        switch effect {
        case .add(let value): writer.field("value", value)
        case .advantage: writer.field("effect", "advantage")
        case .disadvantage: writer.field("effect", "disadvantage")
        }
        writer.field("status", status.rawValue)
        writer.key("when")
        writer.beginArray()
        for tag in when { writer.value(tag) }
        writer.endArray()
        writer.key("remaining")
        if let remaining { writer.value(remaining) } else { writer.null() }
        writer.endObject()
    }
}

extension CheckOdds: JSONWritable {
    /// The JSON of `rfl odds --check … --json`: the bands with their probabilities, the chance to
    /// reach the difficulty, and the distribution of the total.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("check", check)
        writer.key("dc")
        if let dc { writer.value(dc) } else { writer.null() }
        writer.field("advantage", advantage.rawValue)
        writer.key("bands")
        writer.beginArray()
        for band in bands {
            writer.beginObject()
            writer.field("id", band.id)
            writer.field("probability", band.probability)
            writer.endObject()
        }
        writer.endArray()
        writer.field("reach", reach)
        writer.key("total")
        writer.beginObject()
        total.writeFields(to: &writer)
        writer.endObject()
        writer.endObject()
    }
}
