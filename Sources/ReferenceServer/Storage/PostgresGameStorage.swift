import Foundation
import NIOCore
import PostgresNIO

// Packs, campaigns, characters and play on PostgreSQL. Every change that logs appends to the
// campaign's log in its own transaction, after locking the campaign's row (`FOR NO KEY UPDATE`):
// appends to one campaign are serialized across instances, so sequences stay gap-free and in
// order, and the play nonce and idempotency check are decided under the same lock. The campaign
// row is always the first row such a transaction locks, so two of them never wait on each other
// in opposite orders. (`NO KEY UPDATE` rather than `UPDATE`: it does not wait for the key-share
// locks that inserting rows referring to the campaign takes.)

private func packRecord(_ row: PostgresRandomAccessRow) throws -> PackRecord {
    PackRecord(id: try row.get("id"), version: try row.get("version"), sha256: try row.get("sha256"), size: try row.get("size"),
               titles: try StoredJSON.value([String: String].self, from: try row.get("titles"), table: "packs", column: "titles"),
               language: try row.get("language"),
               requires: try StoredJSON.value([String].self, from: try row.get("requires"), table: "packs", column: "requires"),
               uploadedBy: try row.get("uploaded_by"), uploadedAt: StoredTime.date(try row.get("uploaded_at_ms", as: Int64.self)),
               retiredAt: StoredTime.date(try row.get("retired_at_ms", as: Int64?.self)), bundled: try row.get("bundled"))
}

/// Every column of `packs` but the XML.
private let packColumns = "id, version, sha256, size, titles, language, requires, uploaded_by, uploaded_at_ms, retired_at_ms, bundled"

struct PostgresPackStore: PackStore {
    let database: PostgresPool

    func publish(_ record: PackRecord, xml: [UInt8]) async throws {
        let titles = try StoredJSON.text(record.titles, table: "packs", column: "titles")
        let requires = try StoredJSON.text(record.requires, table: "packs", column: "requires")
        let bytes = ByteBuffer(bytes: xml)
        let uploaded = StoredTime.ms(record.uploadedAt)
        let retired = record.retiredAt.map(StoredTime.ms)
        try await PostgresStorage.mappingConflicts(field: "version") {
            try await database.read { connection in
                try await connection.run("""
                    INSERT INTO packs (id, version, xml, sha256, size, titles, language, requires, uploaded_by, uploaded_at_ms, retired_at_ms, bundled)
                    VALUES (\(record.id), \(record.version), \(bytes), \(record.sha256), \(record.size), \(titles), \(record.language), \(requires),
                            \(record.uploadedBy), \(uploaded), \(retired), \(record.bundled))
                    """)
            }
        }
    }

    func pack(id: String, version: String) async throws -> PackRecord? {
        try await database.read { connection in
            try await connection.row("SELECT \(unescaped: packColumns) FROM packs WHERE id = \(id) AND version = \(version)").map(packRecord)
        }
    }

    func xml(id: String, version: String) async throws -> [UInt8]? {
        try await database.read { connection in
            try await connection.value("SELECT xml FROM packs WHERE id = \(id) AND version = \(version)", as: ByteBuffer.self)
                .map { Array($0.readableBytesView) }
        }
    }

    func packs(id: String?, includeRetired: Bool) async throws -> [PackRecord] {
        var statement = PostgresStatement("SELECT \(packColumns) FROM packs WHERE TRUE")
        if let id { statement.append(" AND id = \(statement.bind(id))") }
        if !includeRetired { statement.append(" AND retired_at_ms IS NULL") }
        statement.append(" ORDER BY id, uploaded_at_ms, version")
        let query = statement.query
        return try await database.read { connection in try await connection.rows(query).map(packRecord) }
    }

    func retire(id: String, version: String, at: Date) async throws -> PackRecord {
        let atMs = StoredTime.ms(at)
        return try await database.read { connection in
            guard let row = try await connection.row("""
                UPDATE packs SET retired_at_ms = COALESCE(retired_at_ms, \(atMs)) WHERE id = \(id) AND version = \(version)
                RETURNING \(unescaped: packColumns)
                """) else { throw StoreError.notFound }
            return try packRecord(row)
        }
    }
}

private func campaignRecord(_ row: PostgresRandomAccessRow) throws -> CampaignRecord {
    CampaignRecord(id: try row.get("id"), name: try row.get("name"), ownerId: try row.get("owner_id"),
                   packs: try StoredJSON.value([PinnedPack].self, from: try row.get("packs"), table: "campaigns", column: "packs"),
                   createdAt: StoredTime.date(try row.get("created_at_ms", as: Int64.self)),
                   archivedAt: StoredTime.date(try row.get("archived_at_ms", as: Int64?.self)))
}

/// A campaign read with the part of one member in it (`member_role`); a part this server does
/// not know reads as player.
private func membershipRecord(_ row: PostgresRandomAccessRow) throws -> (campaign: CampaignRecord, role: CampaignRole) {
    (try campaignRecord(row), CampaignRole(rawValue: try row.get("member_role")) ?? .player)
}

private func invitationRecord(_ row: PostgresRandomAccessRow) throws -> InvitationRecord {
    InvitationRecord(id: try row.get("id"), campaignId: try row.get("campaign_id"), createdBy: try row.get("created_by"),
                     createdAt: StoredTime.date(try row.get("created_at_ms", as: Int64.self)),
                     expiresAt: StoredTime.date(try row.get("expires_at_ms", as: Int64.self)), maxUses: try row.get("max_uses"),
                     uses: try row.get("uses"), revokedAt: StoredTime.date(try row.get("revoked_at_ms", as: Int64?.self)))
}

struct PostgresCampaignStore: CampaignStore {
    let database: PostgresPool

    func create(_ campaign: CampaignRecord) async throws {
        let packs = try StoredJSON.text(campaign.packs, table: "campaigns", column: "packs")
        let created = StoredTime.ms(campaign.createdAt)
        let archived = campaign.archivedAt.map(StoredTime.ms)
        let gameMaster = CampaignRole.gameMaster.rawValue
        try await database.transaction { connection in
            try await connection.run("""
                INSERT INTO campaigns (id, name, owner_id, packs, created_at_ms, archived_at_ms)
                VALUES (\(campaign.id), \(campaign.name), \(campaign.ownerId), \(packs), \(created), \(archived))
                """)
            try await connection.run("""
                INSERT INTO campaign_members (campaign_id, user_id, role, joined_at_ms) VALUES (\(campaign.id), \(campaign.ownerId), \(gameMaster), \(created))
                """)
        }
    }

    func campaign(id: String) async throws -> CampaignRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM campaigns WHERE id = \(id)").map(campaignRecord) }
    }

    func campaigns(memberId: String) async throws -> [(campaign: CampaignRecord, role: CampaignRole)] {
        try await database.read { connection in
            try await connection.rows("""
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE m.user_id = \(memberId) ORDER BY c.created_at_ms DESC, c.id LIMIT 500
                """).map(membershipRecord)
        }
    }

    func role(campaignId: String, userId: String) async throws -> CampaignRole? {
        try await database.read { connection in
            try await connection.value("SELECT role FROM campaign_members WHERE campaign_id = \(campaignId) AND user_id = \(userId)", as: String.self)
                .flatMap(CampaignRole.init(rawValue:))
        }
    }

    func membership(campaignId: String, userId: String) async throws -> (campaign: CampaignRecord, role: CampaignRole)? {
        try await database.read { connection in
            try await connection.row("""
                SELECT c.*, m.role AS member_role FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id
                WHERE c.id = \(campaignId) AND m.user_id = \(userId)
                """).map(membershipRecord)
        }
    }

    func members(campaignId: String) async throws -> [MemberRecord] {
        try await database.read { connection in
            try await connection.rows("""
                SELECT m.*, u.username FROM campaign_members m JOIN users u ON u.id = m.user_id
                WHERE m.campaign_id = \(campaignId) ORDER BY m.joined_at_ms, lower(u.username), u.username
                """).map { row in
                MemberRecord(campaignId: try row.get("campaign_id"), userId: try row.get("user_id"), username: try row.get("username"),
                             role: CampaignRole(rawValue: try row.get("role")) ?? .player,
                             joinedAt: StoredTime.date(try row.get("joined_at_ms", as: Int64.self)))
            }
        }
    }

    func removeMember(campaignId: String, userId: String, revokingInvitations: Bool, log: NewCampaignEvent) async throws -> CampaignEvent {
        let now = StoredTime.ms(Date())
        return try await database.transaction { connection in
            guard try await PostgresPlayStore.lockCampaign(connection, campaignId) != nil else { throw StoreError.notFound }
            guard let role = try await connection.value("""
                SELECT role FROM campaign_members WHERE campaign_id = \(campaignId) AND user_id = \(userId)
                """, as: String.self) else { throw StoreError.notFound }
            if role == CampaignRole.gameMaster.rawValue {
                let others = try await connection.value("""
                    SELECT COUNT(*) FROM campaign_members WHERE campaign_id = \(campaignId) AND role = \(role) AND user_id != \(userId)
                    """, as: Int.self) ?? 0
                if others == 0 { throw StoreError.conflict(field: "role") }
            }
            try await connection.run("DELETE FROM campaign_members WHERE campaign_id = \(campaignId) AND user_id = \(userId)")
            if revokingInvitations {
                try await connection.run("UPDATE invitations SET revoked_at_ms = \(now) WHERE campaign_id = \(campaignId) AND revoked_at_ms IS NULL")
            }
            return try await PostgresPlayStore.append(connection, campaignId: campaignId, log)
        }
    }

    func archive(campaignId: String, at: Date, log: NewCampaignEvent) async throws -> (campaign: CampaignRecord, event: CampaignEvent?) {
        let atMs = StoredTime.ms(at)
        return try await database.transaction { connection in
            guard try await PostgresPlayStore.lockCampaign(connection, campaignId) != nil else { throw StoreError.notFound }
            let archivedNow = try await connection.row("""
                UPDATE campaigns SET archived_at_ms = \(atMs) WHERE id = \(campaignId) AND archived_at_ms IS NULL RETURNING id
                """) != nil
            guard let campaign = try await connection.row("SELECT * FROM campaigns WHERE id = \(campaignId)").map(campaignRecord) else {
                throw StoreError.notFound
            }
            return (campaign, archivedNow ? try await PostgresPlayStore.append(connection, campaignId: campaignId, log) : nil)
        }
    }

    func createInvitation(_ invitation: InvitationRecord, codeHash: String) async throws {
        let created = StoredTime.ms(invitation.createdAt)
        let expires = StoredTime.ms(invitation.expiresAt)
        let revoked = invitation.revokedAt.map(StoredTime.ms)
        try await database.read { connection in
            try await connection.run("""
                INSERT INTO invitations (code_hash, id, campaign_id, created_by, created_at_ms, expires_at_ms, max_uses, uses, revoked_at_ms)
                VALUES (\(codeHash), \(invitation.id), \(invitation.campaignId), \(invitation.createdBy), \(created), \(expires),
                        \(invitation.maxUses), \(invitation.uses), \(revoked))
                """)
        }
    }

    func acceptInvitation(codeHash: String, userId: String, at: Date, log: NewCampaignEvent) async throws -> InvitationOutcome {
        let nowMs = StoredTime.ms(at)
        return try await database.transaction { connection in
            guard let campaignId = try await connection.value("SELECT campaign_id FROM invitations WHERE code_hash = \(codeHash)", as: String.self),
                  try await PostgresPlayStore.lockCampaign(connection, campaignId) != nil,
                  // Its uses are counted under the campaign's lock: of several at once, no more
                  // than its uses join.
                  let invitation = try await connection.row("SELECT * FROM invitations WHERE code_hash = \(codeHash) FOR UPDATE")
                      .map(invitationRecord),
                  let campaign = try await connection.row("SELECT * FROM campaigns WHERE id = \(campaignId)").map(campaignRecord)
            else { return .unknown }
            if try await connection.row("SELECT role FROM campaign_members WHERE campaign_id = \(campaign.id) AND user_id = \(userId)") != nil {
                return .alreadyMember(campaign)
            }
            if campaign.archivedAt != nil { return .archived }
            guard invitation.revokedAt == nil, StoredTime.ms(invitation.expiresAt) > nowMs, invitation.uses < invitation.maxUses else { return .ended }
            try await connection.run("UPDATE invitations SET uses = uses + 1 WHERE code_hash = \(codeHash)")
            let player = CampaignRole.player.rawValue
            try await connection.run("""
                INSERT INTO campaign_members (campaign_id, user_id, role, joined_at_ms) VALUES (\(campaign.id), \(userId), \(player), \(nowMs))
                """)
            return .joined(campaign, try await PostgresPlayStore.append(connection, campaignId: campaign.id, log))
        }
    }
}

private func characterRecord(_ row: PostgresRandomAccessRow) throws -> CharacterRecord {
    CharacterRecord(id: try row.get("id"), campaignId: try row.get("campaign_id"), ownerId: try row.get("owner_id"), name: try row.get("name"),
                    stats: try StoredJSON.value([String: Int64].self, from: try row.get("stats"), table: "characters", column: "stats"),
                    sources: try StoredJSON.value([AppliedSource].self, from: try row.get("sources"), table: "characters", column: "sources"),
                    version: try row.get("version"), createdAt: StoredTime.date(try row.get("created_at_ms", as: Int64.self)),
                    updatedAt: StoredTime.date(try row.get("updated_at_ms", as: Int64.self)))
}

struct PostgresCharacterStore: CharacterStore {
    let database: PostgresPool

    func create(_ character: CharacterRecord, log: NewCampaignEvent) async throws -> CampaignEvent {
        let stats = try StoredJSON.text(character.stats, table: "characters", column: "stats")
        let sources = try StoredJSON.text(character.sources, table: "characters", column: "sources")
        let created = StoredTime.ms(character.createdAt)
        let updated = StoredTime.ms(character.updatedAt)
        return try await database.transaction { connection in
            try await PostgresPlayStore.lockCampaign(connection, character.campaignId)
            try await connection.run("""
                INSERT INTO characters (id, campaign_id, owner_id, name, stats, sources, version, created_at_ms, updated_at_ms)
                VALUES (\(character.id), \(character.campaignId), \(character.ownerId), \(character.name), \(stats), \(sources), \(character.version),
                        \(created), \(updated))
                """)
            return try await PostgresPlayStore.append(connection, campaignId: character.campaignId, log)
        }
    }

    func character(id: String) async throws -> CharacterRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM characters WHERE id = \(id)").map(characterRecord) }
    }

    func characters(campaignId: String) async throws -> [CharacterRecord] {
        try await database.read { connection in
            try await connection.rows("SELECT * FROM characters WHERE campaign_id = \(campaignId) ORDER BY created_at_ms, id LIMIT 1000")
                .map(characterRecord)
        }
    }

    /// The character's campaign, locked (the campaign first, as every appending transaction).
    @discardableResult
    private static func lockCampaign(of characterId: String, _ connection: PostgresConnection) async throws -> String {
        guard let campaignId = try await connection.value("SELECT campaign_id FROM characters WHERE id = \(characterId)", as: String.self) else {
            throw StoreError.notFound
        }
        try await PostgresPlayStore.lockCampaign(connection, campaignId)
        return campaignId
    }

    func update(_ character: CharacterRecord, expectedVersion: Int, log: NewCampaignEvent) async throws -> (character: CharacterRecord, event: CampaignEvent) {
        let stats = try StoredJSON.text(character.stats, table: "characters", column: "stats")
        let sources = try StoredJSON.text(character.sources, table: "characters", column: "sources")
        let updated = StoredTime.ms(character.updatedAt)
        return try await database.transaction { connection in
            try await Self.lockCampaign(of: character.id, connection)
            let changed = try await connection.row("""
                UPDATE characters SET name = \(character.name), stats = \(stats), sources = \(sources), version = version + 1, updated_at_ms = \(updated)
                WHERE id = \(character.id) AND version = \(expectedVersion) RETURNING id
                """) != nil
            guard let stored = try await connection.row("SELECT * FROM characters WHERE id = \(character.id)").map(characterRecord) else {
                throw StoreError.notFound
            }
            guard changed else { throw StoreError.versionMismatch(current: stored.version) }
            return (stored, try await PostgresPlayStore.append(connection, campaignId: stored.campaignId, log))
        }
    }

    func delete(id: String, expectedVersion: Int, log: NewCampaignEvent) async throws -> CampaignEvent {
        try await database.transaction { connection in
            let campaignId = try await Self.lockCampaign(of: id, connection)
            guard let version = try await connection.value("SELECT version FROM characters WHERE id = \(id)", as: Int.self) else {
                throw StoreError.notFound
            }
            guard version == expectedVersion else { throw StoreError.versionMismatch(current: version) }
            try await connection.run("DELETE FROM characters WHERE id = \(id)")
            return try await PostgresPlayStore.append(connection, campaignId: campaignId, log)
        }
    }
}

private func playSessionRecord(_ row: PostgresRandomAccessRow) throws -> PlaySessionRecord {
    PlaySessionRecord(id: try row.get("id"), campaignId: try row.get("campaign_id"), number: try row.get("number"),
                      serverSeed: try row.get("server_seed"), commitment: try row.get("commitment"), clientSeed: try row.get("client_seed"),
                      startedAt: StoredTime.date(try row.get("started_at_ms", as: Int64.self)),
                      endedAt: StoredTime.date(try row.get("ended_at_ms", as: Int64?.self)), rolls: try row.get("rolls"))
}

private func campaignEvent(_ row: PostgresRandomAccessRow) throws -> CampaignEvent {
    CampaignEvent(campaignId: try row.get("campaign_id"), sequence: try row.get("sequence"), at: StoredTime.date(try row.get("at_ms", as: Int64.self)),
                  kind: try row.get("kind"), actorId: try row.get("actor_id"), characterId: try row.get("character_id"),
                  sessionId: try row.get("session_id"), nonce: try row.get("nonce"), payload: try row.get("payload"))
}

struct PostgresPlayStore: PlayStore {
    let database: PostgresPool

    /// A campaign's row, locked by the transaction.
    struct LockedCampaign {
        var archivedAtMs: Int64?
    }

    /// Locks the campaign's row until the transaction ends; nil when there is no such campaign.
    @discardableResult
    static func lockCampaign(_ connection: PostgresConnection, _ campaignId: String) async throws -> LockedCampaign? {
        guard let row = try await connection.row("SELECT archived_at_ms FROM campaigns WHERE id = \(campaignId) FOR NO KEY UPDATE") else { return nil }
        return LockedCampaign(archivedAtMs: try row.get("archived_at_ms", as: Int64?.self))
    }

    /// Appends within the caller's transaction, which holds the campaign's lock (``lockCampaign``):
    /// the next sequence is taken and the entry stored by one statement. A log at the largest
    /// sequence (only a damaged or hostile database) is `StoreError.exhausted`.
    static func append(_ connection: PostgresConnection, campaignId: String, _ event: NewCampaignEvent, sessionId: String? = nil,
                       nonce: Int? = nil, idempotency: IdempotencyClaim? = nil) async throws -> CampaignEvent {
        let atMs = StoredTime.ms(Date())
        let sequence: Int64?
        do {
            sequence = try await connection.value("""
                INSERT INTO campaign_events (campaign_id, sequence, at_ms, kind, actor_id, character_id, session_id, nonce, payload, idempotency_key,
                                             request_hash)
                SELECT \(campaignId)::text, COALESCE(MAX(sequence), 0) + 1, \(atMs)::bigint, \(event.kind)::text, \(event.actorId)::text,
                       \(event.characterId)::text, \(sessionId)::text, \(nonce)::bigint, \(event.payload)::text, \(idempotency?.key)::text,
                       \(idempotency?.requestHash)::text
                FROM campaign_events WHERE campaign_id = \(campaignId)
                RETURNING sequence
                """, as: Int64.self)
        } catch let error as PSQLError where error.sqlState == "22003" {
            // numeric_value_out_of_range: MAX(sequence) + 1 past the largest BIGINT.
            throw StoreError.exhausted(field: "sequence")
        }
        // An aggregate gives one row, so the insert stores one.
        guard let sequence else { throw StoreError.notFound }
        return CampaignEvent(campaignId: campaignId, sequence: sequence, at: StoredTime.date(atMs), kind: event.kind, actorId: event.actorId,
                             characterId: event.characterId, sessionId: sessionId, nonce: nonce, payload: event.payload)
    }

    /// The campaign of a session, locked, then the session's row, locked.
    private static func lockSession(_ connection: PostgresConnection, _ sessionId: String) async throws -> PlaySessionRecord {
        guard let campaignId = try await connection.value("SELECT campaign_id FROM play_sessions WHERE id = \(sessionId)", as: String.self) else {
            throw StoreError.notFound
        }
        try await lockCampaign(connection, campaignId)
        guard let session = try await connection.row("SELECT * FROM play_sessions WHERE id = \(sessionId) FOR UPDATE").map(playSessionRecord) else {
            throw StoreError.notFound
        }
        return session
    }

    func startSession(_ session: PlaySessionRecord, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await PostgresStorage.mappingConflicts(field: "session") {
            try await database.transaction { connection in
                try await Self.lockCampaign(connection, session.campaignId)
                let newest = try await connection.value("SELECT MAX(number) FROM play_sessions WHERE campaign_id = \(session.campaignId)",
                                                        as: Int?.self) ?? nil
                let (number, overflow) = (newest ?? 0).addingReportingOverflow(1)
                guard !overflow else { throw StoreError.exhausted(field: "number") }
                var stored = session
                stored.number = number
                let started = StoredTime.ms(stored.startedAt)
                let ended = stored.endedAt.map(StoredTime.ms)
                try await connection.run("""
                    INSERT INTO play_sessions (id, campaign_id, number, server_seed, commitment, client_seed, started_at_ms, ended_at_ms, rolls)
                    VALUES (\(stored.id), \(stored.campaignId), \(stored.number), \(stored.serverSeed), \(stored.commitment), \(stored.clientSeed),
                            \(started), \(ended), \(stored.rolls))
                    """)
                let event = try await Self.append(connection, campaignId: stored.campaignId,
                                                  NewCampaignEvent(kind: "session.started", actorId: actorId,
                                                                   payload: try SQLitePlayStore.sessionPayload(stored, reveal: false)),
                                                  sessionId: stored.id)
                return (stored, event)
            }
        }
    }

    func openSession(campaignId: String) async throws -> PlaySessionRecord? {
        try await database.read { connection in
            try await connection.row("SELECT * FROM play_sessions WHERE campaign_id = \(campaignId) AND ended_at_ms IS NULL").map(playSessionRecord)
        }
    }

    func session(id: String) async throws -> PlaySessionRecord? {
        try await database.read { connection in try await connection.row("SELECT * FROM play_sessions WHERE id = \(id)").map(playSessionRecord) }
    }

    func sessions(campaignId: String) async throws -> [PlaySessionRecord] {
        try await database.read { connection in
            try await connection.rows("SELECT * FROM play_sessions WHERE campaign_id = \(campaignId) ORDER BY number DESC LIMIT 500")
                .map(playSessionRecord)
        }
    }

    func setClientSeed(_ seed: String, sessionId: String, actorId: String) async throws -> (PlaySessionRecord, CampaignEvent) {
        try await database.transaction { connection in
            var session = try await Self.lockSession(connection, sessionId)
            guard session.endedAt == nil else { throw StoreError.conflict(field: "session") }
            try await connection.run("UPDATE play_sessions SET client_seed = \(seed) WHERE id = \(sessionId)")
            session.clientSeed = seed
            let event = try await Self.append(connection, campaignId: session.campaignId,
                                              NewCampaignEvent(kind: "session.client_seed", actorId: actorId,
                                                               payload: try StoredJSON.text(["session": session.id, "client_seed": seed])),
                                              sessionId: session.id, nonce: session.rolls)
            return (session, event)
        }
    }

    func endSession(id: String, actorId: String, at: Date) async throws -> (PlaySessionRecord, CampaignEvent) {
        let atMs = StoredTime.ms(at)
        return try await database.transaction { connection in
            var session = try await Self.lockSession(connection, id)
            guard session.endedAt == nil else { throw StoreError.conflict(field: "session") }
            try await connection.run("UPDATE play_sessions SET ended_at_ms = \(atMs) WHERE id = \(id)")
            let ended: Date = StoredTime.date(atMs)
            session.endedAt = ended
            let event = try await Self.append(connection, campaignId: session.campaignId,
                                              NewCampaignEvent(kind: "session.ended", actorId: actorId,
                                                               payload: try SQLitePlayStore.sessionPayload(session, reveal: true)),
                                              sessionId: session.id)
            return (session, event)
        }
    }

    func play(campaignId: String, actorId: String, idempotency: IdempotencyClaim?,
              make: @Sendable (PlaySessionRecord, Int) throws -> NewCampaignEvent) async throws -> PlayOutcome {
        try await database.transaction { connection in
                // Everything below is decided under the campaign's lock: the replay of a key, the
                // nonce, the sequence.
                guard let campaign = try await Self.lockCampaign(connection, campaignId) else { return .noSession }
                if let idempotency, let row = try await connection.row("""
                    SELECT * FROM campaign_events
                    WHERE campaign_id = \(campaignId) AND actor_id = \(actorId) AND idempotency_key = \(idempotency.key)
                    """) {
                    return try row.get("request_hash", as: String?.self) == idempotency.requestHash ? .replayed(try campaignEvent(row)) : .keyReused
                }
                // Archived meanwhile (the handler checked before the transaction): nothing new.
                if campaign.archivedAtMs != nil { return .archived }
                guard let session = try await connection.row("""
                    SELECT * FROM play_sessions WHERE campaign_id = \(campaignId) AND ended_at_ms IS NULL FOR UPDATE
                    """).map(playSessionRecord) else { return .noSession }
                let nonce = session.rolls
                let entry = try make(session, nonce)
                try await connection.run("UPDATE play_sessions SET rolls = rolls + 1 WHERE id = \(session.id)")
                return .recorded(try await Self.append(connection, campaignId: campaignId, entry, sessionId: session.id, nonce: nonce,
                                                       idempotency: idempotency))
        }
    }

    func append(campaignId: String, _ event: NewCampaignEvent) async throws -> CampaignEvent {
        try await database.transaction { connection in
            try await Self.lockCampaign(connection, campaignId)
            return try await Self.append(connection, campaignId: campaignId, event)
        }
    }

    func newestSequence(campaignId: String) async throws -> Int64 {
        try await database.read { connection in
            try await connection.value("SELECT MAX(sequence) FROM campaign_events WHERE campaign_id = \(campaignId)", as: Int64?.self) ?? nil
        } ?? 0
    }

    func events(campaignId: String, _ filter: CampaignEventFilter, after cursor: Int64?, limit: Int) async throws -> [CampaignEvent] {
        var statement = PostgresStatement()
        var clauses = ["campaign_id = \(statement.bind(campaignId))", "sequence > \(statement.bind(cursor ?? 0))"]
        if let kind = filter.kind { clauses.append("kind = \(statement.bind(kind))") }
        if let character = filter.characterId { clauses.append("character_id = \(statement.bind(character))") }
        if let session = filter.sessionId { clauses.append("session_id = \(statement.bind(session))") }
        statement.append("SELECT * FROM campaign_events WHERE \(clauses.joined(separator: " AND ")) ORDER BY sequence LIMIT \(statement.bind(max(0, limit)))")
        let query = statement.query
        return try await database.read { connection in try await connection.rows(query).map(campaignEvent) }
    }
}
