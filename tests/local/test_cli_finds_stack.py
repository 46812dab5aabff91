"""The CLI finds the running local stack on any port, and says how to start one when none runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from oms_local.ports import free_port
from oms_tools import operate
from oms_tools.cli import main


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def running_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _outputs(root: Path, folder: str, api_url: str) -> Path:
    path = root / ".oms" / folder / "outputs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ApiUrl": api_url, "ApiToken": "t"}))
    return path


def test_a_stack_on_another_port_is_found_and_one_that_stopped_is_passed_over(
    tmp_path, monkeypatch, running_api
):
    monkeypatch.setattr(operate, "ROOT", tmp_path)
    _outputs(tmp_path, "3007", running_api)
    stale = _outputs(tmp_path, "", f"http://127.0.0.1:{free_port()}")  # newer, but nothing answers there

    assert stale.stat().st_mtime >= (tmp_path / ".oms/3007/outputs.json").stat().st_mtime
    assert operate.find_local_stack()["ApiUrl"] == running_api


def test_with_no_stack_running_the_cli_says_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setattr(operate, "ROOT", tmp_path)
    monkeypatch.delenv("OMS_PORT", raising=False)
    _outputs(tmp_path, "3002", f"http://127.0.0.1:{free_port()}")

    with pytest.raises(click.ClickException) as refused:
        operate.find_local_stack()

    assert "no local stack is running" in refused.value.message
    assert "make run" in refused.value.message and ".oms/3002/outputs.json" in refused.value.message
    result = CliRunner().invoke(main, ["invoke", "reconcile_orders"])
    assert result.exit_code == 1 and "make run" in result.output


def test_oms_port_names_the_stack(tmp_path, monkeypatch, running_api):
    monkeypatch.setattr(operate, "ROOT", tmp_path)
    monkeypatch.setattr(operate, "default_state_dir", lambda port: tmp_path / ".oms" / str(port))
    _outputs(tmp_path, "3005", running_api)
    monkeypatch.setenv("OMS_PORT", "3009")

    result = CliRunner().invoke(main, ["simulate", "order", "--sku", "X", "--quantity", "1"])

    assert result.exit_code == 1
    assert "no local stack runs there" in result.output and 'make run ARGS="--port 3009"' in result.output
