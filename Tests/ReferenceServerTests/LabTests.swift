import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// What the dice lab asks of the server; the page itself is tested in headless Chromium by
/// Tests/Lab/lab_test.py (`make lab-test`).
@Suite struct LabTests {
    @Test func thePageAndItsFilesAreServedUnderAStrictPolicy() async throws {
        let server = try TestServer()
        try await server.test { client in
            let page = try await client.call(.get, "/lab")
            #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true && page.text.contains("/lab/lab.js"))
            let policy = page.headers[.contentSecurityPolicy] ?? ""
            #expect(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'") && !policy.contains("unsafe"))
            let script = try await client.call(.get, "/lab/lab.js")
            #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true && script.text.contains("async function api("))
            // Text from the server is set as text, never as HTML.
            #expect(!script.text.contains("innerHTML"))
            #expect(try await client.call(.get, "/lab/lab.css").headers[.contentType]?.hasPrefix("text/css") == true)
            #expect(try await client.call(.get, "/lab/other.js").status == .badRequest)
        }
    }

    @Test func oddsForACharacterMadeUpOnAPacksRules() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            let base = #""packs":[{"id":"night-market"}],"stats":{"vocabulary":3},"check":"order-a-meal","dc":14"#
            let without = try await client.call(.post, "/v1/odds", token: token, json: "{\(base)}")
            let with = try await client.call(.post, "/v1/odds", token: token, json: #"{\#(base),"apply":["phrasebook"]}"#)
            #expect(without.status == .ok && without.json["reach"] as? Double == 0.5, "\(without.text)")
            #expect(abs((with.json["reach"] as? Double ?? 0) - 0.65) < 1e-12)
            let unknown = try await client.call(.post, "/v1/odds", token: token, json: #"{\#(base),"apply":["dragon"]}"#)
            #expect(unknown.status == .unprocessableContent && unknown.fieldErrors["/apply/0"] != nil)
            let outOfRange = try await client.call(.post, "/v1/odds", token: token, json: #"{"packs":[{"id":"core"}],"stats":{"vocabulary":99},"check":"order-a-meal","dc":14}"#)
            #expect(outOfRange.status == .unprocessableContent && outOfRange.fieldErrors["/stats/vocabulary"] != nil)
            let against = try await client.call(.post, "/v1/odds", token: token, json: #"{"packs":[{"id":"core"}],"check":"order-a-meal","against":"someone"}"#)
            #expect(against.status == .unprocessableContent && against.fieldErrors["/against"] != nil)
        }
    }

    @Test func sampleRollsAreTheEnginesWithTheSeed() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            let roll = try await client.call(.post, "/v1/sample-rolls", token: token, json: #"{"expression":"4d6kh3+2","seed":"7"}"#)
            #expect(roll.status == .ok && roll.json["total"] as? Int == 19 && roll.json["seed"] as? String == "7")
            #expect(((roll.json["result"] as? [String: Any])?["dice"] as? [[String: Any]])?.filter { $0["kept"] as? Bool == false }.count == 1)
            let random = try await client.call(.post, "/v1/sample-rolls", token: token, json: #"{"expression":"1d6+@speaking","stats":{"speaking":4}}"#)
            #expect(random.status == .ok && UInt64(random.json["seed"] as? String ?? "") != nil && (5...10).contains(random.json["total"] as? Int ?? 0))
            #expect(try await client.call(.post, "/v1/sample-rolls", token: token, json: #"{"expression":"1d6","seed":"18446744073709551616"}"#).status == .badRequest)
            #expect(try await client.call(.post, "/v1/sample-rolls", token: token, json: #"{"expression":"1d6","seed":"-1"}"#).status == .badRequest)
            #expect(try await client.call(.post, "/v1/sample-rolls", token: token, json: #"{"expression":"1d6+@speaking"}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/v1/sample-rolls", json: #"{"expression":"1d6"}"#).status == .unauthorized)
        }
    }

    @Test func aPacksCatalogComesWithWhatItRequires() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            let catalog = try await client.call(.get, "/v1/packs/night-market/1.0.0/catalog?lang=es,en", token: token)
            #expect(catalog.status == .ok && catalog.json["languages"] as? [String] == ["es", "en"], "\(catalog.text)")
            let spanish = (catalog.json["catalogs"] as? [String: [String: Any]])?["es"]
            #expect((spanish?["packs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["core", "night-market"])
            #expect((spanish?["checks"] as? [[String: Any]])?.contains { $0["name"] as? String == "Pedir comida" } == true)
            #expect(try await client.call(.get, "/v1/packs/night-market/9.0.0/catalog", token: token).status == .notFound)
        }
    }
}
