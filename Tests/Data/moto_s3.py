#!/usr/bin/env python3
"""An S3-compatible server for the S3 tests: moto's server (moto[server] from PyPI, which
`make deps` installs), on a port of the system's choosing, with authentication enforced from its
first request (INITIAL_NO_AUTH_ACTION_COUNT=0), so every request must carry a valid signature.

It opens a window of exactly three unsigned actions through moto's /moto-api/reset-auth, spends
them on an IAM user, its access key and a policy allowing S3, and prints one JSON line:
{"endpoint", "access_key_id", "secret_access_key"}. It then serves until its standard input
closes, so it never outlives the test process that started it.

  python3 Tests/Data/moto_s3.py
"""
import json
import os
import sys
import urllib.request

os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"

import boto3  # noqa: E402 (moto reads the variable when imported)
from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"

urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"3", method="POST",
                                              headers={"Content-Type": "text/plain"})).read()
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIASETUP0000000000",
                   aws_secret_access_key="setup-only")
iam.create_user(UserName="rfl-media")
key = iam.create_access_key(UserName="rfl-media")["AccessKey"]
iam.put_user_policy(UserName="rfl-media", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
print(json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}),
      flush=True)

sys.stdin.read()
server.stop()
