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
        events.publish(event, commitment: stored.commitment)
        try await audit.record("play_session.started", by: caller, target: campaign.id, ["session": stored.id, "commitment": stored.commitment])
        return stored
    }

    func setClientSeed(_ seed: String, session id: String, in campaign: CampaignRecord, by caller: Caller) async throws -> PlaySessionRecord {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let session = try await session(id, campaignId: campaign.id)
        do {
            let (stored, event) = try await store.setClientSeed(seed, sessionId: session.id, actorId: caller.userId ?? "")
            events.publish(event, commitment: stored.commitment)
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
            events.publish(event, commitment: stored.commitment)
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
        var payload: LogPayload
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
        return try await play(in: campaign, by: caller, key: request.idempotencyKey,
                              asking: ["roll", request.expression, request.characterId, request.label]) { [stats, characterName] session, nonce, seed in
            var rng = RNG(seed: seed)
            let roll = try expression.rollDetailed(using: &rng, stats: stats)
            let payload = Components.Schemas.RollPayload(expression: expression.source, label: request.label, character: request.characterId,
                                                         characterName: characterName, stats: .init(additionalProperties: stats),
                                                         total: roll.total, result: Engine.Roll(roll), session: session.id, nonce: nonce,
                                                         clientSeed: session.clientSeed, seed: String(seed))
            return Entry(kind: "roll", characterId: request.characterId, payload: .RollPayload(payload))
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
            var checkNames: [String: String] = [:]
            var bandNames: [String: String] = [:]
            for language in request.languages {
                checkNames[language] = loaded.name(of: check.id, language: language) ?? check.id
                bandNames[language] = loaded.bandName(check: check.id, band: outcome.bandId, language: language) ?? outcome.bandId
            }
            // The character file is what `rfl check --character FILE` reads to replay it.
            let payload = Components.Schemas.CheckPayload(
                check: check.id, checkNames: .init(additionalProperties: checkNames), bandNames: .init(additionalProperties: bandNames),
                label: request.label, character: record.id, characterName: record.name, against: opponent?.record.id,
                characterFile: .init(stats: .init(additionalProperties: record.stats), apply: record.sources.map(\.id)),
                total: outcome.total, band: outcome.bandId, result: Engine.CheckResult(outcome), session: session.id, nonce: nonce,
                clientSeed: session.clientSeed, seed: String(seed))
            return Entry(kind: "check", characterId: record.id, payload: .CheckPayload(payload))
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

    /// What a roll or check adds to the log.
    struct Entry: Sendable {
        var kind: String
        var characterId: String?
        var payload: LogPayload
    }

    /// Runs `make` with the open session's next nonce and its seed, under the idempotency key,
    /// in the store's transaction, and announces what it stored.
    private func play(in campaign: CampaignRecord, by caller: Caller, key: String?, asking request: [String?],
                      make: @escaping @Sendable (PlaySessionRecord, Int, UInt64) throws -> Entry) async throws -> Played {
        let claim = key.map { IdempotencyClaim(key: $0, requestHash: Self.requestHash(request)) }
        let actor = caller.userId
        // What the store's transaction made, to answer with without reading it back.
        let made = Mutex<(commitment: String?, payload: LogPayload?)>((nil, nil))
        let outcome: PlayOutcome
        do {
            outcome = try await store.play(campaignId: campaign.id, actorId: caller.userId ?? "", idempotency: claim) { session, nonce in
                guard let seed = FairDice.seed(serverSeed: session.serverSeed, clientSeed: session.clientSeed, nonce: nonce) else {
                    throw EngineError(.error, "the session's server seed is not hex")
                }
                let entry = try make(session, nonce, seed)
                made.withLock { $0 = (session.commitment, entry.payload) }
                return NewCampaignEvent(kind: entry.kind, actorId: actor, characterId: entry.characterId, payload: try entry.payload.json)
            }
        } catch let error as EngineError {
            throw GameError.rulesRefuse(field: "/", reason: error.description)
        }
        switch outcome {
        case .recorded(let event):
            let (commitment, made) = made.withLock { $0 }
            let payload = try made ?? LogPayload.stored(kind: event.kind, json: event.payload)
            events.publish(event, payload: payload, commitment: commitment)
            return Played(event: event, payload: payload, commitment: commitment, replayed: false)
        case .replayed(let event):
            return Played(event: event, payload: try LogPayload.stored(kind: event.kind, json: event.payload),
                          commitment: try await self.commitment(of: event), replayed: true)
        case .keyReused:
            throw GameError.idempotencyKeyReused
        case .noSession:
            throw GameError.noOpenSession
        case .archived:
            throw GameError.campaignArchived
        }
    }

    // MARK: - The log

    /// The sequence of the campaign's newest log entry (0 for an empty log).
    func newestSequence(campaignId: String) async throws -> Int64 {
        try await store.newestSequence(campaignId: campaignId)
    }

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
