extension Distribution {
    /// The JSON of `rfl odds --json` and `rfl_expr_odds_json`:
    /// `{"expression":…,"distribution":[{"value":V,"probability":P},…],"mean":M,"stddev":S,
    /// "min":…,"max":…,"truncated":T}`, plus `"at_least"` and `"probability"` when a target is
    /// given.
    public func json(expression: String, atLeast target: Int64? = nil) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("expression", expression)
        writeFields(to: &writer)
        if let target {
            writer.field("at_least", target)
            writer.field("probability", probability(atLeast: target))
        }
        writer.endObject()
        return writer.output
    }

    /// `"distribution":[…],"mean":…,"stddev":…,"min":…,"max":…,"truncated":…` inside an object.
    public func writeFields(to writer: inout JSONWriter) {
        writer.key("distribution")
        writer.beginArray()
        for outcome in outcomes {
            writer.beginObject()
            writer.field("value", outcome.value)
            writer.field("probability", outcome.probability)
            writer.endObject()
        }
        writer.endArray()
        writer.field("mean", mean)
        writer.field("stddev", standardDeviation)
        writer.field("min", minimum)
        writer.field("max", maximum)
        writer.field("truncated", truncated)
    }
}
