import Mechanics

/// Composes pack documents into one ruleset: checks dependencies and their versions, orders the
/// packs, applies overrides and extensions, resolves every reference, and reports every problem
/// at once with its place.
struct Composer {
    let limits: PackLimits
    private(set) var documents: [PackDocument]
    private(set) var diagnostics: [Diagnostic] = []
    /// Pack index by id.
    var byId: [String: Int] = [:]
    /// Each pack's dependencies, transitively.
    var closure: [Set<Int>] = []
    var order: [Int] = []
    /// Entities by namespace, then qualified id.
    var tables: [EntityKind.Namespace: [String: MergedEntity]] = [:]
    /// Declaration order of qualified ids per namespace.
    var declared: [EntityKind.Namespace: [String]] = [:]
    /// How many more unknown references get a "did you mean" (each compares against every
    /// visible id): a pack with thousands of mistakes still loads in bounded time.
    var suggestionBudget = 50
    var visibleCache: [VisibleKey: [String]] = [:]

    struct VisibleKey: Hashable {
        var scope: Int
        var namespace: EntityKind.Namespace
        var accept: Acceptance
    }

    init(_ documents: [PackDocument], limits: PackLimits) {
        self.documents = documents
        self.limits = limits
    }

    mutating func error(_ pack: Int, _ location: Location, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(path: documents[pack].path, line: location.line, column: location.column, severity: .error, code: code, message))
    }

    mutating func error(_ file: XMLFile, _ location: Location, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(path: file.path, line: location.line, column: location.column, severity: .error, code: code, message))
    }

    mutating func warning(_ pack: Int, _ location: Location, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(path: documents[pack].path, line: location.line, column: location.column, severity: .warning, code: code, message))
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Runs every stage; returns the composed ruleset when there is no error.
    mutating func compose() -> LoadedRuleset? {
        indexPacks()
        checkRequirements()
        orderPacks()
        for pack in order { collect(pack) }
        let resolved = resolve()
        checkTranslations()
        guard !hasErrors, let resolved else { return nil }
        return build(resolved)
    }

    // MARK: - Packs and dependencies

    private func location(_ pack: Int) -> String {
        let document = documents[pack]
        return "\(document.path):\(document.location.line):\(document.location.column)"
    }

    private mutating func indexPacks() {
        for (index, document) in documents.enumerated() {
            if let first = byId[document.id] {
                error(index, document.location, "duplicate-pack",
                      "pack '\(document.id)' is loaded twice: \(document.version) here and \(documents[first].version) at \(location(first))")
            } else {
                byId[document.id] = index
            }
        }
    }

    private mutating func checkRequirements() {
        for (index, document) in documents.enumerated() where byId[document.id] == index {
            for requirement in document.requires {
                guard requirement.id != document.id else {
                    error(index, requirement.location, "dependency", "a pack cannot require itself")
                    continue
                }
                guard let target = byId[requirement.id] else {
                    error(index, requirement.location, "dependency",
                          "requires pack '\(requirement.id)' (\(requirement.range)), which is not loaded\(Ruleset.suggestion(requirement.id, Array(byId.keys)))")
                    continue
                }
                let version = documents[target].version
                guard requirement.range.contains(version) else {
                    var message = "requires '\(requirement.id)' \(requirement.range), but \(requirement.id) \(version) is loaded (\(location(target)))"
                    // Name another pack whose requirement the loaded version meets: the two conflict.
                    for (other, otherDocument) in documents.enumerated() where other != index && byId[otherDocument.id] == other {
                        for otherRequirement in otherDocument.requires where otherRequirement.id == requirement.id && otherRequirement.range.contains(version) {
                            message += "; it conflicts with '\(otherDocument.id)', which requires \(requirement.id) \(otherRequirement.range) at \(otherDocument.path):\(otherRequirement.location.line):\(otherRequirement.location.column)"
                        }
                    }
                    error(index, requirement.rangeLocation, "dependency-version", message)
                    continue
                }
            }
        }
    }

    /// Dependency order (each pack after what it requires), ties by id; a cycle is an error
    /// naming it.
    private mutating func orderPacks() {
        closure = Array(repeating: [], count: documents.count)
        var state = [UInt8](repeating: 0, count: documents.count)
        var path: [Int] = []
        func visit(_ pack: Int) {
            if state[pack] == 2 { return }
            if state[pack] == 1 {
                let start = path.firstIndex(of: pack) ?? 0
                let cycle = (path[start...] + [pack]).map { documents[$0].id }.joined(separator: " -> ")
                let requirement = documents[pack].requires.first { byId[$0.id] == path[start < path.count - 1 ? start + 1 : start] }
                error(pack, requirement?.location ?? documents[pack].location, "dependency-cycle", "packs require each other in a cycle: \(cycle)")
                return
            }
            state[pack] = 1
            path.append(pack)
            for requirement in documents[pack].requires.sorted(by: { $0.id < $1.id }) {
                guard let target = byId[requirement.id], target != pack else { continue }
                visit(target)
                closure[pack].insert(target)
                closure[pack].formUnion(closure[target])
            }
            path.removeLast()
            state[pack] = 2
            order.append(pack)
        }
        for pack in documents.indices.sorted(by: { documents[$0].id < documents[$1].id }) where byId[documents[pack].id] == pack {
            visit(pack)
        }
    }

    // MARK: - Entities

    private func qualify(_ pack: Int, _ id: String) -> String { "\(documents[pack].id):\(id)" }

    private mutating func collect(_ pack: Int) {
        let document = documents[pack]
        for entity in document.entities {
            let namespace = entity.kind.namespace
            switch entity.identity {
            case .new(let id):
                let qualified = qualify(pack, id)
                if let existing = tables[namespace]?[qualified] {
                    let what = namespace == .values ? "stat, skill, derived value or check" : entity.kind.noun
                    error(pack, entity.element.location, "duplicate-id",
                          "'\(id)' is declared twice as a \(what): here and at \(existing.file.path):\(existing.declaration.line):\(existing.declaration.column)")
                    continue
                }
                tables[namespace, default: [:]][qualified] = MergedEntity(kind: entity.kind, id: qualified, owner: pack, entity: entity, file: document.file)
                declared[namespace, default: []].append(qualified)
            case .override(let reference), .extends(let reference):
                let how = if case .override = entity.identity { "override" } else { "extends" }
                let attributeLocation = document.file.location(of: how, in: entity.element)
                guard let target = dependencyTarget(reference, from: pack, namespace: namespace, how: how, at: attributeLocation) else { continue }
                guard var merged = tables[namespace]?[target] else { continue }
                guard merged.kind == entity.kind else {
                    error(pack, attributeLocation, "override-kind", "'\(target)' is a \(merged.kind.noun); a <\(entity.kind.element)> cannot \(how == "override" ? "override" : "extend") it")
                    continue
                }
                var conflict = false
                for change in merged.changes where !closure[pack].contains(change.pack) {
                    error(pack, attributeLocation, "override-conflict",
                          "'\(target)' is also changed by pack '\(documents[change.pack].id)' (\(change.how) at \(change.path):\(change.location.line):\(change.location.column)); packs that do not depend on each other cannot both change the same entity")
                    conflict = true
                }
                if conflict { continue }
                merged.apply(entity, scope: pack, file: document.file, replacing: how == "override")
                if how == "override" { merged.declaration = entity.element.location; merged.file = document.file }
                merged.changes.append((pack, how, attributeLocation, document.path))
                tables[namespace]?[target] = merged
            }
        }
    }

    /// The qualified id an override or extension names, if it is a dependency's entity.
    private mutating func dependencyTarget(_ reference: String, from pack: Int, namespace: EntityKind.Namespace, how: String, at location: Location) -> String? {
        guard let colon = reference.firstIndex(of: ":") else {
            error(pack, location, "override-target", "\(how) names a dependency's entity as pack:id, as in '\(how)=\"core:\(reference)\"'")
            return nil
        }
        let packId = String(reference[..<colon])
        guard let target = byId[packId], target != pack else {
            error(pack, location, "override-target", packId == documents[pack].id
                  ? "a pack changes its own entities directly, not with \(how)"
                  : "\(how) names pack '\(packId)', which is not loaded\(Ruleset.suggestion(packId, Array(byId.keys)))")
            return nil
        }
        guard closure[pack].contains(target) else {
            error(pack, location, "override-target", "\(how) names pack '\(packId)', which this pack does not require; add <pack id=\"\(packId)\"/> to <requires>")
            return nil
        }
        guard tables[namespace]?[reference] != nil else {
            let known = (declared[namespace] ?? []).filter { $0.hasPrefix(packId + ":") }
            error(pack, location, "unknown-reference", "\(how) names '\(reference)', which pack '\(packId)' does not declare\(Ruleset.suggestion(reference, known))")
            return nil
        }
        return reference
    }
}
