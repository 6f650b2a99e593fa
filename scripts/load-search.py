#!/usr/bin/env python3
"""Measures search on a large content set, and prints what docs/performance.md records.

  python3 scripts/load-search.py [--binary .build/release/rfl-server] [--entries 100000] [--queries 2000]

Makes --entries vocabulary entries (a term in Spanish with accents, its English and French
translations, two examples, tags) with a fixed seed, loads them with `rfl-server content import`
(timed), starts the server, and times --queries searches over HTTP on one kept-alive connection:
prefixes of two to four letters typed without accents (search-as-you-type), whole words, two
words, and with language, kind and tag filters. Prints p50, p99 and the maximum of each.
"""
import argparse
import json
import os
import random
import sys
import time

from loadkit import Server, percentile

PASSWORD = "a long enough passphrase for search"
SYLLABLES = ["ca", "fé", "ma", "ña", "lo", "ré", "su", "tí", "bo", "ción", "pa", "mé", "ro", "ga", "ná", "ve", "zo", "qui", "llo", "dé"]
ENGLISH = ["coffee", "market", "lantern", "bread", "river", "street", "night", "merchant", "story", "window", "garden", "train"]
FRENCH = ["café", "marché", "lanterne", "pain", "rivière", "rue", "nuit", "marchand", "histoire", "fenêtre", "jardin", "train"]
TAGS = ["food", "travel", "city", "night", "family", "work", "weather", "shopping"]


def word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def fold(text):
    return text.translate(str.maketrans("áéíóúñ", "aeioun"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/rfl-server")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    arguments = parser.parse_args()
    rng = random.Random(2026)
    terms = []
    entries = []
    for index in range(arguments.entries):
        term = word(rng) + " " + word(rng) if rng.random() < 0.3 else word(rng)
        terms.append(term)
        english, french = rng.choice(ENGLISH), rng.choice(FRENCH)
        entries.append({"model": "vocabulary", "entry": {
            "id": index, "term": term, "language": "es", "translations": {"en": f"{english} {index}", "fr": f"{french} {index}"},
            "examples": [{"language": "es", "text": f"Compré {term} en el {word(rng)} de la {word(rng)}."},
                         {"language": "en", "text": f"I bought a {english} at the {rng.choice(ENGLISH)}."}],
            "tags": rng.sample(TAGS, 2)}})
    with Server(arguments.binary, "rfl-search-") as server:
        path = os.path.join(server.folder, "content.json")
        with open(path, "w") as out:
            json.dump({"entries": entries}, out, ensure_ascii=False)
        started = time.time()
        result = server.command("content", "import", path)
        if result.returncode != 0:
            sys.exit(result.stderr)
        imported = time.time() - started
        print(f"imported {arguments.entries} entries ({os.path.getsize(path) / 1e6:.1f} MB of JSON) in {imported:.1f} s: {result.stdout.strip()}")
        connection, headers = server.serve("reader", PASSWORD)
        kinds = {
            "prefix of 2-4 letters, no accents": lambda: fold(rng.choice(terms))[: rng.randint(2, 4)],
            "a whole term": lambda: fold(rng.choice(terms).split()[0]),
            "two words": lambda: rng.choice(ENGLISH) + " " + str(rng.randrange(arguments.entries))[:2],
            "prefix, lang=es, kind=vocabulary, tags=food": lambda: fold(rng.choice(terms))[:3] + "&lang=es&kind=vocabulary&tags=food",
        }
        per_kind = arguments.queries // len(kinds)
        for name, make in kinds.items():
            latencies, found = [], []
            for _ in range(per_kind):
                query = make()
                q, _, rest = query.partition("&")
                target = "/v1/search?q=" + q.replace(" ", "%20") + ("&" + rest if rest else "") + "&limit=20"
                before = time.perf_counter()
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                body = response.read()
                latencies.append((time.perf_counter() - before) * 1000)
                if response.status != 200:
                    sys.exit(f"{target}: {response.status} {body[:200]}")
                found.append(len(json.loads(body)["items"]))
            print(f"{name}: {per_kind} queries, p50 {percentile(latencies, 0.5):.2f} ms, p99 {percentile(latencies, 0.99):.2f} ms, "
                  f"max {max(latencies):.2f} ms; {sum(1 for count in found if count > 0) * 100 // len(found)}% found something")


if __name__ == "__main__":
    main()
