#!/usr/bin/env python3
"""Hostile requests against the real rfl-server.

  python3 Tests/Hostile/hostile_test.py SERVER_BINARY [--only 1,5] [--verbose] [--trace] [--log FILE]
                                        [--slow-setting KEY=SECONDS,…] [--slow-bound SECONDS]

Starts the real rfl-server on a free port in a temporary folder (an administrator made with
`rfl-server user add` before it starts, bcrypt at its lowest cost, rate limits out of the way of
the suite's own traffic), sets up what a real client would (players, a campaign, an invitation,
characters, a play session, an upload, a content entry), then sends hostile requests in six
groups:

  1 operations   every operation of the contract with its path spelled seven more ways, and
                 with junk ids in its path parameters
  2 query        every query parameter at 0, -1, 2^31, 2^63-1, 2^63, 1e309, empty, "abc",
                 repeated, and 100 KB long
  3 bodies       every JSON body malformed, nested 10 000 deep, with 1 MiB and 100 KiB strings,
                 and with each field of the wrong type (and hostile XML and media uploads)
  4 headers      duplicated Authorization, 64 KB headers, malformed Range, If-Match,
                 If-None-Match, Accept-Language, a 10 KB Idempotency-Key
  5 framing      bytes written to a socket by hand: broken chunking, short bodies, unknown
                 codings, garbage heads, huge targets and header lines, stray bytes; slow senders
  6 websocket    the live socket: frames over the limit, binary and broken frames, 200 sockets
                 of one account at once

For every request: the server stays alive, answers within 10 s (for bytes written by hand, an
answer or a closed connection within 10 s), and never answers 5xx (except 501 to an unknown
Transfer-Encoding); each group ends with GET /healthz answering 200. A server that dies is
reported (with the fatal line of its log) and started again on the same folder, so that one
crash does not hide the rest. Randomness is seeded; the only waits are bounded waits on a
condition.

Prints one line per failure, "FAIL [group] METHOD target: what was wrong", then the failure
classes with an example each, and last "N passed, N failed". Exits 1 on any failure.
"""
import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite in the tree

try:
    from contract import Contract, Raw, dump, with_value, wrong_values  # noqa: E402
except ImportError as missing:  # PyYAML reads the contract
    print(f"FAIL [start] {missing}: install PyYAML (pip install pyyaml)\n0 passed, 1 failed")
    sys.exit(1)
from wire import (BINARY, CLOSE, PING, TEXT, TIMEOUT, Connection, Outcome, WebSocket,  # noqa: E402
                  connect, exchange)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HOST = "127.0.0.1"
ADMIN_PASSWORD = "a long passphrase for the hostile suite"
PLAYER_PASSWORD = "another long passphrase, hostile"
WEBHOOK_SECRET = "hostile-suite-webhook-secret"
GENEROUS = "1000000"
SEED = 20261127
# Restarts after which the suite gives up (each crash is reported; this bounds the time).
MAX_STARTS = 40
# Seconds a server may take to start (a debug build on two busy cores).
START_TIMEOUT = 60
KILO = 1024


class Abort(Exception):
    """The suite cannot go on (the server will not start, or keeps dying)."""


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def printable(target, limit=120):
    """A target for a failure line: bytes that are not printable ASCII as \\xNN, at most limit
    characters (its start and its end, where the query usually is)."""
    text = target.decode("latin-1") if isinstance(target, bytes) else target
    text = "".join(c if 32 <= ord(c) < 127 else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= limit else text[:limit // 2] + "…" + text[-(limit - limit // 2 - 1):]


def png(colour):
    """A valid 1×1 PNG whose pixel is colour (0 to 2^24-1), so that each upload is new content."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = zlib.compress(b"\x00" + (colour % (1 << 24)).to_bytes(3, "big"))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


# Expectations: each takes the answer and gives None, or (kind, what was wrong).

def one_of(*statuses):
    def expect(answer):
        if answer.status not in statuses:
            return "unexpected status", f"answered {answer.status}, expected {'/'.join(map(str, statuses))}"
    return expect


def refused(what):
    """A 4xx: what was sent must not be taken."""
    def expect(answer):
        if not 400 <= answer.status < 500:
            return "accepted what must be refused", f"answered {answer.status} to {what}, expected 4xx"
    return expect


def succeeded(answer):
    if not 200 <= answer.status < 300:
        return "setup refused", f"answered {answer.status} ({answer.problem()}), expected 2xx"


class Server:
    """rfl-server on a free port in a temporary folder, started again when a request kills it."""

    def __init__(self, binary, folder, slow_setting):
        self.binary = binary
        self.port = free_port()
        self.log_path = os.path.join(folder, "server.log")
        self.env_file = os.path.join(folder, "none.env")
        open(self.env_file, "w").close()
        self.environment = dict(
            os.environ, RFL_DATA_DIR=os.path.join(folder, "data"), RFL_PORT=str(self.port), RFL_HOST=HOST,
            RFL_RULESETS_DIR=os.path.join(ROOT, "rulesets"), RFL_BCRYPT_COST="4", RFL_LOG_LEVEL="warning",
            RFL_RATE_LIMIT_PER_MINUTE=GENEROUS, RFL_RATE_LIMIT_BURST=GENEROUS,
            RFL_AUTH_RATE_LIMIT_PER_MINUTE=GENEROUS, RFL_AUTH_RATE_LIMIT_BURST=GENEROUS,
            RFL_ACCOUNT_RATE_LIMIT_PER_MINUTE=GENEROUS, RFL_ACCOUNT_RATE_LIMIT_BURST=GENEROUS,
            RFL_CMS_WEBHOOK_SECRET=WEBHOOK_SECRET)
        # Swift's crash reporter would hold a dying server for seconds (symbolicating a debug
        # build); "Fatal error: …" is printed without it, and is what a failure line quotes.
        self.environment.setdefault("SWIFT_BACKTRACE", "enable=no")
        self.environment.update(slow_setting)
        self.process = None
        self.starts = 0
        self.log_offset = 0

    def command(self, *arguments, stdin=None):
        return subprocess.run([self.binary, *arguments, "--env-file", self.env_file], input=stdin, text=True,
                              env=self.environment, capture_output=True, timeout=120)

    def start(self):
        self.starts += 1
        if self.starts > MAX_STARTS:
            raise Abort(f"the server was started {MAX_STARTS} times; giving up")
        with open(self.log_path, "ab") as log:
            self.log_offset = log.tell()
            self.process = subprocess.Popen([self.binary, "serve", "--env-file", self.env_file], env=self.environment,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Abort(f"the server did not start ({self.exit_status()}): {self.log_tail()}")
            connection = Connection(HOST, self.port)
            outcome = connection.request("GET", "/healthz", timeout=2)
            connection.close()
            if outcome.status == 200:
                return
            time.sleep(0.05)
        raise Abort(f"the server did not answer /healthz within {START_TIMEOUT} s")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def exit_status(self):
        code = self.process.returncode
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def log_tail(self):
        """The line of this run's log that says why it died (Swift's "Fatal error: …", else the
        crash report's first line), else its last line."""
        with open(self.log_path, "rb") as log:
            log.seek(self.log_offset)
            lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
        for marker in ("Fatal error", "Program crashed", "fatal", "panic"):
            found = [line for line in lines if marker in line]
            if found:
                return found[0][:300]
        return lines[-1][:300] if lines else "(nothing in its log)"

    def stop(self):
        """SIGTERM to the server's pid, then SIGKILL if it has not stopped within 30 s."""
        if self.alive():
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def find_slow_setting(binary, wanted):
    """The head and body time limits the server offers, from `rfl-server env-example` (the list
    of the binary itself, not of the tree, which may be ahead of it): ({KEY: a short limit}, the
    limit in seconds), or ({}, None) when it offers none. wanted (KEY=SECONDS,…) overrides."""
    if wanted:
        setting = dict(item.split("=", 1) for item in wanted.split(","))
        return setting, max(float(value) for value in setting.values())
    try:
        listing = subprocess.run([binary, "env-example"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}, None
    setting = {}
    comment = ""
    for line in listing.splitlines():
        if line.startswith("#"):
            comment = line.lower()
            continue
        key = line.partition("=")[0].strip()
        if re.fullmatch(r"RFL_\w*(HEAD|HEADER|BODY|REQUEST|READ|SLOW)\w*TIMEOUT\w*|RFL_\w*TIMEOUT_\w*(HEAD|BODY|REQUEST|READ)\w*", key) \
                and key != "RFL_S3_TIMEOUT":
            setting[key] = "2000" if "milli" in comment else "2"
    return setting, (2.0 if setting else None)


@dataclasses.dataclass
class Call:
    """One request of an operation, its path template's parameters filled in."""
    params: dict
    token: str
    query: str = ""
    headers: list = dataclasses.field(default_factory=list)
    body: bytes = b""

    def target(self, path):
        return path + (f"?{self.query}" if self.query else "")


class Suite:
    def __init__(self, server, contract, options):
        self.server = server
        self.contract = contract
        self.options = options
        self.operations = contract.operations()
        self.http = Connection(HOST, server.port)
        self.rng = random.Random(SEED)
        self.group = "setup"
        self.passed = 0
        self.failed = 0
        self.classes = {}     # (group, kind) -> [count, first failure line]
        self.serial = 0       # makes names and keys unique

    # Checks ---------------------------------------------------------------------------------

    def record(self, method, target, problems):
        """One check: passed without problems, else one failure line."""
        if not problems:
            self.passed += 1
            return
        self.failed += 1
        line = f"FAIL [{self.group}] {method} {printable(target)}: " + "; ".join(text for _, text in problems)
        print(line, flush=True)
        for kind, _ in problems:
            entry = self.classes.setdefault((self.group, kind), [0, line])
            entry[0] += 1

    def note(self, text):
        if self.options.verbose:
            print(f"note [{self.group}] {text}", flush=True)

    def trouble(self, suspicious):
        """None while the server is alive (and answering /healthz, when the last exchange got no
        answer); else what happened to it, after starting it again."""
        if self.server.alive() and not suspicious:
            return None
        if self.server.alive():
            connection = Connection(HOST, self.server.port)
            probe = connection.request("GET", "/healthz")
            connection.close()
            if probe.answer is not None:
                return None
            try:
                self.server.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.server.stop()
                what = f"the server stopped answering /healthz (probe: {probe.describe()}); killed it"
                self.restart()
                return what
        what = f"the server died ({self.server.exit_status()}): {self.server.log_tail()}"
        self.restart()
        return what

    def restart(self):
        self.http.close()
        self.server.start()

    def invariants(self, outcome, allow_5xx=()):
        """The problems every request is checked for: death, no answer in time, a 5xx."""
        death = self.trouble(outcome.answer is None)
        if death:
            return [("server died", death)]
        if outcome.answer is None:
            return [("no answer", outcome.describe())]
        status = outcome.answer.status
        if status >= 500 and status not in allow_5xx:
            return [(f"answered {status}", f"answered {status} ({outcome.answer.problem()})")]
        return []

    def send(self, method, target, token=None, headers=(), body=b"", expect=None, allow_5xx=()):
        """Sends one request on the keep-alive connection and records it as one check."""
        lines = ([("Authorization", f"Bearer {token}")] if token else []) + list(headers)
        outcome = self.http.request(method, target, lines, body)
        if self.options.trace:
            print(f"  {method} {printable(target)} -> {outcome.describe()} ({outcome.elapsed * 1000:.0f} ms)", flush=True)
        problems = self.invariants(outcome, allow_5xx)
        if not problems and expect:
            problem = expect(outcome.answer)
            if problem:
                problems.append(problem)
        self.record(method, target, problems)
        return outcome

    def api(self, method, path, token=None, payload=None, body=b"", content_type=None, headers=()):
        """A setup request (a check too: it must succeed); the answer's JSON, or None."""
        lines = list(headers)
        if payload is not None:
            body, content_type = json.dumps(payload).encode(), "application/json"
        if content_type:
            lines.append(("Content-Type", content_type))
        outcome = self.send(method, path, token, lines, body, expect=succeeded)
        self.last_answer = outcome.answer
        if outcome.answer is None or not 200 <= outcome.answer.status < 300:
            self.last_answer = None
            return None
        return outcome.answer.json() if outcome.answer.body else {}

    def healthz(self):
        self.send("GET", "/healthz", expect=one_of(200))

    def unique(self, prefix):
        self.serial += 1
        return f"{prefix}{self.serial}"

    # The world a real client would make -------------------------------------------------------

    def login(self, username, password):
        answer = self.api("POST", "/v1/auth/login", payload={"username": username, "password": password})
        return answer or {"access_token": "missing", "refresh_token": "missing"}

    def register(self, username=None):
        """A new player: (id, access token)."""
        username = username or self.unique("hostile")
        user = self.api("POST", "/v1/auth/register", payload={"username": username, "password": PLAYER_PASSWORD}) or {}
        return user.get("id", "missing"), self.login(username, PLAYER_PASSWORD)["access_token"]

    def build_world(self):
        self.admin = self.login("admin", ADMIN_PASSWORD)["access_token"]
        self.admin_id = (self.api("GET", "/v1/me", self.admin) or {}).get("id", "missing")
        self.player1_id, self.player1 = self.register("player1")
        self.player2_id, self.player2 = self.register("player2")
        self.campaign = self.new_campaign()
        invitation = self.api("POST", f"/v1/campaigns/{self.campaign}/invitations", self.admin, {"max_uses": 100}) or {}
        self.code = invitation.get("code", "missing")
        self.api("POST", "/v1/invitations/accept", self.player1, {"code": self.code})
        self.character, _ = self.new_character()
        self.session = self.new_session(self.campaign)
        self.api("POST", f"/v1/campaigns/{self.campaign}/rolls", self.admin, {"expression": "1d20"})
        self.media = self.new_media(self.admin)
        self.player_media = self.new_media(self.player1)
        self.cms_event = {"event": "entry.publish", "model": "vocabulary", "uid": "api::vocabulary.vocabulary",
                          "createdAt": "2026-01-01T00:00:00Z",
                          "entry": {"id": 12, "term": "café", "language": "fr", "translations": {"en": "coffee"}}}
        applied = self.api("POST", "/v1/hooks/cms", WEBHOOK_SECRET, self.cms_event) or {}
        self.entry = applied.get("entry", "vocabulary:12")
        with open(os.path.join(ROOT, "rulesets", "core.xml"), "rb") as file:
            self.core_xml = file.read()

    def new_campaign(self):
        answer = self.api("POST", "/v1/campaigns", self.admin, {"name": "Hostile table", "packs": [{"id": "night-market"}]})
        return (answer or {}).get("id", "missing")

    def new_character(self, name="Ana"):
        """(id, ETag) of a new character of the administrator's in the campaign."""
        answer = self.api("POST", f"/v1/campaigns/{self.campaign}/characters", self.admin,
                          {"name": name, "stats": {"speaking": 4, "haggling": 2}})
        if answer is None:
            return "missing", '"v1"'
        return answer.get("id", "missing"), self.last_answer.header("etag") or '"v1"'

    def etag(self, character):
        self.api("GET", f"/v1/campaigns/{self.campaign}/characters/{character}", self.admin)
        return self.last_answer.header("etag") if self.last_answer else '"v1"'

    def new_session(self, campaign):
        return (self.api("POST", f"/v1/campaigns/{campaign}/sessions", self.admin, {"client_seed": "table"}) or {}).get("id", "missing")

    def new_media(self, token):
        self.serial += 1
        answer = self.api("POST", "/v1/media", token, body=png(self.serial), content_type="image/png")
        return (answer or {}).get("id", "missing")

    # One valid request of each operation --------------------------------------------------------
    # call(operation, fresh): with fresh, objects that the request uses up (a user to delete, a
    # session to end, an ETag that a change makes stale) are made anew for it; without, the shared
    # ones, and for destructive operations ids that name nothing, so that no group destroys what
    # the others use.

    STALE = '"v999999"'
    NOTHING = "0123456789abcdef0123456789abcdef"

    def call(self, operation, fresh):
        builder = getattr(self, f"call_{operation.operation_id}", None)
        if builder is not None:
            return builder(fresh)
        self.note(f"no hand-written request for {operation.operation_id}; a generic one")
        defaults = {"campaignId": self.campaign, "characterId": self.character, "userId": self.player1_id,
                    "packId": "core", "version": "1.0.0", "mediaId": self.media, "entryId": self.entry,
                    "sessionId": self.session, "sourceId": "core:phrasebook", "asset": "lab.js"}
        params = {p["name"]: defaults.get(p["name"], self.NOTHING) for p in operation.parameters_in("path")}
        body = b"{}" if operation.body_schema is not None else b""
        return self.json_call(None, **params) if body else Call(params, self.admin)

    def json_call(self, payload, token=None, headers=(), query="", **params):
        body = json.dumps(payload).encode() if payload is not None else b"{}"
        return Call(params, token or self.admin, query, [("Content-Type", "application/json"), *headers], body)

    def plain(self, token=None, query="", headers=(), **params):
        return Call(params, token or self.admin, query, list(headers))

    def call_getHealth(self, fresh): return self.plain()
    def call_getReadiness(self, fresh): return self.plain()
    def call_getMetrics(self, fresh): return self.plain()
    def call_getOpenAPIDocument(self, fresh): return self.plain()
    def call_getDocumentation(self, fresh): return self.plain()
    def call_getKeys(self, fresh): return self.plain()
    def call_getPasswordPolicy(self, fresh): return self.plain()
    def call_getLab(self, fresh): return self.plain()
    def call_getLabAsset(self, fresh): return self.plain(asset="lab.js")

    def call_register(self, fresh):
        return self.json_call({"username": self.unique("newcomer"), "password": PLAYER_PASSWORD})

    def call_login(self, fresh):
        return self.json_call({"username": "admin", "password": ADMIN_PASSWORD})

    def call_refresh(self, fresh):
        token = self.login("player2", PLAYER_PASSWORD)["refresh_token"] if fresh else "rt_" + "0" * 43
        return self.json_call({"refresh_token": token})

    def call_logout(self, fresh):
        return self.plain(token=self.login("player2", PLAYER_PASSWORD)["access_token"] if fresh else self.player2)

    def call_getMe(self, fresh): return self.plain()
    def call_listSessions(self, fresh): return self.plain()

    def call_changePassword(self, fresh):
        if not fresh:
            return self.json_call({"current_password": "not the password at all", "new_password": "a new long passphrase 7"},
                                  token=self.player2)
        _, token = self.register()
        return self.json_call({"current_password": PLAYER_PASSWORD, "new_password": "a new long passphrase 7"}, token=token)

    def call_revokeSession(self, fresh):
        if not fresh:
            return self.plain(sessionId=self.NOTHING)
        token = self.login("admin", ADMIN_PASSWORD)["access_token"]
        sessions = (self.api("GET", "/v1/me/sessions", token) or {}).get("items", [])
        current = [session["id"] for session in sessions if session.get("current")]
        return self.plain(sessionId=current[0] if current else self.NOTHING)

    def call_listUsers(self, fresh): return self.plain(query="limit=5")
    def call_getUser(self, fresh): return self.plain(userId=self.player1_id)

    def call_deleteUser(self, fresh):
        return self.plain(userId=self.register()[0] if fresh else self.NOTHING)

    def call_setRoles(self, fresh):
        return self.json_call({"roles": ["player"]}, userId=self.player2_id)

    def call_listAuditEvents(self, fresh): return self.plain(query="limit=5")
    def call_listPacks(self, fresh): return self.plain(query="id=core")

    def call_publishPack(self, fresh):
        return Call({}, self.admin, "", [("Content-Type", "application/xml")], self.core_xml)

    def call_getPack(self, fresh): return self.plain(packId="core", version="1.0.0")
    def call_getPackXML(self, fresh): return self.plain(packId="core", version="1.0.0")
    def call_getPackCatalog(self, fresh): return self.plain(packId="core", version="1.0.0", query="lang=es,en")

    def call_retirePack(self, fresh):
        if not fresh:
            return self.plain(packId="core", version="9.9.9")
        # A version of its own to retire, out of the range night-market requires (core 1.x).
        version = f"9.0.{self.unique('')}"
        xml = self.core_xml.replace(b'version="1.0.0"', f'version="{version}"'.encode(), 1)
        self.api("POST", "/v1/packs", self.admin, body=xml, content_type="application/xml")
        return self.plain(packId="core", version=version)

    def call_listCampaigns(self, fresh): return self.plain()

    def call_createCampaign(self, fresh):
        return self.json_call({"name": "Hostile campaign", "packs": [{"id": "night-market", "version": "1.0.0"}]})

    def call_getCampaign(self, fresh): return self.plain(campaignId=self.campaign)

    def call_archiveCampaign(self, fresh):
        return self.plain(campaignId=self.new_campaign() if fresh else self.NOTHING)

    def call_createInvitation(self, fresh):
        return self.json_call({"expires_in": 3600, "max_uses": 2}, campaignId=self.campaign)

    def call_acceptInvitation(self, fresh):
        return self.json_call({"code": self.code}, token=self.player1)

    def call_listMembers(self, fresh): return self.plain(campaignId=self.campaign)

    def call_removeMember(self, fresh):
        if fresh:
            invitation = self.api("POST", f"/v1/campaigns/{self.campaign}/invitations", self.admin, {"max_uses": 1}) or {}
            self.api("POST", "/v1/invitations/accept", self.player2, {"code": invitation.get("code", "missing")})
        return self.plain(campaignId=self.campaign, userId=self.player2_id)

    def call_getRuleset(self, fresh): return self.plain(campaignId=self.campaign, query="lang=es,en")
    def call_listCharacters(self, fresh): return self.plain(campaignId=self.campaign, query="lang=en")

    def call_createCharacter(self, fresh):
        return self.json_call({"name": "Cai", "stats": {"speaking": 3, "haggling": 1}}, campaignId=self.campaign, query="lang=en")

    def call_getCharacter(self, fresh):
        return self.plain(campaignId=self.campaign, characterId=self.character, query="lang=en")

    def call_updateCharacter(self, fresh):
        tag = self.etag(self.character) if fresh else self.STALE
        return self.json_call({"name": "Ana", "stats": {"speaking": 4}}, headers=[("If-Match", tag)],
                              campaignId=self.campaign, characterId=self.character, query="lang=en")

    def call_deleteCharacter(self, fresh):
        character, tag = self.new_character("Dee") if fresh else (self.character, self.STALE)
        return self.plain(campaignId=self.campaign, characterId=character, headers=[("If-Match", tag)])

    def call_applySource(self, fresh):
        character, tag = self.new_character("Eve") if fresh else (self.character, self.STALE)
        return self.json_call({"source": "phrasebook", "duration": 3}, headers=[("If-Match", tag)],
                              campaignId=self.campaign, characterId=character, query="lang=en")

    def call_removeSource(self, fresh):
        character, tag, source = self.character, self.STALE, "core:phrasebook"
        if fresh:
            character, tag = self.new_character("Fay")
            sheet = self.api("POST", f"/v1/campaigns/{self.campaign}/characters/{character}/sources", self.admin,
                             {"source": "phrasebook"}, headers=[("If-Match", tag)]) or {}
            tag = self.last_answer.header("etag") if sheet else tag
            source = (sheet.get("sources") or [{"id": source}])[0]["id"]
        return self.plain(campaignId=self.campaign, characterId=character, sourceId=source, headers=[("If-Match", tag)],
                          query="lang=en")

    def call_listPlaySessions(self, fresh): return self.plain(campaignId=self.campaign)

    def call_startPlaySession(self, fresh):
        return self.json_call({"client_seed": "dawn"}, campaignId=self.new_campaign() if fresh else self.campaign)

    def call_getPlaySession(self, fresh): return self.plain(campaignId=self.campaign, sessionId=self.session)

    def call_setClientSeed(self, fresh):
        return self.json_call({"client_seed": "table"}, campaignId=self.campaign, sessionId=self.session)

    def call_endPlaySession(self, fresh):
        if not fresh:
            return self.plain(campaignId=self.campaign, sessionId=self.NOTHING)
        campaign = self.new_campaign()
        return self.plain(campaignId=campaign, sessionId=self.new_session(campaign))

    def call_rollDice(self, fresh):
        return self.json_call({"expression": "1d20+2", "label": "hostile"}, headers=[("Idempotency-Key", self.unique("key-"))],
                              campaignId=self.campaign)

    def call_rollCheck(self, fresh):
        return self.json_call({"character": self.character, "check": "order-a-meal", "dc": 12, "advantage": "none",
                               "tags": ["market"], "label": "hostile"},
                              headers=[("Idempotency-Key", self.unique("key-"))], campaignId=self.campaign, query="lang=en")

    def call_listLog(self, fresh): return self.plain(campaignId=self.campaign, query="limit=5")
    def call_connectLive(self, fresh): return self.plain(campaignId=self.campaign)

    def call_sampleRoll(self, fresh):
        return self.json_call({"expression": "4d6kh3", "seed": "7", "stats": {"speaking": 2}})

    def call_computeOdds(self, fresh):
        return self.json_call({"packs": [{"id": "night-market"}], "stats": {"speaking": 3}, "apply": ["phrasebook"],
                               "check": "order-a-meal", "dc": 12, "tags": ["market"]})

    def call_cmsWebhook(self, fresh):
        return self.json_call(self.cms_event, token=WEBHOOK_SECRET)

    def call_search(self, fresh): return self.plain(query="q=cafe")
    def call_getContent(self, fresh): return self.plain(entryId=self.entry)

    def call_uploadMedia(self, fresh):
        return Call({}, self.admin, "", [("Content-Type", "image/png")], png(int(self.unique("")) + 100_000))

    def call_listMedia(self, fresh): return self.plain(query="limit=5")
    def call_getMedia(self, fresh): return self.plain(mediaId=self.media)

    def call_deleteMedia(self, fresh):
        return self.plain(mediaId=self.new_media(self.admin) if fresh else self.NOTHING)

    def call_getMediaLink(self, fresh): return self.plain(mediaId=self.media)

    # The groups ---------------------------------------------------------------------------------

    def run(self, groups):
        self.group = "setup"
        try:
            self.build_world()
        except Abort:
            raise
        except Exception:  # the groups go on with what could be made ("missing" ids)
            self.record("-", "-", [("suite error", "the setup failed: " + traceback.format_exc().strip().splitlines()[-1])])
        for number, name, function in [(1, "operations", self.group_operations), (2, "query", self.group_query),
                                       (3, "bodies", self.group_bodies), (4, "headers", self.group_headers),
                                       (5, "framing", self.group_framing), (6, "websocket", self.group_websocket)]:
            if groups and number not in groups:
                continue
            self.group = name
            started, before = time.monotonic(), (self.passed, self.failed)
            try:
                function()
            except Abort:
                raise
            except Exception:  # a fault of the suite's own: say so, and go on with the next group
                self.record("-", "-", [("suite error", "the suite failed: " + traceback.format_exc().strip().splitlines()[-1])])
                if self.options.verbose:
                    traceback.print_exc()
            self.healthz()
            print(f"group {number} {name}: {self.passed - before[0]} passed, {self.failed - before[1]} failed, "
                  f"{time.monotonic() - started:.1f} s", flush=True)

    # 1. Every operation, its path spelled seven more ways, and junk in its path parameters.

    SPELLINGS = ["canonical", "trailing slash", "leading double slash", "inner double slash", "dot segment",
                 "dot-dot segment", "encoded slash", "upper case"]
    JUNK_IDS = [("an unknown id", "0123456789abcdef0123456789abcdef"), ("65 characters", "a" * 65),
                ("a NUL", "%00"), ("invalid UTF-8", "%FF%FE"), ("non-ASCII", "%C3%A9t%C3%A9"),
                ("an encoded slash", "a%2Fb"), ("-1", "-1"), ("2^63", "9223372036854775808"),
                ("spaces", "%20%20"), ("a dot-dot", ".."), ("an encoded dot-dot", "%2e%2e")]

    @staticmethod
    def spell(template, params, spelling):
        """The path of template with params in the given spelling, or None where it does not
        apply (no inner slash to double in a one-segment path)."""
        segments = template.strip("/").split("/")
        literal = [not segment.startswith("{") for segment in segments]
        filled = [segment if is_literal else str(params[segment[1:-1]]) for segment, is_literal in zip(segments, literal)]
        first, rest = filled[0], "/".join(filled[1:])
        if spelling == "canonical":
            return "/" + "/".join(filled)
        if spelling == "trailing slash":
            return "/" + "/".join(filled) + "/"
        if spelling == "leading double slash":
            return "//" + "/".join(filled)
        if spelling == "inner double slash":
            return f"/{first}//{rest}" if rest else None
        if spelling == "dot segment":
            return f"/{first}/./{rest}" if rest else f"/./{first}"
        if spelling == "dot-dot segment":
            return f"/{first}/x/../{rest}" if rest else f"/x/../{first}"
        if spelling == "encoded slash":
            return f"/{first}%2F{rest}" if rest else f"/%2F{first}"
        if spelling == "upper case":
            return "/" + "/".join(part.upper() if is_literal else part for part, is_literal in zip(filled, literal))
        raise ValueError(spelling)

    def group_operations(self):
        # A page size beyond Int, asked by a signed-in player: this once crashed the server.
        self.send("GET", "/v1/media/?limit=9223372036854775807", self.player1)
        for operation in self.operations:
            canonical = None
            for spelling in self.SPELLINGS:
                call = self.call(operation, fresh=True)
                path = self.spell(operation.path, call.params, spelling)
                if path is None:
                    continue
                target = call.target(path)
                if spelling == "canonical":
                    outcome = self.send(operation.method, target, call.token, call.headers, call.body)
                    canonical = outcome.status
                    if canonical is not None and canonical >= 400:
                        self.note(f"{operation.operation_id}: the canonical request answered {canonical}")
                    continue
                self.send(operation.method, target, call.token, call.headers, call.body,
                          expect=self.same_as(canonical, spelling))
            for name in [p["name"] for p in operation.parameters_in("path")]:
                call = self.call(operation, fresh=False)
                for what, junk in self.JUNK_IDS:
                    path = self.spell(operation.path, dict(call.params, **{name: junk}), "canonical")
                    dots = junk in ("..", "%2e%2e")
                    self.send(operation.method, call.target(path), call.token, call.headers, call.body,
                              expect=None if dots else refused(f"{what} as {name}"))

    @staticmethod
    def same_as(canonical, spelling):
        """A spelling answers in the canonical answer's class, or refuses (400, 404)."""
        def expect(answer):
            if answer.status in (400, 404) or canonical is None or answer.status // 100 == canonical // 100:
                return None
            return "spelling answered otherwise", f"the {spelling} spelling answered {answer.status}, the canonical path {canonical}"
        return expect

    # 2. Query parameters.

    QUERY_VALUES = [("0", "0"), ("-1", "-1"), ("2^31", "2147483648"), ("2^63-1", "9223372036854775807"),
                    ("2^63", "9223372036854775808"), ("1e309", "1e309"), ("empty", ""), ("abc", "abc")]
    SAMPLES = {"limit": "5", "cursor": "abc", "lang": "en", "q": "cafe", "tags": "food", "action": "auth.login",
               "since": "2020-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z", "id": "core",
               "include_retired": "true", "after": "0"}

    def group_query(self):
        for operation in self.operations:
            parameters = operation.parameters_in("query")
            if not parameters:
                continue
            for parameter in parameters:
                name, schema = parameter["name"], parameter.get("schema", {})
                sample = {"kind": "vocabulary" if operation.operation_id == "search" else "roll",
                          "character": self.character, "session": self.session,
                          "actor": self.admin_id}.get(name, self.SAMPLES.get(name, "1"))
                cases = [(what, f"{name}={raw}", None if self.contract.fits(schema, raw) else refused(f"{name}={what}"))
                         for what, raw in self.QUERY_VALUES]
                cases += [("repeated", f"{name}={sample}&{name}={sample}", None),
                          ("repeated with another value", f"{name}={sample}&{name}=abc", None),
                          ("100 KB", f"{name}={'a' * 100 * KILO}", one_of(400, 414, 431))]
                for what, pair, expect in cases:
                    call = self.call(operation, fresh=False)
                    # The other parameters as the valid request has them (search needs q).
                    others = [item for item in call.query.split("&") if item and item.split("=")[0] != name]
                    target = self.spell(operation.path, call.params, "canonical") + "?" + "&".join(others + [pair])
                    self.send(operation.method, target, call.token, call.headers, call.body, expect=expect)

    # 3. Bodies.

    NESTING = 10_000
    MIB = 1 << 20

    def group_bodies(self):
        for operation in self.operations:
            if operation.body_schema is not None:
                self.json_bodies(operation)
            elif operation.operation_id == "publishPack":
                self.xml_bodies(operation)
            elif operation.operation_id == "uploadMedia":
                self.media_bodies(operation)

    def json_bodies(self, operation):
        example = json.loads(self.call(operation, fresh=False).body or b"{}")
        fields = list(self.contract.fields(operation.body_schema, example))
        first = next((pointer for pointer, _ in fields if pointer.count("/") == 1), "/x")
        deep_arrays = "[" * self.NESTING + "]" * self.NESTING
        deep_objects = '{"a":' * self.NESTING + "1" + "}" * self.NESTING
        strict = refused("a body that is not JSON")
        cases = [
            ("an unclosed object", b"{", strict),
            ("a trailing comma", b'{"a":1,}', strict),
            ("a bare word", b"undefined", strict),
            ("NaN", b'{"a":NaN}', strict),
            ("invalid UTF-8", b'{"a":"\xff\xfe"}', strict),
            ("two documents", b"{} {}", strict),
            ("a byte-order mark", b"\xef\xbb\xbf" + dump(example), None),
            ("a lone surrogate", dump(with_value(example, first, Raw('"\\ud800"'))), None),
            ("an empty body", b"", strict if operation.body_required else None),
            ("arrays nested 10 000 deep", deep_arrays.encode(), refused("arrays nested 10 000 deep")),
            ("objects nested 10 000 deep", deep_objects.encode(), refused("objects nested 10 000 deep")),
            (f"arrays nested 10 000 deep in {first}", dump(with_value(example, first, Raw(deep_arrays))), None),
            (f"objects nested 10 000 deep in {first}", dump(with_value(example, first, Raw(deep_objects))), None),
        ]
        for pointer, schema in fields:
            if schema.get("type") == "string":
                for size, label in ((self.MIB, "1 MiB"), (100 * KILO, "100 KiB")):
                    cases.append((f"a {label} string in {pointer}", dump(with_value(example, pointer, "x" * size)),
                                  one_of(400, 413, 422)))
            for what, value in wrong_values(schema):
                cases.append((f"{what} in {pointer}", dump(with_value(example, pointer, value)), refused(f"{what} in {pointer}")))
        # A fresh ETag for the operations that need one, so that a refusal is the body's doing.
        fresh = operation.operation_id in ("updateCharacter", "applySource")
        for what, body, expect in cases:
            call = self.call(operation, fresh=fresh)
            target = call.target(self.spell(operation.path, call.params, "canonical"))
            self.send(operation.method, target, call.token, call.headers, body,
                      expect=self.labelled(expect, what))

    @staticmethod
    def labelled(expect, what):
        """expect, its message naming the body case."""
        if expect is None:
            return None

        def check(answer):
            problem = expect(answer)
            return (problem[0], f"{problem[1]} ({what})") if problem else None
        return check

    def xml_bodies(self, operation):
        cases = [
            ("XML that is not well formed", b"<pack id='x'><title>unclosed</pack>"),
            ("XML nested 10 000 deep", b"<pack>" + b"<a>" * self.NESTING + b"</a>" * self.NESTING + b"</pack>"),
            ("a billion laughs", b'<?xml version="1.0"?><!DOCTYPE pack [<!ENTITY a "lol">'
             + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
             + b']><pack id="x" version="1.0.0">&j;</pack>'),
            ("an external entity", b'<?xml version="1.0"?><!DOCTYPE pack [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
             b'<pack id="x" version="1.0.0"><title>&x;</title></pack>'),
            ("a JSON body as XML", b'{"id":"x"}'),
        ]
        for what, body in cases:
            self.send(operation.method, operation.path, self.admin, [("Content-Type", "application/xml")], body,
                      expect=self.labelled(refused(what), what))

    def media_bodies(self, operation):
        # The type is decided by the first bytes (docs/media.md): a PNG cut short is still a PNG.
        cases = [("an empty upload", b"", True), ("bytes that are no image", b"MZ\x90\x00" * 64, True),
                 ("a PNG cut short", png(7)[:20], False), ("a PNG signature alone", b"\x89PNG\r\n\x1a\n", False)]
        for what, body, strict in cases:
            self.send(operation.method, operation.path, self.admin, [("Content-Type", "image/png")], body,
                      expect=self.labelled(refused(what), what) if strict else None)

    # 4. Headers.

    def group_headers(self):
        me = "/v1/me"
        junk = "Bearer junk.junk.junk"
        for first, second in [(self.admin, self.admin), (self.admin, None), (None, self.admin), (self.admin, "basic")]:
            values = [f"Bearer {first}" if first else junk,
                      f"Bearer {second}" if second not in (None, "basic") else ("Basic eDp5" if second else junk)]
            self.send("GET", me, headers=[("Authorization", values[0]), ("Authorization", values[1])])
        self.send("GET", me, self.admin, [("X-Filler", "a" * 64 * KILO)])
        self.send("GET", me, headers=[("Authorization", "Bearer " + "a" * 64 * KILO)], expect=refused("a 64 KB token"))
        self.send("GET", me, self.admin, [(f"X-Filler-{i}", "a" * 1000) for i in range(64)])
        for language in ["a" * 64 * KILO, "en;q=1e309", "*;q=NaN", "es;q=-1, fr;q=2", ";;;,,,q=", "en-" + "x-" * 5000,
                         ",".join(f"l{i};q=0.{i % 10}" for i in range(2000))]:
            self.send("GET", me, self.admin, [("Accept-Language", language)])
        self.send("GET", me, self.admin, [("X-Forwarded-For", "1.2.3.4, not-an-address, ::ffff:999.1.1.1, " + "9" * 500)])

        media = f"/v1/media/{self.media}"
        for value in ["bytes=", "bytes=5-1", "bytes=-0", "bytes=0-", "bytes=99999999999999999999-",
                      "bytes=0-9223372036854775807", "bytes=9223372036854775807-9223372036854775807",
                      "bytes=-9223372036854775808", "bytes=-9223372036854775807", "bytes=1-2-3", "bytes=--1",
                      "items=0-1", "bytes=0-1,2-3,4-5", "bytes= 0 - 1 ", "bytes=0x10-0x20", "bytes=" + "9" * 90,
                      "bytes=0-" + "1" * 200]:
            self.send("GET", media, self.admin, [("Range", value)])
        for value in ["*", 'W/"x"', '"a", "b"', '""', '"', "no quotes", '"' + "a" * 300 + '"', "\t"]:
            self.send("GET", media, self.admin, [("If-None-Match", value)])

        character = f"/v1/campaigns/{self.campaign}/characters/{self.character}"
        for value in ['"v99999999999999999999"', '"v-1"', '"v9223372036854775807"', '"v"', '"v1', "v1", "W/\"v1\"",
                      '"v1", "v2"', "", '"' + "9" * 70 + '"', '"v0x10"']:
            self.send("PATCH", character, self.admin, [("Content-Type", "application/json"), ("If-Match", value)],
                      b'{"name":"Ana"}', expect=refused(f"If-Match: {value[:40]}"))
        self.send("PATCH", character, self.admin, [("Content-Type", "application/json"), ("If-Match", "*")], b'{"name":"Ana"}')

        rolls = f"/v1/campaigns/{self.campaign}/rolls"
        body = b'{"expression":"1d6"}'
        for value, expect in [("k" * 10 * KILO, refused("a 10 KB Idempotency-Key")), ("", refused("an empty Idempotency-Key")),
                              ("caf\u00e9".encode("utf-8"), None), (b"\x01\x02", None)]:
            self.send("POST", rolls, self.admin, [("Content-Type", "application/json"), ("Idempotency-Key", value)], body,
                      expect=expect)

    # 5. Bytes written by hand.

    def raw(self, what, data, allowed, half_close=False):
        """One request written by hand on a new connection: an answer in allowed (or none) and the
        connection closed, within 10 s. Statuses from 400 on must be followed by the close."""
        sock = connect(HOST, self.server.port)
        if sock is None:
            outcome = None
            problems = self.invariants(Outcome(None, True, 0.0, "refused"))
        else:
            outcome, _ = exchange(sock, data, "POST", half_close=half_close, wait_for_close=True)
            sock.close()
            if self.options.trace:
                print(f"  RAW {what} -> {outcome.describe()}, {'closed' if outcome.closed else 'open'} "
                      f"after {outcome.elapsed:.1f} s", flush=True)
            problems = self.invariants(outcome, allow_5xx=allowed) if outcome.answer else []
            if not problems:
                problems = self.framing_problems(outcome, allowed)
        self.record("RAW", f"{what}: {printable(data[:80])}", problems)

    def framing_problems(self, outcome, allowed):
        if outcome.answer is None:
            if outcome.error == "timeout":
                death = self.trouble(True)
                return [("server died", death)] if death else [("kept open", outcome.describe())]
            death = self.trouble(True)
            return [("server died", death)] if death else []
        status = outcome.answer.status
        problems = []
        if status not in allowed:
            problems.append(("unexpected status", f"answered {status} ({outcome.answer.problem()}), expected "
                             + "/".join(map(str, sorted(allowed)))))
        if status >= 400 and not outcome.closed:
            problems.append(("kept open after refusing", f"answered {status} and kept the connection open for {TIMEOUT:g} s"))
        if b"HTTP/1." in outcome.extra:
            problems.append(("answered smuggled bytes", f"answered {status}, then answered again: {printable(outcome.extra[:60])}"))
        return problems

    def group_framing(self):
        port = self.server.port
        head = f"Host: {HOST}:{port}\r\nAuthorization: Bearer {self.admin}\r\nContent-Type: application/json\r\n".encode()
        odds = b"POST /v1/odds HTTP/1.1\r\n" + head
        body = b'{"expression":"2d6"}'
        size = f"{len(body):x}".encode()
        refusal = {400}
        cases = [
            ("a chunk size that is not hex", odds + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n", refusal, False),
            ("a chunk size beyond 64 bits", odds + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff1\r\n" + body + b"\r\n0\r\n\r\n",
             {400, 413}, False),
            ("a negative chunk size", odds + b"Transfer-Encoding: chunked\r\n\r\n-5\r\n" + body + b"\r\n0\r\n\r\n", refusal, False),
            ("a chunk longer than its size", odds + b"Transfer-Encoding: chunked\r\n\r\n3\r\n" + body + b"\r\n0\r\n\r\n", refusal, False),
            ("no last chunk, then half-close", odds + b"Transfer-Encoding: chunked\r\n\r\n" + size + b"\r\n" + body + b"\r\n", refusal, True),
            ("Content-Length 100 with 10 bytes, then half-close", odds + b"Content-Length: 100\r\n\r\n" + body[:10], refusal, True),
            ("Expect: 100-continue and no body, then half-close", odds + b"Expect: 100-continue\r\nContent-Length: 20\r\n\r\n",
             {400, 417}, True),
            ("Transfer-Encoding: gzip", odds + b"Transfer-Encoding: gzip\r\n\r\n" + body, {400, 501}, False),
            ("Transfer-Encoding: gzip, chunked", odds + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + size + b"\r\n" + body + b"\r\n0\r\n\r\n",
             {400, 501}, False),
            ("Transfer-Encoding and Content-Length at once, a request smuggled behind",
             odds + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\n" + body + b"\r\n0\r\n\r\n"
             + f"GET /smuggled HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), {400, 200}, False),
            ("two different Content-Lengths", odds + b"Content-Length: 20\r\nContent-Length: 5\r\n\r\n" + body, refusal, False),
            ("a negative Content-Length", odds + b"Content-Length: -1\r\n\r\n" + body, refusal, False),
            ("a Content-Length beyond 64 bits", odds + b"Content-Length: 99999999999999999999999\r\n\r\n" + body, {400, 413}, False),
            ("a TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) + b"\r\n\r\n", refusal, False),
            ("a request line of one word", b"HELLO\r\n\r\n", refusal, False),
            ("a 100 KB query string", f"GET /v1/search?q={'a' * 100 * KILO} HTTP/1.1\r\n".encode() + head + b"\r\n",
             {400, 414, 431}, False),
            ("a 64 KB header line", b"GET /healthz HTTP/1.1\r\n" + head + b"X-Filler: " + b"a" * 64 * KILO + b"\r\n\r\n",
             {400, 431}, False),
            ("a NUL in the target", b"GET /heal\x00thz HTTP/1.1\r\n" + head + b"\r\n", refusal, False),
            ("a non-ASCII byte in the target", b"GET /v1/caf\xe9 HTTP/1.1\r\n" + head + b"\r\n", refusal, False),
            ("an invalid method token", b"G@T /healthz HTTP/1.1\r\n" + head + b"\r\n", refusal, False),
            # RFC 9112 section 2.2 lets a server take a bare LF as a line end: 200 is fine too.
            ("LF-only line ends", f"GET /healthz HTTP/1.1\nHost: {HOST}\n\n".encode(), {200, 400}, False),
            ("a header line without a colon", b"GET /healthz HTTP/1.1\r\n" + head + b"NoColonHere\r\n\r\n", refusal, False),
            ("a space before a header's colon", b"GET /healthz HTTP/1.1\r\nHost : x\r\n" + head[head.index(b"\r\n") + 2:] + b"\r\n",
             refusal, False),
            ("a control byte in a header value", b"GET /healthz HTTP/1.1\r\n" + head + b"X-Evil: a\x00b\x7fc\r\n\r\n", refusal, False),
        ]
        for what, data, allowed, half_close in cases:
            self.raw(what, data, allowed, half_close)
        self.pipelined_requests(head)
        self.slow_senders(head)

    def pipelined_requests(self, head):
        """Requests written back to back on one connection: each gets its own answer, in order,
        and the connection closes after the one that ends it."""
        healthz = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
        handshake = (b"GET /v1/campaigns/" + self.campaign.encode() + b"/live HTTP/1.1\r\n" + head
                     + b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     + b"Sec-WebSocket-Version: 13\r\n")
        odds = b"POST /v1/odds HTTP/1.1\r\n" + head
        cases = [
            ("a WebSocket handshake as the second request", healthz + handshake + b"\r\n", [200, 400], False),
            ("a WebSocket handshake with a body", handshake + b"Content-Length: 1\r\n\r\nx", [400], False),
            ("a body cut short after an earlier answer, then half-close",
             healthz + odds + b"Content-Length: 100000\r\n\r\n" + b'{"expression":"' + b"1" * 5000, [200, 400], True),
            ("a head that does not parse after a good request", healthz + b"garbage\r\n\r\n", [200, 400], False),
            ("an upgrade to h2c (declined: the request is served)",
             b"GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
             b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", [200], False),
            ("CONNECT", f"CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n\r\n".encode() + b"x" * 1000, [404], False),
        ]
        for what, data, expected, half_close in cases:
            sock = connect(HOST, self.server.port)
            problems = []
            if sock is None:
                problems = self.invariants(Outcome(None, True, 0.0, "refused"))
            else:
                outcome, _ = exchange(sock, data, "GET", half_close=half_close, wait_for_close=True)
                sock.close()
                statuses = ([outcome.answer.status] if outcome.answer else []) + \
                    [int(found) for found in re.findall(rb"HTTP/1\.1 (\d{3}) ", outcome.extra)]
                if statuses != expected:
                    problems.append(("pipelined answers", f"answered {statuses}, expected {expected}"))
                elif not outcome.closed:
                    problems.append(("kept open after refusing", f"answered {statuses} and kept the connection open"))
                death = self.trouble(True)
                if death:
                    problems.append(("server died", death))
            self.record("RAW", f"{what}: {printable(data[:80])}", problems)

    def slow_senders(self, head):
        """A head, and a body, one byte a second: the server must close the connection (or answer
        408) within the bound."""
        setting, limit = self.options.slow_setting, self.options.slow_limit
        if not setting:
            for what in ("a head one byte a second", "a body one byte a second"):
                self.record("RAW", what, [("no time limit setting", "the server offers no head/body time limit: "
                                           "`rfl-server env-example` lists no RFL_*TIMEOUT* key but RFL_S3_TIMEOUT "
                                           "(slow senders hold a connection for ever)")])
            return
        bound = self.options.slow_bound or limit + 8
        results = {}
        cases = [("a head one byte a second", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a" * 10_000),
                 ("a body one byte a second", b"POST /v1/odds HTTP/1.1\r\n" + head + b"Content-Length: 10000\r\n\r\n",
                  b" " * 10_000)]
        threads = [threading.Thread(target=self.slow_sender, args=(what, start, trickle, bound, results))
                   for what, start, trickle in cases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for what, _, _ in cases:
            problem, how = results[what]
            if self.options.trace:
                print(f"  RAW {what} -> {how}", flush=True)
            death = self.trouble(False)
            names = ", ".join(f"{key}={value}" for key, value in setting.items())
            self.record("RAW", f"{what} ({names})", [("server died", death)] if death else [problem] if problem else [])
        self.early_answer_then_idle(bound)

    def early_answer_then_idle(self, bound):
        """A request answered before its body is sent (401: no token), whose body then comes:
        the connection is idle from there, and closed within the bound."""
        what = "an answer before the body, then an idle connection"
        sock = connect(HOST, self.server.port)
        problems = []
        if sock is None:
            problems.append(("no answer", "refused the connection"))
        else:
            try:
                sock.settimeout(TIMEOUT)
                sock.sendall(f"POST /v1/campaigns HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                             "Content-Length: 10\r\n\r\n".encode())
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    received += chunk
                if not received.startswith(b"HTTP/1.1 401"):
                    problems.append(("unexpected status", f"answered {received[:40]!r}, expected 401 before the body"))
                sock.sendall(b'{"name":1}')
                began = time.monotonic()
                sock.settimeout(bound)
                try:
                    while sock.recv(4096):
                        pass
                except socket.timeout:
                    problems.append(("kept open", f"the idle connection was still open after {bound:g} s"))
                else:
                    if self.options.trace:
                        print(f"  RAW {what} -> closed after {time.monotonic() - began:.1f} s", flush=True)
            except OSError as error:
                problems.append(("connection error", str(error)))
            finally:
                sock.close()
        death = self.trouble(False)
        self.record("RAW", what, [("server died", death)] if death else problems)

    def slow_sender(self, what, start, trickle, bound, results):
        """Sends start, then trickle a byte a second while the server keeps the connection:
        results[what] = (None or the problem, what happened)."""
        sock = connect(HOST, self.server.port)
        if sock is None:
            results[what] = (("no answer", "refused the connection"), "refused")
            return
        began = time.monotonic()
        try:
            sock.sendall(start)
            for byte in trickle:
                # Wait up to a second for the server to close or answer, then send one byte more.
                sock.settimeout(1.0)
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    data = None
                except OSError:
                    data = b""
                elapsed = time.monotonic() - began
                if data == b"":
                    results[what] = (None, f"closed after {elapsed:.1f} s")
                    return
                if data is not None:
                    status = data[9:12].decode("latin-1", "replace")
                    problem = None if status == "408" else ("unexpected status", f"answered {status} to a slow sender, expected 408 or a close")
                    results[what] = (problem, f"answered {status} after {elapsed:.1f} s")
                    return
                if elapsed > bound:
                    results[what] = (("slow sender kept", f"kept a slow sender's connection open for {bound:g} s"), "kept open")
                    return
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    results[what] = (None, f"closed after {time.monotonic() - began:.1f} s")
                    return
        finally:
            sock.close()

    # 6. The live socket.

    def websocket(self, token=None):
        client = WebSocket(HOST, self.server.port, self.rng)
        headers = [("Authorization", f"Bearer {token}")] if token else []
        return client, client.open(f"/v1/campaigns/{self.campaign}/live", headers)

    def ws_check(self, what, verdict):
        """Records one live-socket check: verdict is None or (kind, text); death comes first."""
        death = self.trouble(True)
        problems = [("server died", death)] if death else ([verdict] if verdict else [])
        if self.options.trace:
            print(f"  WS {what} -> {verdict[1] if verdict else 'as expected'}", flush=True)
        self.record("WS", f"/v1/campaigns/{self.campaign}/live [{what}]", problems)

    def ws_open(self, what):
        """A signed-in socket past its welcome, or None (recorded as a failure)."""
        client, outcome = self.websocket(self.admin)
        if outcome.status != 101 or outcome.error:
            self.ws_check(what, ("no upgrade", f"the upgrade answered {outcome.describe()} {outcome.error or ''}".strip()))
            return None
        message = client.next_message()
        if not (isinstance(message, str) and '"welcome"' in message):
            self.ws_check(what, ("no welcome", f"no welcome message: {message!r:.80}"))
            client.close()
            return None
        return client

    def expect_close(self, client, what, strict):
        """The server closes the socket: with a close code (strict), or also by ending the TCP
        connection (for a broken frame, which RFC 6455 lets it drop)."""
        kind, code, messages = client.until_close()
        client.close()
        if self.options.trace:
            print(f"  WS {what}: {kind} {code or ''}", flush=True)
        if kind == "close" and code is not None:
            return None
        if kind == "eof" and not strict:
            return None
        answered = f"; it answered {', '.join(sorted({self.message_type(m) for m in messages}))}" if messages else ""
        if kind == "timeout":
            return f"kept open after {what}", f"{what}: no close within {TIMEOUT:g} s{answered}"
        return f"no close code after {what}", f"{what}: the connection ended without a close code{answered}"

    @staticmethod
    def message_type(message):
        try:
            return json.loads(message).get("type", "?")
        except (ValueError, AttributeError):
            return "?"

    def still_serving(self, client, what):
        """After something the server may ignore: a close with a code, or a pong to a ping."""
        client.send_text('{"type":"ping"}')
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = client.next_message(max(0.0, deadline - time.monotonic()))
            if isinstance(message, str):
                if '"pong"' in message:
                    client.close()
                    return None
                continue
            client.close()
            if isinstance(message, tuple) and message[1] is not None:
                return None
            return ("no close code" if message != "timeout" else "kept open"), f"{what}: neither a pong nor a close code ({message!r})"

    def group_websocket(self):
        frame_limit = 64 * KILO
        client = self.ws_open("a ping")
        if client:
            self.ws_check("a ping", self.still_serving(client, "a ping"))
        # strict: the server must send a close code (a frame or a message over its limit); else
        # dropping the TCP connection counts too (a broken frame: RFC 6455 section 7.1.7).
        for what, send, strict in [
            ("a text frame of 64 KiB + 1", lambda c: c.send(TEXT, b'"' * (frame_limit + 1)), True),
            ("a frame that claims 2^63-1 bytes", lambda c: c.send(TEXT, b"{}" * 8, declared_length=(1 << 63) - 1), True),
            ("a message of 5000 bytes", lambda c: c.send_text('{"type":"ping","pad":"' + "x" * 5000 + '"}'), True),
            ("a message of 6000 bytes in two fragments", lambda c: [c.send(TEXT if i == 0 else 0, b"x" * 3000, fin=i == 1)
                                                                    for i in range(2)], True),
            ("a message of 80 KiB in 16 KiB fragments", lambda c: [c.send(TEXT if i == 0 else 0, b"x" * (16 * KILO), fin=i == 4)
                                                                   for i in range(5)], True),
            ("a frame whose length has its top bit set", lambda c: c.send(TEXT, b"{}", declared_length=(1 << 64) - 1), False),
            ("a reserved opcode", lambda c: c.send(0x3, b"x"), False),
            ("a reserved bit", lambda c: c.send(TEXT, b'{"type":"ping"}', rsv=4), False),
            ("a ping of 126 bytes", lambda c: c.send(PING, b"p" * 126), False),
            ("a close with a bad code", lambda c: c.send(CLOSE, struct.pack(">H", 999) + b"\xff"), False),
        ]:
            client = self.ws_open(what)
            if client:
                send(client)
                self.ws_check(what, self.expect_close(client, what, strict))
        for what, payload in [("a binary frame", b"\x00\x01binary"), ("a binary frame of JSON", b'{"type":"ping"}')]:
            client = self.ws_open(what)
            if client:
                client.send(BINARY, payload)
                self.ws_check(what, self.still_serving(client, what))
        # An unmasked client frame: RFC 6455 asks the server to close, but the WebSocket library
        # does not look at the mask bit (docs/realtime.md says so); the server must go on serving.
        client = self.ws_open("an unmasked frame")
        if client:
            client.send(TEXT, b'{"type":"ping"}', mask=False)
            self.ws_check("an unmasked frame", self.still_serving(client, "an unmasked frame"))
        for what, payload in [("text that is not JSON", "{{{"), ("text that is not UTF-8", None),
                              ("an unknown message type", '{"type":"' + "z" * 100 + '"}'),
                              ("a hello after the welcome", json.dumps({"type": "hello", "token": self.admin, "after": -1}))]:
            client = self.ws_open(what)
            if client:
                if payload is None:
                    client.send(TEXT, b"\xff\xfe\xfd")
                else:
                    client.send_text(payload)
                self.ws_check(what, self.still_serving(client, what))
        self.ws_handshakes()
        self.ws_crowd(200)

    def ws_handshakes(self):
        """Upgrades that must be refused or closed, never crash: no key, another version, a junk
        token by header, a junk token by hello, a huge hello."""
        live = f"/v1/campaigns/{self.campaign}/live"
        for what, options, headers in [("no Sec-WebSocket-Key", {"key": False}, [("Authorization", f"Bearer {self.admin}")]),
                                       ("Sec-WebSocket-Version 99", {"version": "99"}, [("Authorization", f"Bearer {self.admin}")]),
                                       ("a junk token", {}, [("Authorization", "Bearer junk")])]:
            client = WebSocket(HOST, self.server.port, self.rng)
            outcome = client.open(live, headers, **options)
            verdict = None
            if outcome.status == 101:
                verdict = self.expect_close(client, what, True) if what == "a junk token" else \
                    ("accepted a broken upgrade", f"{what}: upgraded")
            elif outcome.answer is None:
                verdict = ("upgrade unanswered", f"{what}: {outcome.describe()} (expected 400, 401 or 426)")
            elif outcome.status >= 500:
                verdict = (f"answered {outcome.status}", f"{what}: answered {outcome.status}")
            client.close()
            self.ws_check(what, verdict)
        for what, hello in [("a hello with a junk token", {"type": "hello", "token": "junk"}),
                            ("a hello of 70 KiB", {"type": "hello", "token": "x" * 70 * KILO})]:
            client = WebSocket(HOST, self.server.port, self.rng)
            outcome = client.open(live)
            if outcome.status != 101:
                self.ws_check(what, ("no upgrade", f"{what}: the upgrade answered {outcome.describe()}"))
                continue
            client.send_text(json.dumps(hello))
            self.ws_check(what, self.expect_close(client, what, True))

    def ws_crowd(self, count):
        """count sockets of one account open at once: each upgraded (or refused without a 5xx)
        and welcomed, /healthz answering meanwhile, all closed cleanly."""
        clients, problems = [], []
        for _ in range(count):
            client = WebSocket(HOST, self.server.port, self.rng)
            if client.send_handshake(f"/v1/campaigns/{self.campaign}/live", [("Authorization", f"Bearer {self.admin}")]):
                clients.append(client)
            else:
                problems.append("a connection refused")
        # One deadline for each round, so that a server that answers none of them costs 10 s,
        # not 10 s a socket.
        deadline = time.monotonic() + TIMEOUT
        opened = []
        for client in clients:
            outcome = client.read_handshake(max(0.0, deadline - time.monotonic()))
            if outcome.status == 101:
                opened.append(client)
            elif outcome.answer is None or outcome.status >= 500:
                problems.append(f"an upgrade answered {outcome.describe()}")
        deadline = time.monotonic() + TIMEOUT
        welcomed = 0
        for client in opened:
            message = client.next_message(max(0.0, deadline - time.monotonic()))
            welcomed += isinstance(message, str) and '"welcome"' in message
        self.healthz()
        for client in opened:
            client.send(CLOSE, struct.pack(">H", 1000))
        deadline = time.monotonic() + TIMEOUT
        for client in opened:
            client.until_close(timeout=max(0.0, deadline - time.monotonic()))
            client.close()
        if welcomed < len(opened):
            problems.append(f"{len(opened) - welcomed} of {len(opened)} open sockets got no welcome")
        what = f"{count} sockets of one account at once ({len(opened)} upgraded, {welcomed} welcomed)"
        self.ws_check(what, ("crowd", "; ".join(sorted(set(problems)))) if problems else None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--only", help="groups to run, such as 1,5 (default all)")
    parser.add_argument("--verbose", action="store_true", help="also print notes (canonical requests refused, …)")
    parser.add_argument("--slow-bound", type=float, help="seconds a slow sender may hold a connection (default the limit + 8)")
    parser.add_argument("--slow-setting", help="KEY=SECONDS,…: the head and body time limits to set (default: those "
                        "`rfl-server env-example` lists, at 2 s)")
    parser.add_argument("--trace", action="store_true", help="print every request with its answer")
    parser.add_argument("--log", help="copy the server's log (every start of it) to this file at the end")
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)
    groups = {int(group) for group in options.only.split(",")} if options.only else set()
    options.slow_setting, options.slow_limit = find_slow_setting(binary, options.slow_setting)

    started = time.monotonic()
    folder = tempfile.mkdtemp(prefix="rfl-hostile-")
    server = Server(binary, folder, options.slow_setting)
    suite = None
    try:
        added = server.command("user", "add", "admin", "--role", "admin", stdin=ADMIN_PASSWORD)
        if added.returncode != 0:
            raise Abort(f"user add: {added.stderr.strip()}")
        server.start()
        suite = Suite(server, Contract(os.path.join(ROOT, "Sources", "ReferenceServer", "openapi.yaml")), options)
        suite.run(groups)
    except Abort as stop:
        print(f"FAIL [{suite.group if suite else 'start'}] the suite stopped: {stop}", flush=True)
        if suite:
            suite.failed += 1
    finally:
        server.stop()
        if options.log and os.path.exists(server.log_path):
            shutil.copyfile(server.log_path, options.log)
        shutil.rmtree(folder, ignore_errors=True)

    passed, failed = (suite.passed, suite.failed) if suite else (0, 1)
    if suite and suite.classes:
        print("failure classes:")
        for (group, kind), (count, example) in sorted(suite.classes.items()):
            print(f"  [{group}] {kind}: {count}, such as: {example}")
    print(f"hostile test: {time.monotonic() - started:.1f} s, the server started {server.starts} time(s)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
