import ContentPacks
import Foundation
import Mechanics
import Synchronization

/// Play: sessions that commit to their server seed, rolls and checks the server makes with the
/// seeds ``FairDice`` documents (each under an idempotency key, if the client gives one), and
/// the campaign's log. Every change is stored with its log entry in one transaction by the
/// store, then announced to the live sockets. Times come from `now`.
struct PlayService: Sendable {
    let store: any PlayStore
    let rules: CampaignRules
    let events: any CampaignEventPublisher
    let audit: AuditTrail
    let now: @Sendable () -> Date

    // MARK: - Sessions

    func sessions(campaignId: String) async throws -> [PlaySessionRecord] {
        try await store.sessions(campaignId: campaignId)
    }

    /// A session of the campaign; one of another campaign is not found, as a missing one.
    func session(_ id: String, campaignId: String) async throws -> PlaySessionRecord {
        guard let record = try await store.session(id: id), record.campaignId == campaignId else { throw GameError.playSessionNotFound }
        return record
    }

    /// Opens a session committed to a new server seed. Without a client seed from the table, a
    /// random one, which the players may replace before any roll.
    func startSession(in campaign: CampaignRecord, clientSeed: String?, by caller: Caller) async throws -> PlaySessionRecord {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let serverSeed = FairDice.newServerSeed()
        guard let commitment = FairDice.commitment(serverSeed: serverSeed) else { throw ServiceFailure("a new server seed is not hex") }
        let record = PlaySessionRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, number: 0, serverSeed: serverSeed,
                                       commitment: commitment, clientSeed: clientSeed ?? String(FairDice.newServerSeed().prefix(16)),
                                       startedAt: now())
        let stored: PlaySessionRecord
        let event: CampaignEvent
        do {
            (stored, event) = try await store.startSession(record, actorId: caller.userId ?? "")
        } catch StoreError.conflict {
            throw GameError.sessionAlreadyOpen
        }
        try events.publish(event, commitment: stored.commitment)
        try await audit.record("play_session.started", by: caller, target: campaign.id, ["session": stored.id, "commitment": stored.commitment])
        return stored
    }

    func setClientSeed(_ seed: String, session id: String, in campaign: CampaignRecord, by caller: Caller) async throws -> PlaySessionRecord {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let session = try await session(id, campaignId: campaign.id)
        do {
            let (stored, event) = try await store.setClientSeed(seed, sessionId: session.id, actorId: caller.userId ?? "")
            try events.publish(event, commitment: stored.commitment)
            return stored
        } catch StoreError.conflict {
            throw GameError.playSessionEnded
        }
    }

    /// Ends a session, revealing its server seed.
    func endSession(_ id: String, campaignId: String, by caller: Caller) async throws -> PlaySessionRecord {
        let session = try await session(id, campaignId: campaignId)
        do {
            let (stored, event) = try await store.endSession(id: session.id, actorId: caller.userId ?? "", at: now())
            try events.publish(event, commitment: stored.commitment)
            try await audit.record("play_session.ended", by: caller, target: stored.campaignId, ["session": stored.id, "rolls": String(stored.rolls)])
            return stored
        } catch StoreError.conflict {
            throw GameError.playSessionEnded
        }
    }

    // MARK: - Rolls and checks

    /// A roll or check as stored, with its session's commitment; `replayed` when an earlier
    /// request with the same idempotency key made it.
    struct Played: Sendable {
        var event: CampaignEvent
        var commitment: String?
        var replayed: Bool
    }

    struct RollRequest: Sendable {
        var expression: String
        /// The character whose stats `@id` references read.
        var characterId: String?
        var label: String?
        var idempotencyKey: String?
    }

    /// Rolls an expression in the campaign's open session.
    func roll(_ request: RollRequest, in campaign: CampaignRecord, by caller: Caller) async throws -> Played {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let expression: DiceExpression
        do {
            expression = try DiceExpression(request.expression)
        } catch {
            throw GameError.rulesRefuse(field: "/expression", reason: error.description)
        }
        var stats: [String: Int64] = [:]
        var characterName: String?
        if let id = request.characterId {
            let record = try await rules.character(id, in: campaign.id)
            let sheet = try CampaignRules.sheet(record, try await rules.ruleset(of: campaign))
            for reference in expression.statReferences {
                do {
                    stats[reference] = try sheet.value(reference)
                } catch {
                    throw GameError.rulesRefuse(field: "/expression", reason: error.description)
                }
            }
            characterName = record.name
        } else if let reference = expression.statReferences.first {
            throw GameError.rulesRefuse(field: "/character", reason: "@\(reference) needs a character to read it from")
        }
        let actor = caller.userId
        return try await play(in: campaign, by: caller, key: request.idempotencyKey,
                              asking: ["roll", request.expression, request.characterId, request.label]) { [stats, characterName] session, nonce, seed in
            var rng = RNG(seed: seed)
            let roll = try expression.rollDetailed(using: &rng, stats: stats)
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("expression", expression.source)
            if let label = request.label { writer.field("label", label) }
            if let character = request.characterId { writer.field("character", character) }
            if let characterName { writer.field("character_name", characterName) }
            writer.key("stats")
            writer.beginObject()
            for (id, value) in stats.sorted(by: { $0.key < $1.key }) { writer.field(id, value) }
            writer.endObject()
            writer.field("total", roll.total)
            writer.key("result")
            roll.write(to: &writer)
            Self.writeSeed(&writer, session: session, nonce: nonce, seed: seed)
            writer.endObject()
            return NewCampaignEvent(kind: "roll", actorId: actor, characterId: request.characterId, payload: writer.output)
        }
    }

    struct CheckRequest: Sendable {
        var characterId: String
        var check: String
        /// The difficulty class, or
        var dc: Int64?
        /// the character the check is opposed by, who rolls `againstCheck` (the same check when nil).
        var against: String?
        var againstCheck: String?
        /// `advantage`, `disadvantage`, `none` or nil (neither), for each side.
        var advantage: String?
        var againstAdvantage: String?
        var tags: Set<String>
        var label: String?
        /// The languages the check's and band's names are stored in.
        var languages: [String]
        var idempotencyKey: String?
    }

    /// Rolls a check of the campaign's ruleset in its open session, against a difficulty class
    /// or opposed by another character.
    func check(_ request: CheckRequest, in campaign: CampaignRecord, by caller: Caller) async throws -> Played {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let loaded = try await rules.ruleset(of: campaign)
        let record = try await rules.character(request.characterId, in: campaign.id)
        let sheet = try CampaignRules.sheet(record, loaded)
        guard let check = loaded.ruleset.check(request.check) else {
            throw GameError.rulesRefuse(field: "/check", reason: "'\(request.check)' is not a check of this campaign's ruleset")
        }
        var opponent: (record: CharacterRecord, sheet: CharacterSheet)?
        if let against = request.against {
            let other = try await rules.character(against, in: campaign.id)
            opponent = (other, try CampaignRules.sheet(other, loaded))
        }
        let actor = caller.userId
        let asking: [String?] = ["check", request.characterId, request.check, request.dc.map { String($0) }, request.against, request.againstCheck,
                                 request.advantage, request.againstAdvantage,
                                 request.tags.sorted().joined(separator: ","), request.label]
        return try await play(in: campaign, by: caller, key: request.idempotencyKey, asking: asking) { [opponent] session, nonce, seed in
            var rng = RNG(seed: seed)
            let outcome: CheckResult
            if let opponent {
                outcome = try sheet.check(check.id, against: opponent.sheet, opposingCheck: request.againstCheck,
                                          advantage: Self.advantage(request.advantage), opposingAdvantage: Self.advantage(request.againstAdvantage),
                                          tags: request.tags, using: &rng)
            } else {
                outcome = try sheet.check(check.id, dc: request.dc ?? 0, advantage: Self.advantage(request.advantage), tags: request.tags, using: &rng)
            }
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("check", check.id)
            writer.key("check_names")
            writer.beginObject()
            for language in request.languages { writer.field(language, loaded.name(of: check.id, language: language) ?? check.id) }
            writer.endObject()
            writer.key("band_names")
            writer.beginObject()
            for language in request.languages {
                writer.field(language, loaded.bandName(check: check.id, band: outcome.bandId, language: language) ?? outcome.bandId)
            }
            writer.endObject()
            if let label = request.label { writer.field("label", label) }
            writer.field("character", record.id)
            writer.field("character_name", record.name)
            if let opponent { writer.field("against", opponent.record.id) }
            // What `rfl check --character FILE` reads to replay it.
            writer.key("character_file")
            writer.beginObject()
            writer.key("stats")
            writer.beginObject()
            for (id, value) in record.stats.sorted(by: { $0.key < $1.key }) { writer.field(id, value) }
            writer.endObject()
            writer.key("apply")
            writer.beginArray()
            for source in record.sources { writer.value(source.id) }
            writer.endArray()
            writer.endObject()
            writer.field("total", outcome.total)
            writer.field("band", outcome.bandId)
            writer.key("result")
            outcome.write(to: &writer)
            Self.writeSeed(&writer, session: session, nonce: nonce, seed: seed)
            writer.endObject()
            return NewCampaignEvent(kind: "check", actorId: actor, characterId: record.id, payload: writer.output)
        }
    }

    /// +1 for advantage, -1 for disadvantage, 0 for neither.
    static func advantage(_ text: String?) -> Int {
        switch text {
        case "advantage": 1
        case "disadvantage": -1
        default: 0
        }
    }

    /// A hash of what a request asks, so that a repeated idempotency key with another request
    /// is told apart.
    static func requestHash(_ parts: [String?]) -> String {
        let text = parts.map { $0.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: "|")
        return Hex.sha256(text)
    }

    /// The fields every roll and check stores for its verification.
    static func writeSeed(_ writer: inout JSONWriter, session: PlaySessionRecord, nonce: Int, seed: UInt64) {
        writer.field("session", session.id)
        writer.field("nonce", nonce)
        writer.field("client_seed", session.clientSeed)
        writer.field("seed", String(seed))
    }

    /// Runs `make` with the open session's next nonce and its seed, under the idempotency key,
    /// in the store's transaction, and announces what it stored.
    private func play(in campaign: CampaignRecord, by caller: Caller, key: String?, asking request: [String?],
                      make: @escaping @Sendable (PlaySessionRecord, Int, UInt64) throws -> NewCampaignEvent) async throws -> Played {
        let claim = key.map { IdempotencyClaim(key: $0, requestHash: Self.requestHash(request)) }
        let commitment = Mutex<String?>(nil)
        let outcome: PlayOutcome
        do {
            outcome = try await store.play(campaignId: campaign.id, actorId: caller.userId ?? "", idempotency: claim) { session, nonce in
                commitment.withLock { $0 = session.commitment }
                guard let seed = FairDice.seed(serverSeed: session.serverSeed, clientSeed: session.clientSeed, nonce: nonce) else {
                    throw EngineError(.error, "the session's server seed is not hex")
                }
                return try make(session, nonce, seed)
            }
        } catch let error as EngineError {
            throw GameError.rulesRefuse(field: "/", reason: error.description)
        }
        switch outcome {
        case .recorded(let event):
            let known = commitment.withLock { $0 }
            try events.publish(event, commitment: known)
            return Played(event: event, commitment: known, replayed: false)
        case .replayed(let event):
            return Played(event: event, commitment: try await self.commitment(of: event), replayed: true)
        case .keyReused:
            throw GameError.idempotencyKeyReused
        case .noSession:
            throw GameError.noOpenSession
        case .archived:
            throw GameError.campaignArchived
        }
    }

    // MARK: - The log

    /// The commitment of the session an event belongs to, if any.
    func commitment(of event: CampaignEvent) async throws -> String? {
        guard let id = event.sessionId else { return nil }
        return try await store.session(id: id)?.commitment
    }

    /// A page of the campaign's log after `cursor`, with the commitments of the sessions it
    /// names, and whether more follows.
    func log(campaignId: String, _ filter: CampaignEventFilter, after cursor: Int64?, limit: Int) async throws
        -> (events: [CampaignEvent], commitments: [String: String], more: Bool) {
        let events = try await store.events(campaignId: campaignId, filter, after: cursor, limit: limit + 1)
        let page = Array(events.prefix(limit))
        var commitments: [String: String] = [:]
        for id in Set(page.compactMap(\.sessionId)) { commitments[id] = try await store.session(id: id)?.commitment }
        return (page, commitments, events.count > limit)
    }
}
