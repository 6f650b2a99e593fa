import Foundation
import Yams

/// The HTTP contract read from openapi.yaml at start: every operation with its path, its
/// parameters and its body schema, so that each request is checked against the document itself
/// (lengths, patterns, ranges, enums, required and unknown fields) before a handler sees it,
/// and every field at fault is named in one answer.
package final class APIContract: Sendable {
    let operations: [Operation]
    /// The operations by "METHOD /route".
    private let operationsByRoute: [String: Operation]
    /// The document's text, served at /openapi.yaml.
    package let document: String
    /// The parsed document, for the docs page.
    let tree: [String: any Sendable]

    struct Operation: Sendable {
        let method: String
        let path: String
        let segments: [Segment]
        let id: String
        let summary: String
        let tags: [String]
        let parameters: [Parameter]
        let body: Body?
        let isPublic: Bool
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Parameter: Sendable {
        let name: String
        let location: String
        let required: Bool
        let schema: SchemaNode
    }

    struct Body: Sendable {
        let required: Bool
        let mediaType: String
        let schema: SchemaNode
    }

    /// The contract from openapi.yaml, as written. A password field the document marks with
    /// `x-rfl-password-policy` is checked against the configured minimum length: the document
    /// gives the least any configuration allows, and `GET /v1/auth/password-policy` the rule in
    /// force.
    package init(document: String, passwordMinimumLength: Int? = nil) throws {
        self.document = document
        guard let root = try Yams.load(yaml: document) as? [String: Any] else { throw ConfigurationError("openapi.yaml is not a YAML mapping") }
        tree = APIContract.sendable(root) as? [String: any Sendable] ?? [:]
        let components = (root["components"] as? [String: Any]) ?? [:]
        let resolver = SchemaResolver(components: components, passwordMinimumLength: passwordMinimumLength)
        let globalSecurity = (root["security"] as? [Any]).map { !$0.isEmpty } ?? false
        var operations: [Operation] = []
        for (path, item) in (root["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "put", "post", "delete", "patch"] {
                guard let operation = item[method] as? [String: Any], let id = operation["operationId"] as? String else { continue }
                var parameters: [Parameter] = []
                for raw in (item["parameters"] as? [Any] ?? []) + (operation["parameters"] as? [Any] ?? []) {
                    guard let parameter = resolver.resolve(raw, section: "parameters") as? [String: Any],
                          let name = parameter["name"] as? String, let location = parameter["in"] as? String else { continue }
                    parameters.append(Parameter(name: name, location: location, required: parameter["required"] as? Bool ?? (location == "path"),
                                                schema: try resolver.schema(parameter["schema"] ?? [:])))
                }
                var body: Body?
                if let requestBody = resolver.resolve(operation["requestBody"] as Any, section: "requestBodies") as? [String: Any],
                   let content = requestBody["content"] as? [String: Any], let (mediaType, media) = content.first,
                   let mediaObject = media as? [String: Any] {
                    body = Body(required: requestBody["required"] as? Bool ?? false, mediaType: mediaType,
                                schema: try resolver.schema(mediaObject["schema"] ?? [:]))
                }
                let security = operation["security"] as? [Any]
                operations.append(Operation(
                    method: method.uppercased(), path: path,
                    segments: path.split(separator: "/").map { part in
                        part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
                    },
                    id: id, summary: operation["summary"] as? String ?? "", tags: operation["tags"] as? [String] ?? [],
                    parameters: parameters, body: body, isPublic: security.map { $0.isEmpty } ?? !globalSecurity))
            }
        }
        self.operations = operations
        operationsByRoute = Dictionary(operations.map { ($0.method + " " + $0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The operation the router chose: its method and its route as the router names it
    /// (`/v1/campaigns/{campaignId}`, the document's own path). The router decides which route a
    /// request takes, once; every check after it looks the operation up by that decision and
    /// never matches the request's path text again.
    func operation(method: String, route: String) -> Operation? {
        operationsByRoute[method + " " + route]
    }

    /// The operation with an operationId.
    func operation(id: String) -> Operation? {
        operations.first { $0.id == id }
    }

    /// The methods the document declares at a path, for the `Allow` header of a 405 answer to a
    /// request that no route took. The path is split as the router splits it (empty segments
    /// dropped, nothing decoded, case kept), so a spelling the router refuses is refused here too.
    func methods(at path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return operations.filter { operation in
            operation.segments.count == parts.count && zip(operation.segments, parts).allSatisfy { segment, part in
                if case .literal(let text) = segment { return text == part }
                return true
            }
        }.map(\.method)
    }

    /// Every problem with a request's parameters and body.
    func validate(_ operation: Operation, pathParameters: [String: String], query: [String: [String]], headers: [String: String] = [:],
                  contentType: String?, body: [UInt8]) throws(Problem) -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        for parameter in operation.parameters {
            let raw: String?
            switch parameter.location {
            case "path": raw = pathParameters[parameter.name]
            case "header": raw = headers[parameter.name.lowercased()]
            case "query":
                let values = query[parameter.name] ?? []
                if values.count > 1 { errors.append(.init(parameter.name, .fieldInvalid)); continue }
                raw = values.first
            default: continue
            }
            guard let raw else {
                if parameter.required { errors.append(.init(parameter.name, .fieldRequired)) }
                continue
            }
            errors += parameter.schema.check(parameterText: raw, at: parameter.name)
        }
        if let known = Optional(Set(operation.parameters.filter { $0.location == "query" }.map(\.name))) {
            for name in query.keys.sorted() where !known.contains(name) { errors.append(.init(name, .fieldUnknown)) }
        }
        if let expected = operation.body {
            if body.isEmpty {
                if expected.required { errors.append(.init("/", .fieldRequired)) }
            } else {
                let mediaType = contentType?.split(separator: ";").first?.trimmingOWS.lowercased()
                guard expected.mediaType == "*/*" || mediaType == expected.mediaType else { throw Problem.unsupportedMediaType(expected.mediaType) }
                // Only JSON bodies have a schema to check here (a pack's XML is checked by its loader).
                guard expected.mediaType == "application/json" else { return errors }
                let value: JSONValue
                do {
                    value = try JSONValue.parse(body)
                } catch {
                    throw Problem.malformed(error.description)
                }
                errors += expected.schema.check(value, at: "")
            }
        }
        return errors
    }

    /// A YAML tree as nested Sendable values.
    static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let dictionary as [String: Any]: return dictionary.mapValues { sendable($0) }
        case let array as [Any]: return array.map { sendable($0) }
        case let string as String: return string
        case let bool as Bool: return bool
        case let int as Int: return int
        case let double as Double: return double
        default: return "\(value)"
        }
    }
}

/// Resolves `$ref`s of the document's components into schema nodes.
struct SchemaResolver {
    let components: [String: Any]
    /// The configured minimum length of a new password, for the fields marked
    /// `x-rfl-password-policy`.
    var passwordMinimumLength: Int?

    func resolve(_ value: Any, section: String) -> Any? {
        guard let object = value as? [String: Any] else { return nil }
        if let ref = object["$ref"] as? String {
            let name = ref.split(separator: "/").last.map(String.init) ?? ""
            return (components[section] as? [String: Any])?[name]
        }
        return object
    }

    func schema(_ value: Any, depth: Int = 0) throws -> SchemaNode {
        guard depth < 32 else { throw ConfigurationError("openapi.yaml: schemas nest too deeply (a $ref cycle?)") }
        guard let object = resolve(value, section: "schemas") as? [String: Any] else { return SchemaNode() }
        let node = SchemaNode()
        node.type = object["type"] as? String
        node.format = object["format"] as? String
        node.minLength = object["minLength"] as? Int
        if object["x-rfl-password-policy"] as? Bool == true, let minimum = passwordMinimumLength {
            node.minLength = max(node.minLength ?? 0, minimum)
        }
        node.maxLength = object["maxLength"] as? Int
        node.minimum = (object["minimum"] as? Int).map(Double.init) ?? object["minimum"] as? Double
        node.maximum = (object["maximum"] as? Int).map(Double.init) ?? object["maximum"] as? Double
        node.minItems = object["minItems"] as? Int
        node.maxItems = object["maxItems"] as? Int
        node.maxProperties = object["maxProperties"] as? Int
        node.uniqueItems = object["uniqueItems"] as? Bool ?? false
        node.values = (object["enum"] as? [Any])?.map { "\($0)" }
        if let pattern = object["pattern"] as? String {
            do {
                node.pattern = try NSRegularExpression(pattern: pattern)
            } catch {
                throw ConfigurationError("openapi.yaml: the pattern \(pattern) is not a regular expression")
            }
        }
        node.required = object["required"] as? [String] ?? []
        if let properties = object["properties"] as? [String: Any] {
            for (name, property) in properties { node.properties[name] = try schema(property, depth: depth + 1) }
        }
        if let additional = object["additionalProperties"] as? Bool {
            node.allowsAdditional = additional
        } else if let additional = object["additionalProperties"] {
            node.additional = try schema(additional, depth: depth + 1)
        }
        if let items = object["items"] { node.items = try schema(items, depth: depth + 1) }
        return node
    }
}

/// One schema of the subset the document uses. Built once at start, then only read.
final class SchemaNode: @unchecked Sendable {
    var type: String?
    var format: String?
    var minLength: Int?
    var maxLength: Int?
    var minimum: Double?
    var maximum: Double?
    var minItems: Int?
    var maxItems: Int?
    var maxProperties: Int?
    var uniqueItems = false
    var values: [String]?
    var pattern: NSRegularExpression?
    var required: [String] = []
    var properties: [String: SchemaNode] = [:]
    var allowsAdditional = true
    var additional: SchemaNode?
    var items: SchemaNode?

    /// Problems with a JSON value at `pointer`.
    func check(_ value: JSONValue, at pointer: String) -> [Problem.FieldError] {
        let field = pointer.isEmpty ? "/" : pointer
        if let type {
            let actual = value.typeName
            let matches = actual == type || (type == "number" && actual == "integer")
            guard matches else {
                return [.init(field, .fieldType, ["type": type])]
            }
        }
        var errors: [Problem.FieldError] = []
        switch value {
        case .string(let text):
            errors += checkString(text, field)
        case .number(let text, let number):
            if let values, !values.contains(text) { errors.append(.init(field, .fieldEnum, ["values": values.joined(separator: ", ")])) }
            if let minimum, number < minimum { errors.append(.init(field, .fieldMinimum, ["min": Self.number(minimum)])) }
            if let maximum, number > maximum { errors.append(.init(field, .fieldMaximum, ["max": Self.number(maximum)])) }
        case .array(let elements):
            if let minItems, elements.count < minItems { errors.append(.init(field, .fieldMinItems, ["min": String(minItems)])) }
            if let maxItems, elements.count > maxItems { errors.append(.init(field, .fieldMaxItems, ["max": String(maxItems)])) }
            if uniqueItems {
                for (index, element) in elements.enumerated() where elements[..<index].contains(element) {
                    errors.append(.init("\(pointer)/\(index)", .fieldDuplicateItems))
                }
            }
            if let items {
                for (index, element) in elements.enumerated() { errors += items.check(element, at: "\(pointer)/\(index)") }
            }
        case .object(let members):
            if let maxProperties, members.count > maxProperties {
                errors.append(.init(field, .fieldMaxItems, ["max": String(maxProperties)]))
            }
            let present = Set(members.map(\.key))
            for name in required where !present.contains(name) { errors.append(.init("\(pointer)/\(Self.escape(name))", .fieldRequired)) }
            for (key, member) in members {
                let path = "\(pointer)/\(Self.escape(key))"
                if let property = properties[key] {
                    errors += property.check(member, at: path)
                } else if let additional {
                    errors += additional.check(member, at: path)
                } else if !allowsAdditional {
                    errors.append(.init(path, .fieldUnknown))
                }
            }
        case .bool, .null:
            if let values, !values.contains(value == .null ? "null" : "\(value == .bool(true))") {
                errors.append(.init(field, .fieldEnum, ["values": values.joined(separator: ", ")]))
            }
        }
        return errors
    }

    /// Problems with a parameter given as text (a path segment or a query value).
    func check(parameterText text: String, at name: String) -> [Problem.FieldError] {
        switch type {
        case "integer":
            guard let number = Int64(text) else { return [.init(name, .fieldType, ["type": "integer"])] }
            return check(.number(text, Double(number)), at: name)
        case "boolean":
            guard text == "true" || text == "false" else { return [.init(name, .fieldType, ["type": "boolean"])] }
            return []
        default:
            return checkString(text, name)
        }
    }

    private func checkString(_ text: String, _ field: String) -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        let length = text.count
        if let minLength, length < minLength { errors.append(.init(field, .fieldTooShort, ["min": String(minLength)])) }
        if let maxLength, length > maxLength { errors.append(.init(field, .fieldTooLong, ["max": String(maxLength)])) }
        if let pattern, maxLength.map({ length <= $0 }) ?? true,
           pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
            errors.append(.init(field, .fieldPattern))
        }
        if let values, !values.contains(text) { errors.append(.init(field, .fieldEnum, ["values": values.joined(separator: ", ")])) }
        if format == "date-time", RFC3339.parse(text) == nil { errors.append(.init(field, .fieldFormat, ["format": "date-time (RFC 3339)"])) }
        if format == "email", !Self.isEmail(text) { errors.append(.init(field, .fieldFormat, ["format": "email address"])) }
        return errors
    }

    /// An address with one `@`, something before it, and a dotted domain after it, without
    /// spaces: the shape, not deliverability.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.contains(where: \.isWhitespace) else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty }
    }

    private static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
