"""`make deploy`'s last step: upload web/ to the stack's dashboard bucket and refresh CloudFront.

    python -m oms_tools.publish_dashboard --config-env default

The stack name, and the region and profile if `sam deploy --guided` saved them, come from
samconfig.toml's profile (the same one `sam deploy --config-env` used); the bucket and the
distribution come from the stack's Outputs (DashboardBucketName, DashboardDistributionId).
"""

from __future__ import annotations

import json
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import click
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from oms_local.content_types import CONTENT_TYPES, content_type
from oms_local.template import ROOT

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_CONFIG_FILE = ROOT / "samconfig.toml"
DEFAULT_WEB_ROOT = ROOT / "web"

BUCKET_OUTPUT = "DashboardBucketName"
DISTRIBUTION_OUTPUT = "DashboardDistributionId"
CONFIG_KEY = "config.json"  # what the deployed dashboard reads first: the API and the hosted sign-in

# Pages are revalidated on every load, so a deploy shows at once; everything else may be cached a little
# while (the CloudFront invalidation clears the edge caches, browsers ask again after 5 minutes).
NO_CACHE = "no-cache"
SHORT_CACHE = "public, max-age=300"


_REFUSED_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidToken",
}

# Stack states in which there is no dashboard to publish to.
_UNUSABLE_STATUSES = {
    "REVIEW_IN_PROGRESS": "it has not been created yet (its first change set was not executed)",
    "CREATE_IN_PROGRESS": "wait until it is created, then run this again",
    "CREATE_FAILED": "its creation failed; see its events in the CloudFormation console",
    "ROLLBACK_IN_PROGRESS": "its creation failed; see its events in the CloudFormation console",
    "ROLLBACK_FAILED": "its creation failed; see its events in the CloudFormation console",
    "ROLLBACK_COMPLETE": "its creation failed; delete it and deploy again",
    "DELETE_IN_PROGRESS": "it is being deleted",
    "DELETE_FAILED": "its deletion failed",
}


class PublishError(Exception):
    """Publishing cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class DeployConfig:
    """What `sam deploy --config-env ENV` deploys to, from samconfig.toml."""

    stack_name: str
    region: str | None = None
    profile: str | None = None


@dataclass
class PublishResult:
    bucket: str
    uploaded: list[str] = field(default_factory=list)
    invalidation_id: str | None = None


def read_deploy_config(config_file: Path, config_env: str) -> DeployConfig:
    """The stack, region and profile of CONFIG_ENV; `deploy` parameters win over `global` ones, as in SAM."""
    try:
        document = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PublishError(f"{config_file} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise PublishError(f"{config_file} is not valid TOML: {error}") from None
    environment = document.get(config_env)
    if not isinstance(environment, dict):
        known = sorted(key for key, value in document.items() if isinstance(value, dict))
        raise PublishError(f"{config_file} has no config env {config_env!r} (known: {', '.join(known)})")
    parameters: dict[str, Any] = {}
    for command in ("global", "deploy"):
        parameters.update(environment.get(command, {}).get("parameters", {}))
    stack_name = parameters.get("stack_name")
    if not stack_name:
        raise PublishError(f"{config_file} sets no stack_name for config env {config_env!r}")
    return DeployConfig(
        stack_name=str(stack_name), region=parameters.get("region"), profile=parameters.get("profile")
    )


def read_stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's Outputs as {OutputKey: OutputValue}."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            raise PublishError(
                f"stack {stack_name} does not exist in {cloudformation.meta.region_name}: deploy it first "
                "(`make deploy`), or check the region (samconfig.toml's region, AWS_REGION, AWS_DEFAULT_REGION)"
            ) from None
        raise
    stack = stacks[0]
    status = stack.get("StackStatus", "")
    if status in _UNUSABLE_STATUSES:
        raise PublishError(f"stack {stack_name} is {status}: {_UNUSABLE_STATUSES[status]}")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def cache_control(path: Path) -> str:
    return NO_CACHE if path.suffix.lower() in (".html", ".htm") else SHORT_CACHE


def web_files(web_root: Path) -> list[Path]:
    """Every file under web_root but hidden ones (.DS_Store, .gitkeep; .well-known/ is kept), pages last.

    Pages go last so that no new page is served before the assets it names are in the bucket.
    """

    def hidden(path: Path) -> bool:
        parts = path.relative_to(web_root).parts
        return any(part.startswith(".") and part != ".well-known" for part in parts)

    files = [path for path in web_root.rglob("*") if path.is_file() and not hidden(path)]
    return sorted(
        files, key=lambda path: (cache_control(path) == NO_CACHE, path.relative_to(web_root).as_posix())
    )


def dashboard_config(outputs: Mapping[str, str]) -> dict[str, Any] | None:
    """config.json for the deployed dashboard (web/js/auth.js), or None without an ApiUrl output."""
    if not outputs.get("ApiUrl"):
        return None
    config: dict[str, Any] = {"apiUrl": outputs["ApiUrl"], "region": outputs.get("Region")}
    if outputs.get("DocumentsBucketName"):  # the only place the dashboard's document links may point
        config["documentsBucket"] = outputs["DocumentsBucketName"]
    if outputs.get("UserPoolDomainUrl") and outputs.get("UserPoolClientId"):
        config["cognito"] = {"domain": outputs["UserPoolDomainUrl"], "clientId": outputs["UserPoolClientId"]}
    return config


def publish(
    outputs: Mapping[str, str],
    s3: S3Client,
    cloudfront: Any,
    web_root: Path,
    echo: Callable[[str], object] | None = None,
) -> PublishResult:
    """Upload web_root to the DashboardBucketName bucket, then invalidate DashboardDistributionId (if any)."""
    say = echo or (lambda message: None)
    bucket = outputs.get(BUCKET_OUTPUT)
    if not bucket:
        raise PublishError(
            f"the stack has no {BUCKET_OUTPUT} output: is it deployed from this template.yaml?"
        )
    if not web_root.is_dir():
        raise PublishError(f"{web_root} is not a directory")
    files = web_files(web_root)
    if not files:
        raise PublishError(f"{web_root} has no files to publish")
    result = PublishResult(bucket=bucket)
    config = dashboard_config(outputs)
    if config is not None:  # first: the pages that read it come last
        s3.put_object(
            Bucket=bucket,
            Key=CONFIG_KEY,
            Body=json.dumps(config, indent=2).encode(),
            ContentType=CONTENT_TYPES[".json"],
            CacheControl=NO_CACHE,
        )
        result.uploaded.append(CONFIG_KEY)
        say(f"  s3://{bucket}/{CONFIG_KEY}  (the API and sign-in of this stack)")
    for path in files:
        key = path.relative_to(web_root).as_posix()
        if config is not None and key == CONFIG_KEY:
            continue  # the stack's own configuration wins over a stray local file
        extra = {"ContentType": content_type(path), "CacheControl": cache_control(path)}
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
        result.uploaded.append(key)
        say(f"  s3://{bucket}/{key}  ({extra['ContentType']}; {extra['CacheControl']})")
    distribution = outputs.get(DISTRIBUTION_OUTPUT)
    if distribution:
        answer = cloudfront.create_invalidation(
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"oms-publish-dashboard-{uuid.uuid4()}",
            },
        )
        result.invalidation_id = answer["Invalidation"]["Id"]
    return result


def _aws_problem(error: Exception) -> str:
    """An operator's explanation of a boto3 failure."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: sign in (`aws sso login`, `aws configure`) or set AWS_PROFILE "
            "to the profile `sam deploy` used"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION, or region in samconfig.toml's deploy parameters"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _REFUSED_CREDENTIALS:
            return f"AWS refused the credentials ({code}): sign in again, or check AWS_PROFILE"
    return str(error)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config-env",
    default="default",
    show_default=True,
    help="samconfig.toml profile, as given to `sam deploy --config-env`.",
)
@click.option(
    "--config-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CONFIG_FILE,
    show_default=True,
    help="The SAM config file.",
)
@click.option(
    "--web-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_WEB_ROOT,
    show_default=True,
    help="The dashboard's static files.",
)
@click.option("--quiet", "-q", is_flag=True, help="Only print the summary.")
def main(config_env: str, config_file: Path, web_dir: Path, quiet: bool) -> None:
    """Upload the dashboard (web/) to the deployed stack's bucket and invalidate its CloudFront cache."""
    try:
        config = read_deploy_config(config_file, config_env)
        session = boto3.Session(profile_name=config.profile, region_name=config.region)
        if not session.region_name:
            raise NoRegionError
        outputs = read_stack_outputs(session.client("cloudformation"), config.stack_name)
        click.echo(f"publishing {web_dir} to stack {config.stack_name} ({session.region_name})")
        result = publish(
            outputs,
            session.client("s3"),
            session.client("cloudfront"),
            web_dir,
            echo=None if quiet else click.echo,
        )
    except PublishError as error:
        raise click.ClickException(str(error)) from None
    except (BotoCoreError, ClientError, Boto3Error) as error:
        raise click.ClickException(_aws_problem(error)) from None
    click.echo(f"published {len(result.uploaded)} files to s3://{result.bucket}")
    if result.invalidation_id:
        click.echo(f"CloudFront invalidation {result.invalidation_id} of /* started (takes a minute or two)")
    else:
        click.echo(f"no {DISTRIBUTION_OUTPUT} output: CloudFront cache not invalidated")
    if "DashboardUrl" in outputs:
        click.echo(f"dashboard: {outputs['DashboardUrl']}")


if __name__ == "__main__":
    main()
