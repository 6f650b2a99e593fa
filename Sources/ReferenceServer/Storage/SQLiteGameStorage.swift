import Foundation
import GRDB

/// The tables of packs, campaigns, characters and play.
enum SQLiteGameSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE packs (
                id TEXT NOT NULL,
                version TEXT NOT NULL,
                xml BLOB NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                titles TEXT NOT NULL,
                language TEXT NOT NULL,
                requires TEXT NOT NULL,
                uploaded_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                uploaded_at_ms INTEGER NOT NULL,
                retired_at_ms INTEGER,
                bundled INTEGER NOT NULL,
                PRIMARY KEY (id, version)
            );
            -- A published version never changes: only its retirement may be set.
            CREATE TRIGGER packs_immutable BEFORE UPDATE OF id, version, xml, sha256 ON packs
                BEGIN SELECT RAISE(ABORT, 'a published pack version is immutable'); END;
            CREATE TABLE campaigns (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                packs TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL,
                archived_at_ms INTEGER
            );
            CREATE TABLE campaign_members (
                campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                joined_at_ms INTEGER NOT NULL,
                PRIMARY KEY (campaign_id, user_id)
            );
            CREATE INDEX campaign_members_by_user ON campaign_members(user_id);
            CREATE TABLE invitations (
                code_hash TEXT PRIMARY KEY NOT NULL,
                id TEXT NOT NULL UNIQUE,
                campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                created_by TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                max_uses INTEGER NOT NULL,
                uses INTEGER NOT NULL DEFAULT 0,
                revoked_at_ms INTEGER
            );
            CREATE TABLE characters (
                id TEXT PRIMARY KEY NOT NULL,
                campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                stats TEXT NOT NULL,
                sources TEXT NOT NULL,
                version INTEGER NOT NULL,
                created_at_ms INTEGER NOT NULL,
                updated_at_ms INTEGER NOT NULL
            );
            CREATE INDEX characters_by_campaign ON characters(campaign_id, created_at_ms);
            CREATE TABLE play_sessions (
                id TEXT PRIMARY KEY NOT NULL,
                campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                number INTEGER NOT NULL,
                server_seed TEXT NOT NULL,
                commitment TEXT NOT NULL,
                client_seed TEXT NOT NULL,
                started_at_ms INTEGER NOT NULL,
                ended_at_ms INTEGER,
                rolls INTEGER NOT NULL DEFAULT 0,
                UNIQUE (campaign_id, number)
            );
            -- At most one open session a campaign.
            CREATE UNIQUE INDEX play_sessions_one_open ON play_sessions(campaign_id) WHERE ended_at_ms IS NULL;
            CREATE TABLE campaign_events (
                campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                at_ms INTEGER NOT NULL,
                kind TEXT NOT NULL,
                actor_id TEXT,
                character_id TEXT,
                session_id TEXT,
                nonce INTEGER,
                payload TEXT NOT NULL,
                idempotency_key TEXT,
                request_hash TEXT,
                PRIMARY KEY (campaign_id, sequence)
            );
            CREATE UNIQUE INDEX campaign_events_idempotency ON campaign_events(campaign_id, actor_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL;
            CREATE INDEX campaign_events_by_kind ON campaign_events(campaign_id, kind, sequence);
            CREATE INDEX campaign_events_by_character ON campaign_events(campaign_id, character_id, sequence);
            CREATE TRIGGER campaign_events_no_update BEFORE UPDATE ON campaign_events
                BEGIN SELECT RAISE(ABORT, 'the campaign log is append-only'); END;
            """)
    }
}

/// A row of `packs`, without its XML unless it is being inserted: reads leave the XML out
/// (`databaseSelection`), and `xml(id:version:)` reads it alone. Titles and requirements are
/// JSON.
private struct PackRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "packs"
    var id: String
    var version: String
    var xml: Data?
    var sha256: String
    var size: Int
    var titles: String
    var language: String
    var requires: String
    var uploadedBy: String?
    var uploadedAtMs: Int64
    var retiredAtMs: Int64?
    var bundled: Bool

    enum CodingKeys: String, CodingKey {
        case id, version, xml, sha256, size, titles, language, requires
        case uploadedBy = "uploaded_by"
        case uploadedAtMs = "uploaded_at_ms"
        case retiredAtMs = "retired_at_ms"
        case bundled
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let version = Column(CodingKeys.version)
        static let uploadedAtMs = Column(CodingKeys.uploadedAtMs)
        static let retiredAtMs = Column(CodingKeys.retiredAtMs)
    }

    /// Every column but the XML.
    static var databaseSelection: [any SQLSelectable] {
        [Columns.id, Columns.version, Column(CodingKeys.sha256), Column(CodingKeys.size), Column(CodingKeys.titles), Column(CodingKeys.language),
         Column(CodingKeys.requires), Column(CodingKeys.uploadedBy), Columns.uploadedAtMs, Columns.retiredAtMs, Column(CodingKeys.bundled)]
    }

    init(_ pack: PackRecord, xml: [UInt8]) throws {
        id = pack.id
        version = pack.version
        self.xml = Data(xml)
        sha256 = pack.sha256
        size = pack.size
        titles = try StoredJSON.text(pack.titles, table: Self.databaseTableName, column: CodingKeys.titles.rawValue)
        language = pack.language
        requires = try StoredJSON.text(pack.requires, table: Self.databaseTableName, column: CodingKeys.requires.rawValue)
        uploadedBy = pack.uploadedBy
        uploadedAtMs = SQLiteStorage.ms(pack.uploadedAt)
        retiredAtMs = pack.retiredAt.map(SQLiteStorage.ms)
        bundled = pack.bundled
    }

    func record() throws -> PackRecord {
        PackRecord(id: id, version: version, sha256: sha256, size: size,
                   titles: try StoredJSON.value([String: String].self, from: titles, table: Self.databaseTableName, column: CodingKeys.titles.rawValue),
                   language: language,
                   requires: try StoredJSON.value([String].self, from: requires, table: Self.databaseTableName, column: CodingKeys.requires.rawValue),
                   uploadedBy: uploadedBy, uploadedAt: SQLiteStorage.date(uploadedAtMs), retiredAt: SQLiteStorage.date(retiredAtMs), bundled: bundled)
    }
}

/// A row of `campaigns`; its pinned packs are JSON.
private struct CampaignRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "campaigns"
    var id: String
    var name: String
    var ownerId: String
    var packs: String
    var createdAtMs: Int64
    var archivedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id, name
        case ownerId = "owner_id"
        case packs
        case createdAtMs = "created_at_ms"
        case archivedAtMs = "archived_at_ms"
    }

    init(_ campaign: CampaignRecord) throws {
        id = campaign.id
        name = campaign.name
        ownerId = campaign.ownerId
        packs = try StoredJSON.text(campaign.packs, table: Self.databaseTableName, column: CodingKeys.packs.rawValue)
        createdAtMs = SQLiteStorage.ms(campaign.createdAt)
        archivedAtMs = campaign.archivedAt.map(SQLiteStorage.ms)
    }

    func record() throws -> CampaignRecord {
        CampaignRecord(id: id, name: name, ownerId: ownerId,
                       packs: try StoredJSON.value([PinnedPack].self, from: packs, table: Self.databaseTableName, column: CodingKeys.packs.rawValue),
                       createdAt: SQLiteStorage.date(createdAtMs), archivedAt: SQLiteStorage.date(archivedAtMs))
    }
}

/// A campaign read with the part of one member in it (`member_role`, a column of the query).
private struct CampaignMembershipRow: FetchableRecord {
    var campaign: CampaignRow
    var role: CampaignRole

    init(row: Row) throws {
        campaign = try CampaignRow(row: row)
        role = CampaignRole(rawValue: try row.decode(String.self, forColumn: "member_role")) ?? .player
    }
}

/// A row of `campaign_members`.
private struct MemberRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "campaign_members"
    var campaignId: String
    var userId: String
    var role: String
    var joinedAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case campaignId = "campaign_id"
        case userId = "user_id"
        case role
        case joinedAtMs = "joined_at_ms"
    }

    init(campaignId: String, userId: String, role: CampaignRole, joinedAtMs: Int64) {
        self.campaignId = campaignId
        self.userId = userId
        self.role = role.rawValue
        self.joinedAtMs = joinedAtMs
    }

    /// The member, with their username (from `users`); a part this server does not know reads as
    /// player.
    func record(username: String) -> MemberRecord {
        MemberRecord(campaignId: campaignId, userId: userId, username: username, role: CampaignRole(rawValue: role) ?? .player,
                     joinedAt: SQLiteStorage.date(joinedAtMs))
    }
}

/// A member read with their username (a column of the query, from `users`).
private struct NamedMemberRow: FetchableRecord {
    var member: MemberRecord

    init(row: Row) throws {
        member = try MemberRow(row: row).record(username: try row.decode(String.self, forColumn: "username"))
    }
}

/// A row of `invitations`: an invitation under the hash of its code.
private struct InvitationRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "invitations"
    var codeHash: String
    var id: String
    var campaignId: String
    var createdBy: String
    var createdAtMs: Int64
    var expiresAtMs: Int64
    var maxUses: Int
    var uses: Int
    var revokedAtMs: Int64?

    enum CodingKeys: String, CodingKey {
        case codeHash = "code_hash"
        case id
        case campaignId = "campaign_id"
        case createdBy = "created_by"
        case createdAtMs = "created_at_ms"
        case expiresAtMs = "expires_at_ms"
        case maxUses = "max_uses"
        case uses
        case revokedAtMs = "revoked_at_ms"
    }

    init(_ invitation: InvitationRecord, codeHash: String) {
        self.codeHash = codeHash
        id = invitation.id
        campaignId = invitation.campaignId
        createdBy = invitation.createdBy
        createdAtMs = SQLiteStorage.ms(invitation.createdAt)
        expiresAtMs = SQLiteStorage.ms(invitation.expiresAt)
        maxUses = invitation.maxUses
        uses = invitation.uses
        revokedAtMs = invitation.revokedAt.map(SQLiteStorage.ms)
    }

    var record: InvitationRecord {
        InvitationRecord(id: id, campaignId: campaignId, createdBy: createdBy, createdAt: SQLiteStorage.date(createdAtMs),
                         expiresAt: SQLiteStorage.date(expiresAtMs), maxUses: maxUses, uses: uses, revokedAt: SQLiteStorage.date(revokedAtMs))
    }
}

/// A row of `characters`; stats and sources are JSON.
private struct CharacterRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "characters"
    var id: String
    var campaignId: String
    var ownerId: String
    var name: String
    var stats: String
    var sources: String
    var version: Int
    var createdAtMs: Int64
    var updatedAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case campaignId = "campaign_id"
        case ownerId = "owner_id"
        case name, stats, sources, version
        case createdAtMs = "created_at_ms"
        case updatedAtMs = "updated_at_ms"
    }

    init(_ character: CharacterRecord) throws {
        id = character.id
        campaignId = character.campaignId
        ownerId = character.ownerId
        name = character.name
        stats = try StoredJSON.text(character.stats, table: Self.databaseTableName, column: CodingKeys.stats.rawValue)
        sources = try StoredJSON.text(character.sources, table: Self.databaseTableName, column: CodingKeys.sources.rawValue)
        version = character.version
        createdAtMs = SQLiteStorage.ms(character.createdAt)
        updatedAtMs = SQLiteStorage.ms(character.updatedAt)
    }

    func record() throws -> CharacterRecord {
        CharacterRecord(id: id, campaignId: campaignId, ownerId: ownerId, name: name,
                        stats: try StoredJSON.value([String: Int64].self, from: stats, table: Self.databaseTableName, column: CodingKeys.stats.rawValue),
                        sources: try StoredJSON.value([AppliedSource].self, from: sources, table: Self.databaseTableName,
                                                      column: CodingKeys.sources.rawValue),
                        version: version, createdAt: SQLiteStorage.date(createdAtMs), updatedAt: SQLiteStorage.date(updatedAtMs))
    }
}

/// A row of `play_sessions`.
private struct PlaySessionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "play_sessions"
    var id: String
    var campaignId: String
    var number: Int
    var serverSeed: String
    var commitment: String
    var clientSeed: String
    var startedAtMs: Int64
    var endedAtMs: Int64?
    var rolls: Int

    enum CodingKeys: String, CodingKey {
        case id
        case campaignId = "campaign_id"
        case number
        case serverSeed = "server_seed"
        case commitment
        case clientSeed = "client_seed"
        case startedAtMs = "started_at_ms"
        case endedAtMs = "ended_at_ms"
        case rolls
    }

    init(_ session: PlaySessionRecord) {
        id = session.id
        campaignId = session.campaignId
        number = session.number
        serverSeed = session.serverSeed
        commitment = session.commitment
        clientSeed = session.clientSeed
        startedAtMs = SQLiteStorage.ms(session.startedAt)
        endedAtMs = session.endedAt.map(SQLiteStorage.ms)
        rolls = session.rolls
    }

    var record: PlaySessionRecord {
        PlaySessionRecord(id: id, campaignId: campaignId, number: number, serverSeed: serverSeed, commitment: commitment, clientSeed: clientSeed,
                          startedAt: SQLiteStorage.date(startedAtMs), endedAt: SQLiteStorage.date(endedAtMs), rolls: rolls)
    }
}

/// A row of `campaign_events`, with the idempotency key and request hash of a roll asked with one.
private struct CampaignEventRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "campaign_events"
    var campaignId: String
    var sequence: Int64
    var atMs: Int64
    var kind: String
    var actorId: String?
    var characterId: String?
    var sessionId: String?
    var nonce: Int?
    var payload: String
    var idempotencyKey: String?
    var requestHash: String?

    enum CodingKeys: String, CodingKey {
        case campaignId = "campaign_id"
        case sequence
        case atMs = "at_ms"
        case kind
        case actorId = "actor_id"
        case characterId = "character_id"
        case sessionId = "session_id"
        case nonce, payload
        case idempotencyKey = "idempotency_key"
        case requestHash = "request_hash"
    }

    var record: CampaignEvent {
        CampaignEvent(campaignId: campaignId, sequence: sequence, at: SQLiteStorage.date(atMs), kind: kind, actorId: actorId, characterId: characterId,
                      sessionId: sessionId, nonce: nonce, payload: payload)
    }
}

struct SQLitePackStore: PackStore {
    let pool: DatabasePool

    func publish(_ record: PackRecord, xml: [UInt8]) async throws {
        let row = try PackRow(record, xml: xml)
        try await SQLiteStorage.mappingConflicts(field: "version") {
            try await pool.write { db in try row.insert(db) }
        }
    }

    func pack(id: String, version: String) async throws -> PackRecord? {
        try pool.readHere { db in try PackRow.fetchOne(db, key: [PackRow.Columns.id.name: id, PackRow.Columns.version.name: version])?.record() }
    }

    func xml(id: String, version: String) async throws -> [UInt8]? {
        try await pool.readAside { db in
            try Data.fetchOne(db, sql: "SELECT xml FROM packs WHERE id = ? AND version = ?", arguments: [id, version]).map { Array($0) }
        }
    }

    func packs(id: String?, includeRetired: Bool) async throws -> [PackRecord] {
        try pool.readHere { db in
            var request = PackRow.all()
            if let id { request = request.filter(PackRow.Columns.id == id) }
            if !includeRetired { request = request.filter(PackRow.Columns.retiredAtMs == nil) }
            return try request.order(PackRow.Columns.id, PackRow.Columns.uploadedAtMs, PackRow.Columns.version).fetchAll(db).map { try $0.record() }
        }
    }

    func retire(id: String, version: String, at: Date) async throws -> PackRecord {
        try await pool.write { db in
            try db.execute(sql: "UPDATE packs SET retired_at_ms = COALESCE(retired_at_ms, ?) WHERE id = ? AND version = ?",
                           arguments: [SQLiteStorage.ms(at), id, version])
            guard let row = try PackRow.fetchOne(db, key: [PackRow.Columns.id.name: id, PackRow.Columns.version.name: version]) else {
                throw StoreError.notFound
            }
            return try row.record()
        }
    }
}

struct SQLiteCampaignStore: CampaignStore {
    let pool: DatabasePool

    func create(_ campaign: CampaignRecord) async throws {
        let row = try CampaignRow(campaign)
        try await pool.write { db in
            try row.insert(db)
            try MemberRow(campaignId: campaign.id, userId: campaign.ownerId, role: .gameMaster, joinedAtMs: row.createdAtMs).insert(db)
        }
    }

    func campaign(id: String) async throws -> CampaignRecord? {
        try pool.readHere { db in try CampaignRow.fetchOne(db, key: id)?.record() }
    }

    func campaigns(memberId: String) async throws -> [(campaign: CampaignRecord, role: CampaignRole)] {
        try pool.readHere { db in
            try CampaignMembershipRow.fetchAll(db, sql: """
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE m.user_id = ? ORDER BY c.created_at_ms DESC, c.id LIMIT 500
                """, arguments: [memberId]).map { (try $0.campaign.record(), $0.role) }
        }
    }

    func role(campaignId: String, userId: String) async throws -> CampaignRole? {
        try pool.readHere { db in
            try String.fetchOne(db, sql: "SELECT role FROM campaign_members WHERE campaign_id = ? AND user_id = ?", arguments: [campaignId, userId])
                .flatMap(CampaignRole.init(rawValue:))
        }
    }

    func membership(campaignId: String, userId: String) async throws -> (campaign: CampaignRecord, role: CampaignRole)? {
        try pool.readHere { db in
            try CampaignMembershipRow.fetchOne(db.cachedStatement(sql: """
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE c.id = ? AND m.user_id = ?
                """), arguments: [campaignId, userId]).map { (try $0.campaign.record(), $0.role) }
        }
    }

    func members(campaignId: String) async throws -> [MemberRecord] {
        try pool.readHere { db in
            try NamedMemberRow.fetchAll(db, sql: """
                SELECT m.*, u.username FROM campaign_members m JOIN users u ON u.id = m.user_id
                WHERE m.campaign_id = ? ORDER BY m.joined_at_ms, u.username
                """, arguments: [campaignId]).map(\.member)
        }
    }

    func removeMember(campaignId: String, userId: String, revokingInvitations: Bool, log: NewCampaignEvent) async throws -> CampaignEvent {
        try await pool.write { db in
            guard let role = try String.fetchOne(db, sql: "SELECT role FROM campaign_members WHERE campaign_id = ? AND user_id = ?",
                                                 arguments: [campaignId, userId]) else { throw StoreError.notFound }
            if role == CampaignRole.gameMaster.rawValue {
                let others = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM campaign_members WHERE campaign_id = ? AND role = ? AND user_id != ?",
                                              arguments: [campaignId, role, userId]) ?? 0
                if others == 0 { throw StoreError.conflict(field: "role") }
            }
            try db.execute(sql: "DELETE FROM campaign_members WHERE campaign_id = ? AND user_id = ?", arguments: [campaignId, userId])
            if revokingInvitations {
                try db.execute(sql: "UPDATE invitations SET revoked_at_ms = ? WHERE campaign_id = ? AND revoked_at_ms IS NULL",
                               arguments: [SQLiteStorage.ms(Date()), campaignId])
            }
            return try SQLitePlayStore.append(db, campaignId: campaignId, log)
        }
    }

    func archive(campaignId: String, at: Date, log: NewCampaignEvent) async throws -> (campaign: CampaignRecord, event: CampaignEvent?) {
        try await pool.write { db in
            try db.execute(sql: "UPDATE campaigns SET archived_at_ms = ? WHERE id = ? AND archived_at_ms IS NULL",
                           arguments: [SQLiteStorage.ms(at), campaignId])
            let archivedNow = db.changesCount == 1
            guard let row = try CampaignRow.fetchOne(db, key: campaignId) else { throw StoreError.notFound }
            return (try row.record(), archivedNow ? try SQLitePlayStore.append(db, campaignId: campaignId, log) : nil)
        }
    }

    func createInvitation(_ invitation: InvitationRecord, codeHash: String) async throws {
        try await pool.write { db in try InvitationRow(invitation, codeHash: codeHash).insert(db) }
    }

    func acceptInvitation(codeHash: String, userId: String, at: Date, log: NewCampaignEvent) async throws -> InvitationOutcome {
        try await pool.write { db in
            guard let invitation = try InvitationRow.fetchOne(db, key: codeHash),
                  let row = try CampaignRow.fetchOne(db, key: invitation.campaignId)
            else { return .unknown }
            let campaign = try row.record()
            if try String.fetchOne(db, sql: "SELECT role FROM campaign_members WHERE campaign_id = ? AND user_id = ?",
                                   arguments: [campaign.id, userId]) != nil {
                return .alreadyMember(campaign)
            }
            if campaign.archivedAt != nil { return .archived }
            let nowMs = SQLiteStorage.ms(at)
            guard invitation.revokedAtMs == nil, invitation.expiresAtMs > nowMs, invitation.uses < invitation.maxUses else { return .ended }
            try db.execute(sql: "UPDATE invitations SET uses = uses + 1 WHERE code_hash = ?", arguments: [codeHash])
            try MemberRow(campaignId: campaign.id, userId: userId, role: .player, joinedAtMs: nowMs).insert(db)
            return .joined(campaign, try SQLitePlayStore.append(db, campaignId: campaign.id, log))
        }
    }
}

struct SQLiteCharacterStore: CharacterStore {
    let pool: DatabasePool

    func create(_ character: CharacterRecord, log: NewCampaignEvent) async throws -> CampaignEvent {
        let row = try CharacterRow(character)
        return try await pool.write { db in
            try row.insert(db)
            return try SQLitePlayStore.append(db, campaignId: character.campaignId, log)
        }
    }

    func character(id: String) async throws -> CharacterRecord? {
        try pool.readHere { db in try CharacterRow.fetchOne(db, key: id)?.record() }
    }

    func characters(campaignId: String) async throws -> [CharacterRecord] {
        try pool.readHere { db in
            try CharacterRow.fetchAll(db, sql: "SELECT * FROM characters WHERE campaign_id = ? ORDER BY created_at_ms, id LIMIT 1000",
                                      arguments: [campaignId]).map { try $0.record() }
        }
    }

    func update(_ character: CharacterRecord, expectedVersion: Int, log: NewCampaignEvent) async throws -> (character: CharacterRecord, event: CampaignEvent) {
        let changed = try CharacterRow(character)
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE characters SET name = ?, stats = ?, sources = ?, version = version + 1, updated_at_ms = ? WHERE id = ? AND version = ?
                """, arguments: [changed.name, changed.stats, changed.sources, changed.updatedAtMs, changed.id, expectedVersion])
            guard let row = try CharacterRow.fetchOne(db, key: character.id) else { throw StoreError.notFound }
            let stored = try row.record()
            guard db.changesCount == 1 else { throw StoreError.versionMismatch(current: stored.version) }
            return (stored, try SQLitePlayStore.append(db, campaignId: stored.campaignId, log))
        }
    }

    func delete(id: String, expectedVersion: Int, log: NewCampaignEvent) async throws -> CampaignEvent {
        try await pool.write { db in
            guard let row = try CharacterRow.fetchOne(db, key: id) else { throw StoreError.notFound }
            guard row.version == expectedVersion else { throw StoreError.versionMismatch(current: row.version) }
            try db.execute(sql: "DELETE FROM characters WHERE id = ?", arguments: [id])
            return try SQLitePlayStore.append(db, campaignId: row.campaignId, log)
        }
    }
}

struct SQLitePlayStore: PlayStore {
    let pool: DatabasePool

    /// Appends within the caller's transaction.
    static func append(_ db: Database, campaignId: String, _ event: NewCampaignEvent, sessionId: String? = nil, nonce: Int? = nil,
                       idempotency: IdempotencyClaim? = nil) throws -> CampaignEvent {
        let newest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(sequence) FROM campaign_events WHERE campaign_id = ?"),
                                        arguments: [campaignId]) ?? 0
        let (sequence, overflow) = newest.addingReportingOverflow(1)
        guard !overflow else { throw StoreError.exhausted(field: "sequence") }
        let row = CampaignEventRow(campaignId: campaignId, sequence: sequence, atMs: SQLiteStorage.ms(Date()), kind: event.kind, actorId: event.actorId,
                                   characterId: event.characterId, sessionId: sessionId, nonce: nonce, payload: event.payload,
                                   idempotencyKey: idempotency?.key, requestHash: idempotency?.requestHash)
        try row.insert(db)
        return row.record
    }

    static func sessionPayload(_ session: PlaySessionRecord, reveal: Bool) throws -> String {
        var fields: [String: String] = ["session": session.id, "number": String(session.number), "commitment": session.commitment,
                                        "client_seed": session.clientSeed]
        if reveal { fields["server_seed"] = session.serverSeed }
        return try StoredJSON.text(fields)
    }

    /// The open session of a campaign, read with a statement kept for the next roll.
    private static func openSession(_ db: Database, campaignId: String) throws -> PlaySessionRow? {
        try PlaySessionRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM play_sessions WHERE campaign_id = ? AND ended_at_ms IS NULL"),
                                    arguments: [campaignId])
    }

    func startSession(_ session: PlaySessionRecord, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await SQLiteStorage.mappingConflicts(field: "session") {
            try await pool.write { db in
                let (number, overflow) = (try Int.fetchOne(db, sql: "SELECT MAX(number) FROM play_sessions WHERE campaign_id = ?",
                                                           arguments: [session.campaignId]) ?? 0).addingReportingOverflow(1)
                guard !overflow else { throw StoreError.exhausted(field: "number") }
                var stored = session
                stored.number = number
                try PlaySessionRow(stored).insert(db)
                let event = try Self.append(db, campaignId: stored.campaignId,
                                            NewCampaignEvent(kind: "session.started", actorId: actorId,
                                                             payload: try Self.sessionPayload(stored, reveal: false)), sessionId: stored.id)
                return (stored, event)
            }
        }
    }

    func openSession(campaignId: String) async throws -> PlaySessionRecord? {
        try pool.readHere { db in try Self.openSession(db, campaignId: campaignId)?.record }
    }

    func session(id: String) async throws -> PlaySessionRecord? {
        try pool.readHere { db in try PlaySessionRow.fetchOne(db, key: id)?.record }
    }

    func sessions(campaignId: String) async throws -> [PlaySessionRecord] {
        try pool.readHere { db in
            try PlaySessionRow.fetchAll(db, sql: "SELECT * FROM play_sessions WHERE campaign_id = ? ORDER BY number DESC LIMIT 500",
                                        arguments: [campaignId]).map(\.record)
        }
    }

    func setClientSeed(_ seed: String, sessionId: String, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await pool.write { db in
            guard var session = try PlaySessionRow.fetchOne(db, key: sessionId)?.record else { throw StoreError.notFound }
            guard session.endedAt == nil else { throw StoreError.conflict(field: "session") }
            try db.execute(sql: "UPDATE play_sessions SET client_seed = ? WHERE id = ?", arguments: [seed, sessionId])
            session.clientSeed = seed
            let event = try Self.append(db, campaignId: session.campaignId,
                                        NewCampaignEvent(kind: "session.client_seed", actorId: actorId,
                                                         payload: try StoredJSON.text(["session": session.id, "client_seed": seed])),
                                        sessionId: session.id, nonce: session.rolls)
            return (session, event)
        }
    }

    func endSession(id: String, actorId: String, at: Date) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await pool.write { db in
            guard var session = try PlaySessionRow.fetchOne(db, key: id)?.record else { throw StoreError.notFound }
            guard session.endedAt == nil else { throw StoreError.conflict(field: "session") }
            try db.execute(sql: "UPDATE play_sessions SET ended_at_ms = ? WHERE id = ?", arguments: [SQLiteStorage.ms(at), id])
            session.endedAt = SQLiteStorage.date(SQLiteStorage.ms(at))
            let event = try Self.append(db, campaignId: session.campaignId,
                                        NewCampaignEvent(kind: "session.ended", actorId: actorId, payload: try Self.sessionPayload(session, reveal: true)),
                                        sessionId: session.id)
            return (session, event)
        }
    }

    func play(campaignId: String, actorId: String, idempotency: IdempotencyClaim?,
              make: @Sendable (PlaySessionRecord, Int) throws -> NewCampaignEvent) async throws -> PlayOutcome {
        try await pool.write { db in
            if let idempotency, let row = try CampaignEventRow.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM campaign_events WHERE campaign_id = ? AND actor_id = ? AND idempotency_key = ?
                """), arguments: [campaignId, actorId, idempotency.key]) {
                return row.requestHash == idempotency.requestHash ? .replayed(row.record) : .keyReused
            }
            // Archived meanwhile (the handler checked before the transaction): nothing new.
            if try Int64.fetchOne(db.cachedStatement(sql: "SELECT archived_at_ms FROM campaigns WHERE id = ?"), arguments: [campaignId]) != nil {
                return .archived
            }
            guard let session = try Self.openSession(db, campaignId: campaignId)?.record else { return .noSession }
            let nonce = session.rolls
            let entry = try make(session, nonce)
            try db.cachedStatement(sql: "UPDATE play_sessions SET rolls = rolls + 1 WHERE id = ?").execute(arguments: [session.id])
            return .recorded(try Self.append(db, campaignId: campaignId, entry, sessionId: session.id, nonce: nonce, idempotency: idempotency))
        }
    }

    func append(campaignId: String, _ event: NewCampaignEvent) async throws -> CampaignEvent {
        try await pool.write { db in try Self.append(db, campaignId: campaignId, event) }
    }

    func newestSequence(campaignId: String) async throws -> Int64 {
        try pool.readHere { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM campaign_events WHERE campaign_id = ?", arguments: [campaignId]) ?? 0
        }
    }

    func events(campaignId: String, _ filter: CampaignEventFilter, after cursor: Int64?, limit: Int) async throws -> [CampaignEvent] {
        try await pool.readAside { db in
            var clauses = ["campaign_id = ?", "sequence > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [campaignId, cursor ?? 0]
            if let kind = filter.kind { clauses.append("kind = ?"); arguments.append(kind) }
            if let character = filter.characterId { clauses.append("character_id = ?"); arguments.append(character) }
            if let session = filter.sessionId { clauses.append("session_id = ?"); arguments.append(session) }
            arguments.append(limit)
            return try CampaignEventRow.fetchAll(db, sql: """
                SELECT * FROM campaign_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT ?
                """, arguments: StatementArguments(arguments)).map(\.record)
        }
    }
}
