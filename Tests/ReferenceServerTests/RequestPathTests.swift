import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// One request path: the router chooses the operation once, and every check after it is keyed
/// by that operation, so no spelling of a path reaches a handler unchecked.
@Suite struct RequestPathTests {
    /// A path of the operation with every parameter filled in.
    static func path(_ operation: APIContract.Operation) -> String {
        "/" + operation.segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter: "x1"
            }
        }.joined(separator: "/")
    }

    /// Spellings the router takes to the same route.
    static func routedSpellings(_ path: String) -> [String] {
        guard path != "/" else { return [] }
        let inner = path.replacingOccurrences(of: "/", with: "//")
        return [path + "/", "/" + path, inner, inner + "//"]
    }

    /// Every operation, spelled as the contract writes it and as the router also takes it, with a
    /// parameter the contract does not know: each spelling gets the canonical path's answer —
    /// the permission check's 403 or the contract's 400, never a handler's answer.
    @Test func everySpellingOfEveryOperationIsChecked() async throws {
        let server = try TestServer()
        try await server.addUser("a-player")
        let contract = try APIContract(document: ServerResources.openAPIDocument())
        try await server.test { client in
            let token = try await client.login("a-player").access
            for operation in contract.operations {
                let method = try #require(HTTPRequest.Method(operation.method))
                let canonical = try await client.call(method, Self.path(operation) + "?not_a_parameter=1", token: token)
                let expected: Set<HTTPResponse.Status> = AccessPolicy.requirements[operation.id].map {
                    switch $0 {
                    case .permission, .selfOr: [.forbidden]
                    default: [.badRequest]
                    }
                } ?? []
                #expect(expected.contains(canonical.status), "\(operation.id): \(canonical.status) \(canonical.text)")
                for spelling in Self.routedSpellings(Self.path(operation)) {
                    let reply = try await client.call(method, spelling + "?not_a_parameter=1", token: token)
                    #expect(reply.status == canonical.status, "\(operation.id) at \(spelling): \(reply.status) \(reply.text)")
                }
            }
        }
    }

    /// The request that stopped the server: a trailing slash and the largest 64-bit limit.
    @Test func aTrailingSlashDoesNotSkipTheContract() async throws {
        let server = try TestServer()
        try await server.addUser("a-player")
        try await server.test { client in
            let token = try await client.login("a-player").access
            for spelling in ["/v1/media/", "//v1/media", "/v1//media", "/v1/media"] {
                let reply = try await client.call(.get, spelling + "?limit=9223372036854775807", token: token)
                #expect(reply.status == .badRequest, "\(spelling): \(reply.text)")
                #expect(reply.fieldErrors["limit"] != nil, "\(spelling): \(reply.text)")
            }
            #expect(try await client.call(.get, "/v1/media/?limit=2", token: token).status == .ok)
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    /// Spellings no route takes are refused alike by the router and the 405 check: 404.
    @Test func spellingsNoRouteTakesAreNotFound() async throws {
        let server = try TestServer()
        try await server.addUser("a-player")
        try await server.test { client in
            let token = try await client.login("a-player").access
            for spelling in ["/v1/./media", "/V1/media", "/v1/MEDIA", "/v1%2Fmedia", "/v1/media/..", "/v1/media/x/y/z/w"] {
                let reply = try await client.call(.get, spelling, token: token)
                #expect(reply.status == .notFound, "\(spelling): \(reply.status) \(reply.text)")
            }
            // A method the route lacks, however the path is spelled.
            for spelling in ["/v1/media", "/v1/media/", "//v1/media"] {
                let reply = try await client.call(.put, spelling, token: token)
                #expect(reply.status == .methodNotAllowed, "\(spelling): \(reply.status)")
                #expect(reply.headers[.allow] == "GET, POST", "\(spelling)")
            }
        }
    }

    /// The authentication operations' own limit counts them however they are spelled.
    @Test func everySpellingOfLoginCountsAgainstTheAuthenticationLimit() async throws {
        let server = try TestServer { $0.authRateLimit = .init(perMinute: 1, burst: 3) }
        try await server.test { client in
            let body = #"{"username":"nobody-here","password":"a long enough passphrase"}"#
            for spelling in ["//v1/auth/login", "/v1//auth/login", "/v1/auth/login/"] {
                let reply = try await client.call(.post, spelling, json: body)
                #expect(reply.status == .unauthorized, "\(spelling): \(reply.status) \(reply.text)")
            }
            let refused = try await client.call(.post, "/v1/auth//login", json: body)
            #expect(refused.status == .tooManyRequests, "\(refused.text)")
            // Other operations are under the general limit only.
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    /// The contract checks the query as the handler receives it: `+` is a space, and a
    /// malformed percent-encoding is refused rather than read as empty.
    @Test func theQueryIsCheckedAsTheHandlerReadsIt() async throws {
        let server = try TestServer()
        try await server.addUser("an-admin", role: .admin)
        try await server.test { client in
            let token = try await client.login("an-admin").access
            let malformed = try await client.call(.get, "/v1/search?q=%", token: token)
            #expect(malformed.status == .badRequest && malformed.fieldErrors["q"] != nil, "\(malformed.text)")
            // `+01:00` reads as ` 01:00`: not a time, named by the contract check.
            let spaced = try await client.call(.get, "/v1/audit-events?since=2026-01-01T00:00:00+01:00", token: token)
            #expect(spaced.status == .badRequest && spaced.fieldErrors["since"] != nil, "\(spaced.text)")
            let encoded = try await client.call(.get, "/v1/audit-events?since=2026-01-01T00:00:00%2B01:00", token: token)
            #expect(encoded.status == .ok, "\(encoded.text)")
            let bad = try await client.call(.get, "/v1/users/%zz", token: token)
            #expect(bad.status == .badRequest && bad.fieldErrors["userId"] != nil, "\(bad.text)")
        }
    }

    /// Changing a password costs a bcrypt hash: it counts against the authentication limit.
    @Test func changingAPasswordCountsAgainstTheAuthenticationLimit() async throws {
        let server = try TestServer { $0.authRateLimit = .init(perMinute: 1, burst: 2) }
        try await server.addUser("a-player")
        try await server.test { client in
            let token = try await client.login("a-player").access
            let body = #"{"current_password":"not the password","new_password":"another long passphrase"}"#
            #expect(try await client.call(.put, "/v1/me/password", token: token, json: body).status == .unprocessableContent)
            #expect(try await client.call(.put, "/v1/me/password/", token: token, json: body).status == .tooManyRequests)
        }
    }

    /// A protected operation refuses an anonymous caller before looking at its body: 401, not a
    /// schema error, and a caller without the permission gets 403.
    @Test func authenticationComesBeforeTheBodyCheck() async throws {
        let server = try TestServer()
        try await server.addUser("a-player")
        try await server.test { client in
            for body in ["{not json", #"{"name": 5}"#, "[" + String(repeating: "[", count: 10_000)] {
                let anonymous = try await client.call(.post, "/v1/campaigns", json: body)
                #expect(anonymous.status == .unauthorized, "\(anonymous.text)")
            }
            let token = try await client.login("a-player").access
            #expect(try await client.call(.post, "/v1/campaigns", token: token, json: "{not json").status == .forbidden)
            #expect(try await client.call(.post, "/v1/odds", token: token, json: "{not json").status == .badRequest)
        }
    }

    /// Every route the router holds is an operation of the contract (the router and the contract
    /// cannot disagree about which operation a route is).
    @Test func everyRouteIsAnOperation() throws {
        let contract = try APIContract(document: ServerResources.openAPIDocument())
        for operation in contract.operations {
            #expect(contract.operation(method: operation.method, route: operation.path)?.id == operation.id)
            #expect(contract.operation(id: operation.id)?.path == operation.path)
        }
        #expect(contract.operation(method: "GET", route: "/v1/media/") == nil)
    }
}
