import Foundation
import GRDB
@testable import ReferenceServer
import Testing

/// The SQLite stores' rows as records: times and JSON columns as stored, JSON columns that do not
/// read named, and a database written by the earlier hand-written statements read the same. (The
/// fixtures here are StoreSuite's too.)
@Suite struct StoreRecordTests {
    /// Times on whole seconds, which milliseconds hold exactly.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let later = Date(timeIntervalSince1970: 1_800_000_600)

    struct Database {
        let storage: Storage
        let pool: DatabasePool
        let folder: String
    }

    static func database() throws -> Database {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-records-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (storage, pool) = try SQLiteStorage.open(path: folder + "/rfl.sqlite")
        return Database(storage: storage, pool: pool, folder: folder)
    }

    static func user(_ id: String, _ name: String, roles: [Role] = [.player]) -> UserRecord {
        UserRecord(id: id, username: name, email: "\(name)@example.org", passwordHash: "$2b$04$hash", roles: roles, createdAt: now)
    }

    static func pack(_ version: String) -> PackRecord {
        PackRecord(id: "tiny", version: version, sha256: String(repeating: "ab", count: 32), size: 3, titles: ["en": "Tiny", "fr": "Petit"],
                   language: "en", requires: ["core >=1.0.0 <2.0.0"], uploadedBy: "u-1", uploadedAt: now, bundled: false)
    }

    static func campaign() -> CampaignRecord {
        CampaignRecord(id: "c-1", name: "The night market", ownerId: "u-1", packs: [PinnedPack(id: "tiny", version: "1.0.0")], createdAt: now)
    }

    static func character() -> CharacterRecord {
        CharacterRecord(id: "ch-1", campaignId: "c-1", ownerId: "u-1", name: "Ana", stats: ["core:speaking": 3, "core:listening": -1],
                        sources: [AppliedSource(id: "core:dictionary", remaining: nil), AppliedSource(id: "core:tired", remaining: 2)],
                        version: 1, createdAt: now, updatedAt: now)
    }

    static func playSession(_ id: String) -> PlaySessionRecord {
        PlaySessionRecord(id: id, campaignId: "c-1", number: 0, serverSeed: String(repeating: "5", count: 64),
                          commitment: String(repeating: "c", count: 64), clientSeed: "table", startedAt: now)
    }

    /// A user, a pack and a campaign, for the rows that refer to them.
    static func world() async throws -> Database {
        let database = try database()
        try await database.storage.users.create(user("u-1", "ana", roles: [.gameMaster]))
        try await database.storage.users.create(user("u-2", "ben"))
        try await database.storage.packs.publish(pack("1.0.0"), xml: Array("<p/>".utf8))
        try await database.storage.campaigns.create(campaign())
        return database
    }

    // The stores' behaviour on both engines (records read back, conflicts, concurrency, search)
    // is StoreSuite's; what is here is SQLite's own: its rows and columns as stored.

    @Test func theMappingLeavesOtherErrorsAlone() async throws {
        await #expect(throws: StoreError.notFound) {
            try await SQLiteStorage.mappingConflicts(field: "x") { () async throws -> Int in throw StoreError.notFound }
        }
        let value = try await SQLiteStorage.mappingConflicts(field: "x") { 7 }
        #expect(value == 7)
    }

    @Test func timesBeyondMillisecondsAreStoredAtTheBounds() async throws {
        let database = try await Self.world()
        defer { try? FileManager.default.removeItem(atPath: database.folder) }
        let far = UserRecord(id: "u-far", username: "far", email: nil, passwordHash: "h", roles: [], createdAt: Date(timeIntervalSince1970: 1e300),
                             lastFailedLoginAt: Date(timeIntervalSince1970: -1e300))
        try await database.storage.users.create(far)
        let stored = try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT created_at_ms, last_failed_login_at_ms FROM users WHERE id = 'u-far'")
        }
        let created: Int64? = stored?["created_at_ms"]
        let failed: Int64? = stored?["last_failed_login_at_ms"]
        #expect(created == Int64.max && failed == Int64.min)
        let read = try await database.storage.users.user(id: "u-far")
        #expect(read?.createdAt == (SQLiteStorage.date(Int64.max) as Date))
        #expect(read?.lastFailedLoginAt == (SQLiteStorage.date(Int64.min) as Date))
    }

    // MARK: - JSON columns

    @Test func aJSONColumnThatDoesNotReadIsNamed() async throws {
        let database = try await Self.world()
        defer { try? FileManager.default.removeItem(atPath: database.folder) }
        let storage = database.storage
        _ = try await storage.characters.create(Self.character(), log: NewCampaignEvent(kind: "character.created", actorId: "u-1", payload: "{}"))
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE characters SET stats = '[1, 2' WHERE id = 'ch-1'")
            try db.execute(sql: "UPDATE campaigns SET packs = '{}' WHERE id = 'c-1'")
            try db.execute(sql: "UPDATE packs SET requires = 'null' WHERE id = 'tiny'")
            try db.execute(sql: "DROP TRIGGER audit_events_no_update")
        }
        do {
            let error = await #expect(throws: StoredValueError.self) { try await storage.characters.character(id: "ch-1") }
            #expect(error?.table == "characters" && error?.column == "stats")
        }
        do {
            let error = await #expect(throws: StoredValueError.self) { try await storage.campaigns.campaign(id: "c-1") }
            #expect(error?.table == "campaigns" && error?.column == "packs")
        }
        do {
            let error = await #expect(throws: StoredValueError.self) { try await storage.packs.pack(id: "tiny", version: "1.0.0") }
            #expect(error?.table == "packs" && error?.column == "requires")
        }
        try await storage.audit.append(NewAuditEvent(action: "x"))
        try await database.pool.write { db in try db.execute(sql: "UPDATE audit_events SET details = 'oops'") }
        do {
            let error = await #expect(throws: StoredValueError.self) { try await storage.audit.events(AuditFilter(), after: nil, limit: 10) }
            #expect(error?.table == "audit_events" && error?.column == "details")
            #expect(error.map { "\($0)".hasPrefix("audit_events.details") } == true)
        }
        // Checking the chain reports it among the chain's problems rather than stopping.
        #expect(try await storage.audit.verify().problems.contains("event 1: its details are not a JSON object of strings"))
    }

    @Test func aValueThatDoesNotEncodeIsAnErrorNotNull() throws {
        let error = #expect(throws: StoredValueError.self) { try StoredJSON.text(["x": Double.nan], table: "characters", column: "stats") }
        #expect(error?.table == "characters" && error?.column == "stats")
        #expect(throws: EncodingError.self) { try StoredJSON.text([Double.infinity]) }
        #expect(try StoredJSON.text(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }

    // MARK: - Many callers at once

    /// Reads run synchronously on the thread that asks and writes on GRDB's writer queue: with
    /// far more callers than the pool has readers (GRDB's default is five), mixing short reads,
    /// long reads on the thread pool and writes, every call finishes, and the log's sequence
    /// stays gap-free. (A reader held across a suspension while an executor waits for one would
    /// hang this test.)
    @Test func manyReadersAndWritersAtOnceAllFinish() async throws {
        let database = try await Self.world()
        let storage = database.storage
        let writers = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    switch index % 5 {
                    case 0:
                        #expect(try await storage.campaigns.membership(campaignId: "c-1", userId: "u-1")?.role == .gameMaster)
                    case 1:
                        #expect(try await storage.users.user(id: "u-2")?.username == "ben")
                    case 2:
                        _ = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 500)
                    case 3:
                        #expect(try await storage.campaigns.campaign(id: "c-1")?.name == "The night market")
                    default:
                        if index / 5 < writers {
                            _ = try await storage.play.append(campaignId: "c-1", NewCampaignEvent(kind: "note", actorId: "u-1", payload: "{}"))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 500)
        #expect(events.map(\.sequence) == Array(1...Int64(writers)))
    }

    // MARK: - A database written before

    /// Rows written by the statements the stores used before their rows were records, read
    /// through the stores.
    @Test func aDatabaseWrittenByTheEarlierStatementsReadsTheSame() async throws {
        let database = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: database.folder) }
        let ms: Int64 = 1_800_000_000_000
        try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO users (id, username, email, password_hash, roles, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: ["u-1", "ana", nil, "hash", "admin,game_master,unknown", ms])
            try db.execute(sql: "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at_ms = ? WHERE id = ?", arguments: [ms + 5, "u-1"])
            try db.execute(sql: """
                INSERT INTO sessions (id, user_id, created_at_ms, last_used_at_ms, expires_at_ms, user_agent, address)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["se-1", "u-1", ms, ms, ms + 1000, nil, "::1"])
            try db.execute(sql: "INSERT INTO refresh_tokens (token_hash, session_id, created_at_ms) VALUES (?, ?, ?)", arguments: ["t-1", "se-1", ms])
            try db.execute(sql: """
                INSERT INTO packs (id, version, xml, sha256, size, titles, language, requires, uploaded_by, uploaded_at_ms, bundled)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["tiny", "1.0.0", Data("<p/>".utf8), "ab", 4, #"{"en":"Tiny"}"#, "en", "[]", "u-1", ms, true])
            try db.execute(sql: "INSERT INTO campaigns (id, name, owner_id, packs, created_at_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: ["c-1", "Market", "u-1", #"[{"id":"tiny","version":"1.0.0"}]"#, ms])
            try db.execute(sql: "INSERT INTO campaign_members (campaign_id, user_id, role, joined_at_ms) VALUES (?, ?, ?, ?)",
                           arguments: ["c-1", "u-1", "game_master", ms])
            try db.execute(sql: """
                INSERT INTO invitations (code_hash, id, campaign_id, created_by, created_at_ms, expires_at_ms, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["code", "i-1", "c-1", "u-1", ms, ms + 1000, 3])
            try db.execute(sql: """
                INSERT INTO characters (id, campaign_id, owner_id, name, stats, sources, version, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["ch-1", "c-1", "u-1", "Ana", #"{"core:speaking":2}"#, #"[{"id":"core:tired","remaining":1}]"#, 3, ms, ms + 1])
            try db.execute(sql: """
                INSERT INTO play_sessions (id, campaign_id, number, server_seed, commitment, client_seed, started_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["s-1", "c-1", 1, "seed", "commit", "client", ms])
            try db.execute(sql: """
                INSERT INTO campaign_events (campaign_id, sequence, at_ms, kind, actor_id, character_id, session_id, nonce, payload, idempotency_key, request_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: ["c-1", 1, ms, "roll", "u-1", "ch-1", "s-1", 0, #"{"total":7}"#, "k", "h"])
            try db.execute(sql: "INSERT INTO media (id, owner_id, sha256, size, content_type, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: ["m-1", "u-1", "ee", 10, "image/png", ms])
        }
        let storage = database.storage
        let date = SQLiteStorage.date(ms)
        #expect(try await storage.users.user(id: "u-1") == UserRecord(id: "u-1", username: "ana", email: nil, passwordHash: "hash",
                                                                      roles: [.gameMaster, .admin], createdAt: date, failedLogins: 1,
                                                                      lastFailedLoginAt: (SQLiteStorage.date(ms + 5) as Date)))
        #expect(try await storage.sessions.session(id: "se-1") == SessionRecord(id: "se-1", userId: "u-1", createdAt: date, lastUsedAt: date,
                                                                                expiresAt: SQLiteStorage.date(ms + 1000), userAgent: nil, address: "::1"))
        #expect(try await storage.packs.pack(id: "tiny", version: "1.0.0")
                == PackRecord(id: "tiny", version: "1.0.0", sha256: "ab", size: 4, titles: ["en": "Tiny"], language: "en", requires: [],
                              uploadedBy: "u-1", uploadedAt: date, bundled: true))
        #expect(try await storage.packs.xml(id: "tiny", version: "1.0.0") == Array("<p/>".utf8))
        #expect(try await storage.campaigns.campaign(id: "c-1")
                == CampaignRecord(id: "c-1", name: "Market", ownerId: "u-1", packs: [PinnedPack(id: "tiny", version: "1.0.0")], createdAt: date))
        #expect(try await storage.campaigns.members(campaignId: "c-1")
                == [MemberRecord(campaignId: "c-1", userId: "u-1", username: "ana", role: .gameMaster, joinedAt: date)])
        #expect(try await storage.characters.character(id: "ch-1")
                == CharacterRecord(id: "ch-1", campaignId: "c-1", ownerId: "u-1", name: "Ana", stats: ["core:speaking": 2],
                                   sources: [AppliedSource(id: "core:tired", remaining: 1)], version: 3, createdAt: date,
                                   updatedAt: SQLiteStorage.date(ms + 1)))
        #expect(try await storage.play.openSession(campaignId: "c-1")
                == PlaySessionRecord(id: "s-1", campaignId: "c-1", number: 1, serverSeed: "seed", commitment: "commit", clientSeed: "client",
                                     startedAt: date))
        let roll = CampaignEvent(campaignId: "c-1", sequence: 1, at: date, kind: "roll", actorId: "u-1", characterId: "ch-1", sessionId: "s-1",
                                 nonce: 0, payload: #"{"total":7}"#)
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 10) == [roll])
        #expect(try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: IdempotencyClaim(key: "k", requestHash: "h")) { _, _ in
            NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{}")
        } == .replayed(roll))
        #expect(try await storage.media.media(id: "m-1")
                == MediaRecord(id: "m-1", ownerId: "u-1", sha256: "ee", size: 10, contentType: "image/png", createdAt: date))
        // The invitation counts its uses as before.
        let joining = NewCampaignEvent(kind: "member.joined", actorId: "u-1", payload: "{}")
        let campaign = try #require(try await storage.campaigns.campaign(id: "c-1"))
        #expect(try await storage.campaigns.acceptInvitation(codeHash: "code", userId: "u-1", at: date, log: joining) == .alreadyMember(campaign))
    }

    /// What the stores write now is what the earlier statements wrote: the same columns, the same
    /// text.
    @Test func storedTextIsAsBefore() async throws {
        let database = try await Self.world()
        defer { try? FileManager.default.removeItem(atPath: database.folder) }
        _ = try await database.storage.characters.create(Self.character(),
                                                         log: NewCampaignEvent(kind: "character.created", actorId: "u-1", payload: "{}"))
        let row = try await database.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT p.titles, p.requires, p.bundled, c.packs, ch.stats, ch.sources, ch.created_at_ms, u.roles, u.failed_logins
                FROM packs p, campaigns c, characters ch, users u WHERE u.id = 'u-1'
                """)
        }
        let stored = try #require(row)
        #expect(stored["titles"] as String == #"{"en":"Tiny","fr":"Petit"}"#)
        #expect(stored["requires"] as String == #"["core >=1.0.0 <2.0.0"]"#)
        #expect(stored["bundled"] as Int64 == 0)
        #expect(stored["packs"] as String == #"[{"id":"tiny","version":"1.0.0"}]"#)
        #expect(stored["stats"] as String == #"{"core:listening":-1,"core:speaking":3}"#)
        #expect(stored["sources"] as String == #"[{"id":"core:dictionary"},{"id":"core:tired","remaining":2}]"#)
        #expect(stored["created_at_ms"] as Int64 == Int64(1_800_000_000_000))
        #expect(stored["roles"] as String == "game_master")
        #expect(stored["failed_logins"] as Int64 == 0)
    }
}
