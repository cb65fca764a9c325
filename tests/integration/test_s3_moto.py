"""The embedded moto server: S3 put/get/list/multipart, SQS and SNS on one endpoint, port fallback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from harness.backends.s3 import MotoServer


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


def test_put_get_and_list_with_prefix(moto: MotoServer) -> None:
    moto.create_bucket("put-get-list")
    client = moto.s3_client()
    for key in ["data/year=2026/a.gz", "data/year=2026/b.gz", "errors/c.gz"]:
        client.put_object(Bucket="put-get-list", Key=key, Body=key.encode())

    assert moto.list_keys("put-get-list", prefix="data/") == ["data/year=2026/a.gz", "data/year=2026/b.gz"]
    assert len(moto.list_keys("put-get-list")) == 3
    assert moto.get_object_bytes("put-get-list", "errors/c.gz") == b"errors/c.gz"


def test_list_keys_follows_pagination(moto: MotoServer) -> None:
    moto.create_bucket("many-keys")
    client = moto.s3_client()
    keys = [f"k/{i:04d}" for i in range(1005)]  # more than one ListObjectsV2 page (1000)
    for key in keys:
        client.put_object(Bucket="many-keys", Key=key, Body=b"")
    assert moto.list_keys("many-keys") == keys


def test_multipart_upload_round_trips(moto: MotoServer) -> None:
    moto.create_bucket("multipart")
    client = moto.s3_client()
    part_one = b"a" * (5 * 1024 * 1024)  # S3's minimum size for every part but the last
    part_two = b"tail-bytes"
    upload = client.create_multipart_upload(Bucket="multipart", Key="big.bin")
    parts = []
    for number, body in enumerate([part_one, part_two], start=1):
        answer = client.upload_part(
            Bucket="multipart", Key="big.bin", UploadId=upload["UploadId"], PartNumber=number, Body=body
        )
        parts.append({"ETag": answer["ETag"], "PartNumber": number})
    client.complete_multipart_upload(
        Bucket="multipart", Key="big.bin", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert moto.get_object_bytes("multipart", "big.bin") == part_one + part_two


def test_missing_object_is_aws_no_such_key(moto: MotoServer) -> None:
    moto.create_bucket("missing")
    client = moto.s3_client()
    with pytest.raises(client.exceptions.NoSuchKey):
        client.get_object(Bucket="missing", Key="nope")


def test_sqs_send_and_receive_on_same_endpoint(moto: MotoServer) -> None:
    sqs = moto.sqs_client()
    queue_url = sqs.create_queue(QueueName="esm-on-failure")["QueueUrl"]
    assert queue_url.startswith(moto.endpoint_url)
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"requestContext": {}}')
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ['{"requestContext": {}}']


def test_sns_publish_reaches_subscribed_queue(moto: MotoServer) -> None:
    sns, sqs = moto.sns_client(), moto.sqs_client()
    topic_arn = sns.create_topic(Name="esm-failures")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="sns-sink")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    message_id = sns.publish(TopicArn=topic_arn, Message="batch failed")["MessageId"]
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(received[0]["Body"])
    assert envelope["MessageId"] == message_id
    assert envelope["Message"] == "batch failed"


def test_env_points_sdk_at_the_server(moto: MotoServer) -> None:
    env = moto.env()
    assert env["AWS_ENDPOINT_URL_S3"] == moto.endpoint_url
    assert env["AWS_ENDPOINT_URL_SQS"] == moto.endpoint_url
    assert env["AWS_ENDPOINT_URL_SNS"] == moto.endpoint_url
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"


def test_taken_port_falls_back_to_another() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        with MotoServer(port=taken) as server:
            assert server.port != taken
            server.create_bucket("fallback")
            assert server.list_keys("fallback") == []


def test_stop_releases_port_and_thread() -> None:
    server = MotoServer().start()
    port = server.port
    server.stop()
    server.stop()  # idempotent
    assert not any(t.name == f"moto-server-{port}" for t in threading.enumerate())
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
