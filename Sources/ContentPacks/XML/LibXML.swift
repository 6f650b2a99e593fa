import CLibXML2
import Mechanics

/// The only code that calls libxml2. Parsing is safe by construction: the prescan has already
/// refused DOCTYPEs, bad encodings and excessive sizes; libxml2 runs without network access, with
/// no entity substitution and no DTD loading, and with an external-entity loader that refuses
/// everything; a document that still carries a DTD is refused.
enum LibXML {
    /// One-time set-up: the parser's globals and the refusing entity loader.
    private static let setUp: Void = {
        xmlInitParser()
        xmlSetExternalEntityLoader { _, _, _ in nil }
    }()

    /// Parses `bytes` (already prescanned), validates it against the pack schema when
    /// `validate`, and returns the tree, with every problem in `sink`.
    static func parse(_ text: SourceText, path: String, prescan: Prescan, validate: Bool, sink: inout DiagnosticSink) -> XMLFile? {
        _ = setUp
        let collector = ErrorCollector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        // The callback's error parameter is mutable in libxml2 2.9 and const from 2.12; a closure
        // literal takes whichever this system's header declares.
        xmlSetStructuredErrorFunc(context) { context, error in
            guard let context, let error else { return }
            Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue().add(
                message: error.pointee.message.map { String(cString: $0) } ?? "", line: Int(error.pointee.line),
                column: Int(error.pointee.int2), node: error.pointee.node, warning: error.pointee.level == XML_ERR_WARNING)
        }
        defer { xmlSetStructuredErrorFunc(nil, nil) }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue)
        let document = withExtendedLifetime(collector) {
            text.bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    xmlReadMemory(chars.baseAddress, Int32(chars.count), path, "UTF-8", options)
                }
            }
        }
        defer { if let document { xmlFreeDoc(document) } }
        for error in collector.errors {
            let location = error.line > 0 ? Location(line: error.line, column: max(error.column, 1)) : .start
            sink.error(location, "xml", clean(error.message))
        }
        guard let document, collector.errors.isEmpty else {
            if collector.errors.isEmpty { sink.error(.start, "xml", "the file is not a well-formed XML document") }
            return nil
        }
        guard document.pointee.intSubset == nil, document.pointee.extSubset == nil else {
            sink.error(.start, "doctype", "a DOCTYPE is not allowed in a pack")
            return nil
        }
        guard let rootNode = xmlDocGetRootElement(document) else {
            sink.error(.start, "xml", "the document has no root element")
            return nil
        }
        var builder = TreeBuilder(text: text, tags: prescan.tags)
        let root = builder.element(rootNode)
        let file = XMLFile(path: path, text: text, root: root)
        if validate {
            PackSchema.validate(document, nodes: builder.nodes, file: file, sink: &sink)
        }
        return file
    }

    /// libxml2 messages end with a newline and name elements with their namespace in braces.
    static func clean(_ message: String) -> String {
        message.trimmed().replacing("{\(PackFormat.namespace)}", with: "")
    }
}

/// Copies libxml2's tree into `XMLElement`s, pairing each element with its start tag from the
/// prescan (both are in document order).
private struct TreeBuilder {
    let text: SourceText
    let tags: [Prescan.StartTag]
    var next = 0
    /// libxml2 node address to element, for schema errors.
    var nodes: [UnsafeMutableRawPointer: XMLElement] = [:]

    init(text: SourceText, tags: [Prescan.StartTag]) {
        self.text = text
        self.tags = tags
    }

    mutating func element(_ node: xmlNodePtr) -> XMLElement {
        let name = node.pointee.name.map { String(cString: $0) } ?? ""
        let namespace = node.pointee.ns?.pointee.href.map { String(cString: $0) }
        var location = Location(line: Int(xmlGetLineNo(node)), column: 1)
        var offsets: [String: Int] = [:]
        if next < tags.count, tags[next].name.split(separator: ":").last.map(String.init) == name {
            location = text.location(of: tags[next].offset)
            for attribute in tags[next].attributes { offsets[attribute.name] = attribute.valueOffset }
            next += 1
        }
        let element = XMLElement(name: name, namespace: namespace, location: location)
        element.valueOffsets = offsets
        nodes[UnsafeMutableRawPointer(node)] = element
        var attribute = node.pointee.properties
        while let current = attribute {
            let attributeName = current.pointee.name.map { String(cString: $0) } ?? ""
            let prefix = current.pointee.ns?.pointee.prefix.map { String(cString: $0) }
            var value = ""
            var child = current.pointee.children
            while let piece = child {
                if let content = piece.pointee.content { value += String(cString: content) }
                child = piece.pointee.next
            }
            element.attributes.append((attributeName, prefix, value))
            if let prefix, let offset = offsets[attributeName] {
                offsets[prefix + ":" + attributeName] = offset
            }
            attribute = current.pointee.next
        }
        element.valueOffsets = offsets
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                element.children.append(self.element(current))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { element.text += String(cString: content) }
            default:
                break
            }
            child = current.pointee.next
        }
        return element
    }
}

/// Messages libxml2 reports while parsing or validating.
final class ErrorCollector {
    struct Entry {
        var message: String
        var line: Int
        var column: Int
        var node: UnsafeMutableRawPointer?
        var warning: Bool
    }

    private(set) var errors: [Entry] = []
    private(set) var warnings: [Entry] = []

    func add(message: String, line: Int, column: Int, node: UnsafeMutableRawPointer?, warning: Bool) {
        // Cap what one hostile file can make us hold.
        guard errors.count + warnings.count < 1000 else { return }
        let entry = Entry(message: message, line: line, column: column, node: node, warning: warning)
        if warning { warnings.append(entry) } else { errors.append(entry) }
    }
}

