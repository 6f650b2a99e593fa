import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

@Suite struct RegistrationTests {
    @Test func registerThenLoginThenMe() async throws {
        let server = try TestServer()
        try await server.test { client in
            let created = try await client.register("ana")
            #expect(created.status == .created)
            #expect(created.json["username"] as? String == "ana")
            #expect(created.json["roles"] as? [String] == ["player"])
            #expect(created.json["password_hash"] == nil && !created.text.contains("$2b$"))
            let tokens = try await client.login("ana")
            let me = try await client.call(.get, "/v1/me", token: tokens.access)
            #expect(me.status == .ok)
            #expect(me.json["id"] as? String == created.json["id"] as? String)
            #expect(me.json["roles"] as? [String] == ["player"])
        }
    }

    @Test func usernamesAreUniqueWithoutCase() async throws {
        let server = try TestServer()
        try await server.test { client in
            #expect(try await client.register("Ana").status == .created)
            let again = try await client.register("ana")
            #expect(again.status == .conflict)
            #expect(again.problemType == "conflict")
            #expect(again.fieldErrors["/username"] == "This username is already taken.")
        }
    }

    @Test func thePasswordPolicyOfNIST() async throws {
        let server = try TestServer()
        try await server.test { client in
            // Below the configured length, the contract itself refuses (400).
            let short = try await client.register("mariela", "short-pass")
            #expect(short.status == .badRequest && short.fieldErrors["/password"] == "This must be at least 12 characters long.")
            let cases: [(String, String)] = [
                ("password1234", "This password is among the most common ones; choose another."),
                ("aaaaaaaaaaaaaaa", "This password is a repeated or sequential pattern; choose another."),
                ("123456789012345", "This password is a repeated or sequential pattern; choose another."),
                ("abcabcabcabcabc", "This password is a repeated or sequential pattern; choose another."),
                ("my name is mariela!", "The password must not contain the username."),
                ("I love Roll-for-Language", "The password must not contain the name of the game."),
            ]
            for (password, message) in cases {
                let reply = try await client.register("mariela", password)
                #expect(reply.status == .unprocessableContent, "\(password)")
                #expect(reply.problemType == "unprocessable", "\(password)")
                #expect(reply.fieldErrors["/password"] == message, "\(password): \(reply.text)")
            }
            // No composition rules: spaces, Unicode and plain words are fine when long enough.
            #expect(try await client.register("mariela", "el gato bebe café").status == .created)
            // Compared after NFKC: the fullwidth form of a common password is that password.
            #expect(try await client.register("mariel2", "ｐａｓｓｗｏｒｄ１２３４").fieldErrors["/password"]?.contains("common") == true)
        }
    }

    @Test func thePasswordPolicyIsPublishedAndTheDocumentIsServedAsWritten() async throws {
        for minimum in [8, 16] {
            let server = try TestServer { $0.passwordMinimumLength = minimum }
            try await server.test { client in
                let policy = try await client.call(.get, "/v1/auth/password-policy")
                #expect(policy.status == .ok && policy.json["min_length"] as? Int == minimum && policy.json["max_length"] as? Int == 1024)
                #expect(policy.json["refuses"] as? [String] == ["common", "repetitive", "username", "service_name"])
                // The document is the file as written, whatever the configuration: its floor, and the marker.
                let document = try await client.call(.get, "/openapi.yaml").text
                #expect(document == (try ServerResources.openAPIDocument()))
                #expect(document.contains("password: { type: string, minLength: 8, maxLength: 1024, x-rfl-password-policy: true"))
                // The configured minimum is the one checked, as a contract check, with the field named.
                #expect(try await client.register("mariela", String("kiwi tea, lemon and honey".prefix(minimum))).status == .created)
                let refused = try await client.register("mariela2", String("kiwi tea, lemon and honey".prefix(minimum - 1)))
                #expect(refused.status == .badRequest && refused.fieldErrors["/password"] == "This must be at least \(minimum) characters long.")
            }
        }
    }

    @Test func everyFieldAtFaultIsNamed() async throws {
        let server = try TestServer()
        try await server.test { client in
            let reply = try await client.call(.post, "/v1/auth/register", json: #"{"username":"a b","email":"not-an-email","role":"admin"}"#)
            #expect(reply.status == .badRequest)
            #expect(reply.problemType == "validation")
            let errors = reply.fieldErrors
            #expect(errors["/password"] == "This field is required.")
            #expect(errors["/username"] == "This must be at least 3 characters long." || errors["/username"] == "This contains characters that are not allowed.")
            #expect(errors["/email"] == "This must be a email address.")
            #expect(errors["/role"] == "This field is not part of the request.")
            let long = try await client.call(.post, "/v1/auth/register", json: #"{"username":"\#(String(repeating: "x", count: 33))","password":"a long enough passphrase"}"#)
            #expect(long.fieldErrors["/username"] == "This must be at most 32 characters long.")
            let wrongType = try await client.call(.post, "/v1/auth/register", json: #"{"username":7,"password":"a long enough passphrase"}"#)
            #expect(wrongType.fieldErrors["/username"] == "This must be string.")
        }
    }

    @Test func unreadableBodies() async throws {
        let server = try TestServer()
        try await server.test { client in
            let broken = try await client.call(.post, "/v1/auth/register", json: "{\"username\": \"ana\",\n \"password\": }")
            #expect(broken.status == .badRequest)
            #expect(broken.problemType == "malformed")
            #expect((broken.json["detail"] as? String)?.contains("line 2, column 14") == true, "\(broken.text)")
            let duplicate = try await client.call(.post, "/v1/auth/register", json: #"{"username":"ana","username":"bob","password":"x"}"#)
            #expect((duplicate.json["detail"] as? String)?.contains("appears twice") == true)
            let text = try await client.call(.post, "/v1/auth/register", json: #"{"username":"ana","password":"x"}"#,
                                            headers: [.contentType: "text/plain"])
            #expect(text.status == .unsupportedMediaType)
            let empty = try await client.call(.post, "/v1/auth/register")
            #expect(empty.status == .badRequest && empty.fieldErrors["/"] == "This field is required.")
            let deep = try await client.call(.post, "/v1/auth/register", json: String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
            #expect(deep.status == .badRequest && (deep.json["detail"] as? String)?.contains("nested deeper") == true)
        }
    }

    @Test func bodiesAboveTheLimitAreRefusedWhileStreaming() async throws {
        let server = try TestServer { $0.maxBodyBytes = 2048 }
        try await server.test { client in
            let big = #"{"username":"ana","password":""# + String(repeating: "x", count: 4000) + "\"}"
            let reply = try await client.call(.post, "/v1/auth/register", json: big)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.problemType == "too-large")
            #expect(reply.json["detail"] as? String == "The body is larger than 2048 bytes.")
        }
    }
}

@Suite struct SessionTests {
    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let first = try await client.login("ana")
            let rotated = try await client.call(.post, "/v1/auth/refresh", json: #"{"refresh_token":"\#(first.refresh)"}"#)
            #expect(rotated.status == .ok)
            let second = rotated.json["refresh_token"] as? String ?? ""
            let secondAccess = rotated.json["access_token"] as? String ?? ""
            #expect(second != first.refresh && second.hasPrefix("rt_"))
            #expect(rotated.json["token_type"] as? String == "Bearer" && rotated.json["expires_in"] as? Int == 900)
            // The old refresh token again: someone else has it. The whole session ends.
            let reuse = try await client.call(.post, "/v1/auth/refresh", json: #"{"refresh_token":"\#(first.refresh)"}"#)
            #expect(reuse.status == .unauthorized)
            #expect((reuse.json["detail"] as? String)?.contains("already used") == true)
            #expect(try await client.call(.post, "/v1/auth/refresh", json: #"{"refresh_token":"\#(second)"}"#).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: secondAccess).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: first.access).status == .unauthorized)
            // It is in the audit log.
            let events = try await server.auditEvents()
            #expect(events.contains { $0.action == "auth.refresh_token_reused" })
            #expect(events.contains { $0.action == "session.revoked" && $0.details["reason"] == "refresh-token-reuse" })
            // Another login is unaffected.
            let other = try await client.login("ana")
            #expect(try await client.call(.get, "/v1/me", token: other.access).status == .ok)
            #expect(try await client.call(.post, "/v1/auth/refresh", json: #"{"refresh_token":"rt_nothing"}"#).status == .unauthorized)
        }
    }

    @Test func logoutEndsTheSessionOnly() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let phone = try await client.login("ana")
            let laptop = try await client.login("ana")
            #expect(try await client.call(.post, "/v1/auth/logout", token: phone.access).status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: phone.access).status == .unauthorized)
            #expect(try await client.call(.post, "/v1/auth/refresh", json: #"{"refresh_token":"\#(phone.refresh)"}"#).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: laptop.access).status == .ok)
            #expect(try await client.call(.post, "/v1/auth/logout").status == .unauthorized)
        }
    }

    @Test func sessionsAreListedAndRevokedByTheirOwnerOnly() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            _ = try await client.register("bob")
            let one = try await client.login("ana")
            let two = try await client.login("ana")
            let bob = try await client.login("bob")
            let list = try await client.call(.get, "/v1/me/sessions", token: one.access)
            let items = list.json["items"] as? [[String: Any]] ?? []
            #expect(items.count == 2)
            #expect(items.filter { $0["current"] as? Bool == true }.count == 1)
            let other = try #require(items.first { $0["current"] as? Bool == false }?["id"] as? String)
            // Bob cannot end Ana's session, nor learn that it exists.
            let denied = try await client.call(.delete, "/v1/me/sessions/\(other)", token: bob.access)
            #expect(denied.status == .notFound)
            #expect(try await client.call(.delete, "/v1/me/sessions/\(other)", token: one.access).status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: two.access).status == .unauthorized)
            #expect(try await client.call(.delete, "/v1/me/sessions/\(other)", token: one.access).status == .notFound)
        }
    }

    @Test func changingThePasswordEndsEverySession() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let one = try await client.login("ana")
            let two = try await client.login("ana")
            let wrong = try await client.call(.put, "/v1/me/password", token: one.access,
                                              json: #"{"current_password":"not it at all","new_password":"another long passphrase"}"#)
            #expect(wrong.status == .unprocessableContent && wrong.fieldErrors["/current_password"] == "The current password is not correct.")
            let weak = try await client.call(.put, "/v1/me/password", token: one.access,
                                             json: #"{"current_password":"\#(TestServer.password)","new_password":"password1234"}"#)
            #expect(weak.fieldErrors["/new_password"]?.contains("common") == true)
            let changed = try await client.call(.put, "/v1/me/password", token: one.access,
                                                json: #"{"current_password":"\#(TestServer.password)","new_password":"another long passphrase"}"#)
            #expect(changed.status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: one.access).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: two.access).status == .unauthorized)
            _ = try await client.login("ana", "another long passphrase")
            let old = try await client.call(.post, "/v1/auth/login", json: #"{"username":"ana","password":"\#(TestServer.password)"}"#)
            #expect(old.status == .unauthorized)
        }
    }

    @Test func loginFailuresBackOffPerAccount() async throws {
        let server = try TestServer { $0.loginFailuresBeforeBackoff = 3 }
        try await server.test { client in
            _ = try await client.register("ana")
            let wrong = #"{"username":"ana","password":"not the password"}"#
            for _ in 0..<3 {
                let reply = try await client.call(.post, "/v1/auth/login", json: wrong)
                #expect(reply.status == .unauthorized)
                #expect(reply.json["detail"] as? String == "The username or the password is not correct.")
            }
            // After the third failure the next attempt must wait, even with the right password.
            let waiting = try await client.call(.post, "/v1/auth/login", json: #"{"username":"ana","password":"\#(TestServer.password)"}"#)
            #expect(waiting.status == .tooManyRequests)
            #expect(waiting.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 && $0 <= 2 } == true)
            #expect((waiting.json["detail"] as? String)?.hasPrefix("Too many failed logins for this account") == true)
            // Another account is not affected, and an unknown one answers like a wrong password.
            _ = try await client.register("bob")
            _ = try await client.login("bob")
            let unknown = try await client.call(.post, "/v1/auth/login", json: #"{"username":"nobody","password":"whatever it is"}"#)
            #expect(unknown.status == .unauthorized && unknown.json["detail"] as? String == "The username or the password is not correct.")
            // Once the wait is over, the right password works and the count starts again.
            server.clock.advance(2)
            _ = try await client.login("ana")
            #expect(try await client.call(.post, "/v1/auth/login", json: wrong).status == .unauthorized)
            let events = try await server.auditEvents()
            #expect(events.filter { $0.action == "auth.login_failed" }.count == 5)
            #expect(events.contains { $0.action == "auth.login_refused" })
        }
    }
}

extension TestServer {
    func auditEvents() async throws -> [AuditEvent] {
        try await ServerOperations.withStorage(configuration) { storage in try await storage.audit.events(AuditFilter(), after: nil, limit: 1000) }
    }
}
