import Mechanics

/// An entity after composition: its definition (from the pack that declared or last overrode
/// it) plus everything packs that extend it added, each piece with the pack whose ids its
/// unqualified references mean.
struct MergedEntity {
    struct Scoped<T> {
        var value: T
        /// The pack the piece was written in.
        var scope: Int
        var file: XMLFile
        var element: XMLElement
    }

    var kind: EntityKind
    var id: String
    /// The pack that declared it.
    var owner: Int
    var declaration: Location
    var file: XMLFile
    /// Attributes by name, the latest pack's value winning.
    var attributes: [String: Scoped<String>] = [:]
    /// Appended by extensions: check `adds`, `tags`.
    var adds: [Scoped<String>] = []
    var tags: [String] = []
    var bands: Scoped<[BandDefinition]>?
    var naturals: [Scoped<NaturalDefinition>] = []
    var modifiers: [Scoped<ModifierDefinition>] = []
    var names: Texts = [:]
    var descriptions: Texts = [:]
    /// Packs that overrode or extended it, with where, for conflict messages.
    var changes: [(pack: Int, how: String, location: Location, path: String)] = []

    init(kind: EntityKind, id: String, owner: Int, entity: Entity, file: XMLFile) {
        self.kind = kind
        self.id = id
        self.owner = owner
        self.declaration = entity.element.location
        self.file = file
        apply(entity, scope: owner, file: file, replacing: true)
    }

    /// Takes an entity's definition: all of it when `replacing` (a declaration or an override),
    /// else as an extension (attributes replace, lists and modifiers append, texts merge).
    mutating func apply(_ entity: Entity, scope: Int, file: XMLFile, replacing: Bool) {
        let element = entity.element
        if replacing {
            attributes = [:]
            adds = []
            tags = []
            bands = nil
            naturals = []
            modifiers = []
            names = [:]
            descriptions = [:]
        }
        for attribute in element.attributes where attribute.prefix == nil && !["id", "override", "extends", "adds", "tags"].contains(attribute.name) {
            attributes[attribute.name] = Scoped(value: attribute.value, scope: scope, file: file, element: element)
        }
        for reference in element.attribute("adds")?.words() ?? [] {
            adds.append(Scoped(value: reference, scope: scope, file: file, element: element))
        }
        for tag in element.attribute("tags")?.words() ?? [] where !tags.contains(tag) { tags.append(tag) }
        if !entity.bands.isEmpty { bands = Scoped(value: entity.bands, scope: scope, file: file, element: element) }
        for natural in entity.naturals { naturals.append(Scoped(value: natural, scope: scope, file: file, element: natural.element)) }
        let inherited = replacing ? nil : attributes["duration"].flatMap { Int($0.value) }
        for modifier in entity.modifiers {
            var modifier = modifier
            if modifier.duration == nil { modifier.duration = inherited }
            modifiers.append(Scoped(value: modifier, scope: scope, file: file, element: modifier.element))
        }
        names.merge(entity.names) { _, new in new }
        descriptions.merge(entity.descriptions) { _, new in new }
    }
}
