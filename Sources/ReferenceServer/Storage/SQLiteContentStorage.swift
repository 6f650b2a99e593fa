import Foundation
import GRDB

/// Content and its full-text index: SQLite FTS5 with the `unicode61` tokenizer removing
/// diacritics (so `cafe` finds `café`) and folding case, with prefix indexes for
/// search-as-you-type.
enum SQLiteContentSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE content_entries (
                id TEXT PRIMARY KEY NOT NULL,
                kind TEXT NOT NULL,
                cms_id TEXT NOT NULL,
                published INTEGER NOT NULL,
                data TEXT NOT NULL,
                updated_at_ms INTEGER NOT NULL
            );
            CREATE TABLE cms_events (
                event_id TEXT PRIMARY KEY NOT NULL,
                event TEXT NOT NULL,
                entry_id TEXT NOT NULL,
                received_at_ms INTEGER NOT NULL
            );
            -- Tags filter results; they are not searched as words.
            CREATE TABLE content_tags (
                entry_id TEXT NOT NULL,
                tag TEXT NOT NULL COLLATE NOCASE,
                PRIMARY KEY (entry_id, tag)
            );
            CREATE INDEX content_tags_by_tag ON content_tags(tag, entry_id);
            -- Which index rows belong to which entry (or pack): FTS5 finds rows by words, not by
            -- its unindexed columns, so removing an entry's rows goes through this.
            CREATE TABLE search_rows (
                row INTEGER PRIMARY KEY NOT NULL,
                entry_id TEXT NOT NULL,
                pack_id TEXT
            );
            CREATE INDEX search_rows_by_entry ON search_rows(entry_id);
            CREATE INDEX search_rows_by_pack ON search_rows(pack_id) WHERE pack_id IS NOT NULL;
            CREATE VIRTUAL TABLE search_index USING fts5(
                title, body,
                tags UNINDEXED, entry_id UNINDEXED, kind UNINDEXED, lang UNINDEXED, ref UNINDEXED,
                tokenize = 'unicode61 remove_diacritics 2',
                prefix = '1 2 3'
            );
            """)
    }
}

/// A row of `content_entries`: the entry as JSON in `data`, with the columns searched and
/// ordered by beside it.
private struct ContentEntryRow: Codable, FetchableRecord, TableRecord {
    static let databaseTableName = "content_entries"
    var id: String
    var kind: String
    var cmsId: String
    var published: Bool
    var data: String
    var updatedAtMs: Int64
    /// The CMS's own time of the entry, when it gave one.
    var cmsUpdatedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id, kind
        case cmsId = "cms_id"
        case published, data
        case updatedAtMs = "updated_at_ms"
        case cmsUpdatedAtMs = "cms_updated_at_ms"
    }

    init(_ entry: ContentEntry, at: Date) throws {
        id = entry.id
        kind = entry.kind.rawValue
        cmsId = entry.cmsId
        published = entry.published
        data = try StoredJSON.text(entry, table: Self.databaseTableName, column: CodingKeys.data.rawValue)
        updatedAtMs = SQLiteStorage.ms(at)
        cmsUpdatedAtMs = entry.revisedAt.map(SQLiteStorage.ms)
    }

    /// Reads an entry from the text of its `data` column.
    static func entry(_ data: String) throws -> ContentEntry {
        try StoredJSON.value(ContentEntry.self, from: data, table: databaseTableName, column: CodingKeys.data.rawValue)
    }
}

/// A row of `cms_events`: a CMS event applied once, by its id.
private struct CMSEventRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "cms_events"
    var eventId: String
    var event: String
    var entryId: String
    var receivedAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case event
        case entryId = "entry_id"
        case receivedAtMs = "received_at_ms"
    }
}

/// A row of `content_deleted`: the CMS's time of a deleted entry.
private struct ContentDeletedRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "content_deleted"
    var id: String
    var cmsUpdatedAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case cmsUpdatedAtMs = "cms_updated_at_ms"
    }
}

/// A row of a search: the columns of `search_index` it reads, with FTS5's marked title and
/// snippet and its bm25 score.
private struct SearchHitRow: Decodable, FetchableRecord {
    var entryId: String
    var kind: String
    var lang: String
    var tags: String
    var markedTitle: String
    var markedBody: String
    var score: Double

    enum CodingKeys: String, CodingKey {
        case entryId = "entry_id"
        case kind, lang, tags
        case markedTitle = "marked_title"
        case markedBody = "marked_body"
        case score
    }

    var hit: SearchHit {
        SearchHit(id: entryId, kind: kind, language: lang, titleHTML: SQLiteContentStore.html(markedTitle),
                  snippetHTML: SQLiteContentStore.html(markedBody), tags: tags.split(separator: " ").map(String.init), score: score)
    }
}

struct SQLiteContentStore: ContentStore {
    let pool: DatabasePool

    /// The index rows of an entry: one per language it has a title or body in.
    static func index(_ db: Database, _ entry: ContentEntry) throws {
        try removeRows(db, entryId: entry.id)
        try db.cachedStatement(sql: "DELETE FROM content_tags WHERE entry_id = ?").execute(arguments: [entry.id])
        guard entry.published else { return }
        let tag = try db.cachedStatement(sql: "INSERT OR IGNORE INTO content_tags (entry_id, tag) VALUES (?, ?)")
        for name in entry.tags { try tag.execute(arguments: [entry.id, name]) }
        let insert = try db.cachedStatement(sql: "INSERT INTO search_index (title, body, tags, entry_id, kind, lang, ref) VALUES (?, ?, ?, ?, ?, ?, ?)")
        let row = try db.cachedStatement(sql: "INSERT INTO search_rows (row, entry_id, pack_id) VALUES (?, ?, ?)")
        for language in entry.languages {
            try insert.execute(arguments: [entry.titles[language] ?? "", entry.bodies[language] ?? "", entry.tagText, entry.id, entry.kind.rawValue,
                                           language, entry.cmsId])
            try row.execute(arguments: [db.lastInsertedRowID, entry.id, nil])
        }
    }

    /// Removes an entry's rows from the index, found through `search_rows`.
    static func removeRows(_ db: Database, entryId: String) throws {
        try db.cachedStatement(sql: "DELETE FROM search_index WHERE rowid IN (SELECT row FROM search_rows WHERE entry_id = ?)")
            .execute(arguments: [entryId])
        try db.cachedStatement(sql: "DELETE FROM search_rows WHERE entry_id = ?").execute(arguments: [entryId])
    }

    /// The CMS's time of the stored entry, or of its deletion.
    static func revision(_ db: Database, id: String) throws -> (stored: Int64?, deleted: Int64?) {
        let stored = try Int64?.fetchOne(db.cachedStatement(sql: "SELECT cms_updated_at_ms FROM content_entries WHERE id = ?"), arguments: [id]) ?? nil
        let deleted = try Int64.fetchOne(db.cachedStatement(sql: "SELECT cms_updated_at_ms FROM content_deleted WHERE id = ?"), arguments: [id])
        return (stored, deleted)
    }

    /// Stores the entry and indexes it, unless the CMS says it is older than the one stored, or
    /// not newer than its deletion (then false, and nothing changes). Without times, the later
    /// arrival wins.
    static func store(_ db: Database, _ entry: ContentEntry, at: Date) throws -> Bool {
        let row = try ContentEntryRow(entry, at: at)
        if let revised = row.cmsUpdatedAtMs {
            let known = try revision(db, id: entry.id)
            if let stored = known.stored, revised < stored { return false }
            if let deleted = known.deleted, revised <= deleted { return false }
        }
        try db.cachedStatement(sql: "DELETE FROM content_deleted WHERE id = ?").execute(arguments: [entry.id])
        try db.cachedStatement(sql: """
            INSERT INTO content_entries (id, kind, cms_id, published, data, updated_at_ms, cms_updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET published = excluded.published, data = excluded.data, updated_at_ms = excluded.updated_at_ms,
                cms_updated_at_ms = excluded.cms_updated_at_ms
            """).execute(arguments: [row.id, row.kind, row.cmsId, row.published, row.data, row.updatedAtMs, row.cmsUpdatedAtMs])
        try index(db, entry)
        return true
    }

    func apply(_ change: ContentChange, eventId: String, event: String, at: Date) async throws -> ContentOutcome {
        try await pool.write { db in
            let entryId: String
            switch change {
            case .upsert(let entry): entryId = entry.id
            case .delete(let kind, let cmsId, _): entryId = "\(kind.rawValue):\(cmsId)"
            }
            try CMSEventRow(eventId: eventId, event: event, entryId: entryId, receivedAtMs: SQLiteStorage.ms(at)).insert(db, onConflict: .ignore)
            guard db.changesCount == 1 else { return .duplicate }
            switch change {
            case .upsert(let entry):
                return try Self.store(db, entry, at: at) ? .applied : .stale
            case .delete(_, _, let revisedAt):
                // A deletion is final; its time (the later of the event's and the stored entry's)
                // keeps late events of the entry from bringing it back.
                let known = try Self.revision(db, id: entryId)
                if let time = [revisedAt.map(SQLiteStorage.ms), known.stored, known.deleted].compactMap({ $0 }).max() {
                    try ContentDeletedRow(id: entryId, cmsUpdatedAtMs: time).insert(db, onConflict: .replace)
                }
                try db.execute(sql: "DELETE FROM content_entries WHERE id = ?", arguments: [entryId])
                try Self.removeRows(db, entryId: entryId)
                try db.execute(sql: "DELETE FROM content_tags WHERE entry_id = ?", arguments: [entryId])
                return .applied
            }
        }
    }

    func upsert(_ entries: [ContentEntry]) async throws -> Int {
        let now = Date()
        // One transaction: an import lands whole or not at all.
        return try await pool.write { db in
            var older = 0
            for entry in entries where try !Self.store(db, entry, at: now) { older += 1 }
            return older
        }
    }

    func entry(id: String) async throws -> ContentEntry? {
        try pool.readHere { db in
            try ContentEntryRow.fetchOne(db, key: id).map { try ContentEntryRow.entry($0.data) }
        }
    }

    static func replacePack(_ db: Database, packId: String, version: String?, texts: [PackText]) throws {
        try db.execute(sql: "DELETE FROM search_index WHERE rowid IN (SELECT row FROM search_rows WHERE pack_id = ?)", arguments: [packId])
        try db.execute(sql: "DELETE FROM search_rows WHERE pack_id = ?", arguments: [packId])
        guard let version else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO search_index (title, body, tags, entry_id, kind, lang, ref) VALUES (?, ?, '', ?, 'pack', ?, ?)")
        let row = try db.cachedStatement(sql: "INSERT INTO search_rows (row, entry_id, pack_id) VALUES (?, ?, ?)")
        for text in texts {
            let id = "pack:\(packId)@\(version):\(text.entity)"
            try insert.execute(arguments: [text.name, text.description, id, text.language, text.entityKind])
            try row.execute(arguments: [db.lastInsertedRowID, id, packId])
        }
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    func replacePackTexts(packId: String, version: String?, texts: [PackText]) async throws {
        try await pool.write { db in try Self.replacePack(db, packId: packId, version: version, texts: texts) }
    }

    /// The FTS5 query for words as typed: each word a quoted prefix, all required.
    static func matchExpression(_ text: String) -> String? {
        let words = SearchQuery.words(text)
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " AND ")
    }

    /// A query with a word of at most two letters.
    static func isBroad(_ text: String) -> Bool {
        text.split { !($0.isLetter || $0.isNumber) }.contains { $0.count <= 2 }
    }

    static let markStart = "\u{E000}"
    static let markEnd = "\u{E001}"

    /// Text from the index as HTML: escaped, with the matches FTS5 marked as `<mark>`.
    static func html(_ marked: String) -> String {
        DocumentationPage.escape(marked).replacingOccurrences(of: markStart, with: "<mark>").replacingOccurrences(of: markEnd, with: "</mark>")
    }

    func search(_ query: SearchQuery) async throws -> (hits: [SearchHit], more: Bool) {
        guard let match = Self.matchExpression(query.text) else { return ([], false) }
        var clauses = ["search_index MATCH ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [match]
        for tag in query.tags.prefix(8) {
            clauses.append("entry_id IN (SELECT entry_id FROM content_tags WHERE tag = ?)")
            arguments.append(tag)
        }
        if let language = query.language {
            clauses.append("(lang = ? OR lang LIKE ? ESCAPE '\\')")
            arguments += [language, Self.likeEscaped(language) + "-%"]
        }
        if let kind = query.kind {
            clauses.append("kind = ?")
            arguments.append(kind)
        }
        let filter = clauses.joined(separator: " AND ")
        // A word of one or two letters matches a large part of the index, and ranking every match
        // takes long (most of a second on 100 000 entries): those queries list matches in index
        // order, which SQLite stops reading once the page is full.
        let order = Self.isBroad(query.text) ? "rowid" : "score, entry_id, lang"
        // One more than the page, to tell whether more follow. The handler bounds both; here a
        // negative value (which SQLite reads as "no limit") is none, and nothing overflows.
        let limit = max(0, query.limit)
        arguments += [limit == .max ? limit : limit + 1, max(0, query.offset)]
        let statementArguments = StatementArguments(arguments)
        let rows = try await pool.readAside { db in
            try SearchHitRow.fetchAll(db, sql: """
                SELECT entry_id, kind, lang, tags,
                       highlight(search_index, 0, char(57344), char(57345)) AS marked_title,
                       snippet(search_index, 1, char(57344), char(57345), '…', 16) AS marked_body,
                       bm25(search_index, 10.0, 1.0) AS score
                FROM search_index WHERE \(filter)
                ORDER BY \(order) LIMIT ? OFFSET ?
                """, arguments: statementArguments)
        }
        return (rows.prefix(limit).map(\.hit), rows.count > limit)
    }

    func rebuildIndex(packs: [(packId: String, version: String, texts: [PackText])]) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM search_index")
            try db.execute(sql: "DELETE FROM search_rows")
            try db.execute(sql: "DELETE FROM content_tags")
            let cursor = try String.fetchCursor(db, sql: "SELECT data FROM content_entries WHERE published = 1 ORDER BY id")
            while let data = try cursor.next() { try Self.index(db, try ContentEntryRow.entry(data)) }
            for pack in packs { try Self.replacePack(db, packId: pack.packId, version: pack.version, texts: pack.texts) }
            try db.execute(sql: "INSERT INTO search_index(search_index) VALUES ('optimize')")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM search_index") ?? 0
        }
    }

    func counts() async throws -> (entries: Int, indexed: Int) {
        try await pool.readAside { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM content_entries") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM search_index") ?? 0)
        }
    }
}

/// The CMS's own time of each entry, and of deletions, so that events arriving out of order
/// do not undo newer ones.
enum SQLiteContentOrderSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE content_entries ADD COLUMN cms_updated_at_ms INTEGER;
            CREATE TABLE content_deleted (
                id TEXT PRIMARY KEY NOT NULL,
                cms_updated_at_ms INTEGER NOT NULL
            );
            """)
    }
}

enum SQLiteMediaSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE media (
                id TEXT PRIMARY KEY NOT NULL,
                owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                content_type TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL
            );
            CREATE INDEX media_by_owner ON media(owner_id, created_at_ms);
            CREATE INDEX media_by_content ON media(sha256);
            """)
    }
}

/// A row of `media`: one upload's record (its content lives in the blob store, by SHA-256).
private struct MediaRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "media"
    var id: String
    var ownerId: String
    var sha256: String
    var size: Int
    var contentType: String
    var createdAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case ownerId = "owner_id"
        case sha256, size
        case contentType = "content_type"
        case createdAtMs = "created_at_ms"
    }

    init(_ record: MediaRecord) {
        id = record.id
        ownerId = record.ownerId
        sha256 = record.sha256
        size = record.size
        contentType = record.contentType
        createdAtMs = SQLiteStorage.ms(record.createdAt)
    }

    var record: MediaRecord {
        MediaRecord(id: id, ownerId: ownerId, sha256: sha256, size: size, contentType: contentType, createdAt: SQLiteStorage.date(createdAtMs))
    }
}

/// One content some media record uses, with its type and size.
private struct MediaContentRow: Decodable, FetchableRecord {
    var sha256: String
    var contentType: String
    var size: Int

    enum CodingKeys: String, CodingKey {
        case sha256
        case contentType = "content_type"
        case size
    }
}

struct SQLiteMediaStore: MediaStore {
    let pool: DatabasePool

    func create(_ record: MediaRecord, quota: Int) async throws {
        try await pool.write { db in
            let used = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = ?", arguments: [record.ownerId]) ?? 0
            let (total, overflow) = used.addingReportingOverflow(record.size)
            guard !overflow, total <= quota else { throw StoreError.conflict(field: "quota") }
            try MediaRow(record).insert(db)
        }
    }

    func media(id: String) async throws -> MediaRecord? {
        try pool.readHere { db in try MediaRow.fetchOne(db, key: id)?.record }
    }

    func media(ownerId: String, after cursor: (createdAtMs: Int64, id: String)?, limit: Int) async throws -> [MediaRecord] {
        try pool.readHere { db in
            guard let cursor else {
                return try MediaRow.fetchAll(db, sql: "SELECT * FROM media WHERE owner_id = ? ORDER BY created_at_ms DESC, id LIMIT ?",
                                             arguments: [ownerId, limit]).map(\.record)
            }
            let time = cursor.createdAtMs
            return try MediaRow.fetchAll(db, sql: """
                SELECT * FROM media WHERE owner_id = ? AND (created_at_ms < ? OR (created_at_ms = ? AND id > ?))
                ORDER BY created_at_ms DESC, id LIMIT ?
                """, arguments: [ownerId, time, time, cursor.id, limit]).map(\.record)
        }
    }

    func usedBytes(ownerId: String) async throws -> Int {
        try pool.readHere { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = ?", arguments: [ownerId]) ?? 0
        }
    }

    func isUsed(sha256: String) async throws -> Bool {
        try pool.readHere { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM media WHERE sha256 = ?", arguments: [sha256]) ?? 0 > 0 }
    }

    func contents() async throws -> [(sha256: String, contentType: String, size: Int)] {
        try await pool.readAside { db in
            try MediaContentRow.fetchAll(db, sql: """
                SELECT sha256, MIN(content_type) AS content_type, MIN(size) AS size FROM media GROUP BY sha256 ORDER BY sha256
                """).map { ($0.sha256, $0.contentType, $0.size) }
        }
    }

    func delete(id: String) async throws -> (record: MediaRecord, stillUsed: Bool)? {
        try await pool.write { db in
            guard let record = try MediaRow.fetchOne(db, key: id)?.record else { return nil }
            try db.execute(sql: "DELETE FROM media WHERE id = ?", arguments: [id])
            let others = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM media WHERE sha256 = ?", arguments: [record.sha256]) ?? 0
            return (record, others > 0)
        }
    }
}
