#!/usr/bin/env python3
"""Proxy-mode benchmark: real popular packages and real apps through a fresh Airlock in
front of the registry this machine's npm is configured with.

1. Starts `airlock serve` on loopback with a fresh data directory, the upstream taken
   from `npm config get registry`, and a policy with no minimum release age (the
   release-age quarantine is left out of these figures on purpose: it holds every
   fresh version for everyone; what is measured is what content, diff and dependency
   rules refuse).
2. Decides the newest version of every package in bench/popular.json the way an
   install would: `GET /-/airlock/check/name@version`, which fetches and verifies the
   tarball, analyses it, diffs it against the version published before it on its
   line, and judges the dependencies it newly adds by their own decisions.
3. Installs each app of bench/apps.json with npm and with pnpm through that Airlock
   (`--ignore-scripts`: no package code runs on this machine), each client with its
   own config, cache and HOME.

Prints: verdicts with the codes behind them, every version refused with why, the
install results, and the issue's targets.

    bench/proxy_detection.py                   # everything
    bench/proxy_detection.py --limit 200       # the first 200 packages
    bench/proxy_detection.py --apps-only
    AIRLOCK_BENCH_WRAP="heaptrack -o target/airlock.heaptrack" bench/proxy_detection.py --apps-only
                                               # the server under a profiler (its memory figures then are the wrapper's)
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tables import table

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target/bench-proxy"
PORT = 48741
TOKEN = "bench-admin-token"
AGE_CODES = {"release-age", "publish-time-missing"}


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def start_airlock():
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    if not binary.exists():
        sys.exit(f"build first: cargo build --release -p airlock ({binary} is missing)")
    upstream = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/-/ping", timeout=2)
        sys.exit(f"something already answers on port {PORT} (an Airlock left from an earlier run?); stop it first")
    except (urllib.error.URLError, ConnectionError):
        pass
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    policy = WORK / "policy.toml"
    policy.write_text('min_release_age = "0s"\n')
    wrap = os.environ.get("AIRLOCK_BENCH_WRAP", "").split()
    process = subprocess.Popen(
        wrap + [str(binary), "serve", "--listen", f"127.0.0.1:{PORT}", "--data-dir", str(WORK / "data"),
         "--upstream", upstream, "--policy", str(policy), "--admin-token", TOKEN],
        stdout=open(WORK / "airlock.log", "w"), stderr=subprocess.STDOUT,
        env={**os.environ, "AIRLOCK_LOG": "warn,airlock::access=off"},
        # Its own process group, so that stopping it stops a wrapper's child too.
        start_new_session=True)
    for _ in range(100):
        if process.poll() is not None:
            # A server left over from an earlier run would answer the ping below.
            sys.exit(f"airlock exited at start; see {WORK / 'airlock.log'}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/-/ping", timeout=2)
            if process.poll() is not None:
                sys.exit(f"airlock exited at start (is another process on port {PORT}?); see {WORK / 'airlock.log'}")
            return process
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    stop(process, signal.SIGKILL)
    sys.exit(f"airlock did not start; see {WORK / 'airlock.log'}")


def stop(process, how):
    """Stops the server and whatever runs it (a profiler's wrapper)."""
    try:
        os.killpg(process.pid, how)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def check(name, version):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/-/airlock/check/{name}@{version}",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"error": f"{error.code}: {error.read().decode(errors='replace')[:300]}"}
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        return {"error": str(error)}


def decide_popular(limit, workers):
    packages = [package for package in json.loads((ROOT / "bench/popular.json").read_text())["packages"]
                if package.get("newest")][:limit]
    started = time.time()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(check, package["name"], package["newest"]): package for package in packages}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[future]["name"]] = (futures[future], future.result())
            if done % 100 == 0:
                log(f"decided {done}/{len(packages)} in {time.time() - started:.0f} s")
    counts = {"block": [], "quarantine": [], "warn": [], "allow": [], "error": []}
    for name, (package, report) in sorted(results.items()):
        if "error" in report:
            counts["error"].append((package, report))
            continue
        reasons = [reason for reason in report["decision"]["reasons"] if reason["code"] not in AGE_CODES]
        verdict = "allow"
        for reason in reasons:
            action = reason["action"]["verdict"]
            if ["allow", "warn", "quarantine", "block"].index(action) > ["allow", "warn", "quarantine", "block"].index(verdict):
                verdict = action
        counts[verdict].append((package, {**report, "_reasons": reasons}))
    rows = []
    for verdict in ("block", "quarantine", "warn", "allow", "error"):
        codes = {}
        for _, report in counts[verdict]:
            for reason in report.get("_reasons", []):
                codes[reason["code"]] = codes.get(reason["code"], 0) + 1
        rows.append((verdict, len(counts[verdict]), ", ".join(f"{code} x{count}" for code, count in sorted(codes.items(), key=lambda item: -item[1])) or "-"))
    print(f"Proxy mode: newest versions of {len(packages)} popular packages, decided in {time.time() - started:.0f} s\n")
    table(["verdict (release age aside)", "packages", "codes"], rows)
    for verdict in ("block", "quarantine", "warn", "error"):
        for package, report in counts[verdict]:
            print(f"  {verdict:<10} {package['name']}@{package['newest']} (previous {package.get('previous')})")
            for reason in report.get("_reasons", []):
                print(f"             {reason['code']}: {reason['message'][:300]}")
            if "error" in report:
                print(f"             {report['error']}")
    print()
    return counts, len(packages)


class MemorySampler(threading.Thread):
    """Samples the resident memory of Airlock and of its analysis workers (its child
    processes) every 100 ms; keeps the peak of the sum. The server's own peak is
    the kernel's VmHWM, read at the end."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_total, self.peak_workers, self.done = pid, 0, 0, threading.Event()

    @staticmethod
    def rss_kb(pid, field="VmRSS"):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def children(self):
        found = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                found += [int(pid) for pid in (task / "children").read_text().split()]
            except (OSError, ValueError):
                pass
        return found

    def run(self):
        while not self.done.wait(0.1):
            workers = sum(self.rss_kb(pid) for pid in self.children())
            self.peak_workers = max(self.peak_workers, workers)
            self.peak_total = max(self.peak_total, self.rss_kb(self.pid) + workers)


def client_env(home):
    return {**os.environ, "HOME": str(home), "npm_config_userconfig": str(home / ".npmrc"),
            "npm_config_cache": str(home / "cache"), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"),
            "COREPACK_ENABLE_STRICT": "0"}


# npm's cache entries, by content address, over every npm install of the run: the
# union is what npm alone keeps for the same installs (cacache names content by its
# digest, so the same tarball in two caches is one entry).
NPM_CACHE = {}


def note_npm_cache(home):
    content = home / "cache" / "_cacache" / "content-v2"
    for path in content.rglob("*") if content.exists() else []:
        if path.is_file():
            NPM_CACHE[str(path.relative_to(content))] = path.stat().st_size


def directory_bytes(directory):
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file() and not path.is_symlink())


def install(app, client):
    with tempfile.TemporaryDirectory(prefix=f"airlock-app-{client}-") as directory:
        directory = Path(directory)
        home = directory / "home"
        project = directory / "project"
        home.mkdir()
        project.mkdir()
        registry = f"http://127.0.0.1:{PORT}/"
        (home / ".npmrc").write_text(f"registry={registry}\n")
        manifest = {"name": f"bench-{app['name']}", "version": "1.0.0", "private": True,
                    "dependencies": app.get("dependencies", {}), "devDependencies": app.get("devDependencies", {})}
        (project / "package.json").write_text(json.dumps(manifest, indent=2))
        if client == "npm":
            command = ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", f"--registry={registry}",
                       "--loglevel=error"]
        else:
            pnpm = ROOT / "target/js-clients/node_modules/pnpm/bin/pnpm.cjs"
            if not pnpm.exists():
                return ("skipped", 0, "pnpm not installed (run scripts/install-clients)")
            command = ["node", str(pnpm), "install", "--ignore-scripts", f"--registry={registry}",
                       "--reporter=silent", "--config.strict-peer-dependencies=false"]
        started = time.time()
        result = subprocess.run(command, cwd=project, env=client_env(home), capture_output=True, text=True,
                                timeout=1800)
        seconds = time.time() - started
        if client == "npm":
            note_npm_cache(home)
        output = (result.stdout + result.stderr).strip()
        refused = [line for line in output.splitlines() if "403" in line or "quarantined" in line or "blocked" in line]
        if result.returncode == 0:
            lock = project / ("package-lock.json" if client == "npm" else "pnpm-lock.yaml")
            count = lock.read_text().count('"resolved"' if client == "npm" else "resolution:") if lock.exists() else 0
            return ("installed", seconds, f"{count} packages")
        return ("FAILED", seconds, (refused[0] if refused else output.splitlines()[-1] if output else "?")[:240])


def run_apps(clients, only=None):
    apps = json.loads((ROOT / "bench/apps.json").read_text())
    apps = apps["apps"] if isinstance(apps, dict) else apps
    if only:
        apps = [app for app in apps if app["name"].split(" ")[0] in only]
    rows = []
    failures = 0
    for app in apps:
        for client in clients:
            status, seconds, detail = install(app, client)
            failures += status == "FAILED"
            rows.append((app["name"], client, status, f"{seconds:.0f}", detail))
            log(f"{app['name']} with {client}: {status} ({detail})")
    print(f"Real installs through Airlock ({len(apps)} apps, {', '.join(clients)}; --ignore-scripts)\n")
    table(["app", "client", "result", "s", "detail"], rows)
    return failures, len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100000)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--apps-only", action="store_true")
    parser.add_argument("--no-apps", action="store_true")
    parser.add_argument("--clients", default="npm,pnpm")
    parser.add_argument("--app", action="append", help="only this app of bench/apps.json (repeatable)")
    args = parser.parse_args()
    process = start_airlock()
    sampler = MemorySampler(process.pid)
    sampler.start()
    targets = []
    try:
        if not args.apps_only:
            counts, total = decide_popular(args.limit, args.workers)
            stopped = len(counts["block"]) + len(counts["quarantine"])
            targets.append(("popular newest: <= 0.5% quarantined or blocked (release age aside)",
                            stopped <= total * 0.005, f"{stopped} of {total} ({100 * stopped / max(total, 1):.2f}%)"))
            targets.append(("popular newest: decided without error", not counts["error"], f"{len(counts['error'])} errors"))
        if not args.no_apps:
            failures, runs = run_apps(args.clients.split(","), args.app)
            targets.append(("real apps install with no approval needed", failures == 0, f"{runs - failures} of {runs} installs"))
            if args.apps_only and NPM_CACHE:
                # Only the apps went through this Airlock: its data directory against
                # npm's own cache for the same installs (pnpm's fetches add none of
                # their own: the same tarballs).
                data_mb = directory_bytes(WORK / "data") / 2**20
                npm_mb = sum(NPM_CACHE.values()) / 2**20
                table(["disk after the installs", "MB"], [
                    ("Airlock data directory (database, blobs, journal)", f"{data_mb:.0f}"),
                    ("npm's own caches, union by content address", f"{npm_mb:.0f}"),
                ])
                targets.append(("data directory within 2x of npm's cache for the same installs",
                                data_mb <= 2 * npm_mb, f"{data_mb:.0f} MB vs {npm_mb:.0f} MB ({data_mb / max(npm_mb, 1):.2f}x)"))
        server_peak_mb = MemorySampler.rss_kb(process.pid, "VmHWM") / 1024
        sampler.done.set()
        table(["memory", "peak MB"], [
            ("Airlock server process (VmHWM)", f"{server_peak_mb:.0f}"),
            ("analysis workers together (sampled every 0.1 s)", f"{sampler.peak_workers / 1024:.0f}"),
            ("server and workers together (sampled)", f"{sampler.peak_total / 1024:.0f}"),
        ])
        targets.append(("Airlock server peak RSS < 300 MB", server_peak_mb < 300, f"{server_peak_mb:.0f} MB"))
    finally:
        stop(process, signal.SIGTERM)
    table(["target", "met", "figure"], [(name, "yes" if met else "NO", figure) for name, met, figure in targets])


if __name__ == "__main__":
    main()
