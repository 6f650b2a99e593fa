import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// A game master's campaign with players who joined by invitation.
struct Table {
    let campaign: String
    let gameMaster: String
    let players: [String]

    /// Creates the campaign as `gamemaster` (who must exist with that role) and brings each of
    /// `players` (existing accounts) in with one invitation.
    static func make(_ client: any TestClientProtocol, players names: [String], packs: String = #"[{"id":"core"}]"#) async throws -> Table {
        let gameMaster = try await client.login("gamemaster").access
        let created = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"The night market","packs":\#(packs)}"#)
        #expect(created.status == .created, "\(created.text)")
        let campaign = created.json["id"] as? String ?? ""
        let invitation = try await client.call(.post, "/v1/campaigns/\(campaign)/invitations", token: gameMaster,
                                                json: #"{"max_uses":\#(max(1, names.count))}"#)
        #expect(invitation.status == .created)
        var players: [String] = []
        for name in names {
            let token = try await client.login(name).access
            let joined = try await client.call(.post, "/v1/invitations/accept", token: token, json: #"{"code":"\#(invitation.json["code"] as? String ?? "")"}"#)
            #expect(joined.status == .ok && joined.json["role"] as? String == "player", "\(joined.text)")
            players.append(token)
        }
        return Table(campaign: campaign, gameMaster: gameMaster, players: players)
    }

    var path: String { "/v1/campaigns/\(campaign)" }
}

@Suite struct CampaignTests {
    static func server(players: [String] = ["alice", "bruno"]) async throws -> TestServer {
        let server = try TestServer()
        try await server.addUser("gamemaster", role: .gameMaster)
        for name in players { try await server.addUser(name) }
        return server
    }

    @Test func invitationsAdmitPlayersUntilUsedUpOrExpired() async throws {
        let server = try await Self.server(players: ["alice", "bruno", "carmen"])
        try await server.test { client in
            let gameMaster = try await client.login("gamemaster").access
            let created = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"Old town","packs":[{"id":"core"}]}"#)
            let campaign = created.json["id"] as? String ?? ""
            #expect(created.json["role"] as? String == "game_master" && created.json["archived"] as? Bool == false)
            let invitation = try await client.call(.post, "/v1/campaigns/\(campaign)/invitations", token: gameMaster, json: #"{"max_uses":1}"#)
            #expect(invitation.json["path"] as? String == "/v1/invitations/accept")
            let accept = #"{"code":"\#(invitation.json["code"] as? String ?? "")"}"#
            let alice = try await client.login("alice").access
            let bruno = try await client.login("bruno").access
            // Not a member yet: the campaign does not exist for her.
            #expect(try await client.call(.get, "/v1/campaigns/\(campaign)", token: alice).status == .notFound)
            #expect(try await client.call(.post, "/v1/invitations/accept", token: alice, json: accept).status == .ok)
            // Accepting again is harmless; a second player finds it used up.
            #expect(try await client.call(.post, "/v1/invitations/accept", token: alice, json: accept).status == .ok)
            let usedUp = try await client.call(.post, "/v1/invitations/accept", token: bruno, json: accept)
            #expect(usedUp.status == .notFound && usedUp.json["detail"] as? String == "This invitation is unknown, expired or used up.")
            #expect(try await client.call(.post, "/v1/invitations/accept", token: bruno, json: #"{"code":"inv_made_up"}"#).status == .notFound)
            // Only the code's hash is stored.
            let code = invitation.json["code"] as? String ?? ""
            let (storage, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            let stored = try await pool.read { db in try String.fetchAll(db, sql: "SELECT code_hash FROM invitations") }
            #expect(stored == [API.tokenHash(code)])
            _ = storage
            let members = try await client.call(.get, "/v1/campaigns/\(campaign)/members", token: alice)
            #expect((members.json["items"] as? [[String: Any]])?.map { "\($0["username"]!) \($0["role"]!)" } == ["gamemaster game_master", "alice player"])
            #expect((try await client.call(.get, "/v1/campaigns", token: alice).json["items"] as? [[String: Any]])?.count == 1)
            #expect((try await client.call(.get, "/v1/campaigns", token: bruno).json["items"] as? [[String: Any]])?.count == 0)
            let bad = try await client.call(.post, "/v1/campaigns/\(campaign)/invitations", token: gameMaster, json: #"{"expires_in":5,"max_uses":1000}"#)
            #expect(bad.status == .badRequest && bad.fieldErrors["/expires_in"] != nil && bad.fieldErrors["/max_uses"] != nil)
        }
    }

    @Test func expiredInvitationsAdmitNobody() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let gameMaster = try await client.login("gamemaster").access
            let campaign = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"core"}]}"#).json["id"] as? String ?? ""
            let invitation = try await client.call(.post, "/v1/campaigns/\(campaign)/invitations", token: gameMaster, json: #"{"expires_in":60}"#)
            let code = invitation.json["code"] as? String ?? ""
            // An hour later, as the store sees it.
            let (storage, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            let user = try await storage.users.user(username: "alice")
            let outcome = try await storage.campaigns.acceptInvitation(codeHash: API.tokenHash(code), userId: user?.id ?? "", at: Date().addingTimeInterval(3600),
                                                                        log: NewCampaignEvent(kind: "member.joined", actorId: user?.id, characterId: nil, payload: "{}"))
            #expect(outcome == .ended)
            #expect(try await storage.campaigns.role(campaignId: campaign, userId: user?.id ?? "") == nil)
        }
    }

    @Test func membersLeaveGameMastersRemoveAndTheLastGameMasterStays() async throws {
        let server = try await Self.server()
        let bruno = try await server.addUser("bystander")
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice", "bruno"])
            let alice = table.players[0]
            let aliceId = try await client.call(.get, "/v1/me", token: alice).json["id"] as? String ?? ""
            let brunoId = try await client.call(.get, "/v1/me", token: table.players[1]).json["id"] as? String ?? ""
            let gameMasterId = try await client.call(.get, "/v1/me", token: table.gameMaster).json["id"] as? String ?? ""
            // A player removes nobody else.
            #expect(try await client.call(.delete, "\(table.path)/members/\(brunoId)", token: alice).status == .forbidden)
            // The game master cannot leave their campaign without a game master.
            let last = try await client.call(.delete, "\(table.path)/members/\(gameMasterId)", token: table.gameMaster)
            #expect(last.status == .conflict && last.json["detail"] as? String == "This would leave the campaign without a game master.")
            #expect(try await client.call(.delete, "\(table.path)/members/\(bruno)", token: table.gameMaster).status == .notFound)
            #expect(try await client.call(.delete, "\(table.path)/members/\(brunoId)", token: table.gameMaster).status == .noContent)
            // Removed by the game master: the campaign's open invitations end with it.
            let (storage, pool) = try ServerOperations.open(server.configuration)
            let revoked = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invitations WHERE revoked_at_ms IS NOT NULL") ?? 0 }
            try pool.close()
            _ = storage
            #expect(revoked == 1)
            #expect(try await client.call(.delete, "\(table.path)/members/\(aliceId)", token: alice).status == .noContent)
            #expect(try await client.call(.get, table.path, token: alice).status == .notFound)
            let log = try await client.call(.get, "\(table.path)/log?kind=member.left", token: table.gameMaster)
            #expect((log.json["items"] as? [Any])?.count == 2)
            #expect(try await server.auditEvents().filter { $0.action == "member.removed" }.count == 2)
        }
    }

    @Test func archivedCampaignsAreReadOnly() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            #expect(try await client.call(.post, "\(table.path)/archive", token: table.players[0]).status == .forbidden)
            let archived = try await client.call(.post, "\(table.path)/archive", token: table.gameMaster)
            #expect(archived.status == .ok && archived.json["archived"] as? Bool == true)
            let refused = try await client.call(.post, "\(table.path)/characters", token: table.players[0], json: #"{"name":"Late"}"#)
            #expect(refused.status == .conflict && refused.json["detail"] as? String == "This campaign is archived.")
            #expect(try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster).status == .conflict)
            #expect(try await client.call(.post, "\(table.path)/invitations", token: table.gameMaster).status == .conflict)
            #expect(try await client.call(.get, table.path, token: table.players[0]).status == .ok)
        }
    }

    @Test func campaignsRefusePacksThatDoNotCompose() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let gameMaster = try await client.login("gamemaster").access
            let unknown = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"atlas"}]}"#)
            #expect(unknown.status == .unprocessableContent && unknown.fieldErrors["/packs/0"] == "These packs cannot be used together: there is no published version of 'atlas'")
            let twice = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"core"},{"id":"core"}]}"#)
            #expect(twice.status == .unprocessableContent && twice.fieldErrors["/packs/1/id"] != nil)
            let version = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"core","version":"3.0.0"}]}"#)
            #expect(version.status == .unprocessableContent)
            let empty = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"","packs":[]}"#)
            #expect(empty.status == .badRequest && empty.fieldErrors["/name"] != nil && empty.fieldErrors["/packs"] != nil)
            let spanish = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"atlas"}]}"#,
                                                headers: [.acceptLanguage: "es"])
            #expect(spanish.fieldErrors["/packs/0"]?.hasPrefix("Estos paquetes no pueden usarse juntos") == true)
        }
    }
}

@Suite struct CharacterTests {
    /// A change and the log event that records it land together: when the log refuses the
    /// event, the change is not made either (here a trigger stands for a failing disk).
    @Test func aChangeAndItsLogEventAreOneTransaction() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let created = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4}}"#)
            let character = "\(table.path)/characters/\(created.json["id"] as? String ?? "")"
            let (storage, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            let before = try await storage.play.newestSequence(campaignId: table.campaign)
            try await pool.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse_log BEFORE INSERT ON campaign_events WHEN NEW.kind != 'member.joined'
                    BEGIN SELECT RAISE(ABORT, 'the log refuses'); END
                    """)
            }
            #expect(try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Bea"}"#).status == .internalServerError)
            #expect(try await client.call(.patch, character, token: alice, json: #"{"name":"Ada"}"#, headers: [.ifMatch: "\"v1\""]).status == .internalServerError)
            #expect(try await client.call(.delete, character, token: alice, headers: [.ifMatch: "\"v1\""]).status == .internalServerError)
            #expect(try await client.call(.delete, "\(table.path)/members/\(try await client.call(.get, "/v1/me", token: alice).json["id"] as? String ?? "")",
                                          token: alice).status == .internalServerError)
            #expect(try await client.call(.post, "\(table.path)/archive", token: table.gameMaster).status == .internalServerError)
            // Nothing changed: one character, still Ana at version 1, Alice still a member, the
            // campaign open, and the log as it was.
            let list = try await client.call(.get, "\(table.path)/characters", token: alice)
            #expect((list.json["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Ana"])
            let sheet = try await client.call(.get, character, token: alice)
            #expect(sheet.headers[.eTag] == "\"v1\"" && sheet.json["name"] as? String == "Ana")
            #expect(try await client.call(.get, "\(table.path)/members", token: table.gameMaster).json["items"].map { ($0 as? [Any])?.count } == 2)
            #expect(try await client.call(.get, table.path, token: alice).json["archived_at"] == nil)
            #expect(try await storage.play.newestSequence(campaignId: table.campaign) == before)
            // With the log back, the same changes are made and logged.
            try await pool.write { db in try db.execute(sql: "DROP TRIGGER refuse_log") }
            #expect(try await client.call(.patch, character, token: alice, json: #"{"name":"Ada"}"#, headers: [.ifMatch: "\"v1\""]).status == .ok)
            #expect(try await storage.play.newestSequence(campaignId: table.campaign) == before + 1)
        }
    }

    @Test func playersBuildCharactersWithinTheRules() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice", "bruno"], packs: #"[{"id":"night-market"}]"#)
            let alice = table.players[0]
            let created = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4,"core:haggling":2}}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.eTag] == "\"v1\"")
            #expect(created.json["stats"] as? [String: Int] == ["core:speaking": 4, "core:haggling": 2])
            let values = created.json["values"] as? [[String: Any]] ?? []
            let speaking = values.first { $0["id"] as? String == "core:speaking" }
            #expect(speaking?["base"] as? Int == 4 && speaking?["total"] as? Int == 4)
            #expect((speaking?["names"] as? [String: String])?["en"] == "Speaking")
            // Out of range, derived, unknown: each refused with its field.
            let high = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"X","stats":{"speaking":11}}"#)
            #expect(high.status == .unprocessableContent && high.fieldErrors["/stats/speaking"]?.contains("maximum is 10") == true, "\(high.text)")
            let unknown = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"X","stats":{"charisma":3}}"#)
            #expect(unknown.status == .unprocessableContent && unknown.fieldErrors["/stats/charisma"] != nil)
            let typed = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"X","stats":{"speaking":"high"}}"#)
            #expect(typed.status == .badRequest && typed.fieldErrors["/stats/speaking"] == "This must be integer.")
            // Two languages at once: the learner's and the target language.
            let id = created.json["id"] as? String ?? ""
            let both = try await client.call(.get, "\(table.path)/characters/\(id)?lang=es,fr", token: table.players[1])
            let names = ((both.json["values"] as? [[String: Any]])?.first { $0["id"] as? String == "core:speaking" })?["names"] as? [String: String]
            #expect(names?.keys.sorted() == ["es", "fr"] && names?["es"] != names?["fr"])
            #expect(try await client.call(.get, "\(table.path)/characters/\(id)?lang=e,f,g", token: alice).status == .badRequest)
            // The whole ruleset's names and descriptions, for the learner and the target language.
            let catalog = try await client.call(.get, "\(table.path)/ruleset?lang=fr,es", token: alice)
            #expect(catalog.status == .ok && catalog.json["languages"] as? [String] == ["fr", "es"], "\(catalog.text)")
            let catalogs = catalog.json["catalogs"] as? [String: [String: Any]] ?? [:]
            let frenchChecks = catalogs["fr"]?["checks"] as? [[String: Any]] ?? []
            let spanishChecks = catalogs["es"]?["checks"] as? [[String: Any]] ?? []
            #expect(!frenchChecks.isEmpty && frenchChecks.count == spanishChecks.count)
            #expect(frenchChecks.first?["name"] as? String != spanishChecks.first?["name"] as? String)
            #expect((catalogs["fr"]?["packs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["core", "night-market"])
            let negotiated = try await client.call(.get, "\(table.path)/ruleset", token: alice, headers: [.acceptLanguage: "es-MX, fr;q=0.5"])
            #expect(negotiated.json["languages"] as? [String] == ["es"] && negotiated.headers[.contentLanguage] == "es")
        }
    }

    @Test func editsNeedTheCurrentETag() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice", "bruno"])
            let alice = table.players[0]
            let created = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana"}"#)
            let path = "\(table.path)/characters/\(created.json["id"] as? String ?? "")"
            let missing = try await client.call(.patch, path, token: alice, json: #"{"name":"Ana B."}"#)
            #expect(missing.status.code == 428 && missing.problemType == "precondition-required")
            let renamed = try await client.call(.patch, path, token: alice, json: #"{"name":"Ana B.","stats":{"speaking":5}}"#, headers: [.ifMatch: "\"v1\""])
            #expect(renamed.status == .ok && renamed.headers[.eTag] == "\"v2\"" && renamed.json["name"] as? String == "Ana B.", "\(renamed.text)")
            // A second edit based on v1 would overwrite the first: refused with the current tag.
            let stale = try await client.call(.patch, path, token: table.gameMaster, json: #"{"name":"Other"}"#, headers: [.ifMatch: "\"v1\""])
            #expect(stale.status == .preconditionFailed && stale.headers[.eTag] == "\"v2\"")
            #expect(stale.json["detail"] as? String == "This changed meanwhile (it is now \"v2\"); read it again and retry.")
            // Another player may read it, not change it.
            #expect(try await client.call(.get, path, token: table.players[1]).headers[.eTag] == "\"v2\"")
            let other = try await client.call(.patch, path, token: table.players[1], json: #"{"name":"Mine"}"#, headers: [.ifMatch: "\"v2\""])
            #expect(other.status == .forbidden)
            // The game master may; a weak tag matches too.
            #expect(try await client.call(.patch, path, token: table.gameMaster, json: #"{"stats":{"speaking":6}}"#, headers: [.ifMatch: "W/\"v2\""]).status == .ok)
            #expect(try await client.call(.delete, path, token: alice, headers: [.ifMatch: "\"v2\""]).status == .preconditionFailed)
            #expect(try await client.call(.delete, path, token: table.players[1], headers: [.ifMatch: "\"v3\""]).status == .forbidden)
            #expect(try await client.call(.delete, path, token: alice, headers: [.ifMatch: "\"v3\""]).status == .noContent)
            #expect(try await client.call(.get, path, token: alice).status == .notFound)
            #expect(try await server.auditEvents().contains { $0.action == "character.deleted" })
        }
    }

    @Test func gameMastersApplyAndRemoveModifierSources() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let created = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":3}}"#)
            let path = "\(table.path)/characters/\(created.json["id"] as? String ?? "")"
            #expect(try await client.call(.post, "\(path)/sources", token: alice, json: #"{"source":"phrasebook"}"#, headers: [.ifMatch: "\"v1\""]).status == .forbidden)
            let applied = try await client.call(.post, "\(path)/sources", token: table.gameMaster, json: #"{"source":"phrasebook"}"#,
                                                headers: [.ifMatch: "\"v1\"", .acceptLanguage: "fr"])
            #expect(applied.status == .ok, "\(applied.text)")
            let sources = applied.json["sources"] as? [[String: Any]] ?? []
            #expect(sources.first?["id"] as? String == "core:phrasebook" && sources.first?["kind"] as? String == "item")
            #expect((sources.first?["names"] as? [String: String])?.keys.sorted() == ["fr"])
            // The engine's breakdown shows where each value comes from.
            let lines = (applied.json["values"] as? [[String: Any]] ?? []).flatMap { $0["modifiers"] as? [[String: Any]] ?? [] }
            #expect(lines.contains { $0["source"] as? String == "core:phrasebook" })
            let unknown = try await client.call(.post, "\(path)/sources", token: table.gameMaster, json: #"{"source":"dragon"}"#, headers: [.ifMatch: "\"v2\""])
            #expect(unknown.status == .unprocessableContent && unknown.fieldErrors["/source"] != nil)
            let removed = try await client.call(.delete, "\(path)/sources/phrasebook", token: table.gameMaster, headers: [.ifMatch: "\"v2\""])
            #expect(removed.status == .ok && (removed.json["sources"] as? [Any])?.isEmpty == true && removed.headers[.eTag] == "\"v3\"")
            #expect(try await client.call(.delete, "\(path)/sources/phrasebook", token: table.gameMaster, headers: [.ifMatch: "\"v3\""]).status == .notFound)
            let log = try await client.call(.get, "\(table.path)/log?kind=character.updated", token: alice)
            #expect((log.json["items"] as? [[String: Any]])?.compactMap { ($0["payload"] as? [String: Any])?["change"] as? String }
                    == ["source.applied", "source.removed"])
        }
    }

    /// If-Match tags, log cursors and numbers at and past the largest values, and a database
    /// whose counters are at the largest: each answered (4xx, or 500 for the damaged database),
    /// never a trap, and nothing stored.
    @Test func hostileNumbersAreAnsweredNotTrapped() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let created = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana"}"#)
            let id = created.json["id"] as? String ?? ""
            let path = "\(table.path)/characters/\(id)"
            for tag in ["\"v99999999999999999999\"", "\"v9223372036854775807\"", "W/\"v-9223372036854775808\"", "\"v1\"x", "\"v\"", "v1",
                        String(repeating: "\"v2\",", count: 500)] {
                let refused = try await client.call(.patch, path, token: alice, json: #"{"name":"Ada"}"#, headers: [.ifMatch: tag])
                #expect(refused.status == .preconditionFailed || refused.status == .badRequest, "\(tag.prefix(40)): \(refused.text)")
            }
            #expect(try await client.call(.get, path, token: alice).headers[.eTag] == "\"v1\"")
            // Log cursors: the largest sequence is one (nothing after it); past 64 bits it is not.
            let after = try await client.call(.get, "\(table.path)/log?cursor=9223372036854775807", token: alice)
            #expect(after.status == .ok && (after.json["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.call(.get, "\(table.path)/log?cursor=99999999999999999999", token: alice).status == .badRequest)
            #expect(try await client.call(.get, "\(table.path)/log?cursor=-1", token: alice).status == .badRequest)
            // An invitation's lifetime and uses past every bound.
            let invitation = try await client.call(.post, "\(table.path)/invitations", token: table.gameMaster,
                                                   json: #"{"expires_in":9223372036854775807,"max_uses":9223372036854775807}"#)
            #expect(invitation.status == .badRequest && invitation.fieldErrors["/expires_in"] != nil, "\(invitation.text)")
            // A stored version at the largest Int: the change is refused, not stored.
            let (_, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            try await pool.write { db in try db.execute(sql: "UPDATE characters SET version = 9223372036854775807 WHERE id = ?", arguments: [id]) }
            let largest = "\"v9223372036854775807\""
            #expect(try await client.call(.get, path, token: alice).headers[.eTag] == largest)
            #expect(try await client.call(.patch, path, token: alice, json: #"{"name":"Ada"}"#, headers: [.ifMatch: largest]).status == .internalServerError)
            #expect(try await client.call(.get, path, token: alice).json["name"] as? String == "Ana")
            // A campaign log at the largest sequence: a change that would log after it is refused.
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO campaign_events (campaign_id, sequence, at_ms, kind, payload) VALUES (?, 9223372036854775807, 0, 'note', '{}')",
                               arguments: [table.campaign])
            }
            #expect(try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Bea"}"#).status == .internalServerError)
            #expect((try await client.call(.get, "\(table.path)/characters", token: alice).json["items"] as? [Any])?.count == 1)
        }
    }
}
