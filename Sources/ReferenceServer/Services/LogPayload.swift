import Foundation

/// The content of a campaign log entry, typed by the contract (openapi.yaml's `RollPayload`,
/// `CheckPayload`, `SessionPayload`, `MemberPayload`, `CharacterPayload` and `ArchivedPayload`).
/// The log stores it as its JSON; the entry's kind says which it is.
typealias LogPayload = Components.Schemas.LogEntry.PayloadPayload

extension LogPayload {
    /// The stored JSON of an entry of `kind`, read as the payload that kind has.
    static func stored(kind: String, json: String) throws -> LogPayload {
        let data = Data(json.utf8)
        let decoder = JSONDecoder()
        do {
            switch kind {
            case "roll": return .RollPayload(try decoder.decode(Components.Schemas.RollPayload.self, from: data))
            case "check": return .CheckPayload(try decoder.decode(Components.Schemas.CheckPayload.self, from: data))
            case _ where kind.hasPrefix("session."): return .SessionPayload(try decoder.decode(Components.Schemas.SessionPayload.self, from: data))
            case _ where kind.hasPrefix("member."): return .MemberPayload(try decoder.decode(Components.Schemas.MemberPayload.self, from: data))
            case _ where kind.hasPrefix("character."): return .CharacterPayload(try decoder.decode(Components.Schemas.CharacterPayload.self, from: data))
            case "campaign.archived": return .ArchivedPayload(try decoder.decode(Components.Schemas.ArchivedPayload.self, from: data))
            default: throw ServiceFailure("a log entry of the unknown kind '\(kind)'")
            }
        } catch let error as DecodingError {
            throw ServiceFailure("a stored log entry of kind '\(kind)' does not read as its payload: \(error)")
        }
    }

    /// The JSON the log stores.
    var json: String {
        get throws { try StoredJSON.text(self) }
    }

    /// What replays a roll or a check: its session, nonce and seeds.
    var seeds: (session: String, nonce: Int, clientSeed: String, seed: String)? {
        switch self {
        case .RollPayload(let roll): (roll.session, roll.nonce, roll.clientSeed, roll.seed)
        case .CheckPayload(let check): (check.session, check.nonce, check.clientSeed, check.seed)
        default: nil
        }
    }
}
