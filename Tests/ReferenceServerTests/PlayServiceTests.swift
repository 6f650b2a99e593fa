import Foundation
import Logging
import Mechanics
@testable import ReferenceServer
import Synchronization
import Testing

/// The play service without HTTP: a store in a temporary folder, the bundled packs, a clock
/// that says what the test wants, and a publisher that records what it is told.
@Suite struct PlayServiceTests {
    /// What the service announced.
    final class Announcements: CampaignEventPublisher {
        let events = Mutex<[(CampaignEvent, String?)]>([])
        func publish(_ event: CampaignEvent, payload: LogPayload?, commitment: String?) { events.withLock { $0.append((event, commitment)) } }
        var kinds: [String] { events.withLock { $0.map(\.0.kind) } }
    }

    struct World {
        let service: PlayService
        let storage: Storage
        let campaign: CampaignRecord
        let character: CharacterRecord
        let announcements: Announcements
        let caller: Caller
        let folder: String
    }

    static let now = Date(timeIntervalSince1970: 1_900_000_000)

    static func world() async throws -> World {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("play-service-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (storage, _) = try SQLiteStorage.open(path: folder + "/rfl.sqlite")
        let packs = PackLibrary(store: storage.packs)
        _ = try await packs.installBundled(directory: TestServer.rulesets, logger: Logger(label: "test"))
        let owner = UserRecord(id: "gm-1", username: "gamemaster", email: nil, passwordHash: "-", roles: [.gameMaster], createdAt: now)
        try await storage.users.create(owner)
        let campaign = CampaignRecord(id: "c-1", name: "The night market", ownerId: owner.id,
                                      packs: try await packs.resolve(requested: [("core", nil)]), createdAt: now)
        try await storage.campaigns.create(campaign)
        let character = CharacterRecord(id: "ch-1", campaignId: campaign.id, ownerId: owner.id, name: "Ana", stats: [:], sources: [],
                                        version: 1, createdAt: now, updatedAt: now)
        _ = try await storage.characters.create(character, log: NewCampaignEvent(kind: "character.created", actorId: owner.id, payload: "{}"))
        let announcements = Announcements()
        let rules = CampaignRules(packs: packs, characters: storage.characters)
        let service = PlayService(store: storage.play, rules: rules, events: announcements, audit: AuditTrail(store: storage.audit), now: { now })
        return World(service: service, storage: storage, campaign: campaign, character: character, announcements: announcements,
                     caller: Caller(userId: owner.id, address: "192.0.2.1", requestId: "req-1"), folder: folder)
    }

    @Test func aSessionRollsReplaysAndEnds() async throws {
        let world = try await Self.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let service = world.service
        // No session yet: nothing can be rolled.
        await #expect(throws: GameError.noOpenSession) {
            try await service.roll(.init(expression: "1d20"), in: world.campaign, by: world.caller)
        }
        let session = try await service.startSession(in: world.campaign, clientSeed: "table-seed", by: world.caller)
        #expect(session.startedAt == Self.now && session.clientSeed == "table-seed")
        await #expect(throws: GameError.sessionAlreadyOpen) {
            try await service.startSession(in: world.campaign, clientSeed: nil, by: world.caller)
        }
        // A roll is seeded as FairDice documents, from the session's seeds and its nonce.
        let first = try await service.roll(.init(expression: "4d6kh3", label: "strength", idempotencyKey: "key-1"), in: world.campaign, by: world.caller)
        #expect(!first.replayed && first.commitment == session.commitment && first.event.nonce == 0)
        let seed = try #require(FairDice.seed(serverSeed: session.serverSeed, clientSeed: "table-seed", nonce: 0))
        var rng = RNG(seed: seed)
        let expected = try DiceExpression("4d6kh3").rollDetailed(using: &rng)
        #expect(first.event.payload.contains("\"total\":\(expected.total)") && first.event.payload.contains("\"seed\":\"\(seed)\""))
        // The same key and request: the same entry, not a new roll; another request: refused.
        let again = try await service.roll(.init(expression: "4d6kh3", label: "strength", idempotencyKey: "key-1"), in: world.campaign, by: world.caller)
        #expect(again.replayed && again.event == first.event && again.commitment == session.commitment)
        await #expect(throws: GameError.idempotencyKeyReused) {
            try await service.roll(.init(expression: "1d6", idempotencyKey: "key-1"), in: world.campaign, by: world.caller)
        }
        // Refusals of the rules name the field.
        await #expect(throws: GameError.rulesRefuse(field: "/character", reason: "@speaking needs a character to read it from")) {
            try await service.roll(.init(expression: "1d20+@speaking"), in: world.campaign, by: world.caller)
        }
        await #expect(throws: GameError.characterNotFound) {
            try await service.roll(.init(expression: "1d20", characterId: "nobody"), in: world.campaign, by: world.caller)
        }
        // A check against a difficulty class, with names in two languages.
        let check = try await service.check(.init(characterId: world.character.id, check: "persuade-merchant", dc: 12, advantage: "advantage",
                                                  tags: [], languages: ["en", "es"]),
                                            in: world.campaign, by: world.caller)
        #expect(check.event.kind == "check" && check.event.nonce == 1 && check.event.payload.contains("\"band_names\":{\"en\":"))
        let ended = try await service.endSession(session.id, campaignId: world.campaign.id, by: world.caller)
        #expect(ended.endedAt == Self.now && ended.rolls == 2)
        await #expect(throws: GameError.playSessionEnded) {
            try await service.endSession(session.id, campaignId: world.campaign.id, by: world.caller)
        }
        // Every change was announced once, in order, and the log holds the same.
        #expect(world.announcements.kinds == ["session.started", "roll", "check", "session.ended"])
        let log = try await service.log(campaignId: world.campaign.id, CampaignEventFilter(), after: nil, limit: 100)
        #expect(log.events.map(\.kind) == ["character.created", "session.started", "roll", "check", "session.ended"] && !log.more)
        #expect(log.commitments[session.id] == session.commitment)
        // The audit log names the caller.
        let audit = try await world.storage.audit.events(AuditFilter(action: "play_session.started"), after: nil, limit: 10)
        #expect(audit.first?.actor == "gm-1" && audit.first?.address == "192.0.2.1" && audit.first?.requestId == "req-1")
    }

    @Test func anArchivedCampaignAndAnotherCampaignsSessionAreRefused() async throws {
        let world = try await Self.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let session = try await world.service.startSession(in: world.campaign, clientSeed: nil, by: world.caller)
        await #expect(throws: GameError.playSessionNotFound) {
            try await world.service.session(session.id, campaignId: "another-campaign")
        }
        var archived = world.campaign
        archived.archivedAt = Self.now
        await #expect(throws: GameError.campaignArchived) {
            try await world.service.roll(.init(expression: "1d20"), in: archived, by: world.caller)
        }
        await #expect(throws: GameError.campaignArchived) {
            try await world.service.setClientSeed("x", session: session.id, in: archived, by: world.caller)
        }
    }
}

/// The campaign service without HTTP: campaigns, invitations and memberships.
@Suite struct CampaignServiceTests {
    @Test func invitationsBringPlayersInAndRemovalsTakeThemOut() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("campaign-service-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (storage, _) = try SQLiteStorage.open(path: folder + "/rfl.sqlite")
        let packs = PackLibrary(store: storage.packs)
        _ = try await packs.installBundled(directory: TestServer.rulesets, logger: Logger(label: "test"))
        let now = PlayServiceTests.now
        let gm = UserRecord(id: "gm-1", username: "gamemaster", email: nil, passwordHash: "-", roles: [.gameMaster], createdAt: now)
        let ana = UserRecord(id: "ana-1", username: "ana", email: nil, passwordHash: "-", roles: [.player], createdAt: now)
        for user in [gm, ana] { try await storage.users.create(user) }
        let announcements = PlayServiceTests.Announcements()
        let service = CampaignService(store: storage.campaigns, packs: packs, events: announcements, audit: AuditTrail(store: storage.audit), now: { now })
        let master = Caller(userId: gm.id, address: "192.0.2.1", requestId: "r1")
        let player = Caller(userId: ana.id, address: "192.0.2.2", requestId: "r2")

        await #expect(throws: GameError.packsUnresolved(field: "/packs/0", reason: "there is no published version of 'nowhere'")) {
            try await service.create(name: "Lost", packs: [("nowhere", nil)], by: master)
        }
        let campaign = try await service.create(name: "The night market", packs: [("core", nil)], by: master)
        #expect(campaign.createdAt == now && campaign.ownerId == gm.id && campaign.packs.map(\.id) == ["core"])
        let (invitation, code) = try await service.invite(to: campaign, lifetime: 3600, maxUses: 1, by: master)
        #expect(code.hasPrefix("inv_") && invitation.expiresAt == now.addingTimeInterval(3600))
        let joined = try await service.accept(code: code, user: ana, by: player)
        #expect(joined.campaign.id == campaign.id && joined.role == .player)
        await #expect(throws: GameError.invitationInvalid) { try await service.accept(code: "inv_nothing", user: ana, by: player) }
        // A player may not remove another; the last game master may not leave.
        await #expect(throws: GameError.gameMasterOnly) {
            try await service.remove(member: gm.id, from: campaign.id, callerRole: .player, by: player)
        }
        await #expect(throws: GameError.lastGameMaster) {
            try await service.remove(member: gm.id, from: campaign.id, callerRole: .gameMaster, by: master)
        }
        try await service.remove(member: ana.id, from: campaign.id, callerRole: .gameMaster, by: master)
        await #expect(throws: GameError.memberNotFound) {
            try await service.remove(member: ana.id, from: campaign.id, callerRole: .gameMaster, by: master)
        }
        // The membership entries say whom they concern, as a type.
        let announced = announcements.events.withLock { $0.map(\.0) }
        #expect(announced.map(\.kind) == ["member.joined", "member.left"])
        #expect(announced.last?.memberWhoLeft == ana.id && announced.first?.memberWhoLeft == nil)
        let archived = try await service.archive(campaign, by: master)
        #expect(archived.archivedAt == now)
        await #expect(throws: GameError.campaignArchived) { try await service.invite(to: archived, lifetime: 60, maxUses: 1, by: master) }
    }
}

/// The character service without HTTP: versions, ownership and sources.
@Suite struct CharacterServiceTests {
    @Test func changesNameTheirVersionAndOnlyThePlayerOrTheGameMasterMakesThem() async throws {
        let world = try await PlayServiceTests.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let rules = CampaignRules(packs: PackLibrary(store: world.storage.packs), characters: world.storage.characters)
        let service = CharacterService(store: world.storage.characters, rules: rules, events: world.announcements,
                                       audit: AuditTrail(store: world.storage.audit), now: { PlayServiceTests.now })
        try await world.storage.users.create(UserRecord(id: "ana-1", username: "ana", email: nil, passwordHash: "-", roles: [.player],
                                                        createdAt: PlayServiceTests.now))
        let player = Caller(userId: "ana-1", address: "192.0.2.2", requestId: "r2")
        await #expect(throws: GameError.rulesRefuse(field: "/stats/wisdom", reason: "'wisdom' is not a stat or skill of this campaign's ruleset")) {
            try await service.create(name: "Bea", stats: ["wisdom": 3], in: world.campaign, by: player)
        }
        let (created, _) = try await service.create(name: "Bea", stats: ["speaking": 3], in: world.campaign, by: player)
        #expect(created.version == 1 && created.ownerId == "ana-1" && created.createdAt == PlayServiceTests.now)
        // Another player may not change it; its own player may, naming the version it changes.
        let stranger = Caller(userId: "someone-else")
        await #expect(throws: GameError.characterNotYours) {
            try await service.update(created.id, in: world.campaign, expectedVersion: 1, name: "Cid", stats: nil, callerRole: .player, by: stranger)
        }
        let (renamed, _) = try await service.update(created.id, in: world.campaign, expectedVersion: 1, name: "Cid", stats: nil, callerRole: .player, by: player)
        #expect(renamed.name == "Cid" && renamed.version == 2)
        await #expect(throws: GameError.versionMismatch(current: 2)) {
            try await service.update(created.id, in: world.campaign, expectedVersion: 1, name: "Dan", stats: nil, callerRole: .player, by: player)
        }
        // Sources: applied for some rounds, removed; one that is not applied is not found.
        let (applied, _) = try await service.apply(source: "phrasebook", duration: 3, to: created.id, in: world.campaign, expectedVersion: 2, by: world.caller)
        #expect(applied.sources.map(\.remaining) == [3] && applied.version == 3)
        let (removed, _) = try await service.remove(source: "phrasebook", from: created.id, in: world.campaign, expectedVersion: 3, by: world.caller)
        #expect(removed.sources.isEmpty)
        await #expect(throws: GameError.sourceNotApplied(source: "phrasebook")) {
            try await service.remove(source: "phrasebook", from: created.id, in: world.campaign, expectedVersion: 4, by: world.caller)
        }
        try await service.delete(created.id, in: world.campaign, expectedVersion: 4, callerRole: .gameMaster, by: world.caller)
        await #expect(throws: GameError.characterNotFound) { try await service.character(created.id, in: world.campaign) }
        #expect(world.announcements.kinds == ["character.created", "character.updated", "character.updated", "character.updated", "character.deleted"])
    }
}
