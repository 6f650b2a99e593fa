/// A parsed element, copied out of libxml2 so that nothing outside this folder touches its
/// pointers: local name, namespace, attributes, child elements, direct text, and where its start
/// tag is.
final class XMLElement {
    let name: String
    let namespace: String?
    /// Attributes in document order; `prefix` is the namespace prefix as written (`xml`, `xsi`).
    var attributes: [(name: String, prefix: String?, value: String)] = []
    var children: [XMLElement] = []
    var text = ""
    /// Where the start tag begins.
    var location: Location
    /// Where each attribute's value begins (after the quote), by qualified name as written.
    var valueOffsets: [String: Int] = [:]

    init(name: String, namespace: String?, location: Location) {
        self.name = name
        self.namespace = namespace
        self.location = location
    }

    func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name && $0.prefix == nil }?.value
    }

    /// `xml:lang` on this element.
    var language: String? {
        attributes.first { $0.name == "lang" && $0.prefix == "xml" }?.value
    }
}

/// A pack file parsed safely: the raw text (for positions) and the element tree.
struct XMLFile {
    let path: String
    let text: SourceText
    let root: XMLElement

    /// Where an attribute's value begins, or the element's start when it has no such attribute.
    func location(of attribute: String, in element: XMLElement) -> Location {
        guard let offset = element.valueOffsets[attribute] else { return element.location }
        return text.location(of: offset)
    }

    /// The place of the character at `column` (1-based) inside an attribute's decoded value.
    func location(of attribute: String, in element: XMLElement, column: Int) -> Location {
        guard let offset = element.valueOffsets[attribute] else { return element.location }
        return text.location(inValueAt: offset, characters: max(column - 1, 0))
    }
}
