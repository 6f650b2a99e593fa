import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
@testable import ReferenceServer
import Testing

@Suite struct TokenTests {
    /// A token from parts, signed or not.
    func compact(header: String, payload: String, signature: String = "") -> String {
        Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Data(payload.utf8)) + "." + signature
    }

    func claims(sub: String, sid: String, exp: Int = Int(Date().timeIntervalSince1970) + 600) -> String {
        #"{"sub":"\#(sub)","sid":"\#(sid)","iss":"roll-for-language","aud":"roll-for-language","exp":\#(exp),"iat":1,"jti":"x"}"#
    }

    @Test func forgedTokensAreRefused() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let real = try await client.login("ana")
            #expect(try await client.call(.get, "/v1/me", token: real.access).status == .ok)
            let parts = real.access.split(separator: ".").map(String.init)
            let header = String(decoding: Base64URL.decode(parts[0])!, as: UTF8.self)
            let payload = String(decoding: Base64URL.decode(parts[1])!, as: UTF8.self)
            let kid = try #require(header.firstMatch(of: /"kid":"([^"]+)"/)?.1)
            let me = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] ?? [:]
            let sub = me["sub"] as? String ?? "", sid = me["sid"] as? String ?? ""

            var forgeries: [(String, String)] = []
            // alg "none", unsigned.
            forgeries.append(("none", compact(header: #"{"alg":"none","kid":"\#(kid)"}"#, payload: claims(sub: sub, sid: sid))))
            // HS256 keyed with the public key's coordinates (algorithm confusion).
            let keys = try await client.call(.get, "/.well-known/jwks.json").json["keys"] as? [[String: String]] ?? []
            let secret = SymmetricKey(data: Data(((keys.first?["x"] ?? "") + (keys.first?["y"] ?? "")).utf8))
            let hsInput = Base64URL.encode(Data(#"{"alg":"HS256","kid":"\#(kid)"}"#.utf8)) + "." + Base64URL.encode(Data(claims(sub: sub, sid: sid).utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: secret)
            forgeries.append(("HS256", hsInput + "." + Base64URL.encode(Data(mac))))
            // ES256 with another key, under the real key id, then under its own.
            let stranger = P256.Signing.PrivateKey()
            for kidUsed in [String(kid), "stranger"] {
                let input = Base64URL.encode(Data(#"{"alg":"ES256","kid":"\#(kidUsed)"}"#.utf8)) + "." + Base64URL.encode(Data(claims(sub: sub, sid: sid).utf8))
                let signature = try stranger.signature(for: Data(input.utf8)).rawRepresentation
                forgeries.append(("other key as \(kidUsed)", input + "." + Base64URL.encode(signature)))
            }
            // The real token with its payload changed (another user).
            forgeries.append(("tampered", parts[0] + "." + Base64URL.encode(Data(payload.replacingOccurrences(of: sub, with: "someone-else").utf8)) + "." + parts[2]))
            // Garbage.
            forgeries.append(("garbage", "not.a.token"))
            forgeries.append(("two parts", parts[0] + "." + parts[1]))
            for (name, token) in forgeries {
                let reply = try await client.call(.get, "/v1/me", token: token)
                #expect(reply.status == .unauthorized, "\(name)")
                #expect(reply.json["detail"] as? String == "The access token is not valid or has expired.", "\(name)")
                #expect(reply.headers[.wwwAuthenticate] == #"Bearer error="invalid_token""#, "\(name)")
            }
            let missing = try await client.call(.get, "/v1/me")
            #expect(missing.status == .unauthorized && missing.headers[.wwwAuthenticate] == "Bearer")
            #expect(missing.json["detail"] as? String == "Send an access token in the Authorization header (Bearer).")
            let basic = try await client.call(.get, "/v1/me", headers: [.authorization: "Basic YW5hOnB3"])
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func expiredTokensAndOtherIssuersAreRefused() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let real = try await client.login("ana")
            let payload = try JSONSerialization.jsonObject(with: Base64URL.decode(real.access.split(separator: ".")[1])!) as? [String: Any] ?? [:]
            let keys = try KeyStore(dataDirectory: server.folder, signingFile: nil).load(logger: .init(label: "test"))
            let service = try await TokenService(signing: keys.signing, retired: [], issuer: "roll-for-language", audience: "roll-for-language", lifetime: 60)
            let expired = try await service.issue(userId: payload["sub"] as! String, sessionId: payload["sid"] as! String,
                                                  now: Date().addingTimeInterval(-3600))
            #expect(try await client.call(.get, "/v1/me", token: expired).status == .unauthorized)
            let fresh = try await service.issue(userId: payload["sub"] as! String, sessionId: payload["sid"] as! String)
            #expect(try await client.call(.get, "/v1/me", token: fresh).status == .ok)
            for (issuer, audience) in [("someone-else", "roll-for-language"), ("roll-for-language", "another-service")] {
                let other = try await TokenService(signing: keys.signing, retired: [], issuer: issuer, audience: audience, lifetime: 60)
                let token = try await other.issue(userId: payload["sub"] as! String, sessionId: payload["sid"] as! String)
                #expect(try await client.call(.get, "/v1/me", token: token).status == .unauthorized, "\(issuer) \(audience)")
            }
        }
    }

    @Test func theKeySetVerifiesTokensElsewhere() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.register("ana")
            let real = try await client.login("ana")
            let jwks = try await client.call(.get, "/.well-known/jwks.json")
            #expect(jwks.status == .ok)
            let keys = try #require(jwks.json["keys"] as? [[String: String]])
            #expect(keys.count == 1)
            #expect(keys[0]["kty"] == "EC" && keys[0]["crv"] == "P-256" && keys[0]["alg"] == "ES256" && keys[0]["use"] == "sig")
            #expect(keys[0]["d"] == nil)
            // Another service verifies the token with nothing but the published keys.
            let collection = JWTKeyCollection()
            try await collection.add(jwksJSON: jwks.text)
            let claims = try await collection.verify(real.access, as: AccessClaims.self)
            #expect(claims.iss.value == "roll-for-language")
            // The key id is the RFC 7638 thumbprint of the public key.
            let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(keys[0]["x"]!)","y":"\#(keys[0]["y"]!)"}"#
            #expect(keys[0]["kid"] == Base64URL.encode(Data(SHA256.hash(data: Data(canonical.utf8)))))
        }
    }

    @Test func rotatedKeysKeepVerifyingUntilPruned() async throws {
        let server = try TestServer()
        let first: String = try await server.test { client in
            _ = try await client.register("ana")
            return try await client.login("ana").access
        }
        // The key file is 0600 in a 0700 folder.
        let attributes = try FileManager.default.attributesOfItem(atPath: server.folder + "/keys/signing.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let store = KeyStore(dataDirectory: server.folder, signingFile: nil)
        let (retired, current) = try store.rotate()
        #expect(retired != current)
        let again = try TestServer(sharing: server)
        try await again.test { client in
            // The old token still works; new ones carry the new key id; both keys are published.
            #expect(try await client.call(.get, "/v1/me", token: first).status == .ok)
            let keys = try await client.call(.get, "/.well-known/jwks.json").json["keys"] as? [[String: String]] ?? []
            #expect(keys.map { $0["kid"] ?? "" } == [current, retired])
            let fresh = try await client.login("ana").access
            let header = String(decoding: Base64URL.decode(fresh.split(separator: ".")[0])!, as: UTF8.self)
            #expect(header.contains(current))
        }
        #expect(try store.prune(olderThan: 3600).isEmpty)
        #expect(try store.prune(olderThan: 3600, now: Date().addingTimeInterval(7200)) == [retired])
    }

    /// A token is verified once and then known by its text, until it expires: a known token past
    /// its expiry is refused like any other, and a changed one is verified afresh.
    @Test func verifiedTokensAreRememberedUntilTheyExpire() async throws {
        let folder = NSTemporaryDirectory() + "rfl-tokens-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let keys = try KeyStore(dataDirectory: folder, signingFile: nil).load(logger: .init(label: "test"))
        let service = try await TokenService(signing: keys.signing, retired: [], issuer: "roll-for-language", audience: "roll-for-language",
                                             lifetime: 60, remembering: 3)
        let token = try await service.issue(userId: "u1", sessionId: "s1")
        let first = try await service.verify(token)
        let again = try await service.verify(token)
        #expect(first == again && first.sub.value == "u1" && first.sid == "s1" && service.rememberedTokens == 1)
        await #expect(throws: TokenRejection.self) { try await service.verify(token, now: Date().addingTimeInterval(120)) }
        #expect(service.rememberedTokens == 0)
        // A changed signature is not the remembered token.
        _ = try await service.verify(token)
        // (A character inside the signature: the last one's low bits may be padding.)
        var characters = Array(token)
        characters[characters.count - 10] = characters[characters.count - 10] == "A" ? "B" : "A"
        let tampered = String(characters)
        await #expect(throws: TokenRejection.self) { try await service.verify(tampered) }
        // The memory is bounded; a token forgotten is verified afresh.
        for index in 0..<10 {
            _ = try await service.verify(try await service.issue(userId: "u\(index)", sessionId: "s\(index)"))
            #expect(service.rememberedTokens <= 3)
        }
        #expect(try await service.verify(token).sub.value == "u1")
    }
}
