import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Password rules after NIST SP 800-63B: a minimum length and no composition rules; passwords
/// that are common, repetitive or sequential, or that contain the username or the service's
/// name, are refused; every printable character, spaces and Unicode included, is allowed
/// (compared after NFKC normalisation).
package struct PasswordPolicy: Sendable {
    package var minimumLength: Int
    package var maximumLength = 1024

    package init(minimumLength: Int) { self.minimumLength = minimumLength }

    /// Why a password is refused: a message key of the catalogs, with its arguments.
    package enum Refusal: Equatable, Sendable {
        case tooShort(minimum: Int)
        case tooLong(maximum: Int)
        case common
        case repetitive
        case containsUsername
        case containsServiceName
    }

    /// What the policy refuses besides the lengths, as `GET /v1/auth/password-policy` names it.
    package static let refusals = ["common", "repetitive", "username", "service_name"]

    package func check(_ password: String, username: String) -> Refusal? {
        let normalized = Self.normalize(password)
        let count = normalized.count
        if count < minimumLength { return .tooShort(minimum: minimumLength) }
        if count > maximumLength { return .tooLong(maximum: maximumLength) }
        let folded = normalized.lowercased()
        if CommonPasswords.contains(folded) { return .common }
        if Self.isRepetitiveOrSequential(folded) { return .repetitive }
        if username.count >= 3, folded.contains(username.lowercased()) { return .containsUsername }
        let squeezed = folded.filter { $0.isLetter || $0.isNumber }
        if squeezed.contains("rollforlanguage") { return .containsServiceName }
        return nil
    }

    /// NFKC, as NIST advises before hashing, so that the same password typed on two keyboards is
    /// the same password.
    static func normalize(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    /// One character repeated (`aaaaaaaaaaaa`), a run up or down (`123456789012`, `abcdefghijkl`),
    /// or a short pattern repeated (`abcabcabcabc`).
    static func isRepetitiveOrSequential(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars).map(\.value)
        guard scalars.count >= 2 else { return true }
        // Digits count round: 7890123 is a run.
        func isDigit(_ value: UInt32) -> Bool { (0x30...0x39).contains(value) }
        let steps = zip(scalars.dropFirst(), scalars).map { next, previous -> Int64 in
            let step = Int64(next) - Int64(previous)
            if isDigit(next), isDigit(previous), abs(step) == 9 { return step > 0 ? -1 : 1 }
            return step
        }
        if steps.allSatisfy({ $0 == 0 }) || steps.allSatisfy({ $0 == 1 }) || steps.allSatisfy({ $0 == -1 }) { return true }
        for period in 1...min(4, scalars.count / 2) where scalars.indices.allSatisfy({ scalars[$0] == scalars[$0 % period] }) {
            return true
        }
        return false
    }
}

/// bcrypt with a SHA-256 pre-hash: bcrypt reads only 72 bytes, and passwords may be 1024
/// characters, so the password's NFKC form is hashed to 44 base64 characters first. bcrypt runs
/// on NIO's blocking thread pool, never on the threads that serve requests.
package struct PasswordHasher: Sendable {
    package let cost: Int

    package init(cost: Int) { self.cost = cost }

    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(PasswordPolicy.normalize(password).utf8))).base64EncodedString()
    }

    package func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        let input = Self.prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    package func verify(_ password: String, hash: String) async throws -> Bool {
        let input = Self.prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    /// Spends the time of one verification, for a login of an unknown user, so that the answer
    /// takes as long whether or not the account exists.
    package func verifyNothing(_ password: String) async throws {
        _ = try await verify(password, hash: dummyHash)
    }

    private var dummyHash: String {
        // A valid bcrypt hash at this cost of a random value nobody knows.
        PasswordHasher.dummyHashes.withLock { hashes in
            if let hash = hashes[cost] { return hash }
            let hash = Bcrypt.hash(UUID().uuidString, cost: UInt8(cost))
            hashes[cost] = hash
            return hash
        }
    }

    private static let dummyHashes = Mutex<[Int: String]>([:])
}
