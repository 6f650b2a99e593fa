import Crypto
import Foundation
@testable import ReferenceServer
import Testing

/// The content service without HTTP: CMS events as the webhook delivers them, search and
/// entries, over a store in a temporary folder, with a fixed clock.
@Suite struct ContentServiceTests {
    struct World {
        let folder: ServiceFolder
        let service: ContentService
        var storage: Storage { folder.storage }
    }

    static let secret = ContentTests.secret
    static let cms = Caller(userId: nil, address: "192.0.2.9", requestId: "req-9")

    static func world(_ authentication: ServerConfiguration.CMSWebhookAuth = .token, secret: String? = ContentServiceTests.secret) throws -> World {
        let folder = try ServiceFolder("content-service")
        let service = ContentService(store: folder.storage.content, webhook: .init(secret: secret, authentication: authentication),
                                     audit: AuditTrail(store: folder.storage.audit), now: ServiceClock().function)
        return World(folder: folder, service: service)
    }

    static func delivery(_ body: String, bearer: String? = ContentServiceTests.secret, id: String? = nil) -> ContentService.Delivery {
        ContentService.Delivery(body: Array(body.utf8), authorization: bearer.map { "Bearer \($0)" }, signature: nil, id: id)
    }

    static func signed(_ body: String, secret: String = ContentServiceTests.secret, id: String? = nil) -> ContentService.Delivery {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return ContentService.Delivery(body: Array(body.utf8), authorization: nil, signature: "sha256=" + Hex.string(mac), id: id)
    }

    @Test func eventsAreAuthenticatedAppliedOnceAndRefusedWhenUnreadable() async throws {
        let world = try Self.world()
        let service = world.service
        let created = ContentTests.event("entry.create")
        await #expect(throws: ContentError.webhookUnauthenticated(bearer: true)) {
            try await service.receive(Self.delivery(created, bearer: "a guess"), by: Self.cms)
        }
        await #expect(throws: ContentError.webhookUnauthenticated(bearer: true)) {
            try await service.receive(Self.delivery(created, bearer: nil), by: Self.cms)
        }
        #expect(try await service.receive(Self.delivery(created, id: "d-1"), by: Self.cms) == .handled(.applied, entryId: "vocabulary:7"))
        #expect(try await service.receive(Self.delivery(created, id: "d-1"), by: Self.cms) == .handled(.duplicate, entryId: "vocabulary:7"))
        // Another model, or another kind of event, is not the server's to store.
        let other = created.replacingOccurrences(of: #""model":"vocabulary""#, with: #""model":"author""#)
        #expect(try await service.receive(Self.delivery(other), by: Self.cms) == .ignored)
        #expect(try await service.receive(Self.delivery(#"{"event":"media.create"}"#), by: Self.cms) == .ignored)
        await #expect(throws: ContentError.eventInvalid(field: "/", reason: "the body is not an event object")) {
            try await service.receive(Self.delivery("[1, 2"), by: Self.cms)
        }
        await #expect(throws: ContentError.eventInvalid(field: "/entry", reason: "an entry event needs its entry")) {
            try await service.receive(Self.delivery(#"{"event":"entry.update","model":"lore"}"#), by: Self.cms)
        }
        let refused = try await world.storage.audit.events(AuditFilter(action: "cms.event_refused"), after: nil, limit: 10)
        #expect(refused.count == 2 && refused.allSatisfy { $0.actor == nil && $0.address == "192.0.2.9" })
        #expect(try await world.storage.audit.events(AuditFilter(action: "cms.event"), after: nil, limit: 10).map(\.target) == ["vocabulary:7"])
    }

    @Test func signedEventsAreKnownByTheirBodyAndAnUnconfiguredHookIsOff() async throws {
        let world = try Self.world(.hmac)
        let body = ContentTests.event("entry.create")
        await #expect(throws: ContentError.webhookUnauthenticated(bearer: false)) {
            try await world.service.receive(Self.signed(body, secret: "another secret"), by: Self.cms)
        }
        #expect(try await world.service.receive(Self.signed(body, id: "d-1"), by: Self.cms) == .handled(.applied, entryId: "vocabulary:7"))
        // A delivery id the signature does not cover cannot replay the event as a new one.
        #expect(try await world.service.receive(Self.signed(body, id: "d-2"), by: Self.cms) == .handled(.duplicate, entryId: "vocabulary:7"))
        // Without a secret the hook is off, and nothing is audited: there is no secret to guess.
        let off = try Self.world(secret: nil)
        await #expect(throws: ContentError.webhookOff) { try await off.service.receive(Self.delivery(body), by: Self.cms) }
        #expect(try await off.storage.audit.events(AuditFilter(), after: nil, limit: 10).isEmpty)
    }

    @Test func searchNeedsAWordAndPagesWithItsOwnCursors() async throws {
        let world = try Self.world()
        let service = world.service
        for id in 1...3 { _ = try await service.receive(Self.delivery(ContentTests.event("entry.create", id: id)), by: Self.cms) }
        for empty in ["", "   ", "?! ,,", "''--"] {
            await #expect(throws: ContentError.queryEmpty) {
                try await service.search(empty, language: nil, kind: nil, tags: [], limit: 10, cursor: nil)
            }
        }
        for cursor in ["x", "-1", "10001", "99999999999999999999"] {
            await #expect(throws: ContentError.cursorInvalid) {
                try await service.search("cafe", language: nil, kind: nil, tags: [], limit: 10, cursor: cursor)
            }
        }
        let first = try await service.search("CAFÉ", language: "FR", kind: "vocabulary", tags: [" food ", ""], limit: 2, cursor: nil)
        #expect(first.hits.count == 2 && first.next == "2")
        let last = try await service.search("cafe", language: "fr", kind: "vocabulary", tags: ["food"], limit: 2, cursor: first.next)
        #expect(last.hits.count == 1 && last.next == nil)
        #expect(Set((first.hits + last.hits).map(\.id)) == ["vocabulary:1", "vocabulary:2", "vocabulary:3"])
        // Sizes no one should ask for neither trap nor page past the deepest offset.
        #expect(try await service.search("cafe", language: nil, kind: nil, tags: [], limit: 0, cursor: nil).next == "1")
        #expect(try await service.search("cafe", language: nil, kind: nil, tags: [], limit: Int.max, cursor: "10000").next == nil)
        #expect(try await service.search("cafe", language: nil, kind: nil, tags: ["drinks", "nothing-like-it"], limit: 10, cursor: nil).hits.isEmpty)
    }

    @Test func draftsAreReadByContentDesignersOnly() async throws {
        let world = try Self.world()
        _ = try await world.service.receive(Self.delivery(ContentTests.event("entry.create", published: false)), by: Self.cms)
        await #expect(throws: ContentError.notFound) { try await world.service.entry(id: "vocabulary:7", readerRoles: [.player]) }
        #expect(try await world.service.entry(id: "vocabulary:7", readerRoles: [.contentDesigner]).published == false)
        #expect(try await world.service.entry(id: "vocabulary:7", readerRoles: [.admin]).titles["fr"] == "café")
        await #expect(throws: ContentError.notFound) { try await world.service.entry(id: "vocabulary:8", readerRoles: [.admin]) }
        // Published, it is everyone's; drafts are not found by search either way.
        #expect(try await world.service.search("cafe", language: nil, kind: nil, tags: [], limit: 10, cursor: nil).hits.isEmpty)
        _ = try await world.service.receive(Self.delivery(ContentTests.event("entry.publish")), by: Self.cms)
        #expect(try await world.service.entry(id: "vocabulary:7", readerRoles: []).published)
    }
}
