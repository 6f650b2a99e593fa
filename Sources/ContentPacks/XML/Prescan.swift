import Mechanics

/// A first pass over a pack's raw bytes, before any XML parser sees them: refuses what must never
/// reach the parser (invalid UTF-8, binary data, a DOCTYPE, nesting or element counts beyond the
/// limits) with a precise place, and records where every start tag and attribute value begins so
/// that diagnostics can point at them.
struct Prescan {
    struct StartTag {
        var offset: Int
        var name: String
        var attributes: [Attribute]
    }

    struct Attribute {
        var name: String
        /// Offset of the value's first byte, after the quote.
        var valueOffset: Int
    }

    private(set) var tags: [StartTag] = []

    /// Scans `text`; throws the single diagnostic that stops loading.
    init(_ text: SourceText, path: String, limits: PackLimits) throws(PackError) {
        let bytes = text.bytes
        func fail(_ offset: Int, _ code: String, _ message: String, engine: EngineError.Code = .invalid) -> PackError {
            let location = text.location(of: offset)
            return PackError([Diagnostic(path: path, line: location.line, column: location.column, code: code, message)], code: engine)
        }
        try Prescan.checkEncoding(bytes, text: text, fail: fail)
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var depth = 0
        var sawRoot = false
        func skip(past terminator: [UInt8], from start: Int) -> Int? {
            var position = start
            while position + terminator.count <= bytes.count {
                if bytes[position] == terminator[0] && Array(bytes[position..<(position + terminator.count)]) == terminator {
                    return position + terminator.count
                }
                position += 1
            }
            return nil
        }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            let start = index
            let rest = bytes[(index + 1)...]
            if rest.starts(with: Array("?".utf8)) {
                guard let end = skip(past: Array("?>".utf8), from: index + 2) else { return }
                if !sawRoot {
                    try Prescan.checkDeclaration(bytes[start..<end], at: start, fail: fail)
                }
                index = end
            } else if rest.starts(with: Array("!--".utf8)) {
                guard let end = skip(past: Array("-->".utf8), from: index + 4) else { return }
                index = end
            } else if rest.starts(with: Array("![CDATA[".utf8)) {
                guard let end = skip(past: Array("]]>".utf8), from: index + 9) else { return }
                index = end
            } else if rest.starts(with: Array("!DOCTYPE".utf8)) || rest.starts(with: Array("!doctype".utf8)) {
                throw fail(start, "doctype", "a DOCTYPE is not allowed in a pack: packs use no DTD, no entity declarations and no external entities; remove it")
            } else if rest.starts(with: Array("!".utf8)) {
                throw fail(start, "xml", "unexpected markup '<!'; only comments and CDATA sections start with '<!' in a pack")
            } else if rest.starts(with: Array("/".utf8)) {
                depth -= 1
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { return }
                index = end + 1
            } else {
                // A start tag: its name, then attributes up to '>' or '/>'.
                var position = index + 1
                while position < bytes.count && !Prescan.endsName(bytes[position]) { position += 1 }
                let name = String(decoding: bytes[(index + 1)..<position], as: UTF8.self)
                var attributes: [Attribute] = []
                var selfClosing = false
                var closed = false
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == UInt8(ascii: ">") {
                        closed = true
                        position += 1
                        break
                    }
                    if byte == UInt8(ascii: "/") && position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: ">") {
                        selfClosing = true
                        closed = true
                        position += 2
                        break
                    }
                    if Prescan.isSpace(byte) {
                        position += 1
                        continue
                    }
                    let nameStart = position
                    while position < bytes.count && !Prescan.endsName(bytes[position]) && bytes[position] != UInt8(ascii: "=") { position += 1 }
                    let attributeName = String(decoding: bytes[nameStart..<position], as: UTF8.self)
                    while position < bytes.count && (Prescan.isSpace(bytes[position]) || bytes[position] == UInt8(ascii: "=")) { position += 1 }
                    guard position < bytes.count else { break }
                    let quote = bytes[position]
                    guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                        // Malformed: leave it to the XML parser to report.
                        position += 1
                        continue
                    }
                    attributes.append(Attribute(name: attributeName, valueOffset: position + 1))
                    guard attributes.count <= limits.maxAttributes else {
                        throw fail(nameStart, "limit", "more than \(limits.maxAttributes) attributes on one element; the limit maxAttributes is \(limits.maxAttributes)", engine: .limit)
                    }
                    guard let end = bytes[(position + 1)...].firstIndex(of: quote) else { return }
                    position = end + 1
                }
                guard closed else { return }
                if depth == 0 { sawRoot = true }
                tags.append(StartTag(offset: start, name: name, attributes: attributes))
                guard tags.count <= limits.maxElements else {
                    throw fail(start, "limit", "more than \(limits.maxElements) elements; the limit maxElements is \(limits.maxElements)", engine: .limit)
                }
                if !selfClosing {
                    depth += 1
                    guard depth <= limits.maxDepth else {
                        throw fail(start, "limit", "elements nested deeper than \(limits.maxDepth); the limit maxDepth is \(limits.maxDepth)", engine: .limit)
                    }
                }
                index = position
            }
        }
    }

    /// UTF-8 only, and no control characters but tab, line feed and carriage return.
    private static func checkEncoding(_ bytes: [UInt8], text: SourceText, fail: (Int, String, String, EngineError.Code) -> PackError) throws(PackError) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
                    throw fail(index, "encoding", "control character U+00\(hex(byte)) in the text: a pack is UTF-8 text, and this looks like binary data", .invalid)
                }
                index += 1
                continue
            }
            let length: Int
            let minimum: UInt32
            var scalar: UInt32
            switch byte {
            case 0xC2...0xDF:
                length = 2
                minimum = 0x80
                scalar = UInt32(byte & 0x1F)
            case 0xE0...0xEF:
                length = 3
                minimum = 0x800
                scalar = UInt32(byte & 0x0F)
            case 0xF0...0xF4:
                length = 4
                minimum = 0x10000
                scalar = UInt32(byte & 0x07)
            default:
                throw fail(index, "encoding", "invalid UTF-8 (byte 0x\(hex(byte))): packs must be saved as UTF-8", .invalid)
            }
            guard index + length <= bytes.count else {
                throw fail(index, "encoding", "invalid UTF-8 (a sequence cut off at the end of the file): packs must be saved as UTF-8", .invalid)
            }
            for offset in 1..<length {
                let continuation = bytes[index + offset]
                guard continuation & 0xC0 == 0x80 else {
                    throw fail(index, "encoding", "invalid UTF-8 (byte 0x\(hex(continuation)) after 0x\(hex(byte))): packs must be saved as UTF-8", .invalid)
                }
                scalar = scalar << 6 | UInt32(continuation & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
                throw fail(index, "encoding", "invalid UTF-8 (an overlong or out-of-range sequence): packs must be saved as UTF-8", .invalid)
            }
            index += length
        }
    }

    /// `<?xml … encoding="…"?>` may only name UTF-8.
    private static func checkDeclaration(_ declaration: ArraySlice<UInt8>, at offset: Int, fail: (Int, String, String, EngineError.Code) -> PackError) throws(PackError) {
        let text = String(decoding: declaration, as: UTF8.self)
        guard text.hasPrefix("<?xml"), let range = text.firstRange(of: "encoding") else { return }
        let after = text[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
        guard let quote = after.first, quote == "\"" || quote == "'" else { return }
        let value = after.dropFirst().prefix { $0 != quote }
        if value.lowercased() != "utf-8" && value.lowercased() != "utf8" {
            throw fail(offset, "encoding", "the declaration names the encoding '\(value)'; packs must be UTF-8", .invalid)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func endsName(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}

