import CLibXML2

/// The pack schema (rulesets/schema/pack-1.xsd), compiled once and shared: libxml2 allows one
/// compiled schema to validate on many threads, each with its own validation context.
final class PackSchema: @unchecked Sendable {
    // Immutable after init; libxml2 only reads it while validating.
    private let schema: xmlSchemaPtr?
    private let failure: String?

    private init() {
        let collector = ErrorCollector()
        let bytes = Array(PackSchema.text.utf8)
        // The parser context reads the buffer when it parses, so both happen while it is alive.
        let compiled: xmlSchemaPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars -> xmlSchemaPtr? in
                guard let parser = xmlSchemaNewMemParserCtxt(chars.baseAddress, Int32(chars.count)) else { return nil }
                defer { xmlSchemaFreeParserCtxt(parser) }
                xmlSchemaSetParserStructuredErrors(parser, { context, error in
                    guard let context, let error else { return }
                    Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue().add(
                        message: error.pointee.message.map { String(cString: $0) } ?? "", line: Int(error.pointee.line),
                        column: 0, node: nil, warning: false)
                }, Unmanaged.passUnretained(collector).toOpaque())
                return withExtendedLifetime(collector) { xmlSchemaParse(parser) }
            }
        }
        schema = compiled
        failure = compiled == nil ? "the pack schema did not compile: \(collector.errors.map(\.message).joined(separator: "; "))" : nil
    }

    static let shared = PackSchema()

    /// Validates a parsed document; every schema error becomes a diagnostic at its element (or
    /// attribute), with the namespace taken out of the message and a suggestion where a name was
    /// mistyped.
    ///
    /// libxml2 stops checking a parent's children at the first one it does not expect, so one
    /// misspelt element would hide every later problem among its siblings. Each such element is
    /// therefore taken out of the document and the document validated again (at most
    /// `maxRounds` times), until no new unexpected element turns up.
    static func validate(_ document: xmlDocPtr, nodes: [UnsafeMutableRawPointer: XMLElement], file: XMLFile, sink: inout DiagnosticSink) {
        guard let schema = shared.schema else {
            sink.error(.start, "schema", shared.failure ?? "the pack schema is unavailable")
            return
        }
        var reported: Set<String> = []
        var removed: [xmlNodePtr] = []
        // Parents that lost a child, and for the element after each child taken out, what
        // libxml2 expected in the child's place.
        var parentsOfRemoved: Set<UnsafeMutableRawPointer> = []
        var expectedAfterRemoved: [UnsafeMutableRawPointer: Substring] = [:]
        defer { for node in removed { xmlFreeNode(node) } }
        for round in 0..<maxRounds {
            guard let errors = run(schema, document) else {
                sink.error(.start, "schema", "out of memory while validating")
                return
            }
            var unexpected: [xmlNodePtr] = []
            for error in errors {
                let isUnexpected = error.message.contains("This element is not expected")
                let node = error.node?.assumingMemoryBound(to: xmlNode.self)
                let parent = node?.pointee.parent.map(UnsafeMutableRawPointer.init)
                let expected = error.message.firstRange(of: "Expected is").map { error.message[$0.lowerBound...] } ?? ""
                if round > 0 {
                    // Taking an element out can leave its parent short of a required child, so
                    // that the parent complains or its next child is unexpected for the same
                    // reason: that is the problem already reported at the element taken out.
                    if let raw = error.node, parentsOfRemoved.contains(raw), error.message.contains("Missing child element") { continue }
                    if isUnexpected, let raw = error.node, expectedAfterRemoved[raw] == expected { continue }
                }
                let key = "\(error.node.map { UInt(bitPattern: $0) } ?? 0):\(error.line):\(error.message)"
                guard reported.insert(key).inserted else { continue }
                report(error, nodes: nodes, file: file, sink: &sink)
                if isUnexpected, let node, let parent {
                    parentsOfRemoved.insert(parent)
                    var next = node.pointee.next
                    while let sibling = next, sibling.pointee.type != XML_ELEMENT_NODE { next = sibling.pointee.next }
                    if let next { expectedAfterRemoved[UnsafeMutableRawPointer(next)] = expected }
                    unexpected.append(node)
                }
            }
            guard !unexpected.isEmpty else { return }
            if round == maxRounds - 1 {
                sink.warning(.start, "schema", "stopped looking past unexpected elements after \(maxRounds) rounds; more schema errors may follow once these are fixed")
                return
            }
            for node in unexpected {
                xmlUnlinkNode(node)
                removed.append(node)
            }
        }
    }

    /// How many times a document is validated at most, to look past unexpected elements.
    static let maxRounds = 16

    /// One validation pass: the errors libxml2 reported, or nil when it could not start.
    private static func run(_ schema: xmlSchemaPtr, _ document: xmlDocPtr) -> [ErrorCollector.Entry]? {
        guard let context = xmlSchemaNewValidCtxt(schema) else { return nil }
        defer { xmlSchemaFreeValidCtxt(context) }
        let collector = ErrorCollector()
        xmlSchemaSetValidStructuredErrors(context, { context, error in
            guard let context, let error else { return }
            Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue().add(
                message: error.pointee.message.map { String(cString: $0) } ?? "", line: Int(error.pointee.line),
                column: 0, node: error.pointee.node, warning: error.pointee.level == XML_ERR_WARNING)
        }, Unmanaged.passUnretained(collector).toOpaque())
        withExtendedLifetime(collector) { _ = xmlSchemaValidateDoc(context, document) }
        return collector.errors
    }

    private static func report(_ error: ErrorCollector.Entry, nodes: [UnsafeMutableRawPointer: XMLElement], file: XMLFile, sink: inout DiagnosticSink) {
        let element = error.node.flatMap { nodes[$0] }
        var location = element?.location ?? Location(line: max(error.line, 1), column: 1)
        var message = LibXML.clean(error.message)
        if let element, let attribute = quoted(after: "attribute '", in: message) {
            location = file.location(of: attribute, in: element)
            if message.contains("is not allowed"), let suggestion = PackFormat.closest(attribute, among: PackFormat.attributes[element.name] ?? []) {
                message += " Did you mean '\(suggestion)'?"
            }
        } else if message.contains("This element is not expected"), let element {
            var names = PackFormat.elements
            if let expected = message.firstRange(of: "Expected is one of ( ") ?? message.firstRange(of: "Expected is ( ") {
                names = message[expected.upperBound...].prefix { $0 != ")" }.split(separator: ",").map { $0.trimmed() }
            }
            if let suggestion = PackFormat.closest(element.name, among: names), suggestion != element.name {
                message += " Did you mean '\(suggestion)'?"
            }
        }
        sink.error(location, "schema", message)
    }

    /// The text between `prefix` and the next quote.
    private static func quoted(after prefix: String, in message: String) -> String? {
        guard let range = message.firstRange(of: prefix) else { return nil }
        let rest = message[range.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }
}
