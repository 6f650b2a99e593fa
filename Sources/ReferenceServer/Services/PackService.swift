import ContentPacks
import Foundation

/// What the pack service refuses, in its own terms. The HTTP layer answers each as a problem
/// (``Problem/init(_:requestId:)``).
enum PackServiceError: Error, Equatable, Sendable {
    /// The upload does not validate: every diagnostic, as `rfl validate` reports them.
    case invalid(diagnostics: [Diagnostic])
    /// Another upload is stored under this id and version (published versions never change).
    case versionExists(pack: String, version: String)
    case notFound(pack: String, version: String)
}

/// Publishing packs: an upload is checked exactly as `rfl validate` checks it (with the stored
/// versions of what it requires), stored as an immutable version, made known to search, and
/// later retired so that no new campaign pins it. Uploads, rejections and retirements go to the
/// audit log. The checking, resolving and composing of packs is the ``PackLibrary``'s, which
/// campaigns share; this service is what clients ask of it. Times come from `now`.
struct PackService: Sendable {
    let store: any PackStore
    let library: PackLibrary
    /// Where search learns of the packs' texts.
    let content: any ContentStore
    let audit: AuditTrail
    let now: @Sendable () -> Date

    /// What publishing did.
    enum Published: Sendable, Equatable {
        /// A new version, with the warnings its check found.
        case created(PackRecord, warnings: [Diagnostic])
        /// The same bytes were published before as this version: nothing changed.
        case unchanged(PackRecord)
    }

    /// Checks and stores an uploaded pack as a new version of the caller's. The same bytes again
    /// are the version already stored; other bytes under a stored id and version are refused.
    func publish(xml: [UInt8], by caller: Caller) async throws -> Published {
        let check = try await library.check(upload: xml, path: "upload.xml")
        guard check.isValid, let info = check.info else {
            try await audit.record("pack.rejected", by: caller, ["errors": String(check.diagnostics.filter { $0.severity == .error }.count),
                                                                 "sha256": Hex.sha256(xml)])
            throw PackServiceError.invalid(diagnostics: check.diagnostics)
        }
        let record = PackLibrary.record(info, xml: xml, uploadedBy: caller.userId, at: now(), bundled: false)
        do {
            try await store.publish(record, xml: xml)
        } catch StoreError.conflict {
            if let stored = try await store.pack(id: record.id, version: record.version), stored.sha256 == record.sha256 {
                return .unchanged(stored)
            }
            throw PackServiceError.versionExists(pack: record.id, version: record.version)
        }
        try await audit.record("pack.published", by: caller, target: "\(record.id)@\(record.version)",
                               ["sha256": record.sha256, "size": String(record.size)])
        try await library.reindex(packId: record.id, content: content)
        return .created(record, warnings: check.diagnostics.filter { $0.severity == .warning })
    }

    /// Every stored version, by id then upload order; one id's only when `id` is given.
    func packs(id: String?, includeRetired: Bool) async throws -> [PackRecord] {
        try await store.packs(id: id, includeRetired: includeRetired)
    }

    func pack(id: String, version: String) async throws -> PackRecord {
        guard let record = try await store.pack(id: id, version: version) else { throw PackServiceError.notFound(pack: id, version: version) }
        return record
    }

    /// A stored version with its XML, as uploaded.
    func xml(id: String, version: String) async throws -> (record: PackRecord, xml: [UInt8]) {
        let record = try await pack(id: id, version: version)
        guard let xml = try await store.xml(id: record.id, version: record.version) else {
            throw PackServiceError.notFound(pack: record.id, version: record.version)
        }
        return (record, xml)
    }

    /// Retires a version (once: retiring a retired version changes nothing); search then knows
    /// the newest version of the pack still current.
    func retire(id: String, version: String, by caller: Caller) async throws -> PackRecord {
        let before = try await pack(id: id, version: version)
        let record: PackRecord
        do {
            record = try await store.retire(id: before.id, version: before.version, at: now())
        } catch StoreError.notFound {
            throw PackServiceError.notFound(pack: id, version: version)
        }
        if before.retiredAt == nil {
            try await audit.record("pack.retired", by: caller, target: "\(record.id)@\(record.version)")
            try await library.reindex(packId: record.id, content: content)
        }
        return record
    }
}
