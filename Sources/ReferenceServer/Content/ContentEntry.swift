import Foundation

/// Game content from the CMS: vocabulary entries (a term, its translations, examples, tags, a
/// pronunciation) and lore or lesson texts, normalized from Strapi's entry shapes.
package struct ContentEntry: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case vocabulary, lore, lesson
    }

    /// `kind:cmsId`, such as `vocabulary:12`.
    package var id: String { "\(kind.rawValue):\(cmsId)" }
    package var kind: Kind
    /// The entry's id in the CMS.
    package var cmsId: String
    /// The language of the term or text as written.
    package var language: String
    /// For vocabulary, the term; for texts, the title: by language.
    package var titles: [String: String]
    /// For vocabulary, the examples joined; for texts, the body: by language.
    package var bodies: [String: String]
    /// For vocabulary, the examples, each with its language.
    package var examples: [Example]
    package var tags: [String]
    /// A pronunciation recording, where the CMS gives one.
    package var audio: String?
    /// Drafts are stored but not found by search.
    package var published: Bool
    /// When the CMS last changed the entry (Strapi's `updatedAt`), where it says: an event older
    /// than what is stored is not applied (webhooks may arrive out of order).
    package var revisedAt: Date?

    package struct Example: Sendable, Equatable, Codable {
        package var language: String
        package var text: String
    }

    package init(kind: Kind, cmsId: String, language: String, titles: [String: String], bodies: [String: String] = [:], examples: [Example] = [],
                tags: [String] = [], audio: String? = nil, published: Bool = true, revisedAt: Date? = nil) {
        self.kind = kind
        self.cmsId = cmsId
        self.language = language
        self.titles = titles
        self.bodies = bodies
        self.examples = examples
        self.tags = tags
        self.audio = audio
        self.published = published
        self.revisedAt = revisedAt
    }

    /// Why an entry cannot be taken: the field (a JSON pointer) and what is wrong.
    package struct Refusal: Error, Equatable, Sendable {
        package var field: String
        package var reason: String
    }

    /// Limits on what one entry may hold, so that a hostile CMS cannot fill the index.
    static let maxText = 20_000
    static let maxLanguages = 32
    static let maxTags = 32
    static let maxExamples = 50

    /// The model names of the CMS that map to each kind (Strapi's singular API ids).
    package static func kind(model: String) -> Kind? {
        switch model.lowercased() {
        case "vocabulary", "vocabulary-entry", "word", "term": .vocabulary
        case "lore", "lore-text", "story": .lore
        case "lesson", "lesson-text": .lesson
        default: nil
        }
    }

    /// Normalizes a Strapi entry (`entry` of a webhook event, or of an import file) of `model`.
    /// `at` names the entry in refusals (`/entry`).
    package static func from(model: String, entry: [String: Any], at pointer: String = "/entry") throws(Refusal) -> ContentEntry {
        guard let kind = kind(model: model) else {
            throw Refusal(field: "/model", reason: "'\(model)' is not a content model this server stores (vocabulary, lore, lesson)")
        }
        let cmsId: String
        // Strapi 5 keeps one documentId across a document's draft and published versions, whose
        // numeric ids differ: the documentId names the entry where there is one.
        let id = entry["documentId"] ?? entry["id"]
        switch id {
        // JSON's true and false arrive as a boolean NSNumber subclass, which also casts to Int.
        case let value? where String(describing: type(of: value)).contains("Boolean") || type(of: value) == Bool.self:
            throw Refusal(field: "\(pointer)/id", reason: "an entry needs an id: a whole number or a string of 1 to 64 characters")
        case let number as Int: cmsId = String(number)
        case let number as Double where number.rounded() == number && abs(number) < 1e15: cmsId = String(Int64(number))
        case let text as String where !text.isEmpty && text.count <= 64: cmsId = text
        default: throw Refusal(field: "\(pointer)/id", reason: "an entry needs an id: a whole number or a string of 1 to 64 characters")
        }
        let language = try languageTag(entry["language"] ?? entry["locale"] ?? "en", at: "\(pointer)/language")
        // Strapi with draft and publish sends publishedAt: null for drafts; without it, every
        // entry is published.
        let published = entry.keys.contains("publishedAt") ? !(entry["publishedAt"] is NSNull) : true
        var revisedAt: Date?
        switch entry["updatedAt"] {
        case nil, is NSNull: break
        case let text as String:
            guard let date = RFC3339.parse(text) else {
                throw Refusal(field: "\(pointer)/updatedAt", reason: "'\(text.prefix(40))' is not an RFC 3339 time such as 2026-11-27T10:00:00.000Z")
            }
            revisedAt = date
        default: throw Refusal(field: "\(pointer)/updatedAt", reason: "an RFC 3339 time such as 2026-11-27T10:00:00.000Z")
        }
        var tags: [String] = []
        switch entry["tags"] {
        case nil, is NSNull: break
        case let list as [Any]:
            for (index, item) in list.enumerated() {
                let text = (item as? String) ?? ((item as? [String: Any])?["name"] as? String)
                guard let text, !text.isEmpty, text.count <= 64 else {
                    throw Refusal(field: "\(pointer)/tags/\(index)", reason: "a tag is a string of 1 to 64 characters (or {\"name\"})")
                }
                tags.append(text)
            }
        case let text as String: tags = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        default: throw Refusal(field: "\(pointer)/tags", reason: "tags are a list of strings")
        }
        guard tags.count <= maxTags else { throw Refusal(field: "\(pointer)/tags", reason: "at most \(maxTags) tags") }
        var audio: String?
        switch entry["pronunciation"] ?? entry["audio"] {
        case nil, is NSNull: break
        case let url as String: audio = url
        case let media as [String: Any]: audio = media["url"] as? String
        default: break
        }
        if let value = audio, value.count > 2048 { throw Refusal(field: "\(pointer)/pronunciation", reason: "the address is too long") }

        switch kind {
        case .vocabulary:
            guard let term = entry["term"] as? String, !term.isEmpty else {
                throw Refusal(field: "\(pointer)/term", reason: "a vocabulary entry needs its term")
            }
            var titles = [language: term]
            for (key, text) in try texts(entry["translations"], at: "\(pointer)/translations") where titles[key] == nil { titles[key] = text }
            var examples: [Example] = []
            switch entry["examples"] {
            case nil, is NSNull: break
            case let list as [Any]:
                for (index, item) in list.enumerated() {
                    if let text = item as? String {
                        examples.append(Example(language: language, text: text))
                    } else if let object = item as? [String: Any], let text = object["text"] as? String {
                        examples.append(Example(language: try languageTag(object["language"] ?? language, at: "\(pointer)/examples/\(index)/language"),
                                                text: text))
                    } else {
                        throw Refusal(field: "\(pointer)/examples/\(index)", reason: "an example is a string or {\"language\",\"text\"}")
                    }
                }
            default: throw Refusal(field: "\(pointer)/examples", reason: "examples are a list")
            }
            guard examples.count <= maxExamples else { throw Refusal(field: "\(pointer)/examples", reason: "at most \(maxExamples) examples") }
            var bodies: [String: String] = [:]
            for example in examples { bodies[example.language, default: ""] += (bodies[example.language] == nil ? "" : "\n") + example.text }
            let entry = ContentEntry(kind: kind, cmsId: cmsId, language: language, titles: titles, bodies: bodies, examples: examples, tags: tags,
                                     audio: audio, published: published, revisedAt: revisedAt)
            try entry.checkSizes(pointer)
            return entry
        case .lore, .lesson:
            let titles = try texts(entry["title"], defaultLanguage: language, at: "\(pointer)/title")
            guard !titles.isEmpty else { throw Refusal(field: "\(pointer)/title", reason: "a text needs a title") }
            let bodies = try texts(entry["body"] ?? entry["content"] ?? entry["text"], defaultLanguage: language, at: "\(pointer)/body")
            let entry = ContentEntry(kind: kind, cmsId: cmsId, language: language, titles: titles, bodies: bodies, tags: tags, audio: audio,
                                     published: published, revisedAt: revisedAt)
            try entry.checkSizes(pointer)
            return entry
        }
    }

    private func checkSizes(_ pointer: String) throws(Refusal) {
        guard titles.count <= Self.maxLanguages, bodies.count <= Self.maxLanguages else {
            throw Refusal(field: pointer, reason: "at most \(Self.maxLanguages) languages")
        }
        for (language, text) in titles where text.count > 1000 {
            throw Refusal(field: "\(pointer)/title", reason: "the \(language) title or term is longer than 1000 characters")
        }
        for (language, text) in bodies where text.count > Self.maxText {
            throw Refusal(field: "\(pointer)/body", reason: "the \(language) text is longer than \(Self.maxText) characters")
        }
    }

    /// A text given as a string (in `defaultLanguage`), an object by language, or a list of
    /// `{"language","text"}`.
    static func texts(_ value: Any?, defaultLanguage: String? = nil, at pointer: String) throws(Refusal) -> [String: String] {
        switch value {
        case nil, is NSNull: return [:]
        case let text as String:
            guard let defaultLanguage else { throw Refusal(field: pointer, reason: "give texts by language") }
            return text.isEmpty ? [:] : [defaultLanguage: text]
        case let object as [String: Any]:
            var texts: [String: String] = [:]
            for (key, item) in object {
                guard let text = item as? String else { throw Refusal(field: "\(pointer)/\(key)", reason: "a text is a string") }
                texts[try languageTag(key, at: "\(pointer)/\(key)")] = text
            }
            return texts
        case let list as [Any]:
            var texts: [String: String] = [:]
            for (index, item) in list.enumerated() {
                guard let object = item as? [String: Any], let text = (object["text"] ?? object["translation"]) as? String else {
                    throw Refusal(field: "\(pointer)/\(index)", reason: "a translation is {\"language\",\"text\"}")
                }
                texts[try languageTag(object["language"] ?? object["locale"] ?? "", at: "\(pointer)/\(index)/language")] = text
            }
            return texts
        default:
            throw Refusal(field: pointer, reason: "a text is a string, an object by language, or a list of {\"language\",\"text\"}")
        }
    }

    /// A BCP 47 language tag, lowercased (`es`, `pt-br`).
    static func languageTag(_ value: Any, at pointer: String) throws(Refusal) -> String {
        guard let text = value as? String, (2...16).contains(text.count),
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), text.first?.isLetter == true else {
            throw Refusal(field: pointer, reason: "a language is a tag such as en, es or pt-BR")
        }
        return text.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// The words search finds the entry by in `language`, besides its title and body.
    var tagText: String { tags.joined(separator: " ") }

    /// Languages the entry can be found in.
    var languages: [String] { Set(titles.keys).union(bodies.keys).sorted() }
}
