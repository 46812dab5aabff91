"""`make deploy`'s dashboard upload (oms_tools.publish_dashboard) against moto S3, CloudFront and CloudFormation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from oms_tools import publish_dashboard
from oms_tools.publish_dashboard import PublishError, publish, read_deploy_config, read_stack_outputs

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "oms-dev-dashboardbucket-test"

WEB_FILES = {
    "index.html": "<!doctype html><title>OMS</title><script src=app.js></script>",
    "app.js": "console.log('oms');",
    "styles.css": "body { margin: 0 }",
    "img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "orders/detail.html": "<!doctype html><title>Order</title>",
    "config.json": "{}",
    "favicon.ico": "\x00\x00\x01\x00",
    "fonts/inter.woff2": "wOF2",
    "notes.unknownext": "?",
    ".well-known/security.txt": "Contact: mailto:security@example.com",
    ".DS_Store": "junk",
    ".git/HEAD": "junk",
}

EXPECTED_TYPES = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "orders/detail.html": ("text/html; charset=utf-8", "no-cache"),
    "app.js": ("text/javascript; charset=utf-8", "public, max-age=300"),
    "styles.css": ("text/css; charset=utf-8", "public, max-age=300"),
    "img/logo.svg": ("image/svg+xml", "public, max-age=300"),
    "config.json": ("application/json", "public, max-age=300"),
    "favicon.ico": ("image/x-icon", "public, max-age=300"),
    "fonts/inter.woff2": ("font/woff2", "public, max-age=300"),
    "notes.unknownext": ("application/octet-stream", "public, max-age=300"),
    ".well-known/security.txt": ("text/plain; charset=utf-8", "public, max-age=300"),
}


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    for name, text in WEB_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "dashboard",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "dashboard",
                            "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "dashboard",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )["Distribution"]
        yield {"s3": s3, "cloudfront": cloudfront, "distribution_id": distribution["Id"]}


def _invalidations(aws: dict[str, Any]) -> list[dict[str, Any]]:
    listing = aws["cloudfront"].list_invalidations(DistributionId=aws["distribution_id"])["InvalidationList"]
    return [
        aws["cloudfront"].get_invalidation(DistributionId=aws["distribution_id"], Id=item["Id"])[
            "Invalidation"
        ]
        for item in listing.get("Items", [])
    ]


def test_publish_uploads_every_file_with_its_type_and_cache_policy(
    web_root: Path, aws: dict[str, Any]
) -> None:
    outputs = {"DashboardBucketName": BUCKET, "DashboardDistributionId": aws["distribution_id"]}

    result = publish(outputs, aws["s3"], aws["cloudfront"], web_root)

    keys = {item["Key"] for item in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == set(EXPECTED_TYPES)
    assert sorted(result.uploaded) == sorted(EXPECTED_TYPES)
    for key, (content_type, cache_control) in EXPECTED_TYPES.items():
        head = aws["s3"].head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
    body = aws["s3"].get_object(Bucket=BUCKET, Key="index.html")["Body"].read().decode()
    assert body == WEB_FILES["index.html"]
    # pages last: a new page is never served before the assets it names
    assert result.uploaded[-2:] == ["index.html", "orders/detail.html"]

    invalidations = _invalidations(aws)
    assert [i["Id"] for i in invalidations] == [result.invalidation_id]
    assert invalidations[0]["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/*"]}


def test_publish_without_a_distribution_output_only_uploads(web_root: Path, aws: dict[str, Any]) -> None:
    result = publish({"DashboardBucketName": BUCKET}, aws["s3"], aws["cloudfront"], web_root)

    assert result.invalidation_id is None
    assert _invalidations(aws) == []
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == len(EXPECTED_TYPES)


def test_publish_refuses_without_a_bucket_output_or_files(tmp_path: Path, aws: dict[str, Any]) -> None:
    with pytest.raises(PublishError, match="no DashboardBucketName output"):
        publish({"ApiUrl": "https://x"}, aws["s3"], aws["cloudfront"], tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".gitkeep").write_text("")
    with pytest.raises(PublishError, match="no files to publish"):
        publish({"DashboardBucketName": BUCKET}, aws["s3"], aws["cloudfront"], tmp_path / "empty")
    with pytest.raises(PublishError, match="not a directory"):
        publish({"DashboardBucketName": BUCKET}, aws["s3"], aws["cloudfront"], tmp_path / "missing")


def test_deploy_config_is_read_like_sam_does(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[dev.global.parameters]\nstack_name = "from-global"\nregion = "eu-west-1"\n'
        '[dev.deploy.parameters]\nstack_name = "from-deploy"\nprofile = "seller"\n'
        "[bare.build.parameters]\ncached = true\n"
    )

    assert read_deploy_config(config, "dev") == publish_dashboard.DeployConfig(
        stack_name="from-deploy", region="eu-west-1", profile="seller"
    )
    with pytest.raises(PublishError, match="no config env 'prod'"):
        read_deploy_config(config, "prod")
    with pytest.raises(PublishError, match="no stack_name"):
        read_deploy_config(config, "bare")
    with pytest.raises(PublishError, match="does not exist"):
        read_deploy_config(tmp_path / "missing.toml", "dev")


def test_the_repository_samconfig_names_both_stacks() -> None:
    assert read_deploy_config(ROOT / "samconfig.toml", "default").stack_name == "amazon-seller-oms-dev"
    assert read_deploy_config(ROOT / "samconfig.toml", "prod").stack_name == "amazon-seller-oms-prod"


def _create_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )


def test_stack_outputs_and_a_missing_stack(aws: dict[str, Any]) -> None:
    _create_stack("oms-test", {"DashboardBucketName": BUCKET, "ApiUrl": "https://api"})
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")

    assert read_stack_outputs(cloudformation, "oms-test") == {
        "DashboardBucketName": BUCKET,
        "ApiUrl": "https://api",
    }
    with pytest.raises(PublishError, match="stack nope does not exist in us-east-1"):
        read_stack_outputs(cloudformation, "nope")


def test_a_stack_whose_first_change_set_was_declined_has_no_dashboard(aws: dict[str, Any]) -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_change_set(
        StackName="oms-test",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}}),
    )

    with pytest.raises(PublishError, match="REVIEW_IN_PROGRESS: it has not been created yet"):
        read_stack_outputs(cloudformation, "oms-test")


def _samconfig(tmp_path: Path, stack_name: str) -> Path:
    config = tmp_path / "samconfig.toml"
    config.write_text(f'version = 0.1\n[default.global.parameters]\nstack_name = "{stack_name}"\n')
    return config


def test_command_publishes_the_deployed_stacks_dashboard(
    tmp_path: Path, web_root: Path, aws: dict[str, Any]
) -> None:
    _create_stack(
        "oms-test",
        {
            "DashboardBucketName": BUCKET,
            "DashboardDistributionId": aws["distribution_id"],
            "DashboardUrl": "https://d111.cloudfront.net/",
        },
    )
    args = ["--config-file", str(_samconfig(tmp_path, "oms-test")), "--web-dir", str(web_root)]

    result = CliRunner().invoke(publish_dashboard.main, [*args, "--config-env", "default"])

    assert result.exit_code == 0, result.output
    assert f"published {len(EXPECTED_TYPES)} files to s3://{BUCKET}" in result.output
    assert "CloudFront invalidation" in result.output
    assert "dashboard: https://d111.cloudfront.net/" in result.output
    assert len(_invalidations(aws)) == 1


def test_command_explains_a_missing_stack(tmp_path: Path, web_root: Path, aws: dict[str, Any]) -> None:
    args = ["--config-file", str(_samconfig(tmp_path, "never-deployed")), "--web-dir", str(web_root)]

    result = CliRunner().invoke(publish_dashboard.main, args)

    assert result.exit_code == 1
    assert "stack never-deployed does not exist in us-east-1" in result.output
    assert "Traceback" not in result.output


def test_command_explains_missing_credentials(
    tmp_path: Path, web_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup either
    args = ["--config-file", str(_samconfig(tmp_path, "oms-test")), "--web-dir", str(web_root)]

    result = CliRunner().invoke(publish_dashboard.main, args)

    assert result.exit_code == 1
    assert "no AWS credentials found" in result.output


def test_the_deployed_dashboard_learns_where_its_document_links_may_point() -> None:
    from oms_tools.publish_dashboard import dashboard_config

    config = dashboard_config(
        {"ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod", "Region": "eu-west-1",
         "DocumentsBucketName": "oms-prod-documentsbucket-1"}
    )  # fmt: skip
    assert config is not None
    assert (config["documentsBucket"], config["region"]) == ("oms-prod-documentsbucket-1", "eu-west-1")
