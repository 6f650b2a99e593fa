/// A small JSON writer with a fixed key order and shortest round-trip numbers, so that the same
/// result always prints the same bytes (the command line, the C ABI and tests rely on that).
public struct JSONWriter: Sendable {
    public private(set) var output = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    public mutating func beginObject() {
        separate()
        output += "{"
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        output += "}"
    }

    public mutating func beginArray() {
        separate()
        output += "["
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        output += "]"
    }

    /// Writes `"name":` inside an object; the value follows.
    public mutating func key(_ name: String) {
        separate()
        JSONWriter.appendString(name, to: &output)
        output += ":"
        needsComma[needsComma.count - 1] = false
    }

    public mutating func value(_ string: String) {
        separate()
        JSONWriter.appendString(string, to: &output)
    }

    public mutating func value(_ number: Int64) {
        separate()
        output += String(number)
    }

    public mutating func value(_ number: Int) { value(Int64(number)) }

    public mutating func value(_ number: UInt64) {
        separate()
        output += String(number)
    }

    /// A finite double in its shortest round-trip form; NaN and infinities, which JSON cannot
    /// hold, are written as null.
    public mutating func value(_ number: Double) {
        separate()
        output += JSONWriter.number(number)
    }

    public mutating func value(_ flag: Bool) {
        separate()
        output += flag ? "true" : "false"
    }

    public mutating func null() {
        separate()
        output += "null"
    }

    /// Inserts already-encoded JSON as a value.
    public mutating func raw(_ json: String) {
        separate()
        output += json
    }

    public mutating func field(_ name: String, _ string: String) {
        key(name)
        value(string)
    }

    public mutating func field(_ name: String, _ number: Int64) {
        key(name)
        value(number)
    }

    public mutating func field(_ name: String, _ number: Int) {
        key(name)
        value(number)
    }

    public mutating func field(_ name: String, _ number: Double) {
        key(name)
        value(number)
    }

    public mutating func field(_ name: String, _ flag: Bool) {
        key(name)
        value(flag)
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { output += "," }
        needsComma[needsComma.count - 1] = true
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func appendString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

/// A value with a fixed JSON form, written through a ``JSONWriter``.
public protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

extension JSONWritable {
    /// The value's JSON, in one line.
    public var json: String {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.output
    }
}
