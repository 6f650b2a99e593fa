import Foundation

/// The audit log as admins read it: oldest first, filtered, in pages.
struct AuditService: Sendable {
    let store: any AuditStore

    /// Events matching `filter`, after `cursor` (a sequence).
    func events(_ filter: AuditFilter, after cursor: Int64?, limit: Int) async throws -> Page<AuditEvent> {
        try await Page.read(limit: limit) { rows in try await store.events(filter, after: cursor, limit: rows) }
    }
}
