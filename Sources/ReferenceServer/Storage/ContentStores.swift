import Foundation

/// What a CMS event does to the content.
package enum ContentChange: Sendable, Equatable {
    /// Creates or replaces the entry (create, update, publish, unpublish).
    case upsert(ContentEntry)
    /// Deletes the entry; `revisedAt`, the entry's last change as the CMS tells it, keeps older
    /// events of it from bringing it back.
    case delete(kind: ContentEntry.Kind, cmsId: String, revisedAt: Date?)
}

/// What became of a CMS event.
package enum ContentOutcome: String, Sendable, Equatable {
    case applied
    /// Its id came before: nothing changed.
    case duplicate
    /// The entry it carries is older than the one stored (or than its deletion), by the CMS's
    /// `updatedAt`: nothing changed.
    case stale
}

/// A name or description of a pack, for search.
package struct PackText: Sendable, Equatable {
    /// `core:speaking`.
    package var entity: String
    /// `stat`, `check`, `item`…
    package var entityKind: String
    package var language: String
    package var name: String
    package var description: String
}

package struct SearchQuery: Sendable {
    /// The words as typed; each is matched as a prefix, without regard to case or accents.
    package var text: String
    package var language: String?
    /// `vocabulary`, `lore`, `lesson` or `pack`.
    package var kind: String?
    package var tags: [String]
    package var limit: Int
    package var offset: Int

    /// The words of `text` that search matches, each as a prefix: runs of letters and digits
    /// (with apostrophes and hyphens inside them), at most 16, each cut to 64 characters. None
    /// means nothing to search for.
    package static func words(_ text: String) -> [String] {
        text.split { !($0.isLetter || $0.isNumber || $0 == "'" || $0 == "-") }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'-")) }.filter { !$0.isEmpty }.prefix(16)
            .map { String($0.prefix(64)) }
    }
}

package struct SearchHit: Sendable, Equatable {
    /// `vocabulary:12`, or `pack:core@1.0.0:core:speaking`.
    package var id: String
    package var kind: String
    package var language: String
    /// HTML: the text escaped, the matches in `<mark>`.
    package var titleHTML: String
    package var snippetHTML: String
    package var tags: [String]
    /// bm25, lower is better.
    package var score: Double
}

package protocol ContentStore: Sendable {
    /// Applies one CMS event, once, unless what it carries is older than what is stored. The
    /// entry and the search index change in one transaction.
    func apply(_ change: ContentChange, eventId: String, event: String, at: Date) async throws -> ContentOutcome
    /// Stores entries (an import) in one transaction, each replacing the one of the same kind and
    /// id unless older than it; returns how many were older and left.
    func upsert(_ entries: [ContentEntry]) async throws -> Int
    func entry(id: String) async throws -> ContentEntry?
    /// Replaces what search knows of a pack with the texts of one version (none: forgets it).
    func replacePackTexts(packId: String, version: String?, texts: [PackText]) async throws
    /// Published entries and pack texts matching the query, best first, and whether more follow.
    func search(_ query: SearchQuery) async throws -> (hits: [SearchHit], more: Bool)
    /// Drops the index and makes it again from the stored entries and the given pack texts;
    /// returns the rows indexed.
    func rebuildIndex(packs: [(packId: String, version: String, texts: [PackText])]) async throws -> Int
    /// Counts, for checks: entries stored, and rows in the index.
    func counts() async throws -> (entries: Int, indexed: Int)
}

// MARK: - Media

package struct MediaRecord: Sendable, Equatable {
    package var id: String
    package var ownerId: String
    package var sha256: String
    package var size: Int
    package var contentType: String
    package var createdAt: Date
    package init(id: String, ownerId: String, sha256: String, size: Int, contentType: String, createdAt: Date) {
        self.id = id
        self.ownerId = ownerId
        self.sha256 = sha256
        self.size = size
        self.contentType = contentType
        self.createdAt = createdAt
    }
}

package protocol MediaStore: Sendable {
    /// Records an upload when the owner's uploads stay within `quota` bytes; otherwise
    /// `StoreError.conflict(field: "quota")`.
    func create(_ record: MediaRecord, quota: Int) async throws
    func media(id: String) async throws -> MediaRecord?
    /// The owner's uploads, newest first, and the bytes they take.
    /// The owner's uploads, newest first, after `cursor` (the time in milliseconds and the id
    /// of the last of the previous page), at most `limit`.
    func media(ownerId: String, after cursor: (createdAtMs: Int64, id: String)?, limit: Int) async throws -> [MediaRecord]
    /// The bytes the owner's uploads take.
    func usedBytes(ownerId: String) async throws -> Int
    /// Whether some record uses this content.
    func isUsed(sha256: String) async throws -> Bool
    /// Every content some record uses, once, with its type and size, by SHA-256.
    func contents() async throws -> [(sha256: String, contentType: String, size: Int)]
    /// Deletes the record; returns whether its content is still used by another record.
    func delete(id: String) async throws -> (record: MediaRecord, stillUsed: Bool)?
}
