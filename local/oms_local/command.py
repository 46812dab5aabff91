"""`oms local`: start the whole stack on this machine. Also `python -m oms_local [OPTIONS]`, which the
test harness runs; the `oms` CLI (oms_tools) adds it as its `local` command."""

from __future__ import annotations

from pathlib import Path

import click

from oms_local.ports import DEFAULT_PORT


@click.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port of the local API.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--simulator/--no-simulator",
    default=True,
    show_default=True,
    help="Generate buyer activity in the local marketplace (off: tests control every order).",
)
@click.option(
    "--orders-per-minute",
    type=click.FloatRange(min=0),
    default=12.0,
    show_default=True,
    help="How many orders the simulated buyers place a minute (with --simulator).",
)
@click.option(
    "--region", default="us-east-1", show_default=True, help="AWS region the local stack pretends to be."
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where outputs.json and logs go [.oms, or .oms/PORT on another port].",
)
@click.option(
    "--faults",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    envvar="OMS_LOCAL_FAULTS",
    show_default=True,
    help="Fault mode: this share of DynamoDB calls, SP-API calls and SQS/stream batches fail "
    "(throttled, 5xx, timeouts, answers lost after acting, batches dying part way). Env: OMS_LOCAL_FAULTS.",
)
@click.option(
    "--faults-seed",
    type=int,
    default=0,
    envvar="OMS_LOCAL_FAULTS_SEED",
    show_default=True,
    help="Seed of the fault mode's decisions (the same requests fail the same way). Env: OMS_LOCAL_FAULTS_SEED.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    envvar="OMS_LOCAL_SEED",
    help="Seed of the marketplace's world (its listings, FBA stock, buyers): the same seed, the same world. "
    "Default: a new world each start. Env: OMS_LOCAL_SEED.",
)
def local(
    port: int,
    host: str,
    simulator: bool,
    orders_per_minute: float,
    region: str,
    state_dir: Path | None,
    faults: float,
    faults_seed: int,
    seed: int | None,
) -> None:
    """Start the whole stack locally (moto, API, pollers, schedules, marketplace) until Ctrl-C."""
    from oms_local.clock import follow_shift
    from oms_local.stack import LocalStack, Options  # moto and all, once the command runs (not for --help)

    follow_shift()  # make test-timeshift: the tests' clock

    options = Options(
        port=port,
        host=host,
        region=region,
        simulator=simulator,
        orders_per_minute=orders_per_minute,
        state_dir=state_dir,
        faults=faults,
        faults_seed=faults_seed,
        seed=seed,
    )
    stack = LocalStack(options)
    try:
        stack.run_until_interrupted()
    except OSError as error:
        raise click.ClickException(f"{error} (is another stack on port {port}? try --port)") from error
