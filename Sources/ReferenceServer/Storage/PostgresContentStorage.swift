import Foundation
import PostgresNIO

/// Content and its search index on PostgreSQL: full-text search with the `rfl_search`
/// configuration (`simple` after `unaccent`, see ``PostgresMigrations``), every typed word a
/// prefix, titles weighing ten times bodies, and the matches marked by `ts_headline` with
/// markers that the HTML escaping then turns into `<mark>`, as SQLite's FTS5 store does.
/// Content changes are serialized by one advisory lock (they are rare), so that the check of an
/// entry's CMS time and its change are decided together across instances.
struct PostgresContentStore: ContentStore {
    let database: PostgresPool

    private static func entry(_ data: String) throws -> ContentEntry {
        try StoredJSON.value(ContentEntry.self, from: data, table: "content_entries", column: "data")
    }

    /// The index rows of an entry: one per language it has a title or body in.
    static func index(_ connection: PostgresConnection, _ entry: ContentEntry) async throws {
        try await connection.run("DELETE FROM search_rows WHERE entry_id = \(entry.id)")
        try await connection.run("DELETE FROM content_tags WHERE entry_id = \(entry.id)")
        guard entry.published else { return }
        for tag in entry.tags {
            try await connection.run("INSERT INTO content_tags (entry_id, tag) VALUES (\(entry.id), lower(\(tag))) ON CONFLICT DO NOTHING")
        }
        for language in entry.languages {
            try await insertRow(connection, entryId: entry.id, packId: nil, title: entry.titles[language] ?? "", body: entry.bodies[language] ?? "",
                                tags: entry.tagText, kind: entry.kind.rawValue, language: language, ref: entry.cmsId)
        }
    }

    private static func insertRow(_ connection: PostgresConnection, entryId: String, packId: String?, title: String, body: String, tags: String,
                                  kind: String, language: String, ref: String) async throws {
        try await connection.run("""
            INSERT INTO search_rows (entry_id, pack_id, title, body, tags, kind, lang, ref, document)
            VALUES (\(entryId), \(packId), \(title), \(body), \(tags), \(kind), \(language), \(ref),
                    setweight(to_tsvector('rfl_search', \(title)), 'A') || setweight(to_tsvector('rfl_search', \(body)), 'B'))
            """)
    }

    /// The CMS's time of the stored entry, and of its deletion.
    private static func revision(_ connection: PostgresConnection, id: String) async throws -> (stored: Int64?, deleted: Int64?) {
        let stored = try await connection.value("SELECT cms_updated_at_ms FROM content_entries WHERE id = \(id)", as: Int64?.self) ?? nil
        let deleted = try await connection.value("SELECT cms_updated_at_ms FROM content_deleted WHERE id = \(id)", as: Int64.self)
        return (stored, deleted)
    }

    /// Stores the entry and indexes it, unless the CMS says it is older than the one stored, or
    /// not newer than its deletion (then false, and nothing changes). Without times, the later
    /// arrival wins.
    private static func store(_ connection: PostgresConnection, _ entry: ContentEntry, at: Date) async throws -> Bool {
        let data = try StoredJSON.text(entry, table: "content_entries", column: "data")
        let revised = entry.revisedAt.map(StoredTime.ms)
        if let revised {
            let known = try await revision(connection, id: entry.id)
            if let stored = known.stored, revised < stored { return false }
            if let deleted = known.deleted, revised <= deleted { return false }
        }
        let atMs = StoredTime.ms(at)
        try await connection.run("DELETE FROM content_deleted WHERE id = \(entry.id)")
        try await connection.run("""
            INSERT INTO content_entries (id, kind, cms_id, published, data, updated_at_ms, cms_updated_at_ms)
            VALUES (\(entry.id), \(entry.kind.rawValue), \(entry.cmsId), \(entry.published), \(data), \(atMs), \(revised))
            ON CONFLICT (id) DO UPDATE SET published = excluded.published, data = excluded.data, updated_at_ms = excluded.updated_at_ms,
                cms_updated_at_ms = excluded.cms_updated_at_ms
            """)
        try await index(connection, entry)
        return true
    }

    func apply(_ change: ContentChange, eventId: String, event: String, at: Date) async throws -> ContentOutcome {
        let entryId: String
        switch change {
        case .upsert(let entry): entryId = entry.id
        case .delete(let kind, let cmsId, _): entryId = "\(kind.rawValue):\(cmsId)"
        }
        let atMs = StoredTime.ms(at)
        return try await database.transaction { connection in
            try await connection.lock(PostgresStorage.LockKey.content)
            guard try await connection.row("""
                INSERT INTO cms_events (event_id, event, entry_id, received_at_ms) VALUES (\(eventId), \(event), \(entryId), \(atMs))
                ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """) != nil else { return .duplicate }
            switch change {
            case .upsert(let entry):
                return try await Self.store(connection, entry, at: at) ? .applied : .stale
            case .delete(_, _, let revisedAt):
                // A deletion is final; its time (the later of the event's and the stored entry's)
                // keeps late events of the entry from bringing it back.
                let known = try await Self.revision(connection, id: entryId)
                if let time = [revisedAt.map(StoredTime.ms), known.stored, known.deleted].compactMap({ $0 }).max() {
                    try await connection.run("""
                        INSERT INTO content_deleted (id, cms_updated_at_ms) VALUES (\(entryId), \(time))
                        ON CONFLICT (id) DO UPDATE SET cms_updated_at_ms = excluded.cms_updated_at_ms
                        """)
                }
                try await connection.run("DELETE FROM content_entries WHERE id = \(entryId)")
                try await connection.run("DELETE FROM search_rows WHERE entry_id = \(entryId)")
                try await connection.run("DELETE FROM content_tags WHERE entry_id = \(entryId)")
                return .applied
            }
        }
    }

    func upsert(_ entries: [ContentEntry]) async throws -> Int {
        let now = Date()
        // One transaction: an import lands whole or not at all.
        return try await database.transaction { connection in
            try await connection.lock(PostgresStorage.LockKey.content)
            var older = 0
            for entry in entries where try await !Self.store(connection, entry, at: now) { older += 1 }
            return older
        }
    }

    func entry(id: String) async throws -> ContentEntry? {
        try await database.read { connection in
            try await connection.value("SELECT data FROM content_entries WHERE id = \(id)", as: String.self).map(Self.entry)
        }
    }

    private static func replacePack(_ connection: PostgresConnection, packId: String, version: String?, texts: [PackText]) async throws {
        try await connection.run("DELETE FROM search_rows WHERE pack_id = \(packId)")
        guard let version else { return }
        for text in texts {
            try await insertRow(connection, entryId: "pack:\(packId)@\(version):\(text.entity)", packId: packId, title: text.name,
                                body: text.description, tags: "", kind: "pack", language: text.language, ref: text.entityKind)
        }
    }

    func replacePackTexts(packId: String, version: String?, texts: [PackText]) async throws {
        try await database.transaction { connection in
            try await connection.lock(PostgresStorage.LockKey.content)
            try await Self.replacePack(connection, packId: packId, version: version, texts: texts)
        }
    }

    /// The `tsquery` text for words as typed: each word a prefix (the parts of a word with an
    /// apostrophe or a hyphen inside, a phrase whose last part is the prefix), all required.
    /// Every part is quoted, so nothing typed is read as an operator.
    static func queryText(_ text: String) -> String? {
        let words = SearchQuery.words(text)
        let terms = words.compactMap { word -> String? in
            let parts = word.split { !($0.isLetter || $0.isNumber) }.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }
            guard !parts.isEmpty else { return nil }
            return parts.joined(separator: " <-> ") + ":*"
        }
        return terms.isEmpty ? nil : terms.joined(separator: " & ")
    }

    /// `ts_headline`'s options: the whole text, the matches between the markers that
    /// ``SQLiteContentStore/html(_:)`` turns into `<mark>`.
    static let headlineOptions = "StartSel=\(SQLiteContentStore.markStart), StopSel=\(SQLiteContentStore.markEnd), HighlightAll=true"

    /// A body's marked text cut, as FTS5's snippet is, to at most `words` words around its first
    /// match, with `…` where text was left out.
    static func snippet(_ marked: String, words: Int = 16) -> String {
        let pieces = marked.split(whereSeparator: \.isWhitespace)
        guard pieces.count > words else { return marked }
        let first = pieces.firstIndex { $0.contains(SQLiteContentStore.markStart) } ?? 0
        let end = min(pieces.count, max(0, first - words / 4) + words)
        let start = max(0, end - words)
        return (start > 0 ? "…" : "") + pieces[start..<end].joined(separator: " ") + (end < pieces.count ? "…" : "")
    }

    func search(_ query: SearchQuery) async throws -> (hits: [SearchHit], more: Bool) {
        guard let match = Self.queryText(query.text) else { return ([], false) }
        var statement = PostgresStatement()
        let matchBind = statement.bind(match)
        var clauses = ["document @@ to_tsquery('rfl_search', \(matchBind))"]
        for tag in query.tags.prefix(8) {
            clauses.append("entry_id IN (SELECT entry_id FROM content_tags WHERE tag = lower(\(statement.bind(tag))))")
        }
        if let language = query.language {
            clauses.append("(lang = \(statement.bind(language)) OR lang ILIKE \(statement.bind(SQLiteContentStore.likeEscaped(language) + "-%")) ESCAPE '\\')")
        }
        if let kind = query.kind { clauses.append("kind = \(statement.bind(kind))") }
        // A word of one or two letters matches a large part of the index: those queries list
        // matches in index order, without ranking every match first.
        let order = SQLiteContentStore.isBroad(query.text) ? "id" : "score, entry_id, lang"
        // One more than the page, to tell whether more follow; a negative value is none.
        let limit = max(0, query.limit)
        let limitBind = statement.bind(limit == .max ? limit : limit + 1)
        let offsetBind = statement.bind(max(0, query.offset))
        let options = statement.bind(Self.headlineOptions)
        // The page first, then the marks of its rows only.
        statement.append("""
            SELECT entry_id, kind, lang, tags, score,
                   ts_headline('rfl_search', title, to_tsquery('rfl_search', \(matchBind)), \(options)) AS marked_title,
                   ts_headline('rfl_search', body, to_tsquery('rfl_search', \(matchBind)), \(options)) AS marked_body
            FROM (
                SELECT id, entry_id, kind, lang, tags, title, body,
                       (-ts_rank('{0.1, 0.2, 0.1, 1.0}', document, to_tsquery('rfl_search', \(matchBind))))::float8 AS score
                FROM search_rows WHERE \(clauses.joined(separator: " AND "))
                ORDER BY \(order) LIMIT \(limitBind) OFFSET \(offsetBind)
            ) page
            ORDER BY \(order)
            """)
        let sql = statement.query
        let rows = try await database.read { connection in
            try await connection.rows(sql).map { row in
                SearchHit(id: try row.get("entry_id"), kind: try row.get("kind"), language: try row.get("lang"),
                          titleHTML: SQLiteContentStore.html(try row.get("marked_title")),
                          snippetHTML: SQLiteContentStore.html(Self.snippet(try row.get("marked_body"))),
                          tags: try row.get("tags", as: String.self).split(separator: " ").map(String.init), score: try row.get("score"))
            }
        }
        return (Array(rows.prefix(limit)), rows.count > limit)
    }

    func rebuildIndex(packs: [(packId: String, version: String, texts: [PackText])]) async throws -> Int {
        try await database.transaction { connection in
            try await connection.lock(PostgresStorage.LockKey.content)
            try await connection.run("DELETE FROM search_rows")
            try await connection.run("DELETE FROM content_tags")
            // In pages by id, so that the entries are not all in memory at once.
            var after = ""
            while true {
                let page = try await connection.rows("""
                    SELECT id, data FROM content_entries WHERE published AND id > \(after) ORDER BY id LIMIT 500
                    """)
                for row in page {
                    try await Self.index(connection, try Self.entry(try row.get("data")))
                    after = try row.get("id")
                }
                if page.count < 500 { break }
            }
            for pack in packs { try await Self.replacePack(connection, packId: pack.packId, version: pack.version, texts: pack.texts) }
            return try await connection.value("SELECT COUNT(*) FROM search_rows", as: Int.self) ?? 0
        }
    }

    func counts() async throws -> (entries: Int, indexed: Int) {
        try await database.read { connection in
            (try await connection.value("SELECT COUNT(*) FROM content_entries", as: Int.self) ?? 0,
             try await connection.value("SELECT COUNT(*) FROM search_rows", as: Int.self) ?? 0)
        }
    }
}

private func mediaRecord(_ row: PostgresRandomAccessRow) throws -> MediaRecord {
    MediaRecord(id: try row.get("id"), ownerId: try row.get("owner_id"), sha256: try row.get("sha256"), size: try row.get("size"),
                contentType: try row.get("content_type"), createdAt: StoredTime.date(try row.get("created_at_ms", as: Int64.self)))
}

struct PostgresMediaStore: MediaStore {
    let database: PostgresPool

    func create(_ record: MediaRecord, quota: Int) async throws {
        let created = StoredTime.ms(record.createdAt)
        try await database.transaction { connection in
            // The owner's row is locked: two uploads of one owner at once, on any instances, are
            // counted one after the other against the quota.
            try await connection.run("SELECT id FROM users WHERE id = \(record.ownerId) FOR NO KEY UPDATE")
            let used = try await connection.value("SELECT COALESCE(SUM(size), 0)::bigint FROM media WHERE owner_id = \(record.ownerId)",
                                                  as: Int.self) ?? 0
            let (total, overflow) = used.addingReportingOverflow(record.size)
            guard !overflow, total <= quota else { throw StoreError.conflict(field: "quota") }
            try await connection.run("""
                INSERT INTO media (id, owner_id, sha256, size, content_type, created_at_ms)
                VALUES (\(record.id), \(record.ownerId), \(record.sha256), \(record.size), \(record.contentType), \(created))
                """)
        }
    }

    func media(id: String) async throws -> MediaRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM media WHERE id = \(id)").map(mediaRecord) }
    }

    func media(ownerId: String, after cursor: (createdAtMs: Int64, id: String)?, limit: Int) async throws -> [MediaRecord] {
        let limit = max(0, limit)
        return try await database.read { connection in
            guard let cursor else {
                return try await connection.rows("""
                    SELECT * FROM media WHERE owner_id = \(ownerId) ORDER BY created_at_ms DESC, id LIMIT \(limit)
                    """).map(mediaRecord)
            }
            let time = cursor.createdAtMs
            return try await connection.rows("""
                SELECT * FROM media WHERE owner_id = \(ownerId) AND (created_at_ms < \(time) OR (created_at_ms = \(time) AND id > \(cursor.id)))
                ORDER BY created_at_ms DESC, id LIMIT \(limit)
                """).map(mediaRecord)
        }
    }

    func usedBytes(ownerId: String) async throws -> Int {
        try await database.read { connection in
            try await connection.value("SELECT COALESCE(SUM(size), 0)::bigint FROM media WHERE owner_id = \(ownerId)", as: Int.self) ?? 0
        }
    }

    func isUsed(sha256: String) async throws -> Bool {
        try await database.read { connection in try await connection.row("SELECT 1 FROM media WHERE sha256 = \(sha256) LIMIT 1") != nil }
    }

    func contents() async throws -> [(sha256: String, contentType: String, size: Int)] {
        try await database.read { connection in
            try await connection.rows("""
                SELECT sha256, MIN(content_type) AS content_type, MIN(size) AS size FROM media GROUP BY sha256 ORDER BY sha256
                """).map { (try $0.get("sha256"), try $0.get("content_type"), try $0.get("size")) }
        }
    }

    func delete(id: String) async throws -> (record: MediaRecord, stillUsed: Bool)? {
        try await database.transaction { connection in
            guard let record = try await connection.row("DELETE FROM media WHERE id = \(id) RETURNING *").map(mediaRecord) else { return nil }
            let stillUsed = try await connection.row("SELECT 1 FROM media WHERE sha256 = \(record.sha256) LIMIT 1") != nil
            return (record, stillUsed)
        }
    }
}
