"""`oms local`: the whole stack on one machine, no Docker, no AWS account.

moto (server mode) plays AWS; the template's resources are created in it; every function runs
in warm worker processes with the environment the template gives it, pointed at moto; API
Gateway, the SQS and stream event sources and the schedules are played by this process. When
everything answers, `<state dir>/outputs.json` appears; Ctrl-C stops every process started here.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from oms_local import moto_process
from oms_local.api_gateway import MAX_PAYLOAD_BYTES, ApiGateway, admit_api_token, payload_length, same_secret
from oms_local.content_types import content_type
from oms_local.dashboard_headers import local_security_headers
from oms_local.demo import seed_demo, stock_rest
from oms_local.faults import FaultPlan
from oms_local.ports import DEFAULT_PORT, default_state_dir
from oms_local.resources import LocalResources, create_resources
from oms_local.runtime import FunctionPool, FunctionSpec, InvocationError, die_with_parent
from oms_local.simulator import LOCAL_CREDENTIALS, Simulator, SimulatorConfig
from oms_local.template import ROOT, Function, Template
from oms_local.triggers import Loop, Schedule, SqsPoller, StreamPoller, filter_patterns, scheduled_event

STACK_NAME = "oms-local"
STOP_WITHIN = 4.0  # seconds Ctrl-C waits for the stack's processes before killing what is left
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT", "PYENV_ROOT")


@dataclass
class Options:
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    region: str = "us-east-1"
    simulator: bool = True
    orders_per_minute: float = 12.0
    state_dir: Path | None = None
    quiet: bool = False
    faults: float = 0.0  # fault mode: the share of DynamoDB calls, SP-API calls and batches that fail
    faults_seed: int = 0
    seed: int | None = None  # the marketplace's world (None: a new one each start)


class LocalStack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.state_dir = options.state_dir or default_state_dir(options.port)
        self.template = Template()
        self.api_token = secrets.token_urlsafe(24)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.pools: dict[str, FunctionPool] = {}
        self.loops: list[Loop] = []
        self.servers: list[ThreadingHTTPServer] = []
        self.resources: LocalResources | None = None
        self.simulator: Simulator | None = None
        self._stopping = threading.Event()
        self._sqs: Any = None
        self.outputs: dict[str, Any] = {}
        self._say_lock = threading.Lock()
        self.fault_plan: FaultPlan | None = None

    # ------------------------------------------------------------------ life cycle

    def say(self, text: str) -> None:
        if not self.options.quiet:
            with self._say_lock:
                print(text, flush=True)

    def start(self) -> dict[str, Any]:
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "outputs.json").unlink(missing_ok=True)
        self.fault_plan = self._fault_plan()
        simulator = self.simulator = self._start_simulator()
        endpoint = self._start_moto()
        self.resources = create_resources(
            self.template,
            STACK_NAME,
            self.options.region,
            endpoint,
            # subscribers in the local stack are tests on this machine: loopback allowed (never deployed)
            parameters={**simulator.stack_parameters(), "WebhooksAllowLoopback": "true"},
            secret_values={"SpApiSecret": json.dumps(LOCAL_CREDENTIALS)},
        )
        self._sqs = self.resources.client("sqs")
        admit_api_token(str(self.resources.refs["Table"]), self.resources.client("dynamodb"), self.api_token)
        self.say(f"  aws  moto at {endpoint}: resources of template.yaml created")
        for function in self.template.functions():
            self.pools[function.logical_id] = FunctionPool(
                self._spec(function), concurrency=4, on_invoke=self._reporter(function.logical_id)
            )
        self._warm_up()
        api = ApiGateway(
            self.template,
            self.resources.resolver,
            self.invoke,
            host=self.options.host,
            port=self.options.port,
            api_token=self.api_token,
            stage=str(self.resources.refs.get("Stage", "dev")),
        )
        console = self._console_server(api.url)
        for server in (api.server, console):
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
        self._start_triggers()
        if self.options.simulator:
            table_name, dynamodb = str(self.resources.refs["Table"]), self.resources.client("dynamodb")
            rest = seed_demo(table_name, dynamodb, simulator.marketplace.catalogue)
            if rest:
                self.say(
                    f"  sim  demo warehouse and opening stock; {len(rest)} more SKUs stocked in the background"
                )
                threading.Thread(
                    target=self._stock_rest, args=(table_name, dynamodb, rest), name="demo-stock", daemon=True
                ).start()
            simulator.start_buyers()
            self.say(f"  sim  buyers place about {self.options.orders_per_minute:g} orders a minute")
        else:
            self.say("  sim  no buyer activity (--no-simulator): orders come from `oms simulate order`")
        console_url = f"http://{self.options.host}:{console.server_address[1]}"
        self.outputs = self._outputs(api.url, console_url)
        path = self.state_dir / "outputs.json"
        temporary = path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        # It holds the API token: readable by its owner only, from the moment it exists.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps(self.outputs, indent=2) + "\n")
        temporary.replace(path)  # readers never see half a file
        self.say(
            f"\nReady in {time.monotonic() - started:.1f}s.\n"
            f"  API        {api.url}   (Authorization: Bearer {self.api_token})\n"
            f"  Dashboard  {self.outputs['DashboardUrl']}\n"
            f"  Outputs    {path}\n"
            f"  Logs       {self.state_dir / 'logs'}/<function>.log\n"
            "Ctrl-C stops everything.\n"
        )
        return self.outputs

    def _stock_rest(self, table_name: str, dynamodb: Any, skus: list[str]) -> None:
        try:
            stock_rest(table_name, dynamodb, skus, lambda: not self._stopping.is_set())
        except Exception as error:  # moto gone mid-write while stopping is no news
            if not self._stopping.is_set():
                self.say(f"  sim  stocking the demo's other SKUs stopped: {type(error).__name__}: {error}")

    def stop(self, within: float = STOP_WITHIN) -> None:
        """Every process this stack started gone within `within` seconds: the pollers, schedules and buyers told
        to stop, then the function workers and moto sent SIGTERM all at once (a worker mid-invocation is cut
        off, as Lambda cuts off a function at its timeout; a batch it held comes again), the servers and the
        simulator stopped, and the processes reaped together; what is still running at the end is killed.
        One at a time, each with its own wait, they took over 10 s on a loaded machine."""
        deadline = time.monotonic() + within
        self._stopping.set()
        for loop in self.loops:
            loop.stop()
        if self.simulator is not None:
            self.simulator.buyers.stop(timeout=0)  # no new orders from here on
        workers = [worker for pool in self.pools.values() for worker in pool.terminate()]
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        if self.simulator is not None:
            self.simulator.stop(timeout=max(deadline - time.monotonic(), 0))
        for worker in workers:
            worker.reap(deadline)
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        (self.state_dir / "outputs.json").unlink(missing_ok=True)

    def run_until_interrupted(self) -> None:
        """Start, serve until Ctrl-C (SIGINT) or SIGTERM, stop, and exit the process at once: its own teardown
        (the interpreter freeing every object of the stack and its marketplace) took seconds more on a loaded
        machine, after everything it started had stopped. A second Ctrl-C, or a stop past its bound, kills
        what is left and exits."""
        stop = threading.Event()

        def interrupted(signum: int, frame: Any) -> None:
            if stop.is_set():
                self._kill_and_exit("stopped by a second signal")
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, interrupted)
        try:
            self.start()
            stop.wait()
        except BaseException:
            self.stop()
            raise
        self.say("\nstopping...")
        watchdog = threading.Timer(STOP_WITHIN + 5, self._kill_and_exit, args=("still stopping",))
        watchdog.daemon = True
        watchdog.start()
        self.stop()
        _exit_now(0)

    def _kill_and_exit(self, why: str) -> None:
        """SIGKILL every process this stack started, and exit (status 1) without the interpreter's teardown.
        Takes no lock: it may run in the signal handler, interrupting the main thread that holds one."""
        if not self.options.quiet:
            with contextlib.suppress(OSError, ValueError):
                os.write(sys.stdout.fileno(), f"{why}: killing what is left\n".encode())
        for pool in self.pools.values():
            pool.kill()
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.kill()
        (self.state_dir / "outputs.json").unlink(missing_ok=True)
        _exit_now(1)

    # ------------------------------------------------------------------ pieces

    def _start_simulator(self) -> Simulator:
        """The local marketplace: its SP-API answers from now on (the functions are pointed at it)."""
        config = SimulatorConfig(orders_per_minute=self.options.orders_per_minute, seed=self.options.seed)
        simulator = Simulator(
            config, notify=self._notify, host=self.options.host, log=lambda text: self.say(f"  sim  {text}")
        )
        simulator.marketplace.deliver_mail = self._deliver_mail
        simulator.server.chaos = self.fault_plan
        simulator.start()
        self.say(
            f"  sim  local SP-API at {simulator.url} (seller {simulator.seller_id}, "
            f"marketplace {simulator.marketplace_id}; {simulator.marketplace.catalogue.source})"
        )
        if self.fault_plan is not None:
            self.say(
                f"  ...  fault mode: {self.fault_plan.rate:.0%} of DynamoDB calls, SP-API calls and batches fail "
                f"(seed {self.fault_plan.seed}); what was injected: {self.fault_plan.log_path}"
            )
        return simulator

    def _fault_plan(self) -> FaultPlan | None:
        if self.options.faults <= 0:
            return None
        log = self.state_dir / "faults.jsonl"
        log.unlink(missing_ok=True)
        return FaultPlan(rate=self.options.faults, seed=self.options.faults_seed, log_path=log)

    def _deliver_mail(self, raw: bytes) -> None:
        """A buyer's mail goes where SES's receipt rule stores it: the documents bucket, under the rule's
        prefix (template.yaml BuyerMailRule); the bucket's notification then tells the buyer-messages queue."""
        if self.resources is None:
            raise RuntimeError("the documents bucket does not exist yet")
        rule = self.template.resources["BuyerMailRule"]["Properties"]["Rule"]
        prefix = rule["Actions"][0]["S3Action"]["ObjectKeyPrefix"]
        self.resources.client("s3").put_object(
            Bucket=str(self.resources.refs["DocumentsBucket"]), Key=f"{prefix}{uuid.uuid4().hex}", Body=raw
        )

    def _notify(self, text: str) -> None:
        """The marketplace's notifications go where Amazon sends them: the order-notifications queue."""
        if self.resources is None or self._sqs is None:
            raise RuntimeError("the order-notifications queue does not exist yet")
        self._sqs.send_message(QueueUrl=str(self.resources.refs["OrderNotificationsQueue"]), MessageBody=text)

    def _start_moto(self) -> str:
        log = self.state_dir / "logs"
        log.mkdir(exist_ok=True)
        try:
            process, url = moto_process.start(
                self.options.host,
                stdout=(log / "moto.log").open("ab"),
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}; see {log / 'moto.log'}") from None
        self.processes.append(process)
        return url

    def _spec(self, function: Function) -> FunctionSpec:
        assert self.resources is not None
        environment = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
        environment.update(
            {k: str(v) for k, v in self.resources.resolver.resolve(function.environment).items()}
        )
        name = f"{STACK_NAME}-{function.logical_id}"
        environment.update(
            {
                # Only the environment says "local": the code is the code that runs in Lambda.
                "AWS_ENDPOINT_URL": str(self.resources.endpoint_url),
                "AWS_REGION": self.options.region,
                "AWS_DEFAULT_REGION": self.options.region,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_EXECUTION_ENV": "oms-local",
                "LAMBDA_TASK_ROOT": str(function.code_uri),
                "_HANDLER": function.handler,
                "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                # fault mode: read by the local runtime (oms_local.faults), never by the function's code
                **(self.fault_plan.environment() if self.fault_plan else {}),
            }
        )
        return FunctionSpec(
            name=function.logical_id,
            function_name=name,
            code_uri=function.code_uri,
            handler=function.handler,
            timeout=function.timeout,
            memory=function.memory,
            environment=environment,
            log_path=self.state_dir / "logs" / f"{function.folder}.log",
        )

    def _reporter(self, name: str) -> Callable[[str, float, str | None], None]:
        def report(request_id: str, seconds: float, error: str | None) -> None:
            if error and not self._stopping.is_set():
                self.say(f"  fn   {name} {request_id[:8]} FAILED after {seconds * 1000:.0f} ms: {error}")

        return report

    def _warm_up(self) -> None:
        """Start one worker per function now, so a broken function stops the stack at once, loudly."""

        def warm(pool: FunctionPool) -> None:
            pool.warm()

        with ThreadPoolExecutor(max_workers=len(self.pools) or 1) as executor:
            for future in [executor.submit(warm, pool) for pool in self.pools.values()]:
                future.result()

    def invoke(self, function: str, event: Any) -> Any:
        return self.pools[function].invoke(event)

    def invoke_async(self, function: Function, event: Any) -> None:
        """Lambda's asynchronous invocation: retries (EventInvokeConfig), then the OnFailure destination."""
        config = function.properties.get("EventInvokeConfig", {})
        retries = int(config.get("MaximumRetryAttempts", 2))
        for attempt in range(1, retries + 2):
            try:
                self.invoke(function.logical_id, event)
                return
            except InvocationError as error:
                failure = error
                if attempt <= retries:
                    time.sleep(min(2 * attempt, 10))
        destination = config.get("DestinationConfig", {}).get("OnFailure", {})
        if destination.get("Type") == "SQS" and self.resources:
            arn = self.resources.resolver.resolve(destination["Destination"])
            url = self._queue_url(arn)
            self.resources.client("sqs").send_message(
                QueueUrl=url,
                MessageBody=json.dumps(
                    {
                        "version": "1.0",
                        "timestamp": datetime.now(UTC).isoformat(),
                        "requestContext": {
                            "functionArn": function.logical_id,
                            "condition": "RetriesExhausted",
                            "approximateInvokeCount": retries + 1,
                        },
                        "requestPayload": event,
                        "responseContext": {
                            "statusCode": 200,
                            "executedVersion": "$LATEST",
                            "functionError": "Unhandled",
                        },
                        "responsePayload": failure.payload,
                    },
                    default=str,
                ),
            )

    def _queue_url(self, arn: str) -> str:
        assert self.resources is not None
        for logical_id, value in self.resources.attributes.items():
            if logical_id[1] == "Arn" and value == arn:
                return str(self.resources.refs[logical_id[0]])
        raise KeyError(f"no local queue with ARN {arn}")

    def _start_triggers(self) -> None:
        assert self.resources is not None
        resolve = self.resources.resolver.resolve
        sqs, streams = self.resources.client("sqs"), self.resources.client("dynamodbstreams")
        for function in self.template.functions():
            for trigger in function.triggers:
                props = trigger.properties
                reports = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
                if trigger.type == "SQS":
                    arn = resolve(props["Queue"])
                    self.loops.append(
                        SqsPoller(
                            function=function.logical_id,
                            queue_url=self._queue_url(arn),
                            queue_arn=arn,
                            batch_size=int(props.get("BatchSize", 10)),
                            report_failures=reports,
                            region=self.options.region,
                            sqs=sqs,
                            invoke=self.invoke,
                            say=self.say,
                        )
                    )
                elif trigger.type == "DynamoDB":
                    on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                    self.loops.append(
                        StreamPoller(
                            function=function.logical_id,
                            stream_arn=resolve(props["Stream"]),
                            batch_size=int(props.get("BatchSize", 100)),
                            max_retries=int(props.get("MaximumRetryAttempts", 10)),
                            report_failures=reports,
                            on_failure_url=self._queue_url(resolve(on_failure)) if on_failure else None,
                            starting_position=props.get("StartingPosition", "LATEST"),
                            region=self.options.region,
                            streams=streams,
                            sqs=sqs,
                            invoke=self.invoke,
                            say=self.say,
                            patterns=filter_patterns(props),
                            batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                        )
                    )
                elif trigger.type in ("Schedule", "ScheduleV2"):
                    self.loops.append(
                        Schedule(
                            function=function.logical_id,
                            trigger_type=trigger.type,
                            trigger_name=trigger.name,
                            properties=resolve(props),
                            region=self.options.region,
                            fire=functools.partial(self.invoke_async, function),
                            say=self.say,
                        )
                    )
        for loop in self.loops:
            loop.start()

    def default_event(self, function: Function) -> Any:
        """What `oms invoke FUNCTION` sends without --event: a schedule's event, fired now."""
        for trigger in function.triggers:
            if trigger.type in ("Schedule", "ScheduleV2"):
                arn = f"arn:aws:scheduler:{self.options.region}:123456789012:schedule/default/{function.logical_id}"
                return scheduled_event(
                    trigger.type,
                    trigger.properties,
                    when=datetime.now(UTC),
                    region=self.options.region,
                    schedule_arn=arn,
                )
        samples = sorted((ROOT / "events" / function.folder).glob("*.json"))
        hint = f" (samples: {', '.join(str(s.relative_to(ROOT)) for s in samples)})" if samples else ""
        raise ValueError(f"{function.folder} has no schedule: give an event with --event FILE{hint}")

    def _outputs(self, api_url: str, console_url: str) -> dict[str, Any]:
        assert self.resources is not None
        outputs: dict[str, Any] = {}
        for name, spec in self.template.outputs.items():
            with contextlib.suppress(KeyError):
                outputs[name] = self.resources.resolver.resolve(spec["Value"])
        outputs.update(
            {
                "StackName": STACK_NAME,
                "ApiUrl": api_url,
                "DashboardUrl": f"{console_url}/#api={api_url}&token={self.api_token}",
                "AwsEndpointUrl": self.resources.endpoint_url,
                "Region": self.options.region,
                "ApiToken": self.api_token,
                "LocalConsoleUrl": console_url,
                # what the alerts topic would mail (moto's EventBridge cannot deliver to SNS)
                "LocalAlertsQueueUrl": self.resources.refs.get("LocalAlertsQueue"),
            }
        )
        if self.simulator is not None:
            outputs.update(self.simulator.outputs())
        return outputs

    def _console_server(self, api_url: str) -> ThreadingHTTPServer:
        """The dashboard's static files with CloudFront's security headers (its job in AWS), and
        `oms invoke`'s door."""
        stack = self
        web_root = ROOT / "web"
        images = [self.simulator.url] if self.simulator is not None else []
        security = local_security_headers(self.template, api_url, images, self.options.region)

        class Console(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(web_root), **kwargs)

            def guess_type(self, path: str | os.PathLike[str]) -> str:
                return content_type(Path(path))  # the types the deployed bucket serves (ES modules need them)

            def end_headers(self) -> None:
                self.send_header("Cache-Control", "no-cache")  # an edited web/ file shows on the next load
                for name, value in security.items():
                    self.send_header(name, value)
                super().end_headers()

            def do_POST(self) -> None:
                prefix = "/_local/invoke/"
                if not self.path.startswith(prefix):
                    self.send_error(404)
                    return
                if not same_secret(self.headers.get("Authorization") or "", f"Bearer {stack.api_token}"):
                    self.send_error(401)
                    return
                length = payload_length(self.headers.get("Content-Length"))
                if length is None or length > MAX_PAYLOAD_BYTES:
                    self.send_error(413 if length else 400)
                    return
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    self.send_error(400, "the event is not JSON")
                    return
                status, answer = stack.control_invoke(self.path[len(prefix) :], body)
                payload = json.dumps(answer, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.options.host, 0), Console)
        server.daemon_threads = True
        return server

    def control_invoke(self, name: str, event: Any) -> tuple[int, dict[str, Any]]:
        try:
            function = self.template.function(name)
            if event is None:
                event = self.default_event(function)
        except (KeyError, ValueError) as error:
            return 400, {"errorType": "InvalidRequest", "errorMessage": str(error).strip('"')}
        try:
            return 200, {"function": function.logical_id, "result": self.invoke(function.logical_id, event)}
        except InvocationError as error:
            return 200, {"function": function.logical_id, "error": error.payload}


def _exit_now(status: int) -> None:
    """Exit with `status` once the exit functions ran and the output is flushed, skipping the interpreter's
    teardown (everything the stack started is stopped; what is left is memory, which the OS frees at once)."""
    atexit._run_exitfuncs()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)
