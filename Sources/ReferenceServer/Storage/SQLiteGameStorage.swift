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

struct SQLitePackStore: PackStore {
    let pool: DatabasePool

    static func pack(_ row: Row) throws -> PackRecord {
        PackRecord(id: row["id"], version: row["version"], sha256: row["sha256"], size: row["size"],
                   titles: try StoredJSON.value([String: String].self, from: row["titles"], table: "packs", column: "titles"), language: row["language"],
                   requires: try StoredJSON.value([String].self, from: row["requires"], table: "packs", column: "requires"), uploadedBy: row["uploaded_by"],
                   uploadedAt: SQLiteStorage.date(row["uploaded_at_ms"] as Int64), retiredAt: SQLiteStorage.date(row["retired_at_ms"] as Int64?),
                   bundled: row["bundled"])
    }

    static let columns = "id, version, sha256, size, titles, language, requires, uploaded_by, uploaded_at_ms, retired_at_ms, bundled"

    func publish(_ record: PackRecord, xml: [UInt8]) async throws {
        try await SQLiteStorage.mappingConflicts(field: "version") {
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO packs (id, version, xml, sha256, size, titles, language, requires, uploaded_by, uploaded_at_ms, bundled)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [record.id, record.version, Data(xml), record.sha256, record.size, try StoredJSON.text(record.titles),
                                     record.language, try StoredJSON.text(record.requires), record.uploadedBy,
                                     SQLiteStorage.ms(record.uploadedAt), record.bundled])
            }
        }
    }

    func pack(id: String, version: String) async throws -> PackRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM packs WHERE id = ? AND version = ?", arguments: [id, version]).map(Self.pack)
        }
    }

    func xml(id: String, version: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT xml FROM packs WHERE id = ? AND version = ?", arguments: [id, version]).map { Array($0) }
        }
    }

    func packs(id: String?, includeRetired: Bool) async throws -> [PackRecord] {
        try await pool.read { db in
            var clauses: [String] = []
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let id { clauses.append("id = ?"); arguments.append(id) }
            if !includeRetired { clauses.append("retired_at_ms IS NULL") }
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM packs \(filter) ORDER BY id, uploaded_at_ms, version",
                                    arguments: StatementArguments(arguments)).map(Self.pack)
        }
    }

    func retire(id: String, version: String, at: Date) async throws -> PackRecord {
        try await pool.write { db in
            try db.execute(sql: "UPDATE packs SET retired_at_ms = COALESCE(retired_at_ms, ?) WHERE id = ? AND version = ?",
                           arguments: [SQLiteStorage.ms(at), id, version])
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM packs WHERE id = ? AND version = ?", arguments: [id, version])
            else { throw StoreError.notFound }
            return try Self.pack(row)
        }
    }
}

struct SQLiteCampaignStore: CampaignStore {
    let pool: DatabasePool

    static func campaign(_ row: Row) throws -> CampaignRecord {
        CampaignRecord(id: row["id"], name: row["name"], ownerId: row["owner_id"],
                       packs: try StoredJSON.value([PinnedPack].self, from: row["packs"], table: "campaigns", column: "packs"),
                       createdAt: SQLiteStorage.date(row["created_at_ms"] as Int64), archivedAt: SQLiteStorage.date(row["archived_at_ms"] as Int64?))
    }

    func create(_ campaign: CampaignRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO campaigns (id, name, owner_id, packs, created_at_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: [campaign.id, campaign.name, campaign.ownerId, try StoredJSON.text(campaign.packs),
                                       SQLiteStorage.ms(campaign.createdAt)])
            try db.execute(sql: "INSERT INTO campaign_members (campaign_id, user_id, role, joined_at_ms) VALUES (?, ?, ?, ?)",
                           arguments: [campaign.id, campaign.ownerId, CampaignRole.gameMaster.rawValue, SQLiteStorage.ms(campaign.createdAt)])
        }
    }

    func campaign(id: String) async throws -> CampaignRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]).map(Self.campaign) }
    }

    func campaigns(memberId: String) async throws -> [(campaign: CampaignRecord, role: CampaignRole)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE m.user_id = ? ORDER BY c.created_at_ms DESC, c.id LIMIT 500
                """, arguments: [memberId]).map { row in
                (try Self.campaign(row), CampaignRole(rawValue: row["member_role"]) ?? .player)
            }
        }
    }

    func role(campaignId: String, userId: String) async throws -> CampaignRole? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT role FROM campaign_members WHERE campaign_id = ? AND user_id = ?", arguments: [campaignId, userId])
                .flatMap(CampaignRole.init(rawValue:))
        }
    }

    func membership(campaignId: String, userId: String) async throws -> (campaign: CampaignRecord, role: CampaignRole)? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE c.id = ? AND m.user_id = ?
                """), arguments: [campaignId, userId]).map { row in
                (try Self.campaign(row), CampaignRole(rawValue: row["member_role"]) ?? .player)
            }
        }
    }

    func members(campaignId: String) async throws -> [MemberRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.*, u.username FROM campaign_members m JOIN users u ON u.id = m.user_id
                WHERE m.campaign_id = ? ORDER BY m.joined_at_ms, u.username
                """, arguments: [campaignId]).map { row in
                MemberRecord(campaignId: row["campaign_id"], userId: row["user_id"], username: row["username"],
                             role: CampaignRole(rawValue: row["role"]) ?? .player, joinedAt: SQLiteStorage.date(row["joined_at_ms"] as Int64))
            }
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
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [campaignId]) else { throw StoreError.notFound }
            return (try Self.campaign(row), archivedNow ? try SQLitePlayStore.append(db, campaignId: campaignId, log) : nil)
        }
    }

    func createInvitation(_ invitation: InvitationRecord, codeHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO invitations (code_hash, id, campaign_id, created_by, created_at_ms, expires_at_ms, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [codeHash, invitation.id, invitation.campaignId, invitation.createdBy, SQLiteStorage.ms(invitation.createdAt),
                                 SQLiteStorage.ms(invitation.expiresAt), invitation.maxUses])
        }
    }

    func acceptInvitation(codeHash: String, userId: String, at: Date, log: NewCampaignEvent) async throws -> InvitationOutcome {
        try await pool.write { db in
            guard let invitation = try Row.fetchOne(db, sql: "SELECT * FROM invitations WHERE code_hash = ?", arguments: [codeHash]),
                  let row = try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [invitation["campaign_id"] as String])
            else { return .unknown }
            let campaign = try Self.campaign(row)
            if try String.fetchOne(db, sql: "SELECT role FROM campaign_members WHERE campaign_id = ? AND user_id = ?",
                                   arguments: [campaign.id, userId]) != nil {
                return .alreadyMember(campaign)
            }
            if campaign.archivedAt != nil { return .archived }
            let nowMs = SQLiteStorage.ms(at)
            guard (invitation["revoked_at_ms"] as Int64?) == nil, (invitation["expires_at_ms"] as Int64) > nowMs,
                  (invitation["uses"] as Int) < (invitation["max_uses"] as Int) else { return .ended }
            try db.execute(sql: "UPDATE invitations SET uses = uses + 1 WHERE code_hash = ?", arguments: [codeHash])
            try db.execute(sql: "INSERT INTO campaign_members (campaign_id, user_id, role, joined_at_ms) VALUES (?, ?, ?, ?)",
                           arguments: [campaign.id, userId, CampaignRole.player.rawValue, nowMs])
            return .joined(campaign, try SQLitePlayStore.append(db, campaignId: campaign.id, log))
        }
    }
}

struct SQLiteCharacterStore: CharacterStore {
    let pool: DatabasePool

    static func character(_ row: Row) throws -> CharacterRecord {
        CharacterRecord(id: row["id"], campaignId: row["campaign_id"], ownerId: row["owner_id"], name: row["name"],
                        stats: try StoredJSON.value([String: Int64].self, from: row["stats"], table: "characters", column: "stats"),
                        sources: try StoredJSON.value([AppliedSource].self, from: row["sources"], table: "characters", column: "sources"), version: row["version"],
                        createdAt: SQLiteStorage.date(row["created_at_ms"] as Int64), updatedAt: SQLiteStorage.date(row["updated_at_ms"] as Int64))
    }

    func create(_ character: CharacterRecord, log: NewCampaignEvent) async throws -> CampaignEvent {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO characters (id, campaign_id, owner_id, name, stats, sources, version, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [character.id, character.campaignId, character.ownerId, character.name, try StoredJSON.text(character.stats),
                                 try StoredJSON.text(character.sources), character.version, SQLiteStorage.ms(character.createdAt),
                                 SQLiteStorage.ms(character.updatedAt)])
            return try SQLitePlayStore.append(db, campaignId: character.campaignId, log)
        }
    }

    func character(id: String) async throws -> CharacterRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM characters WHERE id = ?", arguments: [id]).map(Self.character) }
    }

    func characters(campaignId: String) async throws -> [CharacterRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM characters WHERE campaign_id = ? ORDER BY created_at_ms, id LIMIT 1000",
                             arguments: [campaignId]).map(Self.character)
        }
    }

    func update(_ character: CharacterRecord, expectedVersion: Int, log: NewCampaignEvent) async throws -> (character: CharacterRecord, event: CampaignEvent) {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE characters SET name = ?, stats = ?, sources = ?, version = version + 1, updated_at_ms = ? WHERE id = ? AND version = ?
                """, arguments: [character.name, try StoredJSON.text(character.stats), try StoredJSON.text(character.sources),
                                 SQLiteStorage.ms(character.updatedAt), character.id, expectedVersion])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM characters WHERE id = ?", arguments: [character.id]) else {
                throw StoreError.notFound
            }
            let stored = try Self.character(row)
            guard db.changesCount == 1 else { throw StoreError.versionMismatch(current: stored.version) }
            return (stored, try SQLitePlayStore.append(db, campaignId: stored.campaignId, log))
        }
    }

    func delete(id: String, expectedVersion: Int, log: NewCampaignEvent) async throws -> CampaignEvent {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT version, campaign_id FROM characters WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound
            }
            let version: Int = row["version"]
            guard version == expectedVersion else { throw StoreError.versionMismatch(current: version) }
            try db.execute(sql: "DELETE FROM characters WHERE id = ?", arguments: [id])
            return try SQLitePlayStore.append(db, campaignId: row["campaign_id"], log)
        }
    }
}

struct SQLitePlayStore: PlayStore {
    let pool: DatabasePool

    static func session(_ row: Row) -> PlaySessionRecord {
        PlaySessionRecord(id: row["id"], campaignId: row["campaign_id"], number: row["number"], serverSeed: row["server_seed"],
                          commitment: row["commitment"], clientSeed: row["client_seed"], startedAt: SQLiteStorage.date(row["started_at_ms"] as Int64),
                          endedAt: SQLiteStorage.date(row["ended_at_ms"] as Int64?), rolls: row["rolls"])
    }

    static func event(_ row: Row) -> CampaignEvent {
        CampaignEvent(campaignId: row["campaign_id"], sequence: row["sequence"], at: SQLiteStorage.date(row["at_ms"] as Int64), kind: row["kind"],
                      actorId: row["actor_id"], characterId: row["character_id"], sessionId: row["session_id"], nonce: row["nonce"],
                      payload: row["payload"])
    }

    /// Appends within the caller's transaction.
    static func append(_ db: Database, campaignId: String, _ event: NewCampaignEvent, sessionId: String? = nil, nonce: Int? = nil,
                       idempotency: IdempotencyClaim? = nil) throws -> CampaignEvent {
        let newest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(sequence) FROM campaign_events WHERE campaign_id = ?"),
                                        arguments: [campaignId]) ?? 0
        let (sequence, overflow) = newest.addingReportingOverflow(1)
        guard !overflow else { throw StoreError.exhausted(field: "sequence") }
        let atMs = SQLiteStorage.ms(Date())
        try db.cachedStatement(sql: """
            INSERT INTO campaign_events (campaign_id, sequence, at_ms, kind, actor_id, character_id, session_id, nonce, payload, idempotency_key, request_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [campaignId, sequence, atMs, event.kind, event.actorId, event.characterId, sessionId, nonce, event.payload,
                                     idempotency?.key, idempotency?.requestHash])
        return CampaignEvent(campaignId: campaignId, sequence: sequence, at: SQLiteStorage.date(atMs), kind: event.kind, actorId: event.actorId,
                             characterId: event.characterId, sessionId: sessionId, nonce: nonce, payload: event.payload)
    }

    static func sessionPayload(_ session: PlaySessionRecord, reveal: Bool) throws -> String {
        var fields: [String: String] = ["session": session.id, "number": String(session.number), "commitment": session.commitment,
                                        "client_seed": session.clientSeed]
        if reveal { fields["server_seed"] = session.serverSeed }
        return try StoredJSON.text(fields)
    }

    func startSession(_ session: PlaySessionRecord, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await SQLiteStorage.mappingConflicts(field: "session") {
            try await pool.write { db in
                let (number, overflow) = (try Int.fetchOne(db, sql: "SELECT MAX(number) FROM play_sessions WHERE campaign_id = ?",
                                                           arguments: [session.campaignId]) ?? 0).addingReportingOverflow(1)
                guard !overflow else { throw StoreError.exhausted(field: "number") }
                var stored = session
                stored.number = number
                try db.execute(sql: """
                    INSERT INTO play_sessions (id, campaign_id, number, server_seed, commitment, client_seed, started_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [stored.id, stored.campaignId, number, stored.serverSeed, stored.commitment, stored.clientSeed,
                                     SQLiteStorage.ms(stored.startedAt)])
                let event = try Self.append(db, campaignId: stored.campaignId,
                                            NewCampaignEvent(kind: "session.started", actorId: actorId,
                                                             payload: try Self.sessionPayload(stored, reveal: false)), sessionId: stored.id)
                return (stored, event)
            }
        }
    }

    func openSession(campaignId: String) async throws -> PlaySessionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM play_sessions WHERE campaign_id = ? AND ended_at_ms IS NULL", arguments: [campaignId])
                .map(Self.session)
        }
    }

    func session(id: String) async throws -> PlaySessionRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM play_sessions WHERE id = ?", arguments: [id]).map(Self.session) }
    }

    func sessions(campaignId: String) async throws -> [PlaySessionRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM play_sessions WHERE campaign_id = ? ORDER BY number DESC LIMIT 500",
                             arguments: [campaignId]).map(Self.session)
        }
    }

    func setClientSeed(_ seed: String, sessionId: String, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM play_sessions WHERE id = ?", arguments: [sessionId]) else {
                throw StoreError.notFound
            }
            var session = Self.session(row)
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
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM play_sessions WHERE id = ?", arguments: [id]) else { throw StoreError.notFound }
            var session = Self.session(row)
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
            if let idempotency, let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM campaign_events WHERE campaign_id = ? AND actor_id = ? AND idempotency_key = ?
                """), arguments: [campaignId, actorId, idempotency.key]) {
                return (row["request_hash"] as String?) == idempotency.requestHash ? .replayed(Self.event(row)) : .keyReused
            }
            // Archived meanwhile (the handler checked before the transaction): nothing new.
            if try Int64.fetchOne(db.cachedStatement(sql: "SELECT archived_at_ms FROM campaigns WHERE id = ?"), arguments: [campaignId]) != nil {
                return .archived
            }
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM play_sessions WHERE campaign_id = ? AND ended_at_ms IS NULL"),
                                             arguments: [campaignId]) else { return .noSession }
            let session = Self.session(row)
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
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM campaign_events WHERE campaign_id = ?", arguments: [campaignId]) ?? 0
        }
    }

    func events(campaignId: String, _ filter: CampaignEventFilter, after cursor: Int64?, limit: Int) async throws -> [CampaignEvent] {
        try await pool.read { db in
            var clauses = ["campaign_id = ?", "sequence > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [campaignId, cursor ?? 0]
            if let kind = filter.kind { clauses.append("kind = ?"); arguments.append(kind) }
            if let character = filter.characterId { clauses.append("character_id = ?"); arguments.append(character) }
            if let session = filter.sessionId { clauses.append("session_id = ?"); arguments.append(session) }
            arguments.append(limit)
            return try Row.fetchAll(db, sql: """
                SELECT * FROM campaign_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT ?
                """, arguments: StatementArguments(arguments)).map(Self.event)
        }
    }
}
