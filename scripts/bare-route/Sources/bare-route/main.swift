import Hummingbird

/// `POST /echo` decodes `{"expression": …}` and answers it back as JSON: what a framework costs
/// for a small JSON request and answer, with nothing of the server's own.
struct Roll: Codable, ResponseEncodable {
    var expression: String
}

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8090
let router = Router()
router.post("/echo") { request, context -> Roll in
    try await request.decode(as: Roll.self, context: context)
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
