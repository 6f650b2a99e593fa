/// Ids to positions, where an id qualified by its pack (`core:speaking`) may also be found by its
/// short form (`speaking`) when no other pack uses the same short form.
struct IdIndex: Sendable {
    private(set) var exact: [String: Int] = [:]
    private var short: [String: [Int]] = [:]
    private var ids: [String] = []

    init() {}

    subscript(_ id: String) -> Int? { exact[id] }

    /// Adds an id; false when it is already there.
    mutating func insert(_ id: String, at position: Int) -> Bool {
        guard exact[id] == nil else { return false }
        exact[id] = position
        ids.append(id)
        if let colon = id.lastIndex(of: ":") {
            short[String(id[id.index(after: colon)...]), default: []].append(position)
        }
        return true
    }

    var keys: [String] { ids }

    /// The position of `id`, exactly or by its unambiguous short form.
    func find(_ id: String) -> Int? {
        if let position = exact[id] { return position }
        if let matches = short[id], matches.count == 1 { return matches[0] }
        return nil
    }

    /// Why `find` failed: the qualified ids a short form could mean, when there are several.
    func candidates(_ id: String) -> [String] {
        (short[id] ?? []).map { position in ids.first { exact[$0] == position } ?? "" }
    }

    func notFound(_ id: String, _ what: String) -> EngineError {
        let options = candidates(id)
        if options.count > 1 {
            return EngineError(.notFound, "'\(id)' is ambiguous: it could be \(options.sorted().map { "'\($0)'" }.joined(separator: " or "))")
        }
        return EngineError(.notFound, "no \(what) '\(id)'\(Ruleset.suggestion(id, ids))")
    }
}
