import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// Packs as content: bundled at first start, published by designers after validation, immutable
/// once published, fetched and retired.
@Suite struct PackTests {
    static var coreXML: String { (try? String(contentsOfFile: TestServer.rulesets + "/core.xml", encoding: .utf8)) ?? "" }

    /// The core pack under another version (and so another content).
    static func core(version: String, title: String = "Roll for Language — Core Rules") -> String {
        coreXML.replacingOccurrences(of: #"id="core" version="1.0.0""#, with: #"id="core" version="\#(version)""#)
            .replacingOccurrences(of: "<title xml:lang=\"en\">Roll for Language — Core Rules</title>", with: "<title xml:lang=\"en\">\(title)</title>")
    }

    static let xml: HTTPFields = [.contentType: "application/xml"]

    @Test func bundledPacksAreInstalledAtFirstStartOnly() async throws {
        let server = try TestServer()
        try await server.addUser("reader")
        try await server.test { client in
            let token = try await client.login("reader").access
            let list = try await client.call(.get, "/v1/packs", token: token)
            let items = list.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { "\($0["id"] ?? "") \($0["version"] ?? "")" } == ["core 1.0.0", "night-market 1.0.0"])
            #expect(items.allSatisfy { $0["bundled"] as? Bool == true && $0["retired"] as? Bool == false })
            #expect(items.first?["requires"] as? [String] == [])
            #expect(items.last?["requires"] as? [String] == ["core ^1.0"])
            let spanish = try await client.call(.get, "/v1/packs/core/1.0.0", token: token, headers: [.acceptLanguage: "es"])
            #expect(spanish.status == .ok && spanish.json["title"] as? String != nil && spanish.headers[.contentLanguage] == "es")
            let xml = try await client.call(.get, "/v1/packs/core/1.0.0/xml", token: token)
            #expect(xml.status == .ok && xml.text == Self.coreXML)
            #expect(xml.headers[.contentType]?.hasPrefix("application/xml") == true)
            #expect(xml.headers[.eTag] == "\"\(Hex.sha256(Self.coreXML))\"")
            #expect(try await client.call(.get, "/v1/packs/core/9.9.9", token: token).status == .notFound)
        }
        // A second start finds them stored and installs nothing again.
        let again = try TestServer(sharing: server)
        try await again.test { client in
            let token = try await client.login("reader").access
            #expect((try await client.call(.get, "/v1/packs", token: token).json["items"] as? [Any])?.count == 2)
        }
    }

    @Test func designersPublishValidatedImmutableVersions() async throws {
        let server = try TestServer()
        let designer = try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            let published = try await client.call(.post, "/v1/packs", token: token, json: Self.core(version: "1.1.0"), headers: Self.xml)
            #expect(published.status == .created, "\(published.text)")
            #expect(published.json["version"] as? String == "1.1.0" && published.json["uploaded_by"] as? String == designer)
            #expect(published.json["bundled"] as? Bool == false)
            // The same content again is the same version; other content under it is refused.
            let same = try await client.call(.post, "/v1/packs", token: token, json: Self.core(version: "1.1.0"), headers: Self.xml)
            #expect(same.status == .ok && same.json["sha256"] as? String == published.json["sha256"] as? String)
            let changed = try await client.call(.post, "/v1/packs", token: token, json: Self.core(version: "1.1.0", title: "Other"), headers: Self.xml)
            #expect(changed.status == .conflict && changed.problemType == "conflict")
            #expect(changed.json["detail"] as? String == "Version 1.1.0 of pack core is published already with other content; a published version never changes.")
            let stored = try await client.call(.get, "/v1/packs/core/1.1.0/xml", token: token)
            #expect(stored.text == Self.core(version: "1.1.0"))
            let events = try await server.auditEvents()
            #expect(events.filter { $0.action == "pack.published" }.map(\.target) == ["core@1.1.0"])
        }
    }

    /// Versions published at once: search ends with the newest, whatever order the re-indexing
    /// ran in.
    @Test func searchKnowsTheNewestOfVersionsPublishedAtOnce() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            let versions = (1...8).map { "1.\($0).0" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for version in versions.shuffled() {
                    group.addTask {
                        let published = try await client.call(.post, "/v1/packs", token: token, json: Self.core(version: version), headers: Self.xml)
                        #expect(published.status == .created, "\(published.text)")
                    }
                }
                try await group.waitForAll()
            }
            let found = try await client.call(.get, "/v1/search?q=speaking&kind=pack&lang=en", token: token)
            let ids = (found.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(!ids.isEmpty && ids.allSatisfy { !$0.hasPrefix("pack:core@") || $0.hasPrefix("pack:core@1.8.0:") }, "\(ids)")
            #expect(ids.contains { $0.hasPrefix("pack:core@1.8.0:") })
        }
    }

    @Test func invalidPacksAreRefusedWithEveryDiagnostic() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            // Not XML at all: the line and column of the syntax error.
            let broken = try await client.call(.post, "/v1/packs", token: token, json: "<pack>\n  <oops\n", headers: Self.xml)
            #expect(broken.status == .unprocessableContent && broken.problemType == "pack-invalid")
            let diagnostics = broken.json["diagnostics"] as? [[String: Any]] ?? []
            #expect(!diagnostics.isEmpty && diagnostics.allSatisfy { ($0["line"] as? Int ?? 0) >= 1 && ($0["column"] as? Int ?? 0) >= 1 })
            #expect(diagnostics.first?["severity"] as? String == "error" && diagnostics.first?["path"] as? String == "upload.xml")
            // A reference to nothing, found when composed with the stored core pack.
            let dangling = Self.core(version: "1.2.0").replacingOccurrences(of: #"adds="speaking haggling""#, with: #"adds="speaking haggling nonsense""#)
            let unknown = try await client.call(.post, "/v1/packs", token: token, json: dangling, headers: Self.xml)
            #expect(unknown.status == .unprocessableContent)
            let messages = (unknown.json["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            #expect(messages.contains { $0.contains("nonsense") }, "\(unknown.text)")
            // A requirement nothing stored satisfies.
            let needy = Self.core(version: "1.3.0")
                .replacingOccurrences(of: "</license>\n", with: "</license>\n  <requires><pack id=\"atlas\" version=\"^2.0\"/></requires>\n")
            let unresolved = try await client.call(.post, "/v1/packs", token: token, json: needy, headers: Self.xml)
            #expect(unresolved.status == .unprocessableContent)
            // JSON is not a pack.
            let json = try await client.call(.post, "/v1/packs", token: token, json: "{}")
            #expect(json.status == .unsupportedMediaType && json.json["detail"] as? String == "Send the pack as application/xml.")
            // Nothing was stored; each refusal is in the audit log.
            #expect((try await client.call(.get, "/v1/packs?include_retired=true", token: token).json["items"] as? [Any])?.count == 2)
            #expect(try await server.auditEvents().filter { $0.action == "pack.rejected" }.count == 3)
        }
    }

    @Test func packUploadsHaveTheirOwnSizeLimit() async throws {
        let server = try TestServer { $0.maxBodyBytes = 4096; $0.maxPackBytes = 200_000 }
        try await server.addUser("designer", role: .contentDesigner)
        try await server.test { client in
            let token = try await client.login("designer").access
            // Larger than the general limit, within the packs' one.
            #expect(try await client.call(.post, "/v1/packs", token: token, json: Self.core(version: "2.0.0"), headers: Self.xml).status == .created)
            let huge = Self.core(version: "2.1.0") + String(repeating: "<!-- padding -->", count: 20_000)
            let refused = try await client.call(.post, "/v1/packs", token: token, json: huge, headers: Self.xml)
            #expect(refused.status == .contentTooLarge && refused.json["detail"] as? String == "The body is larger than 200000 bytes.")
        }
    }

    @Test func retiredVersionsStayWithTheirCampaignsButCannotBePinnedAnew() async throws {
        let server = try TestServer()
        try await server.addUser("designer", role: .contentDesigner)
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.test { client in
            let designer = try await client.login("designer").access
            let gameMaster = try await client.login("gamemaster").access
            #expect(try await client.call(.post, "/v1/packs", token: designer, json: Self.core(version: "1.1.0"), headers: Self.xml).status == .created)
            // Without a version, the newest is pinned; what it requires comes along.
            let campaign = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"Old town","packs":[{"id":"night-market"}]}"#)
            #expect(campaign.status == .created)
            let pinned = (campaign.json["packs"] as? [[String: String]] ?? []).map { "\($0["id"]!)@\($0["version"]!)" }
            #expect(pinned == ["night-market@1.0.0", "core@1.1.0"])
            let retired = try await client.call(.post, "/v1/packs/core/1.1.0/retire", token: designer)
            #expect(retired.status == .ok && retired.json["retired"] as? Bool == true && retired.json["retired_at"] != nil)
            #expect((try await client.call(.get, "/v1/packs?id=core", token: designer).json["items"] as? [[String: Any]])?.count == 1)
            #expect((try await client.call(.get, "/v1/packs?id=core&include_retired=true", token: designer).json["items"] as? [Any])?.count == 2)
            // New campaigns get 1.0.0 now, and cannot ask for 1.1.0.
            let newer = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"New town","packs":[{"id":"core"}]}"#)
            #expect((newer.json["packs"] as? [[String: String]])?.first?["version"] == "1.0.0")
            let refused = try await client.call(.post, "/v1/campaigns", token: gameMaster, json: #"{"name":"X","packs":[{"id":"core","version":"1.1.0"}]}"#)
            #expect(refused.status == .unprocessableContent && refused.fieldErrors["/packs/0"]?.contains("retired") == true)
            // The old campaign still plays on what it pinned.
            let id = campaign.json["id"] as? String ?? ""
            let character = try await client.call(.post, "/v1/campaigns/\(id)/characters", token: gameMaster, json: #"{"name":"Vendor"}"#)
            #expect(character.status == .created)
            #expect(try await client.call(.post, "/v1/packs/core/7.0.0/retire", token: designer).status == .notFound)
            #expect(try await server.auditEvents().contains { $0.action == "pack.retired" && $0.target == "core@1.1.0" })
        }
    }
}
