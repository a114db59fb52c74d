#!/usr/bin/env python3
"""Real packuments, served warm: Airlock against nginx serving the very bytes Airlock
renders, precompressed (`gzip_static`), with the headers npm sends.

The synthetic benchmark (bench/proxy.py) serves one 300-version package; real
packuments range from a few kilobytes to tens of megabytes. This one takes the N most
downloaded names (the tool library's npm.tsv), fetches each abbreviated packument once
through a fresh Airlock in front of the registry npm is configured with (release age
0, so nothing is withheld), writes what Airlock answered, plain and gzipped, where nginx
serves it from, and then loads both servers with wrk, one size class at a time, each
request for the next name of the class (a wrk Lua script), with npm's `Accept` and
`Accept-Encoding: gzip`.

    cargo build --release -p airlock
    bench/real_packuments.py                 # the 200 most downloaded names, 5 s per cell
    bench/real_packuments.py --top 50 --duration 3
    bench/real_packuments.py --cache-mb 1024   # with a larger memory cache than the default

Prints per size class (by the plain abbreviated document): names, bytes plain and on
the wire, requests/s and p99 for Airlock and nginx at 16 and 64 connections, and the
issue's target (Airlock >= 70% of nginx in every class). Needs wrk and nginx (installed
from Debian's packages when missing).
"""

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import proxy
from popular import EXCLUDED
from tables import table
from wider import ranked

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench-real-packuments"
AIRLOCK, NGINX = 48761, 48762
ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
CLASSES = [("< 100 KB", 0, 100_000), ("100 KB - 1 MB", 100_000, 1_000_000),
           ("1 - 5 MB", 1_000_000, 5_000_000), ("> 5 MB", 5_000_000, 10**12)]
CONNECTIONS = (16, 64)


def fetch(path, encoding):
    headers = {"Accept": ACCEPT, "User-Agent": "npm/11 bench"}
    if encoding:
        headers["Accept-Encoding"] = encoding
    request = urllib.request.Request(f"http://127.0.0.1:{AIRLOCK}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read(), response.headers.get("Content-Encoding")


def start_airlock(cache_mb):
    upstream = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True,
                              check=True).stdout.strip()
    shutil.rmtree(WORK / "data", ignore_errors=True)
    policy = WORK / "policy.toml"
    policy.write_text('min_release_age = "0s"\n')
    config = []
    if cache_mb:
        (WORK / "airlock.toml").write_text(f"[cache]\nmemory_mb = {cache_mb}\n")
        config = ["--config", str(WORK / "airlock.toml")]
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    if not binary.exists():
        sys.exit(f"build first: cargo build --release -p airlock ({binary} is missing)")
    return proxy.start("airlock", [str(binary), "serve", "--listen", f"127.0.0.1:{AIRLOCK}", "--data-dir",
                                   str(WORK / "data"), "--upstream", upstream, "--policy", str(policy), *config],
                       AIRLOCK, env={**os.environ, "AIRLOCK_LOG": "warn,airlock::access=off"})


def start_nginx(root):
    config = WORK / "nginx.conf"
    config.write_text(f"""{proxy.nginx_head()}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/vnd.npm.install-v1+json;
  gzip_static on;
{proxy.nginx_temp_paths()}
  server {{
    listen 127.0.0.1:{NGINX};
    root {root};
    location = /-/ping {{ return 200 '{{}}'; }}
  }}
}}
""")
    return proxy.start("nginx", ["nginx", "-c", str(config), "-p", str(WORK)], NGINX)


def lua_script(paths, name):
    """A wrk script whose requests go through `paths` in turn."""
    script = WORK / f"{name}.lua"
    quoted = ",\n".join(f'  "{path}"' for path in paths)
    script.write_text(f"""local paths = {{
{quoted}
}}
local index = 0
request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
""")
    return script


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--cache-mb", type=int, help="Airlock's memory cache ([cache] memory_mb; default 64)")
    args = parser.parse_args()
    proxy.WORK = WORK
    WORK.mkdir(parents=True, exist_ok=True)
    proxy.ensure_load_tools()
    root = WORK / "nginx-root"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    airlock = start_airlock(args.cache_mb)
    nginx = None
    try:
        documents = []
        started = time.time()
        for name in [name for name in ranked(1, args.top) if name not in EXCLUDED]:
            path = "/" + urllib.parse.quote(name, safe="@")
            try:
                plain, _ = fetch(path, None)
                zipped, coding = fetch(path, "gzip,deflate")
            except OSError as error:
                proxy.log(f"{name}: {error}; left out")
                continue
            # nginx serves the same rendered bytes: plain, and gzipped beside them
            # (Airlock leaves small documents uncompressed; so does nginx then).
            file = root / name.lstrip("/")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(plain)
            if coding == "gzip":
                Path(f"{file}.gz").write_bytes(zipped)
            elif coding:
                sys.exit(f"{name}: Airlock answered {coding!r} to Accept-Encoding: gzip")
            documents.append((name, path, len(plain), len(zipped), len(gzip.compress(plain, 6))))
        proxy.log(f"{len(documents)} packuments fetched and rendered in {time.time() - started:.0f} s")
        nginx = start_nginx(root)
        headers = [f"Accept: {ACCEPT}", "Accept-Encoding: gzip,deflate"]
        rows, targets = [], []
        for label, low, high in CLASSES:
            members = [document for document in documents if low <= document[2] < high]
            if not members:
                continue
            airlock_paths = [document[1] for document in members]
            nginx_paths = ["/" + document[0] for document in members]
            plain = sum(document[2] for document in members)
            wire = sum(document[3] for document in members)
            level6 = sum(document[4] for document in members)
            ratios = []
            for connections in CONNECTIONS:
                results = {}
                for server, port, paths in (("airlock", AIRLOCK, airlock_paths), ("nginx", NGINX, nginx_paths)):
                    script = lua_script(paths, f"{server}-{low}")
                    proxy.log(f"wrk {label} {server} c={connections}")
                    results[server] = proxy.wrk(f"http://127.0.0.1:{port}/", connections, args.duration,
                                                headers=headers, script=script)
                ratio = results["airlock"][0] / results["nginx"][0]
                ratios.append(ratio)
                rows.append((label, len(members), f"{plain / len(members) / 1024:,.0f}",
                             f"{wire / len(members) / 1024:,.0f}", f"{100 * wire / level6:.0f}%", connections,
                             f"{results['airlock'][0]:,.0f}", f"{results['airlock'][2]:.2f}",
                             f"{results['nginx'][0]:,.0f}", f"{results['nginx'][2]:.2f}", f"{100 * ratio:.0f}%"))
            targets.append((f"{label}: Airlock >= 70% of nginx's requests/s", min(ratios) >= 0.7,
                            ", ".join(f"{100 * ratio:.0f}%" for ratio in ratios)))
        print(f"Real packuments, warm, abbreviated, gzip ({len(documents)} of the {args.top} most downloaded names; "
              f"wrk {args.duration} s per cell, loopback, {os.cpu_count()} cores)\n")
        table(["size class", "names", "plain KB (mean)", "gzip KB (mean)", "vs gzip -6", "c",
               "airlock rps", "airlock p99 ms", "nginx rps", "nginx p99 ms", "airlock / nginx"], rows)
        table(["target", "met", "figure"], [(name, "yes" if met else "NO", figure) for name, met, figure in targets])
    finally:
        if nginx:
            proxy.stop(nginx)
        proxy.stop(airlock)


if __name__ == "__main__":
    main()
