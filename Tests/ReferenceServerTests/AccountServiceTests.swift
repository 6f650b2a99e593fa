import Crypto
import Foundation
@testable import ReferenceServer
import Synchronization
import Testing

/// A wall clock for services that moves only when told.
final class ServiceClock: Sendable {
    private let value: Mutex<Date>
    init(_ start: Date = PlayServiceTests.now) { value = Mutex(start) }
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { self.now } }
}

/// A store in a temporary folder, removed with it.
final class ServiceFolder: Sendable {
    let path: String
    let storage: Storage

    init(_ name: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        storage = try SQLiteStorage.open(path: path + "/rfl.sqlite").storage
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The account service without HTTP: a store in a temporary folder, fast bcrypt, a clock the
/// test moves, and a backoff after three failed logins.
@Suite struct AccountServiceTests {
    struct World {
        let folder: ServiceFolder
        let service: AccountService
        let clock: ServiceClock
        var storage: Storage { folder.storage }
    }

    static let password = "a long enough passphrase"
    static let visitor = Caller(userId: nil, address: "192.0.2.7", requestId: "req-7")

    static func world() async throws -> World {
        let folder = try ServiceFolder("account-service")
        let clock = ServiceClock()
        let tokens = try await TokenService(signing: SigningKey(P256.Signing.PrivateKey()), retired: [], issuer: "test", audience: "test", lifetime: 900)
        let service = AccountService(userStore: folder.storage.users, sessionStore: folder.storage.sessions, tokens: tokens,
                                     hasher: PasswordHasher(cost: 4), policy: PasswordPolicy(minimumLength: 12),
                                     limits: .init(failuresBeforeBackoff: 3, backoffMaximum: 900, refreshTokenLifetime: 3600, sessionLifetime: 4 * 3600),
                                     audit: AuditTrail(store: folder.storage.audit), now: clock.function)
        return World(folder: folder, service: service, clock: clock)
    }

    func actions(_ world: World, _ action: String) async throws -> [AuditEvent] {
        try await world.storage.audit.events(AuditFilter(action: action), after: nil, limit: 100)
    }

    @Test func registrationChecksThePasswordAndTheName() async throws {
        let world = try await Self.world()
        await #expect(throws: AccountError.passwordRefused(field: "/password", .tooShort(minimum: 12))) {
            try await world.service.register(username: "ana", password: "short", email: nil, by: Self.visitor)
        }
        await #expect(throws: AccountError.passwordRefused(field: "/password", .containsUsername)) {
            try await world.service.register(username: "anabelle", password: "my name is anabelle!", email: nil, by: Self.visitor)
        }
        let ana = try await world.service.register(username: "ana", password: Self.password, email: "ana@example.org", by: Self.visitor)
        #expect(ana.roles == [.player] && ana.createdAt == world.clock.now && ana.passwordHash != Self.password)
        // Names compare without case.
        await #expect(throws: AccountError.usernameTaken) {
            try await world.service.register(username: "ANA", password: Self.password, email: nil, by: Self.visitor)
        }
        // The new account is the actor of its own registration.
        let registered = try await actions(world, "user.registered")
        #expect(registered.map(\.actor) == [ana.id] && registered.first?.address == "192.0.2.7" && registered.first?.requestId == "req-7")
    }

    @Test func failedLoginsBackOffUntilTheWaitIsOver() async throws {
        let world = try await Self.world()
        let service = world.service
        _ = try await service.register(username: "ana", password: Self.password, email: nil, by: Self.visitor)
        for _ in 0..<3 {
            await #expect(throws: AccountError.credentialsInvalid) {
                try await service.login(username: "ana", password: "not the password", userAgent: nil, by: Self.visitor)
            }
        }
        // The fourth attempt waits a second, even with the right password.
        await #expect(throws: AccountError.loginBackoff(retryAfter: 1)) {
            try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        }
        // An unknown name gets the answer of a wrong password, and no wait.
        await #expect(throws: AccountError.credentialsInvalid) {
            try await service.login(username: "nobody", password: Self.password, userAgent: nil, by: Self.visitor)
        }
        world.clock.advance(1)
        let tokens = try await service.login(username: "ana", password: Self.password, userAgent: "test-agent", by: Self.visitor)
        #expect(tokens.refreshToken.hasPrefix("rt_") && tokens.expiresIn == 900 && !tokens.accessToken.isEmpty)
        // The success cleared the count: one more failure does not wait.
        await #expect(throws: AccountError.credentialsInvalid) {
            try await service.login(username: "ana", password: "not the password", userAgent: nil, by: Self.visitor)
        }
        #expect(try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor).expiresIn == 900)
        #expect(try await actions(world, "auth.login_failed").count == 5)
        let refused = try await actions(world, "auth.login_refused")
        #expect(refused.count == 1 && refused.first?.details["failures"] == "3" && refused.first?.actor == nil)
        // The sessions are dated by the service's clock.
        let user = try #require(try await world.storage.users.user(username: "ana"))
        let sessions = try await service.sessions(of: user.id)
        #expect(sessions.count == 2 && sessions.allSatisfy { $0.createdAt == world.clock.now && $0.expiresAt == world.clock.now.addingTimeInterval(3600) })
        #expect(sessions.contains { $0.userAgent == "test-agent" && $0.address == "192.0.2.7" })
    }

    @Test func theWaitDoublesUpToItsMaximumAndNeverExceedsIt() async throws {
        let world = try await Self.world()
        let now = world.clock.now
        func user(_ failures: Int, last: Date?) -> UserRecord {
            UserRecord(id: "u", username: "u", email: nil, passwordHash: "-", roles: [.player], createdAt: now, failedLogins: failures, lastFailedLoginAt: last)
        }
        let service = world.service
        #expect(service.backoff(for: user(2, last: now), at: now) == 0)
        #expect(service.backoff(for: user(3, last: now), at: now) == 1)
        #expect(service.backoff(for: user(5, last: now), at: now) == 4)
        #expect(service.backoff(for: user(5, last: now), at: now.addingTimeInterval(2.5)) == 2)
        #expect(service.backoff(for: user(40, last: now), at: now) == 900)
        // A failure stored in the future waits no longer than the wait itself; counts at the
        // ends of Int neither trap nor lock the account.
        #expect(service.backoff(for: user(5, last: now.addingTimeInterval(86_400)), at: now) == 4)
        #expect(service.backoff(for: user(.max, last: now), at: now) == 900)
        #expect(service.backoff(for: user(.min, last: now), at: now) == 0)
        #expect(service.backoff(for: user(10, last: nil), at: now) == 0)
    }

    @Test func aRefreshTokenWorksOnceAndItsReuseEndsTheSession() async throws {
        let world = try await Self.world()
        let service = world.service
        let ana = try await service.register(username: "ana", password: Self.password, email: nil, by: Self.visitor)
        let first = try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        world.clock.advance(60)
        let second = try await service.refresh(token: first.refreshToken, by: Self.visitor)
        #expect(second.refreshToken != first.refreshToken)
        let session = try #require(try await service.sessions(of: ana.id).first)
        #expect(session.lastUsedAt == world.clock.now && session.expiresAt == world.clock.now.addingTimeInterval(3600))
        // The first token again: someone else holds it, so the whole session ends.
        await #expect(throws: AccountError.refreshReused) { try await service.refresh(token: first.refreshToken, by: Self.visitor) }
        await #expect(throws: AccountError.refreshInvalid) { try await service.refresh(token: second.refreshToken, by: Self.visitor) }
        await #expect(throws: AccountError.refreshInvalid) { try await service.refresh(token: "rt_unknown", by: Self.visitor) }
        #expect(try await service.sessions(of: ana.id).isEmpty)
        #expect(try await actions(world, "auth.refresh_token_reused").map(\.target) == [ana.id])
        #expect(try await actions(world, "session.revoked").first?.details["reason"] == "refresh-token-reuse")
        // A session past its time cannot be refreshed either.
        let third = try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        world.clock.advance(3601)
        await #expect(throws: AccountError.refreshInvalid) { try await service.refresh(token: third.refreshToken, by: Self.visitor) }
    }

    /// Refreshed as often as it likes, a session ends at its absolute lifetime from its sign-in
    /// (four hours here, a refresh lasting one): its last refreshes reach exactly that end, the
    /// next fails, and the access it gave ends with it. Signing in again starts a new one.
    @Test func aSessionEndsAtItsAbsoluteLifetimeHoweverOftenItIsRefreshed() async throws {
        let world = try await Self.world()
        let service = world.service
        let ana = try await service.register(username: "ana", password: Self.password, email: nil, by: Self.visitor)
        let signedIn = world.clock.now
        var tokens = try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        for _ in 0..<5 {
            world.clock.advance(2400)
            tokens = try await service.refresh(token: tokens.refreshToken, by: Self.visitor)
            let session = try #require(try await service.sessions(of: ana.id).first)
            #expect(session.expiresAt == min(world.clock.now.addingTimeInterval(3600), signedIn.addingTimeInterval(4 * 3600)))
        }
        // 4 h in (6 × 40 min, the last refresh 40 min ago): the session ends now.
        world.clock.advance(2400)
        #expect(world.clock.now == signedIn.addingTimeInterval(4 * 3600))
        #expect(try await service.sessions(of: ana.id).isEmpty)
        await #expect(throws: AccountError.refreshInvalid) { try await service.refresh(token: tokens.refreshToken, by: Self.visitor) }
        let again = try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        #expect(try await service.refresh(token: again.refreshToken, by: Self.visitor).refreshToken != again.refreshToken)
    }

    @Test func sessionsEndByLogoutByTheirOwnerAndByAPasswordChange() async throws {
        let world = try await Self.world()
        let service = world.service
        let ana = try await service.register(username: "ana", password: Self.password, email: nil, by: Self.visitor)
        let bob = try await service.register(username: "bob", password: Self.password, email: nil, by: Self.visitor)
        for _ in 0..<3 { _ = try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor) }
        let asAna = Caller(userId: ana.id, address: "192.0.2.7", requestId: "req-8")
        let sessions = try await service.sessions(of: ana.id)
        #expect(sessions.count == 3)
        // Bob cannot end Ana's session, nor learn that it exists.
        await #expect(throws: AccountError.sessionNotFound) {
            try await service.revokeSession(sessions[0].id, of: bob.id, by: Caller(userId: bob.id))
        }
        try await service.revokeSession(sessions[0].id, of: ana.id, by: asAna)
        await #expect(throws: AccountError.sessionNotFound) { try await service.revokeSession(sessions[0].id, of: ana.id, by: asAna) }
        try await service.logout(sessionId: sessions[1].id, userId: ana.id, by: asAna)
        try await service.logout(sessionId: sessions[1].id, userId: ana.id, by: asAna)
        #expect(try await service.sessions(of: ana.id).map(\.id) == [sessions[2].id])
        #expect(try await actions(world, "session.revoked").map { $0.details["reason"] ?? "" } == ["revoked-by-user", "logout"])
        // A password change needs the current password and a good new one, and ends every session.
        await #expect(throws: AccountError.currentPasswordWrong) {
            try await service.changePassword(of: ana, current: "not the password", new: "another long passphrase", by: asAna)
        }
        await #expect(throws: AccountError.passwordRefused(field: "/new_password", .common)) {
            try await service.changePassword(of: ana, current: Self.password, new: "password1234", by: asAna)
        }
        try await service.changePassword(of: ana, current: Self.password, new: "another long passphrase", by: asAna)
        #expect(try await service.sessions(of: ana.id).isEmpty)
        #expect(try await actions(world, "user.password_changed").first?.details["sessions_revoked"] == "1")
        await #expect(throws: AccountError.credentialsInvalid) {
            try await service.login(username: "ana", password: Self.password, userAgent: nil, by: Self.visitor)
        }
        _ = try await service.login(username: "ana", password: "another long passphrase", userAgent: nil, by: Self.visitor)
    }

    @Test func theLastAdminKeepsTheRoleAndTheAccount() async throws {
        let world = try await Self.world()
        let service = world.service
        let root = UserRecord(id: "admin-1", username: "root", email: nil, passwordHash: "-", roles: [.admin], createdAt: world.clock.now)
        try await world.storage.users.create(root)
        let admin = Caller(userId: root.id, address: "192.0.2.1", requestId: "req-1")
        let ana = try await service.register(username: "ana", password: Self.password, email: nil, by: Self.visitor)
        await #expect(throws: AccountError.lastAdmin(field: "/roles")) { try await service.setRoles([.player], userId: root.id, by: admin) }
        await #expect(throws: AccountError.lastAdmin(field: nil)) { try await service.delete(userId: root.id, by: admin) }
        await #expect(throws: AccountError.userNotFound) { try await service.setRoles([.admin], userId: "nobody", by: admin) }
        await #expect(throws: AccountError.userNotFound) { try await service.delete(userId: "nobody", by: admin) }
        await #expect(throws: AccountError.userNotFound) { try await service.user(id: "nobody") }
        // With a second admin, the first may step down.
        #expect(try await service.setRoles([.admin, .player], userId: ana.id, by: admin).roles.contains(.admin))
        #expect(try await service.setRoles([.player], userId: root.id, by: admin).roles == [.player])
        let changes = try await actions(world, "user.roles_changed")
        #expect(changes.map(\.target) == [ana.id, root.id] && changes.last?.details == ["from": "admin", "to": "player"])
        try await service.delete(userId: root.id, by: admin)
        await #expect(throws: AccountError.userNotFound) { try await service.user(id: root.id) }
    }

    @Test func usersAndTheAuditLogComeInPagesOfAnySize() async throws {
        let world = try await Self.world()
        for name in ["ana", "bob", "cid"] { _ = try await world.service.register(username: name, password: Self.password, email: nil, by: Self.visitor) }
        let first = try await world.service.users(after: nil, limit: 2)
        #expect(first.items.count == 2 && first.more)
        let rest = try await world.service.users(after: first.items.last?.id, limit: 2)
        #expect(rest.items.count == 1 && !rest.more)
        // Sizes the contract would refuse neither trap nor read everything at once by accident.
        #expect(try await world.service.users(after: nil, limit: Int.max).items.count == 3)
        #expect(try await world.service.users(after: nil, limit: 0).items.count == 1)
        #expect(try await world.service.users(after: nil, limit: Int.min).items.count == 1)
        let audit = AuditService(store: world.storage.audit)
        let events = try await audit.events(AuditFilter(action: "user.registered"), after: nil, limit: 2)
        #expect(events.items.map(\.sequence) == [1, 2] && events.more)
        let next = try await audit.events(AuditFilter(action: "user.registered"), after: events.items.last?.sequence, limit: 2)
        #expect(next.items.map(\.sequence) == [3] && !next.more)
    }
}
