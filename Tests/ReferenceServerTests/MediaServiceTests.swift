import Foundation
import Logging
@testable import ReferenceServer
import Synchronization
import Testing

/// The media service without HTTP: records in a store in a temporary folder, bytes on its disk,
/// small limits, and a clock the test moves.
@Suite struct MediaServiceTests {
    struct World {
        let folder: ServiceFolder
        let service: MediaService
        let blobs: any BlobStore
        let clock: ServiceClock
        var storage: Storage { folder.storage }
    }

    static let png = MediaTests.png
    static let alice = Caller(userId: "alice-1", address: "192.0.2.4", requestId: "req-4")

    static func world(blobs: ((String) -> any BlobStore)? = nil) async throws -> World {
        let folder = try ServiceFolder("media-service")
        for name in ["alice", "bruno"] {
            try await folder.storage.users.create(UserRecord(id: "\(name)-1", username: name, email: nil, passwordHash: "-", roles: [.player],
                                                             createdAt: PlayServiceTests.now))
        }
        // The failures tests provoke on purpose are not worth a line of output.
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = blobs?(folder.path) ?? LocalBlobStore(root: folder.path + "/media")
        let clock = ServiceClock()
        let service = MediaService(store: folder.storage.media, blobs: store, locks: KeyedLock(),
                                   limits: .init(maxBytes: 2000, quotaBytes: 2500, linkLifetime: 300),
                                   audit: AuditTrail(store: folder.storage.audit), logger: logger, now: clock.function)
        return World(folder: folder, service: service, blobs: store, clock: clock)
    }

    @Test func uploadsAreTypedByTheirBytesAndKeptWithinTheLimits() async throws {
        let world = try await Self.world()
        let service = world.service
        let first = try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        #expect(first.contentType == "image/png" && first.size == 1008 && first.createdAt == world.clock.now && first.id.hasPrefix("m_"))
        await #expect(throws: MediaServiceError.typeUnknown) {
            try await service.upload(Array("<html>hello</html>".utf8), ownerId: "alice-1", by: Self.alice)
        }
        await #expect(throws: MediaServiceError.tooLarge(max: 2000)) {
            try await service.upload(Self.png + Array(repeating: 0, count: 993), ownerId: "alice-1", by: Self.alice)
        }
        // The same bytes again take the quota again, though they are stored once.
        world.clock.advance(1)
        let second = try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.quotaExceeded(quota: 2500)) {
            try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        }
        // Another user has their own quota.
        _ = try await service.upload(Self.png, ownerId: "bruno-1", by: Caller(userId: "bruno-1"))
        #expect(try await world.storage.media.usedBytes(ownerId: "alice-1") == 2016)
        #expect(try await world.blobs.contains(key: first.sha256))
        #expect(try await service.bytes(of: second, range: 0...7, by: Self.alice) == Array(Self.png.prefix(8)))
        #expect(try await service.bytes(of: second, range: nil, by: Self.alice) == Self.png)
        let uploaded = try await world.storage.audit.events(AuditFilter(action: "media.uploaded"), after: nil, limit: 10)
        #expect(uploaded.count == 3 && uploaded.first?.actor == "alice-1" && uploaded.first?.details["type"] == "image/png")
    }

    @Test func listingsPageWithTheirOwnCursors() async throws {
        let world = try await Self.world()
        let service = world.service
        var ids: [String] = []
        for _ in 0..<2 {
            ids.append(try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice).id)
            world.clock.advance(1)
        }
        let first = try await service.uploads(of: "alice-1", after: nil, limit: 1)
        #expect(first.items.map(\.id) == [ids[1]] && first.usedBytes == 2016 && first.quotaBytes == 2500)
        let next = try #require(first.next)
        #expect(next == "\(Int64(world.clock.now.timeIntervalSince1970 - 1) * 1000).\(ids[1])")
        let last = try await service.uploads(of: "alice-1", after: next, limit: 1)
        #expect(last.items.map(\.id) == [ids[0]] && last.next == nil)
        for cursor in ["", "x", "12", "-5.m_x", "1e3.m_x", "99999999999999999999.m_x"] {
            await #expect(throws: MediaServiceError.cursorInvalid) { try await service.uploads(of: "alice-1", after: cursor, limit: 1) }
        }
        #expect(try await service.uploads(of: "alice-1", after: nil, limit: Int.max).items.count == 2)
        #expect(try await service.uploads(of: "alice-1", after: nil, limit: 0).items.count == 1)
        #expect(try await service.uploads(of: "bruno-1", after: nil, limit: 10).items.isEmpty)
    }

    @Test func onlyTheOwnerDeletesAndTheBytesGoWithTheLastRecord() async throws {
        let world = try await Self.world()
        let service = world.service
        let first = try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        let second = try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.notFound) { try await service.delete(id: first.id, ownerId: "bruno-1", by: Caller(userId: "bruno-1")) }
        try await service.delete(id: first.id, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.notFound) { try await service.media(id: first.id) }
        await #expect(throws: MediaServiceError.notFound) { try await service.delete(id: first.id, ownerId: "alice-1", by: Self.alice) }
        #expect(try await world.blobs.contains(key: second.sha256))
        try await service.delete(id: second.id, ownerId: "alice-1", by: Self.alice)
        #expect(try await !world.blobs.contains(key: second.sha256))
        await #expect(throws: MediaServiceError.notFound) { try await service.bytes(of: second, range: nil, by: Self.alice) }
        // The local disk makes no links.
        let third = try await service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.noLinks) { try await service.link(id: third.id) }
        await #expect(throws: MediaServiceError.notFound) { try await service.link(id: "m_nothing") }
        #expect(try await world.storage.audit.events(AuditFilter(action: "media.deleted"), after: nil, limit: 10).count == 2)
    }

    /// A blob store that fails as an S3 store that does not answer would, and makes links.
    struct FailingStore: BlobStore {
        let failing: Bool
        func put(_ bytes: [UInt8], key: String, contentType: String) async throws { if failing { throw MediaError.io("connection refused") } }
        func get(key: String, range: ClosedRange<Int>?) async throws -> [UInt8]? { throw MediaError.io("connection refused") }
        func contains(key: String) async throws -> Bool { false }
        func delete(key: String) async throws { throw MediaError.io("connection refused") }
        func link(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String? {
            "https://media.example/\(key)?expires=\(Int(date.timeIntervalSince1970) + seconds)"
        }
        var description: String { "a store that fails" }
    }

    @Test func aFailingStoreIsUnavailableAndNothingIsRecorded() async throws {
        let failing = try await Self.world(blobs: { _ in FailingStore(failing: true) })
        await #expect(throws: MediaServiceError.storeUnavailable) { try await failing.service.upload(Self.png, ownerId: "alice-1", by: Self.alice) }
        #expect(try await failing.storage.media.usedBytes(ownerId: "alice-1") == 0)
        // Reads fail the same way; a deletion whose bytes cannot go still deletes the record.
        let reading = try await Self.world(blobs: { _ in FailingStore(failing: false) })
        let record = try await reading.service.upload(Self.png, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.storeUnavailable) { try await reading.service.bytes(of: record, range: nil, by: Self.alice) }
        // Links are dated by the service's clock, in whole seconds.
        reading.clock.advance(0.75)
        let link = try await reading.service.link(id: record.id)
        #expect(link.expiresAt == PlayServiceTests.now.addingTimeInterval(300) && link.url.hasSuffix("expires=\(1_900_000_300)"))
        try await reading.service.delete(id: record.id, ownerId: "alice-1", by: Self.alice)
        await #expect(throws: MediaServiceError.notFound) { try await reading.service.media(id: record.id) }
    }
}
