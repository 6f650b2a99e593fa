import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

@Suite struct RateLimitTests {
    @Test func addressBucketsAnswer429WithTheirHeaders() async throws {
        let server = try TestServer { $0.rateLimit = .init(perMinute: 60, burst: 3) }
        try await server.test { client in
            for remaining in [2, 1, 0] {
                let reply = try await client.call(.get, "/healthz")
                #expect(reply.status == .ok)
                #expect(reply.headers[.rateLimitLimit] == "3" && reply.headers[.rateLimitRemaining] == String(remaining))
            }
            let refused = try await client.call(.get, "/healthz")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.problemType == "rate-limited")
            #expect(refused.headers[.retryAfter] == "1" && refused.headers[.rateLimitRemaining] == "0" && refused.headers[.rateLimitReset] == "3")
            #expect(refused.json["detail"] as? String == "Too many requests; try again in 1 seconds.")
            // A token a second comes back.
            server.clock.advance(1)
            #expect(try await client.call(.get, "/healthz").status == .ok)
            #expect(try await client.call(.get, "/healthz").status == .tooManyRequests)
        }
    }

    @Test func authenticationRoutesHaveAStricterBucket() async throws {
        let server = try TestServer { $0.authRateLimit = .init(perMinute: 30, burst: 2) }
        try await server.test { client in
            let wrong = #"{"username":"x","password":"y"}"#
            #expect(try await client.call(.post, "/v1/auth/login", json: wrong).status == .unauthorized)
            #expect(try await client.call(.post, "/v1/auth/login", json: wrong).status == .unauthorized)
            let refused = try await client.call(.post, "/v1/auth/login", json: wrong)
            #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] == "2")
            // Other routes still answer.
            #expect(try await client.call(.get, "/healthz").status == .ok)
        }
    }

    @Test func accountsHaveTheirOwnBucket() async throws {
        let server = try TestServer { $0.accountRateLimit = .init(perMinute: 60, burst: 2) }
        try await server.addUser("ana")
        try await server.addUser("bob")
        try await server.test { client in
            let ana = try await client.login("ana").access
            let bob = try await client.login("bob").access
            #expect(try await client.call(.get, "/v1/me", token: ana).headers[.rateLimitRemaining] == "1")
            #expect(try await client.call(.get, "/v1/me", token: ana).status == .ok)
            #expect(try await client.call(.get, "/v1/me", token: ana).status == .tooManyRequests)
            #expect(try await client.call(.get, "/v1/me", token: bob).status == .ok)
        }
    }

    @Test func forwardedForCountsOnlyFromTrustedProxies() async throws {
        // Over TCP from 127.0.0.1: first untrusted (X-Forwarded-For is ignored, all requests
        // share one bucket), then with loopback as a trusted proxy (each forwarded client has
        // its own).
        for trusted in [false, true] {
            let server = try TestServer {
                $0.rateLimit = .init(perMinute: 60, burst: 1)
                $0.trustedProxies = trusted ? [AddressRange("127.0.0.1")!, AddressRange("::1")!] : []
            }
            try await server.testLive { client in
                let first = try await client.call(.get, "/healthz", headers: [.forwardedFor: "203.0.113.7"])
                #expect(first.status == .ok)
                let second = try await client.call(.get, "/healthz", headers: [.forwardedFor: "203.0.113.8"])
                #expect(second.status == (trusted ? .ok : .tooManyRequests), "trusted: \(trusted)")
                // A forged left-most entry does not help: the right-most untrusted hop counts.
                let forged = try await client.call(.get, "/healthz", headers: [.forwardedFor: "198.51.100.1, 203.0.113.8"])
                #expect(forged.status == .tooManyRequests)
            }
        }
    }

    @Test func addressRanges() {
        #expect(AddressRange("10.0.0.0/8")!.contains("10.200.3.4"))
        #expect(!AddressRange("10.0.0.0/8")!.contains("11.0.0.1"))
        #expect(AddressRange("fd00::/8")!.contains("fd12::1"))
        #expect(AddressRange("127.0.0.1")!.contains("::ffff:127.0.0.1"))
        #expect(AddressRange("10.0.0.0/33") == nil && AddressRange("nonsense") == nil)
        #expect(AddressRange("192.168.1.77/24")!.description == "192.168.1.0/24")
    }
}

@Suite struct OperationsEndpointTests {
    @Test func healthReadinessAndHeaders() async throws {
        let server = try TestServer()
        try await server.test { client in
            let health = try await client.call(.get, "/healthz")
            #expect(health.status == .ok && health.json["status"] as? String == "ok")
            #expect(health.headers[.requestId]?.isEmpty == false)
            #expect(health.headers[.contentLanguage] == "en")
            #expect(health.headers[.xContentTypeOptions] == "nosniff" && health.headers[.cacheControl] == "no-store")
            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == .ok && ready.json["database"] as? String == "ok")
            #expect(ready.json["packs"] as? [String] == ["core 1.0.0", "night-market 1.0.0"])
        }
    }

    @Test func problemsSpeakTheNegotiatedLanguage() async throws {
        let server = try TestServer()
        try await server.test { client in
            let french = try await client.call(.get, "/v1/me", headers: [.acceptLanguage: "de-CH, fr;q=0.9, en;q=0.5"])
            #expect(french.headers[.contentLanguage] == "fr")
            #expect(french.json["title"] as? String == "Authentification requise")
            #expect(french.headers[.contentType] == "application/problem+json")
            let spanish = try await client.call(.get, "/nowhere", headers: [.acceptLanguage: "es-MX"])
            #expect(spanish.status == .notFound && spanish.json["detail"] as? String == "No hay nada en /nowhere.")
            let fallback = try await client.call(.get, "/nowhere", headers: [.acceptLanguage: "ja"])
            #expect(fallback.headers[.contentLanguage] == "en")
            let method = try await client.call(.delete, "/healthz")
            #expect(method.status == .methodNotAllowed && method.headers[.allow] == "GET")
            #expect(method.json["request_id"] as? String == method.headers[.requestId])
        }
    }

    @Test func languageNegotiation() {
        #expect(Language.negotiate(nil) == .en)
        #expect(Language.negotiate("fr-CA") == .fr)
        #expect(Language.negotiate("de, es;q=0.2, fr;q=0.1") == .es)
        #expect(Language.negotiate("es;q=0, *") == .en)
        #expect(Language.negotiate("en;q=0, es;q=0, *;q=0.5") == .fr)
        #expect(Language.negotiate("xx, yy") == .en)
    }

    @Test func catalogsAreComplete() throws {
        let localizer = try Localizer.load(from: ServerResources.catalogs())
        #expect(localizer.missingKeys().isEmpty, "\(localizer.missingKeys())")
        // No catalog has keys the code does not know.
        for language in Language.allCases {
            let url = try ServerResources.catalogs().appendingPathComponent("\(language.rawValue).json")
            let keys = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url)).keys
            #expect(Set(keys) == Set(MessageKey.allCases.map(\.rawValue)), "\(language)")
        }
    }

    @Test func theContractTheDocsAndTheMetrics() async throws {
        let server = try TestServer()
        try await server.test { client in
            let document = try await client.call(.get, "/openapi.yaml")
            #expect(document.status == .ok && document.headers[.contentType]?.hasPrefix("application/yaml") == true)
            #expect(document.text == (try ServerResources.openAPIDocument()), "with the default password length, the file as it is")
            let docs = try await client.call(.get, "/docs")
            #expect(docs.status == .ok && docs.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(docs.text.contains("<code>/v1/auth/login</code>") && docs.text.contains("permission users.manage"))
            #expect(!docs.text.contains("<script") && !docs.text.contains("http://") && !docs.text.contains("https://"))
            #expect(docs.headers[.contentSecurityPolicy] == "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
            _ = try await client.register("ana")
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests") && metrics.text.contains("http_route=\"/v1/auth/register\""))
            #expect(metrics.text.contains("http_server_request_duration"))
            #expect(metrics.text.contains("rfl_db_statement_duration"))
        }
    }
}

@Suite struct AuditTests {
    @Test func sensitiveOperationsAreLoggedAndReadByAdmins() async throws {
        let server = try TestServer()
        let adminId = try await server.addUser("root", role: .admin)
        try await server.test { client in
            _ = try await client.register("ana")
            _ = try await client.call(.post, "/v1/auth/login", json: #"{"username":"ana","password":"wrong wrong wrong"}"#)
            let admin = try await client.login("root").access
            let all = try await client.call(.get, "/v1/audit-events", token: admin)
            #expect(all.status == .ok)
            let items = all.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["action"] as? String ?? "" } == ["user.created", "user.registered", "auth.login_failed"])
            #expect(items[0]["actor"] as? String == "cli" && items[0]["target"] as? String == adminId)
            #expect(items[1]["previous_hash"] as? String == items[0]["hash"] as? String)
            #expect(items[2]["request_id"] as? String != nil && items[2]["address"] as? String != nil)
            let failures = try await client.call(.get, "/v1/audit-events?action=auth.login_failed", token: admin)
            #expect((failures.json["items"] as? [[String: Any]])?.count == 1)
            let page = try await client.call(.get, "/v1/audit-events?limit=2", token: admin)
            let next = try #require(page.json["next"] as? String)
            let rest = try await client.call(.get, "/v1/audit-events?cursor=\(next)", token: admin)
            #expect((rest.json["items"] as? [[String: Any]])?.first?["action"] as? String == "auth.login_failed")
            let future = try await client.call(.get, "/v1/audit-events?since=2099-01-01T00:00:00Z", token: admin)
            #expect((future.json["items"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await client.call(.get, "/v1/audit-events?since=yesterday", token: admin).fieldErrors["since"] != nil)
            #expect(try await client.call(.get, "/v1/audit-events?cursor=abc", token: admin).fieldErrors["cursor"] != nil)
        }
    }

    @Test func theChainShowsAlterationsAndDeletions() async throws {
        let server = try TestServer()
        for index in 0..<5 { try await server.addUser("user-\(index)") }
        var verification = try await ServerOperations.verifyAudit(server.configuration)
        #expect(verification.isIntact && verification.events == 5 && verification.head.count == 64)
        // The database refuses changes to the log…
        let pool = try DatabasePool(path: server.configuration.databasePath)
        #expect(throws: DatabaseError.self) { try pool.write { db in try db.execute(sql: "DELETE FROM audit_events WHERE sequence = 2") } }
        #expect(throws: DatabaseError.self) { try pool.write { db in try db.execute(sql: "UPDATE audit_events SET action = 'x'") } }
        // …and someone who removes the guard is found out.
        try await pool.write { db in
            try db.execute(sql: "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete")
            try db.execute(sql: "UPDATE audit_events SET details = '{\"username\":\"mallory\",\"roles\":\"player\"}' WHERE sequence = 2")
            try db.execute(sql: "DELETE FROM audit_events WHERE sequence = 4")
        }
        try pool.close()
        verification = try await ServerOperations.verifyAudit(server.configuration)
        #expect(!verification.isIntact)
        #expect(verification.problems.contains("event 2: its content does not match its hash (altered)"))
        #expect(verification.problems.contains("event 5: events 4 to 4 are missing"))
    }

    /// Cursors and times at the ends of their ranges, and a log whose sequences are at the
    /// ends of 64 bits: answered and checked, never a trap.
    @Test func extremeCursorsTimesAndSequences() async throws {
        let server = try TestServer()
        try await server.addUser("root", role: .admin)
        try await server.test { client in
            let admin = try await client.login("root").access
            func items(_ query: String) async throws -> Int? {
                let reply = try await client.call(.get, "/v1/audit-events?\(query)", token: admin)
                #expect(reply.status == .ok, "\(query): \(reply.text)")
                return (reply.json["items"] as? [Any])?.count
            }
            #expect(try await items("cursor=9223372036854775807") == 0)
            #expect(try await items("since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59Z") == 1)
            #expect(try await items("since=9999-12-31T23:59:59-23:59") == 0)
            #expect(try await items("until=0000-01-01T00:00:00%2B23:59") == 0)
            #expect(try await client.call(.get, "/v1/audit-events?cursor=99999999999999999999", token: admin).fieldErrors["cursor"] != nil)
        }
        // A log that ends at the largest sequence, and starts at the smallest: the next event is
        // refused (500 where a request made it), and the check reads it all without trapping.
        let pool = try DatabasePool(path: server.configuration.databasePath)
        try await pool.write { db in
            try db.execute(sql: "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete")
            try db.execute(sql: "UPDATE audit_events SET sequence = -9223372036854775808 WHERE sequence = 1")
            try db.execute(sql: "INSERT INTO audit_events (sequence, at_ms, action, details, previous_hash, hash) VALUES (9223372036854775807, 0, 'x', '{}', '', '')")
        }
        try pool.close()
        try await server.test { client in
            let refused = try await client.register("ana")
            #expect(refused.status == .internalServerError, "\(refused.text)")
        }
        let verification = try await ServerOperations.verifyAudit(server.configuration)
        #expect(verification.events == 2 && !verification.isIntact)
        #expect(verification.problems.contains("event -9223372036854775808: sequences start at 1"))
        #expect(verification.problems.contains("event 9223372036854775807: events -9223372036854775807 to 9223372036854775806 are missing"))
        #expect(verification.problems.contains("event 9223372036854775807: its previous hash does not match event -9223372036854775808"))
    }

    /// Times Foundation's ISO 8601 parser traps on (hundreds of fraction digits: SIGFPE in ICU)
    /// or takes for another day (30 February): 400. The contract check and the runtime's
    /// transcoder read times with ``RFC3339`` instead.
    @Test func timesFoundationMisreadsAreRefused() async throws {
        let server = try TestServer()
        try await server.addUser("root", role: .admin)
        try await server.test { client in
            let admin = try await client.login("root").access
            let digits = String(repeating: "9", count: 500)
            for time in ["2024-01-01T10:00:00.\(digits)Z", "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "%202024-01-01T10:00:00Z"] {
                let reply = try await client.call(.get, "/v1/audit-events?since=\(time)", token: admin)
                #expect(reply.status == .badRequest && reply.fieldErrors["since"] != nil, "\(time.prefix(40)): \(reply.text)")
            }
            // Fractions of a second are times too (the runtime's `.iso8601` refused them).
            #expect(try await client.call(.get, "/v1/audit-events?since=2024-01-01T10:00:00.123456Z", token: admin).status == .ok)
        }
    }
}

@Suite struct BackupTests {
    @Test func backupWhileServingThenRestore() async throws {
        let server = try TestServer()
        let backupPath = server.folder + "/backup.sqlite"
        try await server.test { client in
            _ = try await client.register("ana")
            // The server is running: the backup is taken online.
            try ServerOperations.backup(server.configuration, to: backupPath)
            _ = try await client.register("bob")
        }
        #expect(throws: OperationError.self) { try ServerOperations.backup(server.configuration, to: backupPath) }
        try ServerOperations.restore(server.configuration, from: backupPath)
        let restored = try TestServer(sharing: server)
        try await restored.test { client in
            let tokens = try await client.login("ana")
            #expect(!tokens.access.isEmpty)
            #expect(try await client.call(.post, "/v1/auth/login", json: #"{"username":"bob","password":"\#(TestServer.password)"}"#).status == .unauthorized)
        }
        #expect(try await ServerOperations.verifyAudit(server.configuration).isIntact)
    }

    @Test func restoreRefusesBadFilesAndARunningServer() async throws {
        let server = try TestServer()
        let garbage = server.folder + "/garbage.sqlite"
        try Data("this is not a database".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect { try ServerOperations.restore(server.configuration, from: garbage) } throws: { error in
            "\(error)".contains("not a readable SQLite database") || "\(error)".contains("integrity")
        }
        #expect(throws: OperationError.self) { try ServerOperations.restore(server.configuration, from: server.folder + "/missing.sqlite") }
        let lock = try ServerLock(dataDirectory: server.folder)
        defer { lock.release() }
        _ = try await ServerOperations.migrate(server.configuration)
        let copy = server.folder + "/copy.sqlite"
        try ServerOperations.backup(server.configuration, to: copy)
        #expect { try ServerOperations.restore(server.configuration, from: copy) } throws: { "\($0)".contains("another rfl-server process") }
    }

    /// Statements are timed by the first word of their text, whatever its case and leading space.
    @Test func statementsAreKindedByTheirFirstWord() {
        let cases = ["SELECT 1": "select", "  \n\tinsert INTO t VALUES (1)": "insert", "Update t SET a = 1": "update", "DELETE FROM t": "delete",
                     "BEGIN IMMEDIATE TRANSACTION": "other", "": "other", "   ": "other", "sel": "other", "WITH x AS (SELECT 1) SELECT * FROM x": "other"]
        for (sql, kind) in cases {
            #expect(sql.withCString { ServerMetrics.statementKind($0) } == kind, "\(sql)")
        }
    }
}
