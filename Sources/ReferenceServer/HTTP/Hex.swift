import Crypto
import Foundation

/// Lowercase hexadecimal, the form in which the server writes every digest, signature and seed.
enum Hex {
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
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
