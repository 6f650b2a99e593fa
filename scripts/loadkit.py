"""What the load scripts share: a free port, percentiles, and an rfl-server of their own.

`Server` runs rfl-server in a temporary data folder with the rate limits out of the way, makes
one account, serves, and logs in on a kept-alive connection; the folder goes with it.
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Server:
    def __init__(self, binary, prefix, environment=None):
        self.binary = binary
        self.folder = tempfile.mkdtemp(prefix=prefix)
        self.port = free_port()
        self.environment = dict(os.environ, RFL_DATA_DIR=self.folder, RFL_PORT=str(self.port), RFL_BCRYPT_COST="4", RFL_LOG_LEVEL="warning",
                                RFL_RATE_LIMIT_PER_MINUTE="1000000", RFL_RATE_LIMIT_BURST="1000000",
                                RFL_ACCOUNT_RATE_LIMIT_PER_MINUTE="1000000", RFL_ACCOUNT_RATE_LIMIT_BURST="1000000", **(environment or {}))
        self.env_file = os.path.join(self.folder, "none.env")
        open(self.env_file, "w").close()
        self.log = os.path.join(self.folder, "server.log")
        self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)

    def command(self, *arguments, input=None):
        """Runs `rfl-server ARGUMENTS` on this server's folder; the completed process."""
        return subprocess.run([self.binary, *arguments, "--env-file", self.env_file], env=self.environment, input=input, text=True,
                              capture_output=True)

    def serve(self, username, password):
        """Makes the account, serves, waits until ready and logs in: the connection and the
        headers that authenticate on it."""
        added = self.command("user", "add", username, "--role", "player", input=password)
        if added.returncode != 0:
            sys.exit(added.stderr)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([self.binary, "serve", "--env-file", self.env_file], env=self.environment,
                                            stdout=subprocess.DEVNULL, stderr=log)
        connection = None
        for _ in range(1000):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port)
                connection.request("GET", "/readyz")
                connection.getresponse().read()
                break
            except OSError:
                if self.process.poll() is not None:
                    with open(self.log) as log:
                        sys.exit(f"the server stopped: {log.read()[-2000:]}")
                time.sleep(0.02)
        connection.request("POST", "/v1/auth/login", body=json.dumps({"username": username, "password": password}),
                           headers={"Content-Type": "application/json"})
        token = json.loads(connection.getresponse().read())["access_token"]
        return connection, {"Authorization": "Bearer " + token}
