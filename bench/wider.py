#!/usr/bin/env python3
"""The wider benign set: packages picked by the download ranking alone, beyond the
popular set the rules were checked against while they were written.

`bench/popular.json` was chosen by hand (the top 1,200 names plus look-alikes) and the
analyser's rules were tuned while it was scanned; its figures are not blind. This set
is: names ranked FIRST..LAST by monthly downloads in the tool library's npm.tsv,
without those already in popular.json, each at its `latest` version as the registry
npm is configured with answers (`/<name>/latest`, cached in bench/work/wider.json).

    bench/wider.py download 1201:3000   # npm pack --ignore-scripts into target/bench-wider/

Then `bench/detection.py --wider 1201:3000` scans them and `bench/sandbox.py --wider
1201:3000` runs those with install scripts in the sandbox. Nothing is installed and no
script runs outside the sandbox; tarballs are never committed.
"""

import argparse
import concurrent.futures
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from popular import pack, tarball_name
from tables import table

ROOT = Path(__file__).resolve().parent.parent
NPM_LIST = Path("/work/.library/env/packages/npm.tsv")
CACHE = ROOT / "bench" / "work" / "wider.json"
TARBALLS = ROOT / "target" / "bench-wider"
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")
BATCH = 16
PACK_THREADS = 3


def ranked(first, last):
    """Names ranked `first`..`last` (1-based) by monthly downloads in npm.tsv."""
    rows = []
    with NPM_LIST.open() as listing:
        next(listing)
        for line in listing:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].isdigit():
                rows.append((int(parts[2]), parts[0]))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return [name for _, name in rows[first - 1:last]]


def span(text):
    """`FIRST:LAST` as two ints."""
    first, last = (int(part) for part in text.split(":"))
    return first, last


def registry():
    """The registry npm itself is configured with."""
    result = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, check=True)
    return result.stdout.strip().rstrip("/")


def latest(base, name):
    """{version, install_scripts} of `name`'s latest version document (version None when
    the registry has no such package)."""
    url = f"{base}/{urllib.parse.quote(name, safe='@')}/latest"
    for attempt in range(3):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = json.load(response)
            scripts = data.get("scripts") or {}
            return {"version": data.get("version"),
                    "install_scripts": any(scripts.get(script) for script in INSTALL_SCRIPTS)}
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return {"version": None, "install_scripts": False}
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(1 + attempt)
    return {"version": None, "install_scripts": False}


def chosen(first, last):
    """[(name, {version, install_scripts})] ranked first..last, outside popular.json,
    looked up (and cached) where not known yet; names without a version left out."""
    popular = {entry["name"] for entry in json.loads((ROOT / "bench/popular.json").read_text())["packages"]}
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    names = [name for name in ranked(first, last) if name not in popular]
    unknown = [name for name in names if name not in cache]
    if unknown:
        print(f"# wider set: {len(names)} names ranked {first}-{last}, {len(unknown)} to look up", file=sys.stderr)
        base = registry()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for name, found in zip(unknown, pool.map(lambda name: latest(base, name), unknown)):
                cache[name] = found
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True))
    return [(name, cache[name]) for name in names if cache[name]["version"]]


def tarball(name, version):
    return TARBALLS / tarball_name(name, version)


def download(first, last):
    TARBALLS.mkdir(parents=True, exist_ok=True)
    wanted = chosen(first, last)
    missing = [f"{name}@{found['version']}" for name, found in wanted
               if not tarball(name, found["version"]).exists()]
    print(f"# {len(wanted)} tarballs, {len(missing)} to download into {TARBALLS.relative_to(ROOT)}", file=sys.stderr)
    batches = [missing[start:start + BATCH] for start in range(0, len(missing), BATCH)]
    failed = {}
    with concurrent.futures.ThreadPoolExecutor(PACK_THREADS) as pool:
        for done, result in enumerate(pool.map(lambda batch: pack(TARBALLS, batch), batches), 1):
            failed.update(result)
            if done % 20 == 0:
                print(f"#   batch {done}/{len(batches)}", file=sys.stderr)
    present = [tarball(name, found["version"]) for name, found in wanted]
    present = [path for path in present if path.exists()]
    size = sum(path.stat().st_size for path in present)
    table(["wanted", "present", "failed", "size"],
          [(len(wanted), len(present), len(failed), f"{size / 2**20:,.0f} MiB")])
    if failed:
        table(["failed to pack", "error"], sorted(failed.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    downloading = commands.add_parser("download", help="npm pack the latest versions into target/bench-wider/")
    downloading.add_argument("ranks", metavar="FIRST:LAST")
    args = parser.parse_args()
    download(*span(args.ranks))


if __name__ == "__main__":
    main()
