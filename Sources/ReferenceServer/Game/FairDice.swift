import Crypto
import Foundation

/// Provably fair dice: the seed of every roll of a play session is derived from a server seed
/// committed to before the first roll, a client seed the players may set, and the roll's nonce.
///
///     commitment = hex(SHA-256(server_seed_bytes))
///     seed       = first 8 bytes, big-endian, of HMAC-SHA256(key: server_seed_bytes,
///                                                            message: UTF-8("<client_seed>:<nonce>"))
///
/// `server_seed_bytes` are the 32 bytes the 64 hex digits of the server seed spell; `nonce` is
/// the roll's position in its session (0, 1, …) in decimal. The roll is then
/// `RNG(seed: seed)`, the engine's documented generator, exactly as `rfl roll EXPR --seed S`.
package enum FairDice {
    /// A new secret server seed: 32 random bytes from the system's generator, as hex.
    package static func newServerSeed() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.string((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The SHA-256 of the seed's bytes, as hex: what is published before the first roll.
    package static func commitment(serverSeed: String) -> String? {
        guard let bytes = bytes(hex: serverSeed) else { return nil }
        return Hex.sha256(bytes)
    }

    /// The 64-bit seed of the roll with `nonce` in a session.
    package static func seed(serverSeed: String, clientSeed: String, nonce: Int) -> UInt64? {
        guard let key = bytes(hex: serverSeed) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(clientSeed):\(nonce)".utf8), using: SymmetricKey(data: key))
        return Array(mac).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
