import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// No route lets a member of one campaign see or change another's data: every campaign route
/// is tried on the other campaign, and on the player's own campaign with the other campaign's
/// characters and sessions.
@Suite struct IsolationTests {
    @Test func noRouteCrossesCampaigns() async throws {
        let server = try TestServer()
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.addUser("othermaster", role: .gameMaster)
        try await server.addUser("alice")
        try await server.addUser("bruno")
        let contract = try APIContract(document: ServerResources.openAPIDocument())
        try await server.test { client in
            let ours = try await Table.make(client, players: ["alice"])
            // The other table, with its own game master, player, character and open session.
            let otherMaster = try await client.login("othermaster").access
            let theirs = try await client.call(.post, "/v1/campaigns", token: otherMaster, json: #"{"name":"Theirs","packs":[{"id":"core"}]}"#)
            let theirId = theirs.json["id"] as? String ?? ""
            let invitation = try await client.call(.post, "/v1/campaigns/\(theirId)/invitations", token: otherMaster)
            let bruno = try await client.login("bruno").access
            #expect(try await client.call(.post, "/v1/invitations/accept", token: bruno, json: #"{"code":"\#(invitation.json["code"] as? String ?? "")"}"#).status == .ok)
            let character = try await client.call(.post, "/v1/campaigns/\(theirId)/characters", token: bruno, json: #"{"name":"Ben","stats":{"speaking":3}}"#)
            let characterId = character.json["id"] as? String ?? ""
            let session = try await client.call(.post, "/v1/campaigns/\(theirId)/sessions", token: otherMaster)
            let sessionId = session.json["id"] as? String ?? ""
            _ = try await client.call(.post, "/v1/campaigns/\(theirId)/rolls", token: bruno, json: #"{"expression":"1d20"}"#)
            let brunoId = try await client.call(.get, "/v1/me", token: bruno).json["id"] as? String ?? ""
            // Our own session is open too, so that a refusal is never for want of one.
            _ = try await client.call(.post, "\(ours.path)/sessions", token: ours.gameMaster)

            let alice = ours.players[0]
            var tried = 0
            for operation in contract.operations where operation.path.contains("{campaignId}") {
                let method = HTTPRequest.Method(rawValue: operation.method)!
                var body = AccessTests.bodies[operation.id]
                if operation.id == "rollCheck" || operation.id == "rollDice" {
                    body = #"{"character":"\#(characterId)","check":"persuade-merchant","dc":10,"expression":"1d20"}"#
                    if operation.id == "rollDice" { body = #"{"expression":"1d20","character":"\#(characterId)"}"# }
                    if operation.id == "rollCheck" { body = #"{"character":"\#(characterId)","check":"persuade-merchant","dc":10}"# }
                }
                for (campaign, who) in [(theirId, "their campaign"), (ours.campaign, "our campaign with their objects")] {
                    // Only routes that name an object of theirs can reach it through our campaign.
                    let namesObject = operation.path.contains("{characterId}") || operation.path.contains("{sessionId}")
                        || operation.id == "rollDice" || operation.id == "rollCheck" || operation.path.contains("{userId}")
                    if campaign == ours.campaign && !namesObject { continue }
                    var path = operation.path
                    for (parameter, value) in [("{campaignId}", campaign), ("{characterId}", characterId), ("{sessionId}", sessionId),
                                               ("{userId}", brunoId), ("{sourceId}", "phrasebook")] {
                        path = path.replacingOccurrences(of: parameter, with: value)
                    }
                    for token in [alice, ours.gameMaster] {
                        let reply = try await client.call(method, path, token: token, json: body, headers: [.ifMatch: "\"v1\""])
                        // Their campaign does not exist for us; through ours, their objects don't either
                        // (a player asking for the game master's routes in her own campaign, or to
                        // remove someone else, is refused before any object is looked up).
                        let playerOnGameMasterRoute = campaign == ours.campaign && token == alice
                            && (AccessPolicy.requirements[operation.id] == .campaign(.gameMaster) || operation.id == "removeMember")
                        #expect(reply.status == (playerOnGameMasterRoute ? .forbidden : .notFound), "\(operation.id) on \(who): \(reply.status) \(reply.text)")
                        tried += 1
                    }
                }
            }
            #expect(tried > 50)
            // The odds route does not reach into their campaign either.
            let odds = try await client.call(.post, "/v1/odds", token: alice, json: #"{"campaign":"\#(theirId)","character":"\#(characterId)","expression":"1d20"}"#)
            #expect(odds.status == .notFound)
            let crossOdds = try await client.call(.post, "/v1/odds", token: alice,
                                                  json: #"{"campaign":"\#(ours.campaign)","character":"\#(characterId)","expression":"1d20"}"#)
            #expect(crossOdds.status == .notFound)
            // And nothing of theirs changed.
            let after = try await client.call(.get, "/v1/campaigns/\(theirId)/characters/\(characterId)", token: bruno)
            #expect(after.headers[.eTag] == "\"v1\"" && after.json["name"] as? String == "Ben")
            let log = try await client.call(.get, "/v1/campaigns/\(theirId)/log?kind=roll", token: bruno)
            #expect((log.json["items"] as? [Any])?.count == 1)
            let stillOpen = try await client.call(.get, "/v1/campaigns/\(theirId)/sessions/\(sessionId)", token: bruno)
            #expect(stillOpen.json["open"] as? Bool == true && stillOpen.json["client_seed"] as? String != "abc")
            let members = try await client.call(.get, "/v1/campaigns/\(theirId)/members", token: bruno)
            #expect((members.json["items"] as? [Any])?.count == 2)
            #expect(try await client.call(.get, "/v1/campaigns/\(theirId)", token: bruno).json["archived"] as? Bool == false)
        }
    }
}
