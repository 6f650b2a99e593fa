import ContentPacks
import Foundation
import Logging
@testable import ReferenceServer
import Testing

/// The pack service without HTTP: the bundled packs in a store in a temporary folder, and a
/// fixed clock.
@Suite struct PackServiceTests {
    struct World {
        let folder: ServiceFolder
        let service: PackService
        let clock: ServiceClock
        var storage: Storage { folder.storage }
    }

    static let designer = Caller(userId: "designer-1", address: "192.0.2.3", requestId: "req-3")

    static func world() async throws -> World {
        let folder = try ServiceFolder("pack-service")
        try await folder.storage.users.create(UserRecord(id: "designer-1", username: "designer", email: nil, passwordHash: "-",
                                                         roles: [.contentDesigner], createdAt: PlayServiceTests.now))
        let library = PackLibrary(store: folder.storage.packs)
        _ = try await library.installBundled(directory: TestServer.rulesets, logger: Logger(label: "test"))
        let clock = ServiceClock()
        let service = PackService(store: folder.storage.packs, library: library, content: folder.storage.content,
                                  audit: AuditTrail(store: folder.storage.audit), now: clock.function)
        return World(folder: folder, service: service, clock: clock)
    }

    @Test func aVersionIsPublishedOnceAndNeverChanges() async throws {
        let world = try await Self.world()
        let service = world.service
        let xml = Array(PackTests.core(version: "1.1.0").utf8)
        guard case .created(let record, _) = try await service.publish(xml: xml, by: Self.designer) else {
            Issue.record("the new version was not created")
            return
        }
        #expect(record.id == "core" && record.version == "1.1.0" && record.uploadedBy == "designer-1" && record.uploadedAt == world.clock.now)
        #expect(record.sha256 == Hex.sha256(xml) && !record.bundled)
        // The same bytes again are the stored version; other bytes under its number are refused.
        #expect(try await service.publish(xml: xml, by: Self.designer) == .unchanged(record))
        await #expect(throws: PackServiceError.versionExists(pack: "core", version: "1.1.0")) {
            try await service.publish(xml: Array(PackTests.core(version: "1.1.0", title: "Another title").utf8), by: Self.designer)
        }
        #expect(try await service.xml(id: "core", version: "1.1.0").xml == xml)
        await #expect(throws: PackServiceError.notFound(pack: "core", version: "9.9.9")) { try await service.pack(id: "core", version: "9.9.9") }
        await #expect(throws: PackServiceError.notFound(pack: "nowhere", version: "1.0.0")) { try await service.xml(id: "nowhere", version: "1.0.0") }
        let published = try await world.storage.audit.events(AuditFilter(action: "pack.published"), after: nil, limit: 10)
        #expect(published.map(\.target) == ["core@1.1.0"] && published.first?.actor == "designer-1")
    }

    @Test func anInvalidUploadIsRefusedWithEveryDiagnostic() async throws {
        let world = try await Self.world()
        let broken = Array("<pack>\n  <oops\n".utf8)
        do {
            _ = try await world.service.publish(xml: broken, by: Self.designer)
            Issue.record("a broken pack was published")
        } catch let PackServiceError.invalid(diagnostics) {
            #expect(!diagnostics.isEmpty && diagnostics.first?.severity == .error && diagnostics.first?.path == "upload.xml")
        }
        // A pack that requires what is not published is refused too, naming the requirement.
        let needy = PackTests.core(version: "1.2.0")
            .replacingOccurrences(of: "</license>\n", with: "</license>\n  <requires><pack id=\"atlas\" version=\"^2.0\"/></requires>\n")
        do {
            _ = try await world.service.publish(xml: Array(needy.utf8), by: Self.designer)
            Issue.record("a pack with an unmet requirement was published")
        } catch let PackServiceError.invalid(diagnostics) {
            #expect(diagnostics.contains { $0.code == "requires" && $0.message.contains("atlas") })
        }
        let rejected = try await world.storage.audit.events(AuditFilter(action: "pack.rejected"), after: nil, limit: 10)
        #expect(rejected.count == 2 && rejected.first?.details["sha256"] == Hex.sha256(broken))
        #expect(try await world.service.packs(id: "core", includeRetired: true).map(\.version) == ["1.0.0"])
    }

    @Test func aRetiredVersionStaysStoredButIsNoLongerListed() async throws {
        let world = try await Self.world()
        let service = world.service
        _ = try await service.publish(xml: Array(PackTests.core(version: "1.1.0").utf8), by: Self.designer)
        let retired = try await service.retire(id: "core", version: "1.1.0", by: Self.designer)
        #expect(retired.retiredAt == world.clock.now)
        // Retiring again changes nothing, and is audited once.
        world.clock.advance(60)
        #expect(try await service.retire(id: "core", version: "1.1.0", by: Self.designer).retiredAt == retired.retiredAt)
        #expect(try await world.storage.audit.events(AuditFilter(action: "pack.retired"), after: nil, limit: 10).count == 1)
        #expect(try await service.packs(id: "core", includeRetired: false).map(\.version) == ["1.0.0"])
        #expect(try await service.packs(id: "core", includeRetired: true).map(\.version) == ["1.0.0", "1.1.0"])
        #expect(try await service.pack(id: "core", version: "1.1.0").retiredAt != nil)
        await #expect(throws: PackServiceError.notFound(pack: "core", version: "3.0.0")) {
            try await service.retire(id: "core", version: "3.0.0", by: Self.designer)
        }
    }
}
