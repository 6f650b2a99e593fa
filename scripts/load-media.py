#!/usr/bin/env python3
"""Measures media uploads and downloads through the server, on the local disk and in an
S3-compatible store, and prints what docs/performance.md records.

  python3 scripts/load-media.py [--binary .build/release/rfl-server] [--files 200] [--size 262144]

For each backend, starts the server (the S3 one against moto's server, started by
Tests/Data/moto_s3.py with authentication enforced), uploads --files PNG files of --size bytes
(distinct content, fixed seed) one after another on one kept-alive connection, then downloads
each whole, each as a 64 KiB range, and asks each for a presigned link (S3 only). Prints p50,
p99 and the maximum of each. moto is a Python process on the same two cores: the S3 figures
show the server's overhead plus moto's, not what a real store would answer.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

from loadkit import Server, percentile

PASSWORD = "a long enough passphrase for media"
PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])


def timed(connection, method, target, headers, body=None, expect=(200,)):
    before = time.perf_counter()
    connection.request(method, target, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - before) * 1000
    if response.status not in expect:
        sys.exit(f"{method} {target}: {response.status} {data[:300]}")
    return elapsed, data


def measure(name, binary, extra_environment, files, size, rng):
    environment = dict(RFL_MEDIA_QUOTA_BYTES=str(files * size * 2), RFL_MAX_MEDIA_BYTES=str(max(size, 1024)), **extra_environment)
    with Server(binary, "rfl-media-", environment) as server:
        connection, headers = server.serve("uploader", PASSWORD)
        uploads, paths = [], []
        for _ in range(files):
            body = PNG + rng.randbytes(size - len(PNG))
            elapsed, data = timed(connection, "POST", "/v1/media", dict(headers, **{"Content-Type": "image/png"}), body, expect=(201,))
            uploads.append(elapsed)
            paths.append(json.loads(data)["path"])
        wholes = [timed(connection, "GET", path, headers)[0] for path in paths]
        ranges = [timed(connection, "GET", path, dict(headers, Range="bytes=65536-131071"), expect=(206,))[0] for path in paths]
        rows = [("upload", uploads), ("download, whole", wholes), ("download, 64 KiB range", ranges)]
        if extra_environment.get("RFL_MEDIA_BACKEND") == "s3":
            rows.append(("presigned link", [timed(connection, "GET", path + "/link", headers)[0] for path in paths]))
        for label, latencies in rows:
            print(f"{name}, {label}: {len(latencies)} requests of {size // 1024} KiB files, p50 {percentile(latencies, 0.5):.2f} ms, "
                  f"p99 {percentile(latencies, 0.99):.2f} ms, max {max(latencies):.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/rfl-server")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size", type=int, default=256 * 1024)
    arguments = parser.parse_args()
    if arguments.size < 131072:
        sys.exit("--size: at least 131072 bytes (the range asked for is bytes 65536-131071)")
    measure("local disk", arguments.binary, {}, arguments.files, arguments.size, random.Random(2026))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    moto = subprocess.Popen([sys.executable, os.path.join(root, "Tests", "Data", "moto_s3.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        store = json.loads(moto.stdout.readline())
        measure("S3 (moto)", arguments.binary, {
            "RFL_MEDIA_BACKEND": "s3", "RFL_S3_ENDPOINT": store["endpoint"], "RFL_S3_BUCKET": "rfl-media-load",
            "RFL_S3_ACCESS_KEY_ID": store["access_key_id"], "RFL_S3_SECRET_ACCESS_KEY": store["secret_access_key"],
        }, arguments.files, arguments.size, random.Random(2026))
    finally:
        moto.stdin.close()
        moto.wait(timeout=30)


if __name__ == "__main__":
    main()
