import Foundation

/// What a CMS event does to the content.
public enum ContentChange: Sendable, Equatable {
    /// Creates or replaces the entry (create, update, publish, unpublish).
    case upsert(ContentEntry)
    /// Deletes the entry; `revisedAt`, the entry's last change as the CMS tells it, keeps older
    /// events of it from bringing it back.
    case delete(kind: ContentEntry.Kind, cmsId: String, revisedAt: Date?)
}

/// What became of a CMS event.
public enum ContentOutcome: String, Sendable, Equatable {
    case applied
    /// Its id came before: nothing changed.
    case duplicate
    /// The entry it carries is older than the one stored (or than its deletion), by the CMS's
    /// `updatedAt`: nothing changed.
    case stale
}

/// A name or description of a pack, for search.
public struct PackText: Sendable, Equatable {
    /// `core:speaking`.
    public var entity: String
    /// `stat`, `check`, `item`…
    public var entityKind: String
    public var language: String
    public var name: String
    public var description: String
}

public struct SearchQuery: Sendable {
    /// The words as typed; each is matched as a prefix, without regard to case or accents.
    public var text: String
    public var language: String?
    /// `vocabulary`, `lore`, `lesson` or `pack`.
    public var kind: String?
    public var tags: [String]
    public var limit: Int
    public var offset: Int
}

public struct SearchHit: Sendable, Equatable {
    /// `vocabulary:12`, or `pack:core@1.0.0:core:speaking`.
    public var id: String
    public var kind: String
    public var language: String
    /// HTML: the text escaped, the matches in `<mark>`.
    public var titleHTML: String
    public var snippetHTML: String
    public var tags: [String]
    /// bm25, lower is better.
    public var score: Double
}

public protocol ContentStore: Sendable {
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

public struct MediaRecord: Sendable, Equatable {
    public var id: String
    public var ownerId: String
    public var sha256: String
    public var size: Int
    public var contentType: String
    public var createdAt: Date
    public init(id: String, ownerId: String, sha256: String, size: Int, contentType: String, createdAt: Date) {
        self.id = id
        self.ownerId = ownerId
        self.sha256 = sha256
        self.size = size
        self.contentType = contentType
        self.createdAt = createdAt
    }
}

public protocol MediaStore: Sendable {
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
