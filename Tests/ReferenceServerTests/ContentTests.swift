import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing

/// Content from the CMS webhook and the import command, and search over it and the packs.
@Suite struct ContentTests {
    static let secret = "a shared secret for the cms hook"

    static func server(_ adjust: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let server = try TestServer { configuration in
            configuration.cmsWebhookSecret = Self.secret
            adjust(&configuration)
        }
        try await server.addUser("reader")
        try await server.addUser("designer", role: .contentDesigner)
        return server
    }

    static let bearer: HTTPFields = [.authorization: "Bearer \(secret)"]

    static func event(_ event: String, id: Int = 7, term: String = "café", example: String = "Un café crème, s'il vous plaît.",
                      published: Bool = true, updatedAt: String? = nil) -> String {
        #"""
        {"event":"\#(event)","createdAt":"2026-11-27T10:00:00.000Z","model":"vocabulary","uid":"api::vocabulary.vocabulary",
         "entry":{"id":\#(id),"term":"\#(term)","language":"fr","translations":{"en":"coffee","es":"café"},\#(updatedAt.map { "\"updatedAt\":\"\($0)\"," } ?? "")
                  "examples":[{"language":"fr","text":"\#(example)"},{"language":"en","text":"A white coffee, please."}],
                  "tags":["food","drinks"],"pronunciation":{"url":"/media/cafe.ogg"},
                  "publishedAt":\#(published ? "\"2026-11-27T10:00:00.000Z\"" : "null")}}
        """#
    }

    static func ids(_ reply: Reply) -> [String] { (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }

    @Test func theIndexFollowsEveryEvent() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let token = try await client.login("reader").access
            func find(_ q: String, _ extra: String = "") async throws -> [String] {
                let q = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                return Self.ids(try await client.call(.get, "/v1/search?q=\(q)&kind=vocabulary\(extra)", token: token))
            }
            let created = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.create"), headers: Self.bearer)
            #expect(created.status == .ok && created.json["status"] as? String == "applied" && created.json["entry"] as? String == "vocabulary:7",
                    "\(created.text)")
            // Accents and case do not matter; every word is a prefix.
            #expect(try await find("cafe").contains("vocabulary:7"))
            #expect(try await find("CAFÉ").contains("vocabulary:7"))
            #expect(try await find("caf").contains("vocabulary:7"))
            #expect(try await find("coff", "&lang=en") == ["vocabulary:7"])
            #expect(try await find("creme plai") == ["vocabulary:7"])
            // An update replaces what search knows.
            #expect(try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.update", term: "thé", example: "Un thé vert."), headers: Self.bearer).status == .ok)
            #expect(try await find("the", "&lang=fr") == ["vocabulary:7"])
            #expect(try await find("cafe", "&lang=fr") == [])
            // Unpublished: stored, not found; published again: found.
            #expect(try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.unpublish", term: "thé", example: "Un thé vert."), headers: Self.bearer).status == .ok)
            #expect(try await find("the") == [])
            #expect(try await client.call(.get, "/v1/content/vocabulary:7", token: token).status == .notFound)
            let designer = try await client.login("designer").access
            #expect(try await client.call(.get, "/v1/content/vocabulary:7", token: designer).json["published"] as? Bool == false)
            #expect(try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.publish", term: "thé", example: "Un thé vert."), headers: Self.bearer).status == .ok)
            #expect(try await find("the") == ["vocabulary:7"])
            let entry = try await client.call(.get, "/v1/content/vocabulary:7", token: token)
            #expect(entry.json["titles"] as? [String: String] == ["fr": "thé", "en": "coffee", "es": "café"])
            #expect(entry.json["audio"] as? String == "/media/cafe.ogg" && entry.json["tags"] as? [String] == ["food", "drinks"])
            // The same event delivered again changes nothing.
            let again = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.publish", term: "thé", example: "Un thé vert."), headers: Self.bearer)
            #expect(again.json["status"] as? String == "duplicate")
            // Deleted: gone from both.
            #expect(try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.delete", term: "thé", example: "Un thé vert."), headers: Self.bearer).status == .ok)
            #expect(try await find("the") == [])
            #expect(try await client.call(.get, "/v1/content/vocabulary:7", token: designer).status == .notFound)
            let (storage, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            let packRows = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM search_index WHERE kind = 'pack'") ?? 0 }
            #expect(try await storage.content.counts() == (0, packRows))
            #expect(try await server.auditEvents().filter { $0.action == "cms.event" }.map { $0.details["event"] ?? "" }
                    == ["entry.create", "entry.update", "entry.unpublish", "entry.publish", "entry.delete"])
        }
    }

    @Test func theHookRefusesWhatItCannotTrust() async throws {
        let server = try await Self.server()
        try await server.test { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer not the secret"], [.authorization: Self.secret]] {
                let refused = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.create"), headers: headers)
                #expect(refused.status == .unauthorized && refused.problemType == "unauthenticated", "\(refused.text)")
            }
            // Malformed: the contract, then the entry's own rules, each naming the field.
            #expect(try await client.call(.post, "/v1/hooks/cms", json: #"{"model":"vocabulary"}"#, headers: Self.bearer).fieldErrors["/event"] != nil)
            #expect(try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"entry.create""#, headers: Self.bearer).problemType == "malformed")
            let termless = try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"entry.create","model":"vocabulary","entry":{"id":3}}"#, headers: Self.bearer)
            #expect(termless.status == .unprocessableContent && termless.fieldErrors["/entry/term"] == "This event cannot be taken: a vocabulary entry needs its term")
            let badLanguage = try await client.call(.post, "/v1/hooks/cms",
                                                    json: #"{"event":"entry.create","model":"lore","entry":{"id":3,"title":"x","language":"??"}}"#,
                                                    headers: Self.bearer)
            #expect(badLanguage.status == .unprocessableContent && badLanguage.fieldErrors["/entry/language"] != nil)
            let noId = try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"entry.create","model":"lore","entry":{"title":"x"}}"#, headers: Self.bearer)
            #expect(noId.fieldErrors["/entry/id"] != nil)
            let boolean = try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"entry.create","model":"lore","entry":{"id":true,"title":"x"}}"#, headers: Self.bearer)
            #expect(boolean.fieldErrors["/entry/id"] != nil)
            // Other models and events are acknowledged and ignored.
            #expect(try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"entry.create","model":"restaurant","entry":{"id":1}}"#,
                                          headers: Self.bearer).json["status"] as? String == "ignored")
            #expect(try await client.call(.post, "/v1/hooks/cms", json: #"{"event":"media.create","model":"file"}"#, headers: Self.bearer)
                .json["status"] as? String == "ignored")
            // Nothing was stored.
            let (storage, pool) = try ServerOperations.open(server.configuration)
            defer { try? pool.close() }
            #expect(try await storage.content.counts().entries == 0)
            #expect(try await server.auditEvents().filter { $0.action == "cms.event_refused" }.count == 3)
        }
        // Without a secret, nothing is accepted at all.
        let unconfigured = try TestServer()
        try await unconfigured.test { client in
            let refused = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.create"), headers: Self.bearer)
            #expect(refused.status == .serviceUnavailable)
        }
    }

    @Test func signaturesAreHMACsOfTheBody() async throws {
        let server = try await Self.server { $0.cmsWebhookAuth = .hmac }
        try await server.test { client in
            let body = Self.event("entry.create")
            let signature = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(Self.secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            let name = HTTPField.Name("X-Webhook-Signature")!
            let signed = try await client.call(.post, "/v1/hooks/cms", json: body, headers: [name: "sha256=\(signature)", HTTPField.Name("X-Webhook-Id")!: "evt-1"])
            #expect(signed.json["status"] as? String == "applied", "\(signed.text)")
            // The id decides idempotency: the same id again is a duplicate.
            let repeated = try await client.call(.post, "/v1/hooks/cms", json: body, headers: [name: "sha256=\(signature)", HTTPField.Name("X-Webhook-Id")!: "evt-1"])
            #expect(repeated.json["status"] as? String == "duplicate")
            // The id of a signed event is its body's hash: a new id does not replay it.
            let renamed = try await client.call(.post, "/v1/hooks/cms", json: body, headers: [name: "sha256=\(signature)", HTTPField.Name("X-Webhook-Id")!: "evt-2"])
            #expect(renamed.json["status"] as? String == "duplicate")
            // A changed body, or a token instead of a signature, is refused.
            let tampered = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.create", term: "tea"), headers: [name: "sha256=\(signature)"])
            #expect(tampered.status == .unauthorized)
            #expect(try await client.call(.post, "/v1/hooks/cms", json: body, headers: Self.bearer).status == .unauthorized)
        }
    }

    @Test func searchFiltersRanksPagesAndEscapes() async throws {
        let server = try await Self.server()
        let file = server.folder + "/content.json"
        var entries: [String] = []
        for index in 0..<25 {
            entries.append(#"{"model":"vocabulary","entry":{"id":\#(index),"term":"mercado \#(index)","language":"es","translations":{"en":"market \#(index)"},"tags":["\#(index % 2 == 0 ? "even" : "odd")","market"]}}"#)
        }
        entries.append(#"{"model":"lore","entry":{"id":"night-1","language":"en","title":{"en":"The night market","es":"El mercado nocturno"},"body":{"en":"Lanterns <b>glow</b> & merchants call out.","es":"Las linternas brillan."},"tags":["market"]}}"#)
        entries.append(#"{"model":"lesson","entry":{"id":4,"language":"en","title":"Haggling","body":"Start low at the market, then meet halfway."}}"#)
        entries.append(#"{"model":"lesson","entry":{"id":5,"language":"en","title":"Draft lesson about markets","publishedAt":null}}"#)
        try #"{"entries":[\#(entries.joined(separator: ","))]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ServerOperations.importContent(server.configuration, from: file) == (28, 0))
        try await server.test { client in
            let token = try await client.login("reader").access
            func search(_ query: String) async throws -> Reply { try await client.call(.get, "/v1/search?\(query)", token: token) }
            // Filters: language, kind, tags.
            let loreMarket = try await search("q=market&kind=lore")
            #expect(Self.ids(loreMarket) == ["lore:night-1"], "\(loreMarket.text)")
            #expect(Self.ids(try await search("q=merca&lang=es&kind=lore")) == ["lore:night-1"])
            #expect(Self.ids(try await search("q=market&kind=lesson")) == ["lesson:4"])
            let odd = Self.ids(try await search("q=market&tags=odd,market&limit=100"))
            #expect(odd.count == 12 && odd.allSatisfy { $0.hasPrefix("vocabulary:") }, "\(odd)")
            // Titles weigh most: the lore whose title is "the night market" ranks above the lesson that mentions it.
            let ranked = Self.ids(try await search("q=market&lang=en&limit=100"))
            #expect(ranked.firstIndex(of: "lore:night-1")! < ranked.firstIndex(of: "lesson:4")!)
            // Pages: every result once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await search("q=mercado&kind=vocabulary&limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
                seen += Self.ids(page)
                cursor = page.json["next"] as? String
            } while cursor != nil
            #expect(seen.count == 25 && Set(seen).count == 25, "\(seen)")
            // Snippets are HTML: the text escaped, the matches marked.
            let lore = (try await search("q=glow&kind=lore")).json["items"] as? [[String: Any]] ?? []
            #expect(lore.first?["snippet_html"] as? String == "Lanterns &lt;b&gt;<mark>glow</mark>&lt;/b&gt; &amp; merchants call out.")
            #expect((try await search("q=night")).json["items"].map { ($0 as? [[String: Any]])?.first?["title_html"] as? String } == "The <mark>night</mark> market")
            // The packs' names and descriptions are found too, in each language.
            let pack = Self.ids(try await search("q=expres%20oral&kind=pack&lang=es"))
            #expect(pack.contains("pack:core@1.0.0:core:speaking"), "\(pack)")
            // Drafts are not found; bad queries are told.
            #expect(Self.ids(try await search("q=draft")) == [])
            #expect((try await search("q=%20%2A%20")).status == .badRequest)
            #expect((try await search("q=x&cursor=abc")).status == .badRequest)
            #expect((try await search("q=x&cursor=99999999999999999999")).status == .badRequest)
            #expect((try await search("q=x&cursor=9223372036854775807")).status == .badRequest)
            #expect((try await search("q=x&cursor=10000&limit=100")).status == .ok)
            #expect((try await search("q=x&kind=spell")).status == .badRequest)
        }
    }

    /// Webhooks may arrive out of order: an entry older than the stored one, by the CMS's
    /// `updatedAt`, changes nothing, and a deleted entry is not brought back by its late events.
    @Test func eventsOutOfOrderDoNotUndoNewerOnes() async throws {
        let server = try await Self.server()
        try await server.test { client in
            let token = try await client.login("reader").access
            func send(_ event: String, _ term: String, _ time: String?) async throws -> String {
                let reply = try await client.call(.post, "/v1/hooks/cms", json: Self.event(event, term: term, updatedAt: time), headers: Self.bearer)
                #expect(reply.status == .ok, "\(reply.text)")
                return reply.json["status"] as? String ?? ""
            }
            func term() async throws -> String? {
                (try await client.call(.get, "/v1/content/vocabulary:7", token: token).json["titles"] as? [String: String])?["fr"]
            }
            func found(_ q: String) async throws -> Bool { Self.ids(try await client.call(.get, "/v1/search?q=\(q)", token: token)).contains("vocabulary:7") }
            #expect(try await send("entry.create", "pain", "2026-11-27T10:00:00.000Z") == "applied")
            #expect(try await send("entry.update", "fromage", "2026-11-27T10:02:00.000Z") == "applied")
            // The edit of 10:01 arrives after the one of 10:02: left, in the entry and the index.
            #expect(try await send("entry.update", "beurre", "2026-11-27T10:01:00.000Z") == "stale")
            #expect(try await term() == "fromage")
            #expect(try await found("fromage"))
            #expect(try await !found("beurre"))
            // The same time again is applied (a publish may carry its edit's time); no time at all too.
            #expect(try await send("entry.publish", "lait", "2026-11-27T10:02:00Z") == "applied")
            #expect(try await term() == "lait")
            #expect(try await send("entry.update", "crème", nil) == "applied")
            #expect(try await term() == "crème")
            // Deleted; then a late update of before the deletion does not bring it back.
            #expect(try await send("entry.delete", "crème", "2026-11-27T10:03:00.000Z") == "applied")
            #expect(try await send("entry.update", "sucre", "2026-11-27T10:02:30.000Z") == "stale")
            #expect(try await client.call(.get, "/v1/content/vocabulary:7", token: token).status == .notFound)
            #expect(try await found("sucre") == false)
            // A later one does (the CMS restored it).
            #expect(try await send("entry.create", "sel", "2026-11-27T10:05:00.000Z") == "applied")
            #expect(try await term() == "sel")
            #expect(try await found("sel"))
            // A time that is not one is refused, naming the field.
            let bad = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.update", updatedAt: "yesterday"), headers: Self.bearer)
            #expect(bad.status == .unprocessableContent && (bad.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "/entry/updatedAt")
            // Times Foundation's parser trapped on (hundreds of fraction digits), or took for
            // others (a 29 February of a common year, hour 24), or that are far too long.
            for time in ["2026-11-27T10:00:00." + String(repeating: "9", count: 500) + "Z", "2025-02-29T10:00:00Z", "2026-11-27T24:00:00Z",
                         "2026-11-27T10:00:00.123Z" + String(repeating: "0", count: 100_000), "٢٠٢٦-11-27T10:00:00Z", " 2026-11-27T10:00:00Z"] {
                let refused = try await client.call(.post, "/v1/hooks/cms", json: Self.event("entry.update", updatedAt: time), headers: Self.bearer)
                #expect(refused.status == .unprocessableContent && refused.fieldErrors["/entry/updatedAt"] != nil, "\(time.prefix(40)): \(refused.text.prefix(300))")
            }
            #expect(try await server.auditEvents().filter { $0.action == "cms.event_stale" }.count == 2)
        }
        // An import older than what is stored leaves it.
        let file = server.folder + "/old.json"
        try #"[{"model":"vocabulary","entry":{"id":7,"term":"poivre","language":"fr","updatedAt":"2026-11-27T09:00:00.000Z"}},"#
            .appending(#"{"model":"vocabulary","entry":{"id":8,"term":"huile","language":"fr","updatedAt":"2026-11-27T09:00:00.000Z"}}]"#)
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ServerOperations.importContent(server.configuration, from: file) == (1, 1))
        let (storage, pool) = try ServerOperations.open(server.configuration)
        defer { try? pool.close() }
        #expect(try await storage.content.entry(id: "vocabulary:7")?.titles["fr"] == "sel")
        #expect(try await storage.content.entry(id: "vocabulary:8")?.titles["fr"] == "huile")
    }

    @Test func strapiFiveDocumentIdsNameTheEntry() throws {
        let entry = try ContentEntry.from(model: "lesson", entry: ["id": 41, "documentId": "abc123", "title": "Greetings", "publishedAt": NSNull()])
        #expect(entry.id == "lesson:abc123" && !entry.published)
        #expect(try ContentEntry.from(model: "story", entry: ["id": 2.0, "title": ["es": "Hola"], "language": "es_MX"]).id == "lore:2")
        #expect(throws: ContentEntry.Refusal.self) { try ContentEntry.from(model: "lesson", entry: ["id": 1, "title": "x", "tags": [1, 2]]) }
        #expect(throws: ContentEntry.Refusal.self) { try ContentEntry.from(model: "lesson", entry: ["id": 1, "title": String(repeating: "x", count: 1001)]) }
    }

    @Test func importsAreAllOrNothingAndTheIndexRebuilds() async throws {
        let server = try await Self.server()
        let file = server.folder + "/bad.json"
        try #"{"entries":[{"model":"vocabulary","entry":{"id":1,"term":"uno"}},{"model":"vocabulary","entry":{"id":2,"term":"dos"}},{"model":"vocabulary","entry":{"id":3}}]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        await #expect(throws: OperationError.self) { try await ServerOperations.importContent(server.configuration, from: file) }
        do {
            _ = try await ServerOperations.importContent(server.configuration, from: file)
        } catch {
            #expect("\(error)".contains("/entries/2/entry/term: a vocabulary entry needs its term"), "\(error)")
        }
        try #"[{"model":"vocabulary","entry":{"id":1,"term":"uno","language":"es"}}]"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await ServerOperations.importContent(server.configuration, from: file) == (1, 0))
        try "not json".write(toFile: file, atomically: true, encoding: .utf8)
        await #expect(throws: OperationError.self) { try await ServerOperations.importContent(server.configuration, from: file) }
        try await server.test { client in
            let token = try await client.login("reader").access
            #expect(Self.ids(try await client.call(.get, "/v1/search?q=uno&kind=vocabulary", token: token)) == ["vocabulary:1"])
        }
        // An index lost or out of step is made again from what is stored.
        let (storage, pool) = try ServerOperations.open(server.configuration)
        let before = try await storage.content.counts()
        try await pool.write { db in try db.execute(sql: "DELETE FROM search_index") }
        try pool.close()
        #expect(try await ServerOperations.rebuildSearch(server.configuration) == before.indexed)
        try await server.test { client in
            let token = try await client.login("reader").access
            #expect(Self.ids(try await client.call(.get, "/v1/search?q=uno&kind=vocabulary", token: token)) == ["vocabulary:1"])
            #expect(!Self.ids(try await client.call(.get, "/v1/search?q=speaking&kind=pack", token: token)).isEmpty)
        }
    }
}
