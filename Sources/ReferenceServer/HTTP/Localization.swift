import Foundation

/// The languages the server speaks, chosen from `Accept-Language`.
package enum Language: String, Sendable, CaseIterable {
    case en, es, fr

    package static let fallback = Language.en

    /// The best supported language for an `Accept-Language` value (RFC 9110 §12.5.4): ranges in
    /// order of their q-values, `es-MX` matching `es`, `*` matching the fallback; q=0 excludes.
    package static func negotiate(_ header: String?) -> Language {
        guard let header, !header.isEmpty else { return fallback }
        var ranges: [(tag: String, q: Double, order: Int)] = []
        for (order, item) in header.split(separator: ",").prefix(32).enumerated() {
            let parts = item.split(separator: ";").map(\.trimmingOWS)
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            ranges.append((tag, q, order))
        }
        let excluded = Set(ranges.filter { $0.q <= 0 }.map { $0.tag.split(separator: "-").first.map(String.init) ?? $0.tag })
        for range in ranges.filter({ $0.q > 0 }).sorted(by: { $0.q != $1.q ? $0.q > $1.q : $0.order < $1.order }) {
            if range.tag == "*" {
                if let free = Language.allCases.first(where: { !excluded.contains($0.rawValue) }) { return free }
                continue
            }
            let primary = range.tag.split(separator: "-").first.map(String.init) ?? range.tag
            if let language = Language(rawValue: primary), !excluded.contains(primary) { return language }
        }
        return fallback
    }
}

/// Every message the server shows people. Each has a text in every catalog
/// (Resources/i18n/LANG.json); a test keeps the catalogs complete.
package enum MessageKey: String, Sendable, CaseIterable {
    // Titles of problem types.
    case titleValidation = "title.validation"
    case titleUnprocessable = "title.unprocessable"
    case titleMalformed = "title.malformed"
    case titleUnauthenticated = "title.unauthenticated"
    case titleForbidden = "title.forbidden"
    case titleNotFound = "title.not_found"
    case titleMethodNotAllowed = "title.method_not_allowed"
    case titleConflict = "title.conflict"
    case titleTooLarge = "title.too_large"
    case titleUnsupportedMediaType = "title.unsupported_media_type"
    case titleRateLimited = "title.rate_limited"
    case titleInternal = "title.internal"
    case titleUnavailable = "title.unavailable"
    case titlePreconditionFailed = "title.precondition_failed"
    case titlePreconditionRequired = "title.precondition_required"
    case titleUpgradeRequired = "title.upgrade_required"
    // Fields.
    case fieldRequired = "field.required"
    case fieldUnknown = "field.unknown"
    case fieldType = "field.type"
    case fieldTooShort = "field.too_short"
    case fieldTooLong = "field.too_long"
    case fieldPattern = "field.pattern"
    case fieldEnum = "field.enum"
    case fieldMinimum = "field.minimum"
    case fieldMaximum = "field.maximum"
    case fieldMinItems = "field.min_items"
    case fieldMaxItems = "field.max_items"
    case fieldDuplicateItems = "field.duplicate_items"
    case fieldFormat = "field.format"
    case fieldInvalid = "field.invalid"
    // Details.
    case bodyNotJSON = "detail.body_not_json"
    case bodyTooLarge = "detail.body_too_large"
    case mediaTypeJSON = "detail.media_type_json"
    case validationFailed = "detail.validation_failed"
    case passwordTooShort = "detail.password_too_short"
    case passwordTooLong = "detail.password_too_long"
    case passwordCommon = "detail.password_common"
    case passwordRepetitive = "detail.password_repetitive"
    case passwordContainsUsername = "detail.password_contains_username"
    case passwordContainsServiceName = "detail.password_contains_service_name"
    case passwordWrong = "detail.password_wrong"
    case usernameTaken = "detail.username_taken"
    case credentialsInvalid = "detail.credentials_invalid"
    case loginBackoff = "detail.login_backoff"
    case tokenMissing = "detail.token_missing"
    case tokenInvalid = "detail.token_invalid"
    case sessionEnded = "detail.session_ended"
    case refreshInvalid = "detail.refresh_invalid"
    case refreshReused = "detail.refresh_reused"
    case permissionMissing = "detail.permission_missing"
    case notYours = "detail.not_yours"
    case sessionNotFound = "detail.session_not_found"
    case userNotFound = "detail.user_not_found"
    case lastAdmin = "detail.last_admin"
    case routeNotFound = "detail.route_not_found"
    case methodNotAllowed = "detail.method_not_allowed"
    case rateLimited = "detail.rate_limited"
    case internalError = "detail.internal"
    case databaseUnavailable = "detail.database_unavailable"
    case cursorInvalid = "detail.cursor_invalid"
    // Packs, campaigns, characters, play.
    case mediaTypeXML = "detail.media_type_xml"
    case packInvalid = "detail.pack_invalid"
    case packVersionExists = "detail.pack_version_exists"
    case packNotFound = "detail.pack_not_found"
    case packsUnresolved = "detail.packs_unresolved"
    case campaignNotFound = "detail.campaign_not_found"
    case campaignArchived = "detail.campaign_archived"
    case gameMasterOnly = "detail.game_master_only"
    case invitationInvalid = "detail.invitation_invalid"
    case memberNotFound = "detail.member_not_found"
    case lastGameMaster = "detail.last_game_master"
    case characterNotFound = "detail.character_not_found"
    case characterNotYours = "detail.character_not_yours"
    case versionMismatch = "detail.version_mismatch"
    case ifMatchRequired = "detail.if_match_required"
    case rulesRefuse = "detail.rules_refuse"
    case noOpenSession = "detail.no_open_session"
    case sessionAlreadyOpen = "detail.session_already_open"
    case playSessionNotFound = "detail.play_session_not_found"
    case playSessionEnded = "detail.play_session_ended"
    case idempotencyKeyReused = "detail.idempotency_key_reused"
    case upgradeRequired = "detail.upgrade_required"
    // Content and search.
    case cmsNotConfigured = "detail.cms_not_configured"
    case cmsSignatureInvalid = "detail.cms_signature_invalid"
    case cmsEventInvalid = "detail.cms_event_invalid"
    case contentNotFound = "detail.content_not_found"
    case searchQueryEmpty = "detail.search_query_empty"
    case dcOrAgainst = "detail.dc_or_against"
    case expressionOrCheck = "detail.expression_or_check"
    case mediaTypeUnknown = "detail.media_type_unknown"
    case mediaQuotaExceeded = "detail.media_quota_exceeded"
    case mediaNotFound = "detail.media_not_found"
    case mediaNoLinks = "detail.media_no_links"
    case mediaStoreUnavailable = "detail.media_store_unavailable"
    case rangeNotSatisfiable = "detail.range_not_satisfiable"
    case titleRangeNotSatisfiable = "title.range_not_satisfiable"
}

/// Message catalogs, loaded once from the resources.
package struct Localizer: Sendable {
    private let catalogs: [Language: [String: String]]

    package init(catalogs: [Language: [String: String]]) { self.catalogs = catalogs }

    /// The catalogs in `folder` (en.json, es.json, fr.json).
    package static func load(from folder: URL) throws -> Localizer {
        var catalogs: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let url = folder.appendingPathComponent("\(language.rawValue).json")
            do {
                catalogs[language] = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url))
            } catch {
                throw ConfigurationError("the message catalog \(url.path) cannot be read: \(error)")
            }
        }
        return Localizer(catalogs: catalogs)
    }

    /// The missing keys of each catalog (empty when complete).
    package func missingKeys() -> [Language: [String]] {
        var missing: [Language: [String]] = [:]
        for language in Language.allCases {
            let keys = MessageKey.allCases.map(\.rawValue).filter { catalogs[language]?[$0] == nil }
            if !keys.isEmpty { missing[language] = keys }
        }
        return missing
    }

    /// The text of `key` in `language` with `{name}` placeholders filled.
    package func text(_ key: MessageKey, _ language: Language, _ arguments: [String: String] = [:]) -> String {
        var text = catalogs[language]?[key.rawValue] ?? catalogs[.fallback]?[key.rawValue] ?? key.rawValue
        for (name, value) in arguments { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }
}
