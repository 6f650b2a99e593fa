#!/usr/bin/env python3
"""schemathesis over every operation of the contract, against the real rfl-server.

  python3 Tests/Hostile/schemathesis_test.py SERVER_BINARY [--examples N]

Starts the server as the hostile suite does (a free port, a temporary folder, generous rate
limits, a CMS secret), makes an administrator with `rfl-server user add`, and runs schemathesis
(installed by `make deps`, run as `python3 -m schemathesis.cli`) twice with a fixed seed:

  1. every operation but those that end or change the caller's own account, with the
     administrator's token: the examples, coverage and fuzzing phases;
  2. those (logout, changePassword, revokeSession, deleteUser, setRoles), each with the token of
     an account made for it (a player, or an administrator for deleteUser and setRoles), so
     that ending a session ends only that one.

The checks are those a server can be held to whatever its rules: no 5xx, status codes, content
types, headers and bodies as the document declares them. (Checks that a schema-valid request is
accepted are not among them: several operations have rules a JSON schema cannot state, such as
the password policy, and answer 422 as documented in docs/server.md.)

Prints schemathesis's own report, then "N passed, N failed" counted over the operations of the
JUnit reports. Exits 1 on any failure.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

from hostile_test import ADMIN_PASSWORD, HOST, PLAYER_PASSWORD, Abort, Server  # noqa: E402

SEED = 20261203
CHECKS = ",".join(["not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance"])
# Operations that end or change the caller's own session or account.
SELF_CHANGING = ["logout", "changePassword", "revokeSession", "deleteUser", "setRoles"]
# Of those, the ones only an administrator may call.
ADMIN_ONLY = ["deleteUser", "setRoles"]


def post(port, path, payload, token=None):
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"{}")


def login(port, username, password):
    return post(port, "/v1/auth/login", {"username": username, "password": password})["access_token"]


def run_schemathesis(port, token, junit, examples, operations, exclude, folder):
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"http://{HOST}:{port}/openapi.yaml", "--url", f"http://{HOST}:{port}",
               "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--max-examples", str(examples),
               "--seed", str(SEED), "--workers", "1", "--request-timeout", "10", "--no-color",
               "--report", "junit", "--report-junit-path", junit]
    for operation in operations:
        command += ["--include-operation-id", operation]
    for operation in exclude:
        command += ["--exclude-operation-id", operation]
    # In the run's folder: schemathesis keeps its example database in the working directory.
    return subprocess.run(command, timeout=900, cwd=folder).returncode


def counts(junit):
    """(operations passed, operations failed) of a JUnit report."""
    if not os.path.exists(junit):
        return 0, 1
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    passed = failed = 0
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    return passed, failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--examples", type=int, default=10, help="test cases per operation and phase (default 10)")
    options = parser.parse_args()
    if importlib.util.find_spec("schemathesis") is None:
        print("FAIL [start] schemathesis is not installed (make deps installs it)\n0 passed, 1 failed")
        return 1
    folder = tempfile.mkdtemp(prefix="rfl-schemathesis-")
    server = Server(os.path.abspath(options.binary), folder, {})
    passed = failed = 0
    try:
        # Administrators are made before the server starts (the command and the server do not
        # share the data folder): one for the whole run, one for each operation that needs the
        # permission and changes accounts.
        for name in ["st-admin"] + [f"st-{operation.lower()}" for operation in ADMIN_ONLY]:
            made = server.command("user", "add", name, "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
            if made.returncode != 0:
                raise Abort(f"rfl-server user add failed: {made.stderr.strip()}")
        server.start()
        admin = login(server.port, "st-admin", ADMIN_PASSWORD)
        runs = [("every operation as an administrator", admin, [], SELF_CHANGING)]
        for operation in SELF_CHANGING:
            name = f"st-{operation.lower()}"
            if operation in ADMIN_ONLY:
                token = login(server.port, name, ADMIN_PASSWORD)
            else:
                post(server.port, "/v1/auth/register", {"username": name, "password": PLAYER_PASSWORD})
                token = login(server.port, name, PLAYER_PASSWORD)
            runs.append((operation, token, [operation], []))
        for index, (what, token, operations, exclude) in enumerate(runs):
            print(f"--- schemathesis: {what}", flush=True)
            junit = os.path.join(folder, f"junit-{index}.xml")
            code = run_schemathesis(server.port, token, junit, options.examples, operations, exclude, folder)
            run_passed, run_failed = counts(junit)
            if code != 0 and run_failed == 0:
                run_failed = 1
            passed += run_passed
            failed += run_failed
            if not server.alive():
                print(f"FAIL [schemathesis] the server died ({server.exit_status()}): {server.log_tail()}")
                failed += 1
                break
    except Abort as abort:
        print(f"FAIL [start] {abort}")
        failed += 1
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
