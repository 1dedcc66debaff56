"""Screenshots of the Prefect UI after a demo run, taken with headless Chromium.

Starts a Prefect server on a free port with a throw-away PREFECT_HOME, runs the demo and the
daily report against it, and saves PNGs of the flow runs, the logistics-check run and the daily
report artifact. Needs Debian's chromium (`apt-get install -y chromium`; fonts-noto-cjk for the
Chinese headings). Usage: `.venv/bin/python scripts/screenshots.py [--out docs/screenshots]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
REPORT_KEY = "daily-after-sales-report"
SERVER_START_SECONDS = 180
DEMO_CODE = (
    "from app.demo import run_demo\n"
    "run_demo(orders_per_shop=150, seed=7)\n"
    "from flows.daily_report import daily_after_sales_report\n"
    "daily_after_sales_report()\n"
)


@dataclass(frozen=True)
class Page:
    """A UI page to capture: its URL, the window height, texts proving it has rendered."""

    url: str
    height: int
    expect: tuple[str, ...]


def find_chromium() -> str | None:
    """Return the path of the Chromium binary, or None when it is not installed."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_environment(prefect_home: Path, api_url: str | None = None) -> dict[str, str]:
    """Return the environment for the server and the demo: fresh home, no analytics."""
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(prefect_home)
    # The demo's database beside that home: the project's own var/ is left alone.
    env["AFTERCARE_DATA_DIR"] = str(prefect_home.parent / "data")
    env.pop("AFTERCARE_DATABASE_URL", None)
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT"] = "false"
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


@contextmanager
def prefect_server(prefect_home: Path, log_path: Path) -> Iterator[str]:
    """Run `prefect server start` on a free port until the block ends; yield its API URL."""
    port = free_port()
    prefect = Path(sys.executable).parent / "prefect"
    command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    api_url = f"http://127.0.0.1:{port}/api"
    # The UI asks /ui-settings where the API is: this port, not the default 4200.
    env = prefect_environment(prefect_home) | {"PREFECT_SERVER_UI_API_URL": api_url}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its children stop with it
        )
    try:
        wait_until_healthy(process, api_url, log_path)
        print(f"Prefect server at http://127.0.0.1:{port}", flush=True)
        yield api_url
    finally:
        stop_process_group(process)


def wait_until_healthy(process: subprocess.Popen[bytes], api_url: str, log_path: Path) -> None:
    """Wait until the server answers /api/health; raise with its log tail if it does not."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited while starting:\n{log_tail(log_path)}")
        try:
            if requests.get(f"{api_url}/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)  # waiting for a process we started
    raise TimeoutError(f"the Prefect server did not come up in time:\n{log_tail(log_path)}")


def log_tail(log_path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and its children, politely then firmly."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def run_demo(prefect_home: Path, api_url: str) -> None:
    """Run the demo and the daily report in a fresh interpreter pointed at the server."""
    print("running the demo and the daily report against it ...", flush=True)
    subprocess.run(
        [sys.executable, "-c", DEMO_CODE],
        cwd=ROOT,
        env=prefect_environment(prefect_home, api_url),
        check=True,
    )


def api_post(api_url: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST a filter to the Prefect API and return the JSON list it answers."""
    response = requests.post(f"{api_url}{path}", json=body, timeout=30)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def logistics_check_run_id(api_url: str) -> str:
    """Return the id of the demo's first logistics-check run (the one that checks parcels)."""
    runs = api_post(
        api_url,
        "/flow_runs/filter",
        {
            "flows": {"name": {"any_": ["logistics-check"]}},
            "sort": "START_TIME_ASC",
            "limit": 1,
        },
    )
    if not runs:
        raise LookupError("no logistics-check flow run on the server")
    return str(runs[0]["id"])


def report_artifact_id(api_url: str) -> str:
    """Return the id of the latest daily report artifact."""
    artifacts = api_post(
        api_url,
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": [REPORT_KEY]}}, "sort": "CREATED_DESC", "limit": 1},
    )
    if not artifacts:
        raise LookupError(f"no {REPORT_KEY} artifact on the server")
    return str(artifacts[0]["id"])


def screenshot(chromium: str, page: Page, target: Path, budget_ms: int) -> str:
    """Take one headless screenshot of the page into target; return the rendered DOM."""
    with tempfile.TemporaryDirectory(prefix="aftercare-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size=1440,{page.height}",
            "--hide-scrollbars",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            f"--screenshot={target}",
            page.url,
        ]
        target.unlink(missing_ok=True)
        done = subprocess.run(command, capture_output=True, timeout=180, check=False)
    return done.stdout.decode("utf-8", errors="replace") if target.exists() else ""


def capture(chromium: str, page: Page, target: Path) -> None:
    """Screenshot the page, with more time while the single-page app has not rendered it yet."""
    for budget_ms in (15_000, 30_000, 60_000):
        dom = screenshot(chromium, page, target, budget_ms)
        if all(text in dom for text in page.expect):
            optimise(target)
            print(f"  {target.name}  {target.stat().st_size // 1024} KB  ({page.url})")
            return
    raise RuntimeError(f"{page.url} did not show {page.expect} in time")


def optimise(target: Path) -> None:
    """Shrink the PNG losslessly with optipng when it is installed."""
    optipng = shutil.which("optipng")
    if optipng:
        subprocess.run([optipng, "-quiet", "-o2", "-strip", "all", str(target)], check=False)


def take_screenshots(chromium: str, api_url: str, out: Path) -> None:
    """Find the run and the artifact through the API and screenshot their pages."""
    ui = api_url.removesuffix("/api")
    run_id, artifact_id = logistics_check_run_id(api_url), report_artifact_id(api_url)
    pages = {
        "runs.png": Page(f"{ui}/runs", 1250, ("logistics-check", "dispatch-messages")),
        "logistics-check-run.png": Page(
            f"{ui}/runs/flow-run/{run_id}", 1000, ("logistics-check", "track-shipments")
        ),
        "daily-report.png": Page(
            f"{ui}/artifacts/artifact/{artifact_id}", 3400, ("售后日报", "近 14 天趋势")
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    print(f"taking screenshots with {chromium} ...", flush=True)
    for name, page in pages.items():
        capture(chromium, page, out / name)


def main(argv: list[str] | None = None) -> int:
    """Start the server, run the demo, screenshot the UI, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs"
    )
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print(
            "Chromium is not installed. Install Debian's package (as root) and retry:\n"
            "  apt-get install -y chromium",
            file=sys.stderr,
        )
        return 2
    # On SIGTERM unwind like on Ctrl-C, so the server stops and the temporary folders go.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    with tempfile.TemporaryDirectory(prefix="aftercare-screenshots-") as tmp:
        prefect_home = Path(tmp) / "prefect"
        prefect_home.mkdir()
        with prefect_server(prefect_home, Path(tmp) / "server.log") as api_url:
            run_demo(prefect_home, api_url)
            take_screenshots(chromium, api_url, out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
