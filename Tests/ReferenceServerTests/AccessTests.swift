import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

@Suite struct AccessTests {
    /// Every operation of the document has a requirement, and the policy names no operation the
    /// document lacks.
    @Test func everyOperationIsClassified() throws {
        let contract = try APIContract(document: ServerResources.openAPIDocument())
        let ids = Set(contract.operations.map(\.id))
        #expect(ids == Set(AccessPolicy.requirements.keys))
        // Public operations in the document are exactly those anyone may call.
        for operation in contract.operations {
            #expect(operation.isPublic == (AccessPolicy.requirements[operation.id] == .anyone), "\(operation.id)")
        }
    }

    /// A body each operation accepts, so that the matrix reaches the permission check.
    static let bodies: [String: String] = [
        "register": #"{"username":"newcomer","password":"a long enough passphrase"}"#,
        "login": #"{"username":"bystander","password":"a long enough passphrase"}"#,
        "changePassword": #"{"current_password":"not the password","new_password":"another long passphrase"}"#,
        "setRoles": #"{"roles":["player"]}"#,
        "publishPack": "<pack/>",
        "createCampaign": #"{"name":"Matrix","packs":[{"id":"core"}]}"#,
        "createCharacter": #"{"name":"Hero"}"#,
        "updateCharacter": #"{"name":"Hero"}"#,
        "applySource": #"{"source":"phrasebook"}"#,
        "setClientSeed": #"{"client_seed":"abc"}"#,
        "rollDice": #"{"expression":"1d20"}"#,
        "rollCheck": #"{"character":"nobody","check":"persuade-merchant","dc":10}"#,
        "computeOdds": #"{"expression":"1d6"}"#,
        "sampleRoll": #"{"expression":"1d6","seed":"7"}"#,
        "acceptInvitation": #"{"code":"no-such-code"}"#,
        "uploadMedia": "GIF89a and some bytes",
    ]

    /// The whole matrix: each operation, anonymously and as each role. Allowed calls may still
    /// fail for their own reasons, but never with 401 or 403; refused ones get 401 without a
    /// user and 403 with one.
    @Test func theRoleMatrix() async throws {
        let server = try TestServer()
        let ids = [
            Role.player: try await server.addUser("a-player", role: .player),
            .gameMaster: try await server.addUser("a-game-master", role: .gameMaster),
            .contentDesigner: try await server.addUser("a-designer", role: .contentDesigner),
            .admin: try await server.addUser("an-admin", role: .admin),
        ]
        let names: [Role: String] = [.player: "a-player", .gameMaster: "a-game-master", .contentDesigner: "a-designer", .admin: "an-admin"]
        let bystander = try await server.addUser("bystander")
        let contract = try APIContract(document: ServerResources.openAPIDocument())
        try await server.test { client in
            // A campaign of the game master's, which the player has joined.
            let gameMaster = try await client.login("a-game-master").access
            let campaign = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: Self.bodies["createCampaign"]).json["id"] as? String ?? ""
            let invitation = try await client.call(.post, "/v1/campaigns/\(campaign)/invitations", token: gameMaster)
            let code = invitation.json["code"] as? String ?? ""
            #expect(try await client.call(.post, "/v1/invitations/accept", token: try await client.login("a-player").access, json: #"{"code":"\#(code)"}"#).status == .ok)
            for operation in contract.operations {
                for role in [nil] + Role.allCases {
                    var token: String?
                    if let role { token = try await client.login(names[role]!).access }
                    // Path parameters: the caller's own id, and someone else's.
                    var targets = [bystander]
                    if let role { targets.append(ids[role]!) }
                    for target in targets {
                        var path = operation.path.replacingOccurrences(of: "{userId}", with: target)
                        path = path.replacingOccurrences(of: "{sessionId}", with: "no-such-session")
                        for (parameter, value) in [("{campaignId}", campaign), ("{packId}", "core"), ("{version}", "1.0.0"),
                                                   ("{characterId}", "no-such-character"), ("{sourceId}", "phrasebook"), ("{code}", "no-such-code")] {
                            path = path.replacingOccurrences(of: parameter, with: value)
                        }
                        path = path.replacingOccurrences(of: "{mediaId}", with: "m_none").replacingOccurrences(of: "{entryId}", with: "vocabulary:1").replacingOccurrences(of: "{asset}", with: "lab.js")
                        if operation.id == "search" { path += "?q=market" }
                        let method = HTTPRequest.Method(rawValue: operation.method)!
                        var body = Self.bodies[operation.id]
                        var headers = HTTPFields()
                        if operation.id == "publishPack" { headers[.contentType] = "application/xml" }
                        if operation.id == "refresh" {
                            body = #"{"refresh_token":"\#(try await client.login("bystander").refresh)"}"#
                        }
                        let reply = try await client.call(method, path, token: token, json: body, headers: headers)
                        let expected = Self.expectation(operation.id, role: role, ownTarget: role.map { ids[$0] == target } ?? false)
                        switch expected {
                        case .allowed:
                            #expect(reply.status != .unauthorized && reply.status != .forbidden,
                                    "\(operation.id) as \(role?.rawValue ?? "anonymous") on \(path): \(reply.status) \(reply.text)")
                        case .unauthenticated:
                            #expect(reply.status == .unauthorized, "\(operation.id) anonymously: \(reply.status)")
                        case .forbidden:
                            #expect(reply.status == .forbidden, "\(operation.id) as \(role?.rawValue ?? "") on \(path): \(reply.status)")
                        case .notFound:
                            #expect(reply.status == .notFound && reply.problemType == "not-found",
                                    "\(operation.id) as \(role?.rawValue ?? "") on \(path): \(reply.status)")
                        }
                        // An operation without a path parameter needs only one pass; a member
                        // removing themselves would leave the campaign the rest of the matrix needs.
                        if !operation.path.contains("{userId}") || operation.id == "removeMember" { break }
                    }
                }
            }
        }
    }

    enum Expected { case allowed, unauthenticated, forbidden, notFound }

    /// The matrix written out independently of ``AccessPolicy``: who may do what.
    static func expectation(_ id: String, role: Role?, ownTarget: Bool) -> Expected {
        let publicOperations: Set = ["getHealth", "getReadiness", "getMetrics", "getOpenAPIDocument", "getDocumentation", "getKeys", "getPasswordPolicy",
                                     "register", "login", "refresh", "cmsWebhook", "getLab", "getLabAsset"]
        if publicOperations.contains(id) { return .allowed }
        guard let role else { return .unauthenticated }
        switch id {
        case "logout", "getMe", "changePassword", "listSessions", "revokeSession": return .allowed
        case "getUser": return role == .admin || ownTarget ? .allowed : .forbidden
        case "listUsers", "deleteUser", "setRoles", "listAuditEvents": return role == .admin ? .allowed : .forbidden
        case "listPacks", "getPack", "getPackXML", "listCampaigns", "acceptInvitation", "computeOdds", "search", "getContent", "getPackCatalog", "sampleRoll", "listMedia": return .allowed
        // Missing files and another's, 404 to all; uploads need a body of a known type (415 here).
        case "uploadMedia", "getMedia", "getMediaLink", "deleteMedia": return .allowed
        case "publishPack", "retirePack": return role == .contentDesigner || role == .admin ? .allowed : .forbidden
        case "createCampaign": return role == .gameMaster || role == .admin ? .allowed : .forbidden
        // The campaign is the game master's, and the player has joined it; to anyone else it
        // does not exist.
        case "getCampaign", "getRuleset", "listMembers", "listCharacters", "createCharacter", "getCharacter", "updateCharacter", "deleteCharacter",
             "listPlaySessions", "getPlaySession", "setClientSeed", "rollDice", "rollCheck", "listLog", "connectLive":
            return role == .gameMaster || role == .player ? .allowed : .notFound
        case "archiveCampaign", "createInvitation", "applySource", "removeSource", "startPlaySession", "endPlaySession":
            return role == .gameMaster ? .allowed : role == .player ? .forbidden : .notFound
        // Run with the bystander (not a member) as the target: only the game master may try.
        case "removeMember": return role == .gameMaster ? .allowed : role == .player ? .forbidden : .notFound
        default: Issue.record("\(id) is not in the test's matrix"); return .forbidden
        }
    }

    @Test func adminsManageRolesButNeverRemoveTheLastAdmin() async throws {
        let server = try TestServer()
        let adminId = try await server.addUser("root", role: .admin)
        let playerId = try await server.addUser("pat")
        try await server.test { client in
            let admin = try await client.login("root").access
            let player = try await client.login("pat").access
            let promoted = try await client.call(.put, "/v1/users/\(playerId)/roles", token: admin, json: #"{"roles":["game_master","player"]}"#)
            #expect(promoted.status == .ok)
            #expect(promoted.json["roles"] as? [String] == ["player", "game_master"])
            // The change counts at once, on the token already held.
            #expect(try await client.call(.get, "/v1/me", token: player).json["roles"] as? [String] == ["player", "game_master"])
            let lastAdmin = try await client.call(.put, "/v1/users/\(adminId)/roles", token: admin, json: #"{"roles":["player"]}"#)
            #expect(lastAdmin.status == .conflict && lastAdmin.json["detail"] as? String == "This would leave the server without an administrator.")
            #expect(try await client.call(.delete, "/v1/users/\(adminId)", token: admin).status == .conflict)
            let badRole = try await client.call(.put, "/v1/users/\(playerId)/roles", token: admin, json: #"{"roles":["emperor"]}"#)
            #expect(badRole.status == .badRequest && badRole.fieldErrors["/roles/0"]?.hasPrefix("This must be one of") == true)
            #expect(try await client.call(.put, "/v1/users/\(playerId)/roles", token: admin, json: #"{"roles":[]}"#).status == .badRequest)
            #expect(try await client.call(.put, "/v1/users/nobody/roles", token: admin, json: #"{"roles":["player"]}"#).status == .notFound)
            // Deleting a user ends their sessions.
            #expect(try await client.call(.delete, "/v1/users/\(playerId)", token: admin).status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: player).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/users/\(playerId)", token: admin).status == .notFound)
            let events = try await server.auditEvents()
            #expect(events.contains { $0.action == "user.roles_changed" && $0.target == playerId && $0.details["to"] == "player,game_master" })
            #expect(events.contains { $0.action == "user.deleted" && $0.actor == adminId })
        }
    }

    @Test func usersArePaged() async throws {
        let server = try TestServer()
        try await server.addUser("root", role: .admin)
        for index in 0..<7 { try await server.addUser("user-\(index)") }
        try await server.test { client in
            let admin = try await client.login("root").access
            var seen: [String] = []
            var cursor: String?
            repeat {
                let reply = try await client.call(.get, "/v1/users?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
                let items = reply.json["items"] as? [[String: Any]] ?? []
                #expect(items.count <= 3)
                seen += items.compactMap { $0["username"] as? String }
                cursor = reply.json["next"] as? String
            } while cursor != nil
            #expect(Set(seen).count == 8 && seen.count == 8)
            let bad = try await client.call(.get, "/v1/users?limit=0&extra=1", token: admin)
            #expect(bad.status == .badRequest)
            #expect(bad.fieldErrors["limit"] == "This must be at least 1.")
            #expect(bad.fieldErrors["extra"] == "This field is not part of the request.")
            #expect(try await client.call(.get, "/v1/users?limit=abc", token: admin).fieldErrors["limit"] == "This must be integer.")
        }
    }
}
