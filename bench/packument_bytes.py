#!/usr/bin/env python3
"""Packument bytes on the wire: real packuments from the registry npm is configured
with, fetched directly and through a fresh Airlock (release age 0, so nothing is
withheld), each with the headers the clients send: abbreviated form, and
`Accept-Encoding` as npm sends it (gzip) and as pnpm, Yarn berry and Bun send it
(gzip, deflate, br).

    cargo build --release -p airlock
    bench/packument_bytes.py                 # react, typescript, next, ... (the list below)
    bench/packument_bytes.py lodash vite     # other names

Prints, per package: the upstream's answer with and without `Accept-Encoding: gzip`
(a registry that does not compress answers the same bytes twice), Airlock's answer
plain, gzipped and in brotli, and the ratio of Airlock's gzip answer to the upstream's.
"""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tables import table

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["react", "typescript", "next", "lodash", "express", "@types/node", "vite", "eslint"]
ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"


def fetch(url, encodings):
    headers = {"Accept": ACCEPT, "User-Agent": "npm/11 bench"}
    if encodings:
        headers["Accept-Encoding"] = encodings
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        return len(body), response.headers.get("Content-Encoding") or "identity"


def main():
    names = sys.argv[1:] or NAMES
    upstream = subprocess.run(["npm", "config", "get", "registry"], capture_output=True,
                              text=True, check=True).stdout.strip().rstrip("/") + "/"
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    with tempfile.TemporaryDirectory() as work:
        policy = Path(work) / "policy.toml"
        policy.write_text('min_release_age = "0s"\n')
        server = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", work + "/data",
             "--upstream", upstream, "--policy", str(policy), "--log", "warn,airlock=info"],
            stderr=subprocess.PIPE, text=True)
        try:
            address = None
            deadline = time.time() + 30
            while address is None and time.time() < deadline:
                line = server.stderr.readline()
                if "listening on " in line:
                    address = line.split("listening on ", 1)[1].split()[0]
            if address is None:
                sys.exit("airlock did not start")
            rows = []
            for name in names:
                path = name.replace("/", "%2f")
                direct_gz, _ = fetch(upstream + path, "gzip")
                direct_plain, _ = fetch(upstream + path, None)
                fetch(address + path, "gzip")  # warm: fetched, decided, rendered
                airlock_gz, encoding = fetch(address + path, "gzip,deflate")
                started = time.time()
                airlock_br, br_encoding = fetch(address + path, "gzip, deflate, br")
                first_br = (time.time() - started) * 1000
                airlock_plain, _ = fetch(address + path, None)
                rows.append([name, f"{direct_plain:,}", f"{direct_gz:,}", f"{airlock_plain:,}",
                             f"{airlock_gz:,} ({encoding})", f"{airlock_br:,} ({br_encoding})",
                             f"{first_br:.0f}", f"{airlock_gz / direct_gz:.2f}"])
            table(["package", "upstream plain", "upstream gzip", "airlock plain",
                   "airlock gzip", "airlock brotli", "first brotli answer ms",
                   "airlock gzip / upstream gzip"], rows)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
