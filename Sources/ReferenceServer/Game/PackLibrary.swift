import ContentPacks
import Foundation
import Logging
import Mechanics
import Synchronization

/// Packs as content: installs the bundled ones, checks uploads exactly as `rfl validate` does
/// (with the stored versions of what they require), resolves a campaign's pinned versions and
/// composes them into a ruleset, kept in a small cache (published versions never change).
final class PackLibrary: Sendable {
    let store: any PackStore
    let loader: PackLoader
    private let cache = Mutex<[String: LoadedRuleset]>([:])
    static let cacheSize = 64
    /// Held by re-indexing, by pack id.
    private let indexing: any KeyedLocking

    init(store: any PackStore, loader: PackLoader = PackLoader(), indexing: any KeyedLocking = KeyedLock()) {
        self.store = store
        self.indexing = indexing
        self.loader = loader
    }

    static func record(_ info: PackInfo, xml: [UInt8], uploadedBy: String?, at: Date, bundled: Bool) -> PackRecord {
        PackRecord(id: info.id, version: info.version.description, sha256: Hex.sha256(xml), size: xml.count, titles: info.titles,
                   language: info.language, requires: info.requires.map { "\($0.id) \($0.range.text)" }, uploadedBy: uploadedBy,
                   uploadedAt: at, bundled: bundled)
    }

    /// Stores each pack of the bundled rulesets folder not stored yet (same id and version).
    /// Returns those installed now.
    func installBundled(directory: String, logger: Logger) async throws -> [PackRecord] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".xml") }.sorted()
        var installed: [PackRecord] = []
        for file in files {
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let xml = Array(data)
            let info = try loader.describe(xml: xml, path: path)
            if let stored = try await store.pack(id: info.id, version: info.version.description) {
                if stored.sha256 != Hex.sha256(xml) {
                    logger.warning("a bundled pack differs from the stored version of the same number; the stored one is kept",
                                   metadata: ["pack": "\(info.id) \(info.version)", "file": "\(path)"])
                }
                continue
            }
            let record = Self.record(info, xml: xml, uploadedBy: nil, at: Date(), bundled: true)
            do {
                try await store.publish(record, xml: xml)
                installed.append(record)
            } catch StoreError.conflict {
                continue
            }
        }
        return installed
    }

    /// What checking an upload found.
    struct UploadCheck {
        var info: PackInfo?
        /// Errors and warnings, as `rfl validate` reports them.
        var diagnostics: [Diagnostic]
        var isValid: Bool { info != nil && !diagnostics.contains { $0.severity == .error } }
    }

    /// Checks an uploaded pack on its own, then composed with the stored versions of the packs
    /// it requires (the newest that satisfy each requirement).
    func check(upload xml: [UInt8], path: String) async throws -> UploadCheck {
        let loader = self.loader
        let described = try await offTheEventLoop { () -> Result<PackInfo, PackError> in
            do throws(PackError) { return .success(try loader.describe(xml: xml, path: path)) } catch { return .failure(error) }
        }
        let info: PackInfo
        switch described {
        case .success(let described): info = described
        case .failure(let error): return UploadCheck(info: nil, diagnostics: error.diagnostics.sorted())
        }
        let dependencies: [PinnedPack]
        do {
            dependencies = try await resolve(requirements: info.requires.map { ($0.id, $0.range) }, chosen: [info.id: info.version.description],
                                             allowRetired: false)
        } catch let problem as ResolutionProblem {
            return UploadCheck(info: info, diagnostics: [Diagnostic(path: path, line: 1, column: 1, code: "requires", problem.message)])
        }
        var sources: [(path: String, xml: [UInt8])] = []
        for pack in dependencies {
            guard let bytes = try await store.xml(id: pack.id, version: pack.version) else { continue }
            sources.append(("\(pack.id)@\(pack.version)", bytes))
        }
        sources.append((path, xml))
        let all = sources
        let diagnostics = try await offTheEventLoop { loader.validate(sources: all) }.filter { $0.path == path || $0.severity == .error }
        return UploadCheck(info: info, diagnostics: diagnostics)
    }

    /// Why a set of packs cannot be pinned.
    struct ResolutionProblem: Error {
        var field: String
        var message: String
    }

    /// The versions a campaign pins: each requested pack (its newest version that is not
    /// retired when no version is given), and what they require, transitively.
    func resolve(requested: [(id: String, version: String?)]) async throws -> [PinnedPack] {
        var chosen: [String: String] = [:]
        var pinned: [PinnedPack] = []
        for (index, request) in requested.enumerated() {
            let field = "/packs/\(index)"
            guard chosen[request.id] == nil else { throw ResolutionProblem(field: field + "/id", message: "'\(request.id)' is listed twice") }
            let version: String
            if let wanted = request.version {
                guard let record = try await store.pack(id: request.id, version: wanted) else {
                    throw ResolutionProblem(field: field, message: "there is no pack '\(request.id)' version \(wanted)")
                }
                guard record.retiredAt == nil else {
                    throw ResolutionProblem(field: field, message: "'\(request.id)' \(wanted) is retired; pin another version")
                }
                version = wanted
            } else {
                guard let newest = try await newest(request.id, in: nil) else {
                    throw ResolutionProblem(field: field, message: "there is no published version of '\(request.id)'")
                }
                version = newest
            }
            chosen[request.id] = version
            pinned.append(PinnedPack(id: request.id, version: version))
        }
        var requirements: [(String, VersionRange)] = []
        for pack in pinned {
            guard let record = try await store.pack(id: pack.id, version: pack.version) else { continue }
            requirements += Self.requirements(record)
        }
        return pinned + (try await resolve(requirements: requirements, chosen: chosen, allowRetired: false))
    }

    /// One version with what it requires (the newest stored versions in each range), as a
    /// campaign on it alone would pin them.
    func closure(of record: PackRecord) async throws -> [PinnedPack] {
        [PinnedPack(id: record.id, version: record.version)]
            + (try await resolve(requirements: Self.requirements(record), chosen: [record.id: record.version], allowRetired: false))
    }

    static func requirements(_ record: PackRecord) -> [(String, VersionRange)] {
        record.requires.compactMap { text in
            let parts = text.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let range = try? VersionRange(String(parts[1])) else { return nil }
            return (String(parts[0]), range)
        }
    }

    /// The newest stored version of `id` that is not retired (and is in `range`).
    private func newest(_ id: String, in range: VersionRange?) async throws -> String? {
        try await store.packs(id: id, includeRetired: false)
            .compactMap { record in SemanticVersion(record.version).map { ($0, record.version) } }
            .filter { range?.contains($0.0) ?? true }
            .max { $0.0 < $1.0 }?.1
    }

    /// Adds to `chosen` what `requirements` need, transitively; returns the packs added.
    private func resolve(requirements: [(String, VersionRange)], chosen: [String: String], allowRetired: Bool) async throws -> [PinnedPack] {
        var chosen = chosen
        var added: [PinnedPack] = []
        var queue = requirements
        var steps = 0
        while !queue.isEmpty {
            steps += 1
            guard steps <= 1024 else { throw ResolutionProblem(field: "/packs", message: "the requirements go on too long") }
            let (id, range) = queue.removeFirst()
            if let version = chosen[id] {
                guard let parsed = SemanticVersion(version), range.contains(parsed) else {
                    throw ResolutionProblem(field: "/packs", message: "'\(id)' \(version) is pinned, but \(range.text) is required")
                }
                continue
            }
            guard let version = try await newest(id, in: range) else {
                throw ResolutionProblem(field: "/packs", message: "no published version of '\(id)' satisfies \(range.text)")
            }
            chosen[id] = version
            added.append(PinnedPack(id: id, version: version))
            if let record = try await store.pack(id: id, version: version) { queue += Self.requirements(record) }
        }
        return added
    }

    /// The names and descriptions of a pack's entities, by language, for search.
    static func texts(_ info: PackInfo) -> [PackText] {
        var texts: [PackText] = []
        for entry in info.entries where entry.change == .new {
            for language in Set(entry.names.keys).union(entry.descriptions.keys).sorted() {
                texts.append(PackText(entity: entry.id, entityKind: entry.kind, language: language,
                                      name: entry.names[language] ?? entry.name(language, fallback: info.language) ?? entry.id,
                                      description: entry.descriptions[language] ?? ""))
            }
        }
        return texts
    }

    /// What search should know of each pack: its newest version that is not retired.
    func searchable() async throws -> [(packId: String, version: String, texts: [PackText])] {
        var result: [(packId: String, version: String, texts: [PackText])] = []
        for id in Set(try await store.packs(id: nil, includeRetired: false).map(\.id)).sorted() {
            if let entry = try await searchable(packId: id) { result.append(entry) }
        }
        return result
    }

    /// What search should know of one pack: the texts of its newest version not retired.
    private func searchable(packId: String) async throws -> (packId: String, version: String, texts: [PackText])? {
        guard let version = try await newest(packId, in: nil), let xml = try await store.xml(id: packId, version: version),
              let info = try? loader.describe(xml: xml) else { return nil }
        return (packId, version, Self.texts(info))
    }

    /// Makes search know the newest version of `packId` that is not retired (or forget it).
    /// Only that pack is read, so installing or publishing one pack costs one pack. One at a time
    /// for a pack: each reads the versions stored when it starts, so the last one to run, which
    /// starts after every publish before it, writes the newest.
    func reindex(packId: String, content: any ContentStore) async throws {
        try await indexing.withLock("pack-index:" + packId) {
            let entry = try await searchable(packId: packId)
            try await content.replacePackTexts(packId: packId, version: entry?.version, texts: entry?.texts ?? [])
        }
    }

    /// The ruleset the pinned versions compose (retired versions included: campaigns keep what
    /// they pinned).
    func ruleset(_ pinned: [PinnedPack]) async throws -> LoadedRuleset {
        let key = pinned.map { "\($0.id)@\($0.version)" }.sorted().joined(separator: ",")
        if let cached = cache.withLock({ $0[key] }) { return cached }
        var sources: [(path: String, xml: [UInt8])] = []
        for pack in pinned {
            guard let xml = try await store.xml(id: pack.id, version: pack.version) else {
                throw ResolutionProblem(field: "/packs", message: "pack '\(pack.id)' \(pack.version) is not stored")
            }
            sources.append(("\(pack.id)@\(pack.version)", xml))
        }
        let loader = self.loader
        let all = sources
        let result = try await offTheEventLoop { () -> Result<LoadedRuleset, PackError> in
            do throws(PackError) { return .success(try loader.load(sources: all)) } catch { return .failure(error) }
        }
        let loaded: LoadedRuleset
        switch result {
        case .success(let ruleset): loaded = ruleset
        case .failure(let error):
            throw ResolutionProblem(field: "/packs", message: error.diagnostics.filter { $0.severity == .error }.map(\.description)
                .prefix(5).joined(separator: "; "))
        }
        cache.withLock { cache in
            if cache.count >= Self.cacheSize { cache.removeAll() }
            cache[key] = loaded
        }
        return loaded
    }
}
