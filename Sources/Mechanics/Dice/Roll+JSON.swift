extension Roll: JSONWritable {
    /// `{"total":T,"dice":[…]}`: the JSON of one roll, as `rfl roll --json` prints it in its
    /// `rolls` array and `rfl_expr_roll_json` returns it.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("total", total)
        writer.key("dice")
        writer.beginArray()
        for die in dice { die.write(to: &writer) }
        writer.endArray()
        writer.endObject()
    }
}

extension Roll.Die: JSONWritable {
    /// `{"die":"d6","faces":[6,6,2],"value":14,"kept":true, …}` with `rerolled`, `exploded`,
    /// `explosion`, `success` and `failure` present only when they apply.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("die", label)
        writer.field("column", column)
        writer.key("faces")
        writer.beginArray()
        for face in faces { writer.value(face) }
        writer.endArray()
        writer.field("value", value)
        writer.field("kept", kept)
        if !rerolled.isEmpty {
            writer.key("rerolled")
            writer.beginArray()
            for face in rerolled { writer.value(face) }
            writer.endArray()
        }
        if exploded { writer.field("exploded", true) }
        if fromExplosion { writer.field("explosion", true) }
        if successes > 0 { writer.field("success", successes) }
        if failure { writer.field("failure", true) }
        writer.endObject()
    }
}
