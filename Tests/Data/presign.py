#!/usr/bin/env python3
"""botocore's presigned GET URL for an object, path-style, served as a given type, at a given
time: the independent reference the S3 tests compare the server's own presigned links with (moto
does not check the signatures of presigned URLs).

  RFL_S3_ACCESS_KEY_ID=… RFL_S3_SECRET_ACCESS_KEY=… \
  python3 Tests/Data/presign.py ENDPOINT REGION BUCKET KEY EXPIRES YYYYMMDDTHHMMSSZ CONTENT_TYPE
"""
import datetime
import os
import sys
from unittest import mock

import boto3
from botocore.config import Config

endpoint, region, bucket, key, expires, amz_date, content_type = sys.argv[1:8]
moment = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id=os.environ["RFL_S3_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["RFL_S3_SECRET_ACCESS_KEY"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

with mock.patch("botocore.auth.get_current_datetime", lambda: moment):
    print(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": content_type}, ExpiresIn=int(expires)))
