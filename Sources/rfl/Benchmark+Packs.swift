import ContentPacks
import Mechanics

extension Benchmark {
    /// Loading packs: the bundled core pack from disk (when run from the repository), and a
    /// generated pack of 10,000 entities from memory.
    static func packs() -> [Benchmark] {
        var list: [Benchmark] = []
        let loader = PackLoader()
        if (try? loader.load(paths: ["rulesets/core.xml"])) != nil {
            list.append(Benchmark("load core pack") { n in
                var sink: UInt64 = 0
                for _ in 0..<n { sink &+= UInt64(try loader.load(paths: ["rulesets/core.xml"]).ruleset.checks.count) }
                return sink
            })
        }
        let large = Array(generatedPack(entities: 10_000).utf8)
        list.append(Benchmark("load 10000-entity pack") { n in
            var sink: UInt64 = 0
            for _ in 0..<n { sink &+= UInt64(try loader.load(sources: [("generated.xml", large)]).ruleset.sources.count) }
            return sink
        })
        return list
    }

    /// A valid pack with `entities` entities: stats, skills, derived values, checks and items
    /// with modifiers, each named in English and Spanish.
    static func generatedPack(entities: Int) -> String {
        let share = entities / 10
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <pack xmlns="urn:roll-for-language:pack:1" id="generated" version="1.0.0" languages="en es">
              <title>Generated</title>
              <title xml:lang="es">Generado</title>
              <modifier-types><modifier-type id="gear" stacking="highest"><name>Gear</name><name xml:lang="es">Equipo</name></modifier-type></modifier-types>

            """
        func names(_ id: String) -> String { "<name>\(id)</name><name xml:lang=\"es\">\(id) (es)</name>" }
        xml += "  <stats>\n"
        for i in 0..<(2 * share) { xml += "    <stat id=\"stat-\(i)\" default=\"2\" min=\"0\" max=\"10\">\(names("stat-\(i)"))</stat>\n" }
        xml += "  </stats>\n  <skills>\n"
        for i in 0..<(2 * share) { xml += "    <skill id=\"skill-\(i)\" default=\"0\" min=\"0\" max=\"5\">\(names("skill-\(i)"))</skill>\n" }
        xml += "  </skills>\n  <derived>\n"
        for i in 0..<share { xml += "    <value id=\"derived-\(i)\" formula=\"floor((@{stat-\(i)} + @{skill-\(i)}) / 2) + 1\">\(names("derived-\(i)"))</value>\n" }
        xml += "  </derived>\n  <checks>\n"
        for i in 0..<(2 * share) {
            xml += "    <check id=\"check-\(i)\" dice=\"1d20\" adds=\"stat-\(i) skill-\(i)\" tags=\"social\" bands=\"four-degrees\">\(names("check-\(i)"))<natural when=\"=20\" shift=\"1\"/></check>\n"
        }
        xml += "  </checks>\n  <items>\n"
        let items = entities - 7 * share - 1
        for i in 0..<items {
            xml += "    <item id=\"item-\(i)\">\(names("item-\(i)"))<modifier target=\"stat-\(i % (2 * share))\" value=\"+1\" type=\"gear\"/><modifier target=\"check-\(i % (2 * share))\" value=\"+2\" when=\"social\"/></item>\n"
        }
        xml += "  </items>\n</pack>\n"
        return xml
    }
}
