/// How the request path treats each operation beyond who may call it (``AccessPolicy``): the
/// rate-limit class it counts against and the size its body may have. Both are looked up by the
/// operationId of the route the router chose, never by the request's path.
enum OperationPolicy {
    enum RateLimitClass: Sendable, Equatable {
        /// The address's general bucket only.
        case general
        /// The general bucket and the stricter one of the authentication operations.
        case authentication
    }

    /// The operations that take or give credentials, under the stricter limit (each password
    /// check costs a bcrypt hash).
    static let authenticationOperations: Set<String> = ["register", "login", "refresh", "logout", "changePassword"]

    static func rateLimitClass(_ operationId: String) -> RateLimitClass {
        authenticationOperations.contains(operationId) ? .authentication : .general
    }

    enum BodyClass: Sendable, Equatable {
        /// JSON, or no body: `RFL_MAX_BODY_BYTES`.
        case json
        /// A pack's XML: `RFL_MAX_PACK_BYTES`.
        case pack
        /// An image or a recording: `RFL_MAX_MEDIA_BYTES`.
        case media
    }

    static func bodyClass(_ operationId: String) -> BodyClass {
        switch operationId {
        case "publishPack": .pack
        case "uploadMedia": .media
        default: .json
        }
    }

    /// The configured size of each class.
    struct BodyLimits: Sendable {
        var json: Int
        var pack: Int
        var media: Int

        func maxBytes(_ bodyClass: BodyClass) -> Int {
            switch bodyClass {
            case .json: json
            case .pack: pack
            case .media: media
            }
        }
    }
}
