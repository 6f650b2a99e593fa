/// The documentation page at /docs: the OpenAPI document rendered as one HTML page with its own
/// styles, no scripts and nothing fetched from elsewhere.
enum DocumentationPage {
    static func render(_ contract: APIContract) -> String {
        let tree = contract.tree
        let info = tree["info"] as? [String: any Sendable] ?? [:]
        let title = info["title"] as? String ?? "API"
        let version = info["version"] as? String ?? ""
        let description = info["description"] as? String ?? ""
        let paths = tree["paths"] as? [String: any Sendable] ?? [:]
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
            h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}code,pre{font:13px ui-monospace,monospace}
            .op{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
            .m{display:inline-block;min-width:4.2rem;font-weight:700}.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22}
            .lock{color:#777;font-size:.85em}table{border-collapse:collapse}td,th{padding:.15rem .6rem;border-bottom:1px solid #eee;text-align:left}
            </style></head><body>
            <h1>\(escape(title))</h1><p>Version \(escape(version)) · the contract: <a href="/openapi.yaml">openapi.yaml</a></p>
            <p>\(escape(description).replacingOccurrences(of: "\n\n", with: "</p><p>"))</p>

            """
        var byTag: [String: [(String, String, [String: any Sendable])]] = [:]
        var tagOrder: [String] = (tree["tags"] as? [any Sendable] ?? []).compactMap { ($0 as? [String: any Sendable])?["name"] as? String }
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard let item = item as? [String: any Sendable] else { continue }
            for method in ["get", "post", "put", "delete", "patch"] {
                guard let operation = item[method] as? [String: any Sendable] else { continue }
                let tag = (operation["tags"] as? [any Sendable])?.first as? String ?? "other"
                if !tagOrder.contains(tag) { tagOrder.append(tag) }
                byTag[tag, default: []].append((method, path, operation))
            }
        }
        let operationIndex = Dictionary(contract.operations.map { ("\($0.method) \($0.path)", $0) }, uniquingKeysWith: { a, _ in a })
        for tag in tagOrder {
            guard let operations = byTag[tag] else { continue }
            html += "<h2>\(escape(tag))</h2>\n"
            for (method, path, operation) in operations {
                let parsed = operationIndex["\(method.uppercased()) \(path)"]
                html += "<div class=\"op\"><span class=\"m \(method)\">\(method.uppercased())</span> <code>\(escape(path))</code>"
                if parsed?.isPublic == false { html += " <span class=\"lock\">Bearer token · \(escape(requirement(parsed?.id)))</span>" }
                html += "<br>\(escape(operation["summary"] as? String ?? ""))"
                if let text = operation["description"] as? String { html += "<p>\(escape(text))</p>" }
                if let parameters = parsed?.parameters, !parameters.isEmpty {
                    html += "<table><tr><th>Parameter</th><th>In</th><th>Required</th></tr>"
                    for parameter in parameters {
                        html += "<tr><td><code>\(escape(parameter.name))</code></td><td>\(parameter.location)</td><td>\(parameter.required ? "yes" : "no")</td></tr>"
                    }
                    html += "</table>"
                }
                if let body = parsed?.body {
                    let fields = body.schema.properties.keys.sorted().map { name in
                        "<code>\(escape(name))</code>" + (body.schema.required.contains(name) ? "*" : "")
                    }
                    html += "<p>Body (<code>\(escape(body.mediaType))</code>): \(fields.joined(separator: ", "))</p>"
                }
                let responses = (operation["responses"] as? [String: any Sendable] ?? [:]).keys.sorted()
                html += "<p>Responses: \(responses.map { "<code>\(escape($0))</code>" }.joined(separator: " "))</p></div>\n"
            }
        }
        html += "<p>Errors are RFC 9457 problem details (<code>application/problem+json</code>), in the language of <code>Accept-Language</code>.</p>\n</body></html>\n"
        return html
    }

    static func requirement(_ id: String?) -> String {
        switch id.flatMap({ AccessPolicy.requirements[$0] }) {
        case .none, .anyone: "anyone"
        case .signedIn: "any signed-in user"
        case .permission(let permission): "permission \(permission.rawValue)"
        case .selfOr(let permission, _): "the user themselves, or permission \(permission.rawValue)"
        case .campaign(.member): "a member of the campaign"
        case .campaign(.gameMaster): "the campaign's game master"
        }
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
