import Foundation
import GRDB
import Logging
import PostgresNIO
@testable import ReferenceServer
import Testing

/// The engines a store test runs on. PostgreSQL needs `RFL_TEST_DATABASE_URL` (a database the
/// test may create databases beside: `make postgres-test` starts a throwaway cluster and sets
/// it); without it each PostgreSQL case is skipped with that said, never passed.
enum StoreEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }

    static let urlVariable = "RFL_TEST_DATABASE_URL"
}

/// A new, empty database of one engine, its stores, a way to run SQL on it as a test that damages
/// it would, and its removal.
struct StoreUnderTest: Sendable {
    let engine: StoreEngine
    let storage: Storage
    let execute: @Sendable (String) async throws -> Void
    /// The database's address, for a second instance on it (PostgreSQL only).
    var postgresURL: String?
    private let remove: @Sendable () async -> Void

    static func open(_ engine: StoreEngine) async throws -> StoreUnderTest {
        switch engine {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-suite-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let (storage, pool) = try SQLiteStorage.open(path: folder + "/rfl.sqlite")
            return StoreUnderTest(engine: engine, storage: storage, execute: { sql in try await pool.write { db in try db.execute(sql: sql) } },
                                  remove: {
                                      try? pool.close()
                                      try? FileManager.default.removeItem(atPath: folder)
                                  })
        case .postgresql:
            let scratch = try await PostgresScratch.make()
            let (storage, database) = try await PostgresStorage.connect(url: scratch.url)
            return StoreUnderTest(engine: engine, storage: storage,
                                  execute: { sql in try await database.read { connection in try await connection.run(PostgresQuery(unsafeSQL: sql)) } },
                                  postgresURL: scratch.url,
                                  remove: {
                                      database.close()
                                      await scratch.drop()
                                  })
        }
    }

    /// Removes the database (each test calls it once it is done).
    func close() async { await remove() }

    /// The stores of another instance on the same database: with PostgreSQL a second client, as
    /// a second server has; SQLite has one instance, whose stores these are.
    func secondInstance() async throws -> Storage {
        guard let postgresURL else { return storage }
        return try await PostgresStorage.connect(url: postgresURL).storage
    }
}

/// A database of its own for one test, beside the one `RFL_TEST_DATABASE_URL` names, dropped at
/// the end.
struct PostgresScratch: Sendable {
    let url: String
    let name: String
    let server: String

    /// Skips the calling test case, saying why, when no server is given.
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment[StoreEngine.urlVariable], !url.isEmpty else {
            try Test.cancel("PostgreSQL skipped: \(StoreEngine.urlVariable) is not set (make postgres-test starts a throwaway cluster and sets it)")
        }
        return url
    }

    static func make() async throws -> PostgresScratch {
        let server = try serverURL()
        let name = "rfl_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(server) { connection in try await connection.run("CREATE DATABASE \(unescaped: name)") }
        var components = try #require(URLComponents(string: server))
        components.path = "/" + name
        return PostgresScratch(url: try #require(components.string), name: name, server: server)
    }

    func drop() async {
        let name = self.name
        try? await Self.admin(server) { connection in try await connection.run("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)") }
    }

    private static func admin(_ url: String, _ body: @Sendable (PostgresConnection) async throws -> Void) async throws {
        let database = PostgresPool(configuration: try PostgresStorage.configuration(url: url), logger: .init(label: "store-suite"))
        defer { database.close() }
        try await database.read { connection in try await body(connection) }
    }
}

/// The stores' behaviour, the same on every engine: records read back as stored, conflicts,
/// and the invariants that must hold under concurrent writers (gap-free logs, a valid audit
/// chain, nonces, idempotency, invitation uses, quotas, the last admin), and search.
@Suite struct StoreSuite {
    typealias Fixture = StoreRecordTests
    static let now = Fixture.now
    static let later = Fixture.later

    /// A user, a pack and a campaign, for the rows that refer to them.
    static func world(_ engine: StoreEngine) async throws -> StoreUnderTest {
        let store = try await StoreUnderTest.open(engine)
        let storage = store.storage
        try await storage.users.create(Fixture.user("u-1", "ana", roles: [.gameMaster]))
        try await storage.users.create(Fixture.user("u-2", "ben"))
        try await storage.packs.publish(Fixture.pack("1.0.0"), xml: Array("<p/>".utf8))
        try await storage.campaigns.create(Fixture.campaign())
        return store
    }

    /// The PostgreSQL server of the run answers and has what the stores need. Without one, this
    /// test says so where the console shows it: the PostgreSQL cases of every test here are then
    /// cancelled one by one, which the console does not list.
    @Test func thePostgreSQLServerOfTheRunAnswers() async throws {
        let scratch = try await PostgresScratch.make()
        defer { Task { await scratch.drop() } }
        let pool = PostgresPool(configuration: try PostgresStorage.configuration(url: scratch.url), logger: .init(label: "store-suite"))
        defer { pool.close() }
        let available = try await pool.read { connection in
            try await connection.value("SELECT COUNT(*) FROM pg_available_extensions WHERE name = 'unaccent'", as: Int.self)
        }
        #expect(available == 1, "the unaccent extension (Debian's postgresql-contrib) is missing")
    }

    // MARK: - Records and conflicts

    @Test(arguments: StoreEngine.allCases)
    func uniqueViolationsAreConflictsNamingTheField(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        // Usernames compare without case.
        await #expect(throws: StoreError.conflict(field: "username")) { try await storage.users.create(Fixture.user("u-3", "ANA")) }
        // The same id is a conflict on the username too.
        await #expect(throws: StoreError.conflict(field: "username")) { try await storage.users.create(Fixture.user("u-1", "carla")) }
        await #expect(throws: StoreError.conflict(field: "version")) {
            try await storage.packs.publish(Fixture.pack("1.0.0"), xml: Array("<q/>".utf8))
        }
        _ = try await storage.play.startSession(Fixture.playSession("s-1"), actorId: "u-1")
        await #expect(throws: StoreError.conflict(field: "session")) {
            try await storage.play.startSession(Fixture.playSession("s-2"), actorId: "u-1")
        }
        // Nothing of the refused writes was kept.
        #expect(try await storage.users.user(id: "u-3") == nil)
        #expect(try await storage.packs.xml(id: "tiny", version: "1.0.0") == Array("<p/>".utf8))
        #expect(try await storage.play.sessions(campaignId: "c-1").map(\.id) == ["s-1"])
        // Versions and last game masters.
        _ = try await storage.characters.create(Fixture.character(), log: NewCampaignEvent(kind: "character.created", actorId: "u-1", payload: "{}"))
        await #expect(throws: StoreError.versionMismatch(current: 1)) {
            try await storage.characters.update(Fixture.character(), expectedVersion: 7, log: NewCampaignEvent(kind: "x", actorId: "u-1", payload: "{}"))
        }
        await #expect(throws: StoreError.versionMismatch(current: 1)) {
            try await storage.characters.delete(id: "ch-1", expectedVersion: 2, log: NewCampaignEvent(kind: "x", actorId: "u-1", payload: "{}"))
        }
        await #expect(throws: StoreError.notFound) {
            try await storage.characters.delete(id: "ch-9", expectedVersion: 1, log: NewCampaignEvent(kind: "x", actorId: "u-1", payload: "{}"))
        }
        await #expect(throws: StoreError.conflict(field: "role")) {
            try await storage.campaigns.removeMember(campaignId: "c-1", userId: "u-1", revokingInvitations: false,
                                                     log: NewCampaignEvent(kind: "member.left", actorId: "u-1", payload: "{}"))
        }
        await #expect(throws: StoreError.notFound) { try await storage.packs.retire(id: "tiny", version: "9.9.9", at: Self.now) }
        await #expect(throws: StoreError.notFound) { try await storage.users.setPasswordHash("h", userId: "u-9") }
    }

    @Test(arguments: StoreEngine.allCases)
    func recordsReadBackAsStored(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage

        #expect(try await storage.users.user(id: "u-1") == Fixture.user("u-1", "ana", roles: [.gameMaster]))
        #expect(try await storage.users.user(username: "BEN") == Fixture.user("u-2", "ben"))
        #expect(try await storage.users.users(after: nil, limit: 10).map(\.id) == ["u-1", "u-2"])
        #expect(try await storage.users.users(after: "u-1", limit: 10).map(\.id) == ["u-2"])
        let failed = UserRecord(id: "u-4", username: "dana", email: nil, passwordHash: "h", roles: [.player, .admin], createdAt: Self.now,
                                failedLogins: 2, lastFailedLoginAt: Self.later)
        try await storage.users.create(failed)
        #expect(try await storage.users.user(id: "u-4") == failed)
        try await storage.users.recordFailedLogin(userId: "u-4", at: Self.now)
        #expect(try await storage.users.user(id: "u-4")?.failedLogins == 3)
        try await storage.users.clearFailedLogins(userId: "u-4")
        let cleared = try await storage.users.user(id: "u-4")
        #expect(cleared?.failedLogins == 0 && cleared?.lastFailedLoginAt == nil)
        #expect(try await storage.users.setRoles([.player, .contentDesigner, .player], userId: "u-2").roles == [.player, .contentDesigner])

        let session = SessionRecord(id: "se-1", userId: "u-1", createdAt: Self.now, lastUsedAt: Self.now, expiresAt: Self.later,
                                    userAgent: "test", address: "192.0.2.1")
        try await storage.sessions.create(session, refreshTokenHash: "token-1")
        #expect(try await storage.sessions.session(id: "se-1") == session)
        let active = try await storage.sessions.activeSession(id: "se-1", userId: "u-1", at: Self.now)
        #expect(active?.session == session && active?.user.username == "ana")
        #expect(try await storage.sessions.activeSession(id: "se-1", userId: "u-2", at: Self.now) == nil)
        // An end not after now (the session's absolute lifetime is over): ended, nothing changed.
        #expect(try await storage.sessions.refresh(tokenHash: "token-1", successorHash: "token-2", at: Self.now, expiresAt: { _ in Self.now })
                == .ended(session))
        #expect(try await storage.sessions.session(id: "se-1") == session)
        #expect(try await storage.sessions.refresh(tokenHash: "token-1", successorHash: "token-2", at: Self.now, expiresAt: { _ in Self.later })
                == .rotated(session))
        #expect(try await storage.sessions.refresh(tokenHash: "nothing", successorHash: "token-9", at: Self.now, expiresAt: { _ in Self.later }) == .unknown)
        guard case .reused(let reused) = try await storage.sessions.refresh(tokenHash: "token-1", successorHash: "token-3", at: Self.now,
                                                                              expiresAt: { _ in Self.later }) else {
            Issue.record("a used token again is a reuse")
            return
        }
        #expect(reused.revokeReason == "refresh-token-reuse")
        #expect(try await storage.sessions.session(id: "se-1") == reused)
        let second = SessionRecord(id: "se-2", userId: "u-1", createdAt: Self.later, lastUsedAt: Self.later, expiresAt: Self.later.addingTimeInterval(60),
                                   userAgent: nil, address: nil)
        try await storage.sessions.create(second, refreshTokenHash: "token-4")
        #expect(try await storage.sessions.activeSessions(userId: "u-1", at: Self.later) == [second])
        #expect(try await storage.sessions.revokeAll(userId: "u-1", except: nil, reason: "logout-all", at: Self.later) == 1)
        #expect(try await storage.sessions.revoke(sessionId: "se-2", reason: "again", at: Self.later) == false)

        let appended = try await storage.audit.append(NewAuditEvent(action: "user.created", actor: "u-1", target: "u-2", address: nil,
                                                                    requestId: "r-1", details: ["role": "player", "z": "/é\""]))
        #expect(try await storage.audit.events(AuditFilter(), after: nil, limit: 10) == [appended])
        #expect(try await storage.audit.events(AuditFilter(action: "other"), after: nil, limit: 10).isEmpty)
        #expect(try await storage.audit.events(AuditFilter(actor: "u-1"), after: nil, limit: 10) == [appended])
        #expect(try await storage.audit.verify().isIntact)

        #expect(try await storage.packs.pack(id: "tiny", version: "1.0.0") == Fixture.pack("1.0.0"))
        #expect(try await storage.packs.packs(id: nil, includeRetired: false) == [Fixture.pack("1.0.0")])
        var retired = Fixture.pack("1.0.0")
        retired.retiredAt = Self.later
        #expect(try await storage.packs.retire(id: "tiny", version: "1.0.0", at: Self.later) == retired)
        #expect(try await storage.packs.packs(id: "tiny", includeRetired: false).isEmpty)
        #expect(try await storage.packs.packs(id: "tiny", includeRetired: true) == [retired])

        #expect(try await storage.campaigns.campaign(id: "c-1") == Fixture.campaign())
        #expect(try await storage.campaigns.membership(campaignId: "c-1", userId: "u-1")?.role == .gameMaster)
        #expect(try await storage.campaigns.role(campaignId: "c-1", userId: "u-1") == .gameMaster)
        let members = try await storage.campaigns.members(campaignId: "c-1")
        #expect(members == [MemberRecord(campaignId: "c-1", userId: "u-1", username: "ana", role: .gameMaster, joinedAt: Self.now)])
        let invitation = InvitationRecord(id: "i-1", campaignId: "c-1", createdBy: "u-1", createdAt: Self.now, expiresAt: Self.later, maxUses: 1)
        try await storage.campaigns.createInvitation(invitation, codeHash: "code-hash")
        let joining = NewCampaignEvent(kind: "member.joined", actorId: "u-2", payload: "{\"user\":\"u-2\"}")
        guard case .joined(let joined, let event) = try await storage.campaigns.acceptInvitation(codeHash: "code-hash", userId: "u-2", at: Self.now,
                                                                                                log: joining) else {
            Issue.record("the invitation is accepted")
            return
        }
        #expect(joined == Fixture.campaign() && event.kind == "member.joined" && event.payload == joining.payload)
        #expect(try await storage.campaigns.campaigns(memberId: "u-2").map(\.role) == [.player])
        // Used up: the one use is counted.
        #expect(try await storage.campaigns.acceptInvitation(codeHash: "code-hash", userId: "u-4", at: Self.now, log: joining) == .ended)
        #expect(try await storage.campaigns.acceptInvitation(codeHash: "code-hash", userId: "u-2", at: Self.now, log: joining)
                == .alreadyMember(Fixture.campaign()))
        #expect(try await storage.campaigns.acceptInvitation(codeHash: "no-code", userId: "u-2", at: Self.now, log: joining) == .unknown)

        _ = try await storage.characters.create(Fixture.character(), log: NewCampaignEvent(kind: "character.created", actorId: "u-1", payload: "{}"))
        #expect(try await storage.characters.character(id: "ch-1") == Fixture.character())
        var changed = Fixture.character()
        changed.stats = ["core:speaking": Int64.max]
        changed.updatedAt = Self.later
        let updated = try await storage.characters.update(changed, expectedVersion: 1,
                                                          log: NewCampaignEvent(kind: "character.updated", actorId: "u-1", payload: "{}"))
        changed.version = 2
        #expect(updated.character == changed)
        #expect(try await storage.characters.characters(campaignId: "c-1") == [changed])

        let (started, startEvent) = try await storage.play.startSession(Fixture.playSession("s-1"), actorId: "u-1")
        #expect(started.number == 1)
        #expect(try await storage.play.session(id: "s-1") == started)
        #expect(try await storage.play.openSession(campaignId: "c-1") == started)
        let (seeded, seedEvent) = try await storage.play.setClientSeed("new seed", sessionId: "s-1", actorId: "u-1")
        #expect(seeded.clientSeed == "new seed" && seedEvent.kind == "session.client_seed" && seedEvent.nonce == 0)
        let claim = IdempotencyClaim(key: "k-1", requestHash: "h-1")
        let outcome = try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: claim) { _, nonce in
            NewCampaignEvent(kind: "roll", actorId: "u-1", characterId: "ch-1", payload: "{\"nonce\":\(nonce)}")
        }
        guard case .recorded(let roll) = outcome else {
            Issue.record("the roll is recorded")
            return
        }
        #expect(roll.nonce == 0 && roll.sessionId == "s-1" && roll.characterId == "ch-1")
        let replay = try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: claim) { _, _ in
            NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{}")
        }
        #expect(replay == .replayed(roll))
        let reusedKey = try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: IdempotencyClaim(key: "k-1", requestHash: "h-2")) { _, _ in
            NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{}")
        }
        #expect(reusedKey == .keyReused)
        let log = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 100)
        #expect(log.last == roll && log.contains(startEvent))
        #expect(log.map(\.sequence) == Array(1...Int64(log.count)))
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(kind: "roll"), after: nil, limit: 100) == [roll])
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(characterId: "ch-1"), after: nil, limit: 100) == [roll])
        #expect(try await storage.play.newestSequence(campaignId: "c-1") == roll.sequence)
        #expect(try await storage.play.newestSequence(campaignId: "c-9") == 0)
        let (ended, _) = try await storage.play.endSession(id: "s-1", actorId: "u-1", at: Self.later)
        #expect(ended.endedAt == Self.later && ended.rolls == 1)
        await #expect(throws: StoreError.conflict(field: "session")) { try await storage.play.endSession(id: "s-1", actorId: "u-1", at: Self.later) }
        #expect(try await storage.play.sessions(campaignId: "c-1") == [ended])
        #expect(try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: nil) { _, _ in
            NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{}")
        } == .noSession)
        let (_, archivedEvent) = try await storage.campaigns.archive(campaignId: "c-1", at: Self.later,
                                                                     log: NewCampaignEvent(kind: "campaign.archived", actorId: "u-1", payload: "{}"))
        #expect(archivedEvent?.kind == "campaign.archived")
        #expect(try await storage.campaigns.archive(campaignId: "c-1", at: Self.later,
                                                    log: NewCampaignEvent(kind: "campaign.archived", actorId: "u-1", payload: "{}")).event == nil)

        let media = MediaRecord(id: "m-1", ownerId: "u-1", sha256: String(repeating: "e", count: 64), size: 10, contentType: "image/png",
                                createdAt: Self.now)
        try await storage.media.create(media, quota: 100)
        #expect(try await storage.media.media(id: "m-1") == media)
        #expect(try await storage.media.media(ownerId: "u-1", after: nil, limit: 10) == [media])
        #expect(try await storage.media.usedBytes(ownerId: "u-1") == 10)
        #expect(try await storage.media.isUsed(sha256: media.sha256))
        #expect(try await storage.media.contents().map(\.contentType) == ["image/png"])
        let deleted = try await storage.media.delete(id: "m-1")
        #expect(deleted?.record == media && deleted?.stillUsed == false)
        #expect(try await storage.media.delete(id: "m-1") == nil)

        let entry = ContentEntry(kind: .vocabulary, cmsId: "12", language: "es", titles: ["es": "café", "en": "coffee"], bodies: ["en": "A drink."],
                                 tags: ["food"], published: true, revisedAt: Self.now)
        #expect(try await storage.content.apply(.upsert(entry), eventId: "e-1", event: "entry.publish", at: Self.now) == .applied)
        #expect(try await storage.content.entry(id: entry.id) == entry)
        #expect(try await storage.content.apply(.upsert(entry), eventId: "e-1", event: "entry.publish", at: Self.now) == .duplicate)
        #expect(try await storage.content.search(SearchQuery(text: "cafe", language: nil, kind: nil, tags: [], limit: 10, offset: 0)).hits
                .map(\.id) == [entry.id])
        #expect(try await storage.content.counts() == (1, 2))
    }

    @Test(arguments: StoreEngine.allCases)
    func timesBeyondMillisecondsAreStoredAtTheBounds(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        let far = UserRecord(id: "u-far", username: "far", email: nil, passwordHash: "h", roles: [], createdAt: Date(timeIntervalSince1970: 1e300),
                             lastFailedLoginAt: Date(timeIntervalSince1970: -1e300))
        try await store.storage.users.create(far)
        let read = try await store.storage.users.user(id: "u-far")
        #expect(read?.createdAt == (StoredTime.date(Int64.max) as Date))
        #expect(read?.lastFailedLoginAt == (StoredTime.date(Int64.min) as Date))
    }

    /// Cursors and filters: every page once, in order, and only what the filter names.
    @Test(arguments: StoreEngine.allCases)
    func pagesAndFiltersReadTheSame(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage

        for index in 3...7 { try await storage.users.create(Fixture.user("u-\(index)", "user\(index)")) }
        var users: [String] = []
        var cursor: String?
        repeat {
            let page = try await storage.users.users(after: cursor, limit: 3)
            users += page.map(\.id)
            cursor = page.count == 3 ? page.last?.id : nil
        } while cursor != nil
        #expect(users == ["u-1", "u-2", "u-3", "u-4", "u-5", "u-6", "u-7"])

        for index in 1...5 {
            try await storage.audit.append(NewAuditEvent(action: index % 2 == 0 ? "even" : "odd", actor: "u-\(index % 2)"))
        }
        let all = try await storage.audit.events(AuditFilter(), after: nil, limit: 100)
        #expect(try await storage.audit.events(AuditFilter(), after: 2, limit: 2).map(\.sequence) == [3, 4])
        #expect(try await storage.audit.events(AuditFilter(action: "even"), after: nil, limit: 100).map(\.sequence) == [2, 4])
        #expect(try await storage.audit.events(AuditFilter(actor: "u-1"), after: 1, limit: 100).map(\.sequence) == [3, 5])
        let first = try #require(all.first)
        #expect(try await storage.audit.events(AuditFilter(since: first.at), after: nil, limit: 100).count == 5)
        #expect(try await storage.audit.events(AuditFilter(until: first.at), after: nil, limit: 100).isEmpty)

        // Media: newest first, then by id, pages by the last one's time and id.
        for (index, id) in ["m-b", "m-a", "m-c"].enumerated() {
            try await storage.media.create(MediaRecord(id: id, ownerId: "u-1", sha256: "s\(index % 2)", size: 1, contentType: "image/png",
                                                       createdAt: index == 2 ? Self.later : Self.now), quota: 100)
        }
        let newest = try await storage.media.media(ownerId: "u-1", after: nil, limit: 2)
        #expect(newest.map(\.id) == ["m-c", "m-a"])
        let last = try #require(newest.last)
        #expect(try await storage.media.media(ownerId: "u-1", after: (StoredTime.ms(last.createdAt), last.id), limit: 2).map(\.id) == ["m-b"])
        #expect(try await storage.media.contents().map(\.sha256) == ["s0", "s1"])
        #expect(try await storage.media.delete(id: "m-b")?.stillUsed == true)

        // The campaign log: after a cursor, by kind, by session.
        let (session, _) = try await storage.play.startSession(Fixture.playSession("s-1"), actorId: "u-1")
        for _ in 0..<3 {
            _ = try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: nil) { _, nonce in
                NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{\"nonce\":\(nonce)}")
            }
        }
        _ = try await storage.play.append(campaignId: "c-1", NewCampaignEvent(kind: "note", actorId: "u-1", payload: "{}"))
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: 2, limit: 2).map(\.sequence) == [3, 4])
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(kind: "roll"), after: nil, limit: 100).compactMap(\.nonce)
                == [0, 1, 2])
        #expect(try await storage.play.events(campaignId: "c-1", CampaignEventFilter(sessionId: session.id), after: nil, limit: 100).count == 4)

        // A member removed with the campaign's invitations: an old code admits nobody.
        try await storage.campaigns.createInvitation(InvitationRecord(id: "i-1", campaignId: "c-1", createdBy: "u-1", createdAt: Self.now,
                                                                      expiresAt: Self.later, maxUses: 5), codeHash: "code")
        let joining = NewCampaignEvent(kind: "member.joined", actorId: "u-2", payload: "{}")
        guard case .joined = try await storage.campaigns.acceptInvitation(codeHash: "code", userId: "u-2", at: Self.now, log: joining) else {
            Issue.record("the invitation is accepted")
            return
        }
        let left = try await storage.campaigns.removeMember(campaignId: "c-1", userId: "u-2", revokingInvitations: true,
                                                            log: NewCampaignEvent(kind: "member.left", actorId: "u-1", payload: "{}"))
        #expect(left.kind == "member.left" && left.sequence == 7)
        #expect(try await storage.campaigns.acceptInvitation(codeHash: "code", userId: "u-2", at: Self.now, log: joining) == .ended)
        await #expect(throws: StoreError.notFound) {
            try await storage.campaigns.removeMember(campaignId: "c-1", userId: "u-2", revokingInvitations: false,
                                                     log: NewCampaignEvent(kind: "member.left", actorId: "u-1", payload: "{}"))
        }
        #expect(try await storage.campaigns.members(campaignId: "c-1").map(\.userId) == ["u-1"])
    }

    /// A log at the largest sequence (a damaged or hostile database) takes nothing more, and says
    /// so rather than trapping or wrapping around.
    @Test(arguments: StoreEngine.allCases)
    func aLogAtTheLargestSequenceIsExhausted(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        try await store.execute("INSERT INTO campaign_events (campaign_id, sequence, at_ms, kind, payload) VALUES ('c-1', 9223372036854775807, 0, 'note', '{}')")
        await #expect(throws: StoreError.exhausted(field: "sequence")) {
            try await store.storage.play.append(campaignId: "c-1", NewCampaignEvent(kind: "note", actorId: "u-1", payload: "{}"))
        }
        await #expect(throws: StoreError.exhausted(field: "sequence")) {
            try await store.storage.characters.create(Fixture.character(), log: NewCampaignEvent(kind: "character.created", actorId: "u-1", payload: "{}"))
        }
        // Nothing of the refused changes was kept.
        #expect(try await store.storage.characters.character(id: "ch-1") == nil)
        #expect(try await store.storage.play.newestSequence(campaignId: "c-1") == Int64.max)
    }

    // MARK: - Concurrent writers

    /// Many tasks appending at once, to the campaign log by every path that logs and to the audit
    /// log: every sequence once, in order, without gaps, and the audit chain intact.
    @Test(arguments: StoreEngine.allCases)
    func concurrentAppendsKeepTheLogsGapFreeAndTheChainValid(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        _ = try await storage.play.startSession(Fixture.playSession("s-1"), actorId: "u-1")
        let writers = 48
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    switch index % 4 {
                    case 0:
                        _ = try await storage.play.append(campaignId: "c-1", NewCampaignEvent(kind: "note", actorId: "u-1", payload: "{\"i\":\(index)}"))
                    case 1:
                        var character = Fixture.character()
                        character.id = "ch-\(index)"
                        _ = try await storage.characters.create(character, log: NewCampaignEvent(kind: "character.created", actorId: "u-1",
                                                                                                 payload: "{\"i\":\(index)}"))
                    case 2:
                        _ = try await storage.play.play(campaignId: "c-1", actorId: "u-1", idempotency: nil) { _, nonce in
                            NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{\"nonce\":\(nonce)}")
                        }
                    default:
                        try await storage.audit.append(NewAuditEvent(action: "test.append", actor: "u-\(index)", details: ["i": "\(index)"]))
                    }
                    try await storage.audit.append(NewAuditEvent(action: "test.append", actor: "u-\(index)"))
                }
            }
            try await group.waitForAll()
        }
        let log = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 1000)
        // The session's start, then one entry of each of the three logging paths' writers.
        #expect(log.count == 1 + writers * 3 / 4)
        #expect(log.map(\.sequence) == Array(1...Int64(log.count)))
        #expect(try await storage.play.newestSequence(campaignId: "c-1") == Int64(log.count))
        // Each roll took its own nonce, 0, 1, 2, … in the order of the log.
        let nonces = log.filter { $0.kind == "roll" }.compactMap(\.nonce)
        #expect(nonces == Array(0..<(writers / 4)))
        #expect(try await storage.play.session(id: "s-1")?.rolls == writers / 4)
        let audit = try await storage.audit.events(AuditFilter(), after: nil, limit: 1000)
        #expect(audit.map(\.sequence) == Array(1...Int64(writers + writers / 4)))
        let verification = try await storage.audit.verify()
        #expect(verification.isIntact, "\(verification.problems)")
        #expect(verification.events == audit.count && verification.head == audit.last?.hash)
    }

    /// The same idempotency key from many tasks at once: one roll, the others its replay; a key
    /// used with another request is refused.
    @Test(arguments: StoreEngine.allCases)
    func concurrentRetriesOfOneKeyRecordOneRoll(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        _ = try await storage.play.startSession(Fixture.playSession("s-1"), actorId: "u-1")
        let outcomes = try await withThrowingTaskGroup(of: PlayOutcome.self) { group in
            for index in 0..<16 {
                group.addTask {
                    try await storage.play.play(campaignId: "c-1", actorId: "u-1",
                                                idempotency: IdempotencyClaim(key: "same", requestHash: index % 8 == 7 ? "other" : "h")) { _, nonce in
                        NewCampaignEvent(kind: "roll", actorId: "u-1", payload: "{\"nonce\":\(nonce)}")
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let recorded = outcomes.compactMap { if case .recorded(let event) = $0 { event } else { nil } }
        let replayed = outcomes.compactMap { if case .replayed(let event) = $0 { event } else { nil } }
        let refused = outcomes.filter { $0 == .keyReused }.count
        let rolls = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(kind: "roll"), after: nil, limit: 100)
        #expect(rolls.count == 1 && rolls.first?.nonce == 0)
        let roll = try #require(rolls.first)
        // The first to arrive decides the key: its request is recorded, the same request replays it,
        // the other request is refused (unless it came first, then the reverse).
        #expect(recorded == [roll])
        #expect(replayed.allSatisfy { $0 == roll })
        #expect(replayed.count + refused == 15)
        #expect(try await storage.play.session(id: "s-1")?.rolls == 1)
    }

    /// An invitation with three uses, presented by ten players at once: three join.
    @Test(arguments: StoreEngine.allCases)
    func concurrentAcceptancesCountTheInvitationsUses(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        for index in 10..<20 { try await storage.users.create(Fixture.user("u-\(index)", "player\(index)")) }
        try await storage.campaigns.createInvitation(InvitationRecord(id: "i-1", campaignId: "c-1", createdBy: "u-1", createdAt: Self.now,
                                                                      expiresAt: Self.later, maxUses: 3), codeHash: "code")
        let outcomes = try await withThrowingTaskGroup(of: InvitationOutcome.self) { group in
            for index in 10..<20 {
                group.addTask {
                    try await storage.campaigns.acceptInvitation(codeHash: "code", userId: "u-\(index)", at: Self.now,
                                                                 log: NewCampaignEvent(kind: "member.joined", actorId: "u-\(index)", payload: "{}"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .joined = $0 { true } else { false } }.count == 3)
        #expect(outcomes.filter { $0 == .ended }.count == 7)
        #expect(try await storage.campaigns.members(campaignId: "c-1").count == 4)
        let log = try await storage.play.events(campaignId: "c-1", CampaignEventFilter(), after: nil, limit: 100)
        #expect(log.map(\.sequence) == [1, 2, 3])
    }

    /// Ten uploads of 30 bytes at once against a quota of 100: three are stored.
    @Test(arguments: StoreEngine.allCases)
    func concurrentUploadsStayWithinTheQuota(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        try await storage.media.create(MediaRecord(id: "m-\(index)", ownerId: "u-1", sha256: String(repeating: "a", count: 64), size: 30,
                                                                   contentType: "image/png", createdAt: Self.now), quota: 100)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 3)
        #expect(try await storage.media.usedBytes(ownerId: "u-1") == 90)
        await #expect(throws: StoreError.conflict(field: "quota")) {
            try await storage.media.create(MediaRecord(id: "m-x", ownerId: "u-1", sha256: "b", size: 11, contentType: "image/png", createdAt: Self.now),
                                           quota: 100)
        }
    }

    /// Two admins demoting each other at once: one stays.
    @Test(arguments: StoreEngine.allCases)
    func theLastAdminStaysUnderConcurrentDemotions(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        for index in 1...4 { try await storage.users.create(Fixture.user("a-\(index)", "admin\(index)", roles: [.admin])) }
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 1...4 {
                group.addTask {
                    do {
                        _ = try await storage.users.setRoles([.player], userId: "a-\(index)")
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 3)
        let admins = try await storage.users.users(after: nil, limit: 10).filter { $0.roles.contains(.admin) }
        #expect(admins.count == 1)
        let last = try #require(admins.first)
        await #expect(throws: StoreError.conflict(field: "roles")) { try await storage.users.delete(userId: last.id) }
    }

    /// One refresh token presented by several clients at once: one rotates it, the others find it
    /// used and end the session.
    @Test(arguments: StoreEngine.allCases)
    func aRefreshTokenRotatesOnceUnderConcurrentUse(_ engine: StoreEngine) async throws {
        let store = try await Self.world(engine)
        defer { Task { await store.close() } }
        let storage = store.storage
        try await storage.sessions.create(SessionRecord(id: "se-1", userId: "u-1", createdAt: Self.now, lastUsedAt: Self.now, expiresAt: Self.later,
                                                        userAgent: nil, address: nil), refreshTokenHash: "t-0")
        let outcomes = try await withThrowingTaskGroup(of: RefreshOutcome.self) { group in
            for index in 1...6 {
                group.addTask {
                    try await storage.sessions.refresh(tokenHash: "t-0", successorHash: "t-\(index)", at: Self.now, expiresAt: { _ in Self.later })
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .rotated = $0 { true } else { false } }.count == 1)
        #expect(outcomes.filter { if case .reused = $0 { true } else { false } }.count == 5)
        #expect(try await storage.sessions.session(id: "se-1")?.revokeReason == "refresh-token-reuse")
    }

    /// Holders of one key on two instances at once: one at a time, each entering after the
    /// previous one left.
    @Test(arguments: StoreEngine.allCases)
    func keyedLocksExcludeAcrossInstances(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        let first = store.storage
        let second = try await store.secondInstance()
        actor Trace {
            var events: [String] = []
            func add(_ event: String) { events.append(event) }
        }
        let trace = Trace()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                let locks = index % 2 == 0 ? first.locks : second.locks
                group.addTask {
                    try await locks.withLock("media:shared") {
                        await trace.add("in")
                        // Work that lets the others run meanwhile.
                        for _ in 0..<3 {
                            _ = try await first.users.user(id: "nobody")
                            await Task.yield()
                        }
                        await trace.add("out")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await trace.events == Array(repeating: ["in", "out"], count: 12).flatMap { $0 })
        // Another key is free while one is held.
        try await first.locks.withLock("media:shared") {
            try await second.locks.withLock("pack-index:core") { await trace.add("other key") }
        }
        #expect(await trace.events.last == "other key")
        if engine == .postgresql { try await second.close() }
    }

    // MARK: - The audit chain

    @Test(arguments: StoreEngine.allCases)
    func anAlteredAuditEventBreaksTheChain(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        for index in 1...3 { try await store.storage.audit.append(NewAuditEvent(action: "a", details: ["i": "\(index)"])) }
        #expect(try await store.storage.audit.verify().isIntact)
        // Append-only, until the guard is removed by hand.
        await #expect(throws: (any Error).self) { try await store.execute("UPDATE audit_events SET action = 'b' WHERE sequence = 2") }
        await #expect(throws: (any Error).self) { try await store.execute("DELETE FROM audit_events WHERE sequence = 3") }
        try await store.execute(engine == .sqlite ? "DROP TRIGGER audit_events_no_update" : "DROP TRIGGER audit_events_no_update ON audit_events")
        try await store.execute("UPDATE audit_events SET action = 'b' WHERE sequence = 2")
        let verification = try await store.storage.audit.verify()
        #expect(verification.problems == ["event 2: its content does not match its hash (altered)"])
        try await store.execute("UPDATE audit_events SET details = 'oops' WHERE sequence = 3")
        #expect(try await store.storage.audit.verify().problems.contains("event 3: its details are not a JSON object of strings"))
        let error = await #expect(throws: StoredValueError.self) { try await store.storage.audit.events(AuditFilter(), after: nil, limit: 10) }
        #expect(error?.table == "audit_events" && error?.column == "details")
    }

    // MARK: - Search

    static func vocabulary(_ id: Int, term: String, translation: String, tags: [String], published: Bool = true, revisedAt: Date? = nil) -> ContentEntry {
        ContentEntry(kind: .vocabulary, cmsId: "\(id)", language: "es", titles: ["es": term, "en": translation], tags: tags, published: published,
                     revisedAt: revisedAt)
    }

    @Test(arguments: StoreEngine.allCases)
    func searchFindsFiltersRanksPagesAndEscapes(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        let content = store.storage.content
        func ids(_ text: String, language: String? = nil, kind: String? = nil, tags: [String] = [], limit: Int = 100, offset: Int = 0) async throws -> [String] {
            try await content.search(SearchQuery(text: text, language: language, kind: kind, tags: tags, limit: limit, offset: offset)).hits.map(\.id)
        }
        var entries = (0..<25).map { Self.vocabulary($0, term: "mercado \($0)", translation: "market \($0)", tags: [$0 % 2 == 0 ? "even" : "odd", "Market"]) }
        entries.append(ContentEntry(kind: .lore, cmsId: "night-1", language: "en", titles: ["en": "The night market", "es": "El mercado nocturno"],
                                    bodies: ["en": "Lanterns <b>glow</b> & merchants call out.", "es": "Las linternas brillan."], tags: ["market"]))
        entries.append(ContentEntry(kind: .lesson, cmsId: "4", language: "en", titles: ["en": "Haggling"],
                                    bodies: ["en": "Start low at the market, then meet halfway."]))
        entries.append(ContentEntry(kind: .lesson, cmsId: "5", language: "en", titles: ["en": "Draft lesson about markets"], published: false))
        entries.append(ContentEntry(kind: .vocabulary, cmsId: "700", language: "fr", titles: ["fr": "Café crème", "en": "coffee"],
                                    bodies: ["fr": "Un café crème, s'il vous plaît. " + String(repeating: "Encore des mots sans rapport ici. ", count: 6)
                                             + "Le serveur apporte l'addition."], tags: ["food"]))
        #expect(try await content.upsert(entries) == 0)
        #expect(try await content.counts().entries == 29)

        // Accents and case do not matter; every word is a prefix; every word is required.
        #expect(try await ids("cafe") == ["vocabulary:700"])
        #expect(try await ids("CAFÉ") == ["vocabulary:700"])
        #expect(try await ids("caf cre") == ["vocabulary:700"])
        #expect(try await ids("s'il") == ["vocabulary:700"])
        #expect(try await ids("cafe nothing") == [])
        // Nothing typed is an operator.
        #expect(try await ids("cafe & | ! ( ) : * '") == ["vocabulary:700"])
        #expect(try await ids("?! ,,") == [])
        // Filters: language (a language also finds its regional variants), kind, tags (without case).
        #expect(try await ids("market", kind: "lore") == ["lore:night-1"])
        #expect(try await ids("merca", language: "es", kind: "lore") == ["lore:night-1"])
        #expect(try await ids("market", kind: "lesson") == ["lesson:4"])
        let odd = try await ids("market", tags: ["odd", "MARKET"])
        #expect(odd.count == 12 && odd.allSatisfy { $0.hasPrefix("vocabulary:") }, "\(odd)")
        #expect(try await ids("market", tags: ["odd", "nothing-like-it"]) == [])
        // Drafts are not found.
        #expect(try await ids("draft") == [])
        // Titles weigh most: the lore whose title is "the night market" ranks above the lesson that
        // mentions it; scores are in order, best (lowest) first.
        let ranked = try await content.search(SearchQuery(text: "market", language: "en", kind: nil, tags: [], limit: 100, offset: 0)).hits
        let rankedIds = ranked.map(\.id)
        #expect(rankedIds.firstIndex(of: "lore:night-1")! < rankedIds.firstIndex(of: "lesson:4")!)
        #expect(ranked.map(\.score) == ranked.map(\.score).sorted())
        // Pages: every result once, and whether more follow.
        var seen: [String] = []
        var offset = 0
        while true {
            let page = try await content.search(SearchQuery(text: "mercado", language: nil, kind: "vocabulary", tags: [], limit: 7, offset: offset))
            seen += page.hits.map(\.id)
            offset += 7
            if !page.more { break }
        }
        #expect(seen.count == 25 && Set(seen).count == 25, "\(seen)")
        #expect(try await content.search(SearchQuery(text: "mercado", language: nil, kind: nil, tags: [], limit: 0, offset: 0)).more)
        #expect(try await content.search(SearchQuery(text: "mercado", language: nil, kind: nil, tags: [], limit: Int.max, offset: 10_000)).hits.isEmpty)
        // Titles and snippets are HTML: the text escaped, the matches marked; a long body is cut
        // around its match.
        let lore = try await content.search(SearchQuery(text: "glow", language: nil, kind: "lore", tags: [], limit: 10, offset: 0)).hits
        #expect(lore.first?.snippetHTML == "Lanterns &lt;b&gt;<mark>glow</mark>&lt;/b&gt; &amp; merchants call out.")
        #expect(lore.first?.titleHTML == "The night market")
        #expect(try await content.search(SearchQuery(text: "night", language: nil, kind: nil, tags: [], limit: 10, offset: 0)).hits.first?.titleHTML
                == "The <mark>night</mark> market")
        let cafe = try #require(try await content.search(SearchQuery(text: "addition", language: "fr", kind: nil, tags: [], limit: 10, offset: 0)).hits.first)
        #expect(cafe.snippetHTML.hasPrefix("…") && cafe.snippetHTML.contains("<mark>addition</mark>"), "\(cafe.snippetHTML)")
        #expect(cafe.snippetHTML.split(separator: " ").count <= 16)
        #expect(cafe.titleHTML == "Café crème" && cafe.tags == ["food"] && cafe.language == "fr" && cafe.kind == "vocabulary")
        #expect(try await content.search(SearchQuery(text: "cafe", language: nil, kind: nil, tags: [], limit: 10, offset: 0)).hits.first?.titleHTML
                == "<mark>Café</mark> crème")

        // Pack texts are found, in their language, and replaced whole.
        try await content.replacePackTexts(packId: "core", version: "1.0.0", texts: [
            PackText(entity: "core:speaking", entityKind: "stat", language: "es", name: "Expresión oral", description: "Hablar con claridad."),
            PackText(entity: "core:speaking", entityKind: "stat", language: "en", name: "Speaking", description: "Talking clearly."),
        ])
        #expect(try await ids("expres oral", language: "es", kind: "pack") == ["pack:core@1.0.0:core:speaking"])
        try await content.replacePackTexts(packId: "core", version: "1.1.0", texts: [
            PackText(entity: "core:speaking", entityKind: "stat", language: "en", name: "Speaking", description: "Talking clearly."),
        ])
        #expect(try await ids("speaking", kind: "pack") == ["pack:core@1.1.0:core:speaking"])
        #expect(try await ids("expres", kind: "pack") == [])
        try await content.replacePackTexts(packId: "core", version: nil, texts: [])
        #expect(try await ids("speaking", kind: "pack") == [])

        // Rebuilt from the stored entries and the given packs, the index finds the same.
        let rows = try await content.rebuildIndex(packs: [(packId: "core", version: "1.0.0", texts: [
            PackText(entity: "core:speaking", entityKind: "stat", language: "en", name: "Speaking", description: "Talking clearly."),
        ])])
        #expect(try await content.counts() == (29, rows))
        #expect(try await ids("cafe") == ["vocabulary:700"])
        #expect(try await ids("speaking") == ["pack:core@1.0.0:core:speaking"])
        #expect(try await ids("market", tags: ["odd"]).count == 12)
    }

    /// CMS events: applied once, older ones left, deletions final.
    @Test(arguments: StoreEngine.allCases)
    func contentEventsApplyOnceAndInOrder(_ engine: StoreEngine) async throws {
        let store = try await StoreUnderTest.open(engine)
        defer { Task { await store.close() } }
        let content = store.storage.content
        func found(_ text: String) async throws -> Bool {
            try await !content.search(SearchQuery(text: text, language: nil, kind: nil, tags: [], limit: 10, offset: 0)).hits.isEmpty
        }
        let newer = Self.vocabulary(7, term: "té", translation: "tea", tags: [], revisedAt: Self.later)
        let older = Self.vocabulary(7, term: "café", translation: "coffee", tags: [], revisedAt: Self.now)
        #expect(try await content.apply(.upsert(newer), eventId: "e-2", event: "entry.update", at: Self.later) == .applied)
        #expect(try await content.apply(.upsert(older), eventId: "e-1", event: "entry.create", at: Self.later) == .stale)
        #expect(try await content.apply(.upsert(older), eventId: "e-1", event: "entry.create", at: Self.later) == .duplicate)
        #expect(try await content.entry(id: "vocabulary:7") == newer)
        #expect(try await found("tea"))
        #expect(try await !found("coffee"))
        var draft = newer
        draft.published = false
        draft.revisedAt = Self.later.addingTimeInterval(1)
        #expect(try await content.apply(.upsert(draft), eventId: "e-3", event: "entry.unpublish", at: Self.later) == .applied)
        #expect(try await !found("tea"))
        #expect(try await content.apply(.delete(kind: .vocabulary, cmsId: "7", revisedAt: nil), eventId: "e-4", event: "entry.delete", at: Self.later)
                == .applied)
        #expect(try await content.entry(id: "vocabulary:7") == nil)
        // A late event of the deleted entry does not bring it back; a newer one does.
        #expect(try await content.apply(.upsert(newer), eventId: "e-5", event: "entry.update", at: Self.later) == .stale)
        var revived = newer
        revived.revisedAt = Self.later.addingTimeInterval(60)
        #expect(try await content.apply(.upsert(revived), eventId: "e-6", event: "entry.create", at: Self.later) == .applied)
        #expect(try await found("tea"))
        #expect(try await content.counts() == (1, 2))
    }
}

/// A PostgreSQL start: the address checked, the migrations applied once by instances starting
/// together, a database newer than the server refused, and a server that does not answer told
/// rather than waited for.
@Suite struct PostgresStartTests {
    typealias Opened = (storage: Storage, database: PostgresPool)

    @Test func instancesStartingTogetherApplyTheMigrationsOnce() async throws {
        let scratch = try await PostgresScratch.make()
        defer { Task { await scratch.drop() } }
        let opened = try await withThrowingTaskGroup(of: Opened.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStorage.connect(url: scratch.url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { for (_, database) in opened { database.close() } }
        let versions = try await opened[0].1.read { connection in
            try await connection.rows("SELECT version FROM rfl_schema_migrations ORDER BY version").map { try $0.get("version", as: Int.self) }
        }
        #expect(versions == Array(1...PostgresMigrations.known))
        // Every instance works on the one schema.
        try await opened[1].0.users.create(StoreRecordTests.user("u-1", "ana"))
        #expect(try await opened[3].0.users.user(username: "ANA")?.id == "u-1")
        // Opening again applies nothing.
        let again = try await PostgresStorage.connect(url: scratch.url)
        again.database.close()
        let count = try await opened[0].1.read { connection in try await connection.value("SELECT COUNT(*) FROM rfl_schema_migrations", as: Int.self) }
        #expect(count == PostgresMigrations.known)
    }

    @Test func aSchemaNewerThanTheServerIsRefused() async throws {
        let scratch = try await PostgresScratch.make()
        defer { Task { await scratch.drop() } }
        let (_, database) = try await PostgresStorage.connect(url: scratch.url)
        let newer = PostgresMigrations.known + 1
        try await database.read { connection in
            try await connection.run("INSERT INTO rfl_schema_migrations (version, name, applied_at_ms) VALUES (\(newer), 'from-the-future', 0)")
        }
        database.close()
        await #expect(throws: PostgresMigrations.SchemaTooNew(found: newer, known: PostgresMigrations.known)) {
            _ = try await PostgresStorage.connect(url: scratch.url)
        }
        // Through the server's start: a configuration error naming the key, so rfl-server exits 1.
        var configuration = ServerConfiguration()
        configuration.databaseURL = scratch.url
        let error = await #expect(throws: ConfigurationError.self) { _ = try await StorageEngine.open(configuration, logger: .init(label: "test")) }
        #expect(error?.description.hasPrefix("RFL_DATABASE_URL: the PostgreSQL database's schema is at version \(newer)") == true)
    }

    /// A server that does not answer stops the start with a reason, rather than a start that
    /// waits for ever (needs no PostgreSQL: nothing listens on port 1).
    @Test func aServerThatDoesNotAnswerIsRefused() async throws {
        await #expect(throws: PostgresStorage.Unreachable(host: "127.0.0.1", port: 1, seconds: 1)) {
            _ = try await PostgresStorage.connect(url: "postgres://rfl:secret@127.0.0.1:1/rfl?sslmode=disable", startTimeout: .seconds(1))
        }
    }

    /// Readiness on a database that does not answer fails rather than waiting for the pool's
    /// reconnections (needs no PostgreSQL).
    @Test func readinessDoesNotWaitForADatabaseThatDoesNotAnswer() async throws {
        let configuration = try PostgresStorage.configuration(url: "postgres://rfl:secret@127.0.0.1:1/rfl?sslmode=disable")
        let storage = PostgresStorage.storage(PostgresPool(configuration: configuration, logger: .init(label: "test")),
                                              locks: PostgresKeyedLocks(pool: PostgresPool(configuration: configuration, logger: .init(label: "test"))))
        await #expect(throws: (any Error).self) { try await storage.ping() }
        try await storage.close()
        // The bound itself: the first of the answer and the limit.
        await #expect(throws: PostgresStorage.NoAnswer.self) {
            try await PostgresStorage.answer(within: .milliseconds(50)) { try await Task.sleep(for: .seconds(60)) }
        }
        #expect(try await PostgresStorage.answer(within: .seconds(60)) { 7 } == 7)
    }

    @Test func databaseAddressesAreCheckedWhenRead() throws {
        for bad in ["mysql://u:p@h/db", "postgres://h/db", "postgres://u:p@/db", "postgres://u:p@h", "postgres://u:p@h/db?sslmode=maybe",
                    "postgres://u:p@h/db?timeout=3"] {
            let error = #expect(throws: ConfigurationError.self) { try PostgresStorage.configuration(url: bad) }
            #expect(error?.description.hasPrefix("RFL_DATABASE_URL: ") == true && error?.description.contains(":p@") == false, "\(bad)")
        }
        let configuration = try PostgresStorage.configuration(url: "postgresql://rfl%40x:s%3Acret@db.example.org:6543/game?sslmode=disable")
        #expect(configuration.username == "rfl@x" && configuration.password == "s:cret" && configuration.database == "game")
        #expect(configuration.host == "db.example.org" && configuration.port == 6543)
        #expect(try PostgresStorage.configuration(url: "postgres://u@[::1]/db").host == "::1")
    }
}
