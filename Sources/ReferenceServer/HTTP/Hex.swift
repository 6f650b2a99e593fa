import Crypto
import Foundation

/// Lowercase hexadecimal, the form in which the server writes every digest, signature and seed.
enum Hex {
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of `bytes`, in hex.
    static func sha256(_ bytes: some DataProtocol) -> String {
        string(SHA256.hash(data: bytes))
    }

    /// The SHA-256 of a text's UTF-8, in hex.
    static func sha256(_ text: String) -> String {
        sha256(Data(text.utf8))
    }
}
