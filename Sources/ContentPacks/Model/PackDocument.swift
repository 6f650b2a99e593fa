import Mechanics

/// A pack as written, before composition: its identity, dependencies and entities, each with the
/// places diagnostics point at.
struct PackDocument {
    var path: String
    var file: XMLFile
    var id: String
    var version: SemanticVersion
    var location: Location
    /// The pack's default language (`xml:lang` on the root, else `en`).
    var language: String
    /// Languages every name and description should be given in.
    var languages: [String]
    var titles: Texts
    var descriptions: Texts
    var authors: [PackInfo.Author]
    var license: String?
    var requires: [Requirement]
    var entities: [Entity]

    struct Requirement {
        var id: String
        var range: VersionRange
        var location: Location
        var rangeLocation: Location
    }
}

/// Texts by language.
typealias Texts = [String: String]

/// The kinds of entity, and the namespace each lives in.
enum EntityKind: Hashable, Sendable {
    case stat, skill, derived, modifierType, check
    case source(String)

    /// The element that declares it.
    var element: String {
        switch self {
        case .stat: "stat"
        case .skill: "skill"
        case .derived: "value"
        case .modifierType: "modifier-type"
        case .check: "check"
        case .source(let kind): ["item", "condition", "feat"].contains(kind) ? kind : "source"
        }
    }

    var namespace: Namespace {
        switch self {
        case .stat, .skill, .derived: .values
        case .modifierType: .modifierTypes
        case .check: .values
        case .source: .sources
        }
    }

    /// For people: "stat", "derived value", "item"…
    var noun: String {
        switch self {
        case .stat: "stat"
        case .skill: "skill"
        case .derived: "derived value"
        case .modifierType: "modifier type"
        case .check: "check"
        case .source(let kind): kind
        }
    }

    enum Namespace: Hashable {
        /// Stats, skills, derived values and checks: a modifier targets any of them by id.
        case values
        case modifierTypes
        case sources
    }
}

/// How an entity relates to the content before it.
enum Identity: Hashable {
    /// New in this pack, with a local id.
    case new(String)
    /// Replaces a dependency's entity of the same kind.
    case override(String)
    /// Adds to a dependency's entity.
    case extends(String)
}

/// One entity as written.
struct Entity {
    var kind: EntityKind
    var identity: Identity
    var element: XMLElement
    var names: Texts = [:]
    var descriptions: Texts = [:]
    /// Where each language's name and description is, for warnings.
    var textLocations: [String: Location] = [:]
    var bands: [BandDefinition] = []
    var naturals: [NaturalDefinition] = []
    var modifiers: [ModifierDefinition] = []

    func attribute(_ name: String) -> String? { element.attribute(name) }
}

struct BandDefinition {
    var id: String
    var from: Int64?
    var names: Texts
    var descriptions: Texts
    var element: XMLElement
}

struct NaturalDefinition {
    var when: ComparePoint
    var effect: Ruleset.NaturalRule.Effect
    var element: XMLElement
}

struct ModifierDefinition {
    var target: String
    var effect: Ruleset.Modifier.Effect
    var type: String?
    var when: Set<String>
    var duration: Int?
    var element: XMLElement
}
