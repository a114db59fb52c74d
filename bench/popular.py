#!/usr/bin/env python3
"""Benign side of the detection benchmark: the most downloaded real npm packages, plus
legitimate look-alikes of malware (native builds and binary downloaders, telemetry,
obfuscated commercial code, wallets and crypto, CLIs that spawn and download), each at
its newest version and at the version published just before it on the same line.

    bench/popular.py select               # bench/popular.json from the package list
    bench/popular.py resolve              # newest / previous versions, asking the registry
    bench/popular.py download [--previous]  # npm pack into target/bench-popular*/

`select` reads the list of npm packages with monthly downloads that the machine ships
(see LIST) and keeps the top names by downloads (only a handful of @types/*, nothing
that is not a package of code), then adds the look-alikes from LOOKALIKES even when
they are below the cut. `resolve` asks the registry configured in npm itself
(`npm view NAME time dist-tags versions deprecated --json`, 8 at a time) and records
`newest` (dist-tags.latest) and `previous`: the version published last before `newest`
on the same line (same major; same minor for 0.x; prereleases only when `newest` is
one), chosen by publish time among the versions that are also lower than `newest`.
Where the registry's publish times contradict the version order (see `notes`), the
highest lower version on the line is taken instead and the entry says so.
`download` runs `npm pack --silent --ignore-scripts` in batches of 16 (nothing is ever
installed, no script runs), skips tarballs already there, records failures in
popular.json and prints the total size. Tarballs are never committed.
"""

import argparse
import datetime
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tables import table

ROOT = Path(__file__).resolve().parent.parent
LIST = Path("/work/.library/env/packages/npm.tsv")
OUT = ROOT / "bench/popular.json"
NEWEST_DIR = ROOT / "target/bench-popular"
PREVIOUS_DIR = ROOT / "target/bench-popular-previous"

TOP = 1200          # names taken from the top of the list, before the look-alikes
TYPES_KEPT = 20     # @types/* among them
BATCH = 16          # specs per `npm pack`
VIEW_THREADS = 8
PACK_THREADS = 3    # `npm pack` batches at once

# Names at the top of the list that are not real packages of code: kept out, with why.
EXCLUDED = {
    "telecom-mas-agent": "download count is not believable (780M a month, ranked 42nd, "
                         "for an unknown 'AI telecom agent'); inflated or bogus",
}

# Legitimate packages that look like malware to a naive scanner. First category wins.
LOOKALIKES = {
    "native": [
        # native builds, prebuilt binaries, binary downloaders, install scripts
        "esbuild", "@swc/core", "sharp", "bcrypt", "better-sqlite3", "sqlite3", "canvas",
        "node-sass", "puppeteer", "playwright", "electron", "cypress", "prisma",
        "@prisma/client", "@prisma/engines", "node-pty", "keytar", "argon2", "ssh2",
        "cpu-features", "fsevents", "@parcel/watcher", "bufferutil", "utf-8-validate", "re2",
        "deasync", "lefthook", "husky", "core-js", "protobufjs", "es5-ext", "msw", "turbo",
        "@biomejs/biome", "@rollup/rollup-linux-x64-gnu", "@esbuild/linux-x64",
        "@next/swc-linux-x64-gnu", "@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64",
        "bun", "@sentry/cli", "ngrok", "localtunnel",
    ],
    "telemetry": [
        "@sentry/node", "posthog-node", "@segment/analytics-node", "@vercel/analytics",
        "applicationinsights", "newrelic", "dd-trace",
    ],
    "obfuscated": [
        # minified or obfuscated commercial bundles, and the obfuscator itself
        "@fingerprintjs/fingerprintjs", "highcharts", "ckeditor5", "@progress/kendo-ui",
        "aws-amplify", "javascript-obfuscator", "ag-grid-enterprise", "handsontable",
        "@amcharts/amcharts5", "froala-editor", "@syncfusion/ej2-base", "tinymce",
        "@mui/x-license",
    ],
    "wallet": [
        "ethers", "web3", "viem", "wagmi", "@solana/web3.js", "bitcoinjs-lib", "@metamask/sdk",
        "@walletconnect/sign-client", "tronweb", "bip39", "hdkey", "crypto-js", "tweetnacl",
        "elliptic",
    ],
    "cli": [
        # tools that spawn processes, download, read the machine or the clipboard
        "npm", "yarn", "pnpm", "npx", "nodemon", "pm2", "forever", "cross-env", "dotenv",
        "shelljs", "execa", "cross-spawn", "node-fetch", "axios", "got", "request", "ws",
        "socket.io", "update-notifier", "clipboardy", "open", "systeminformation",
        "node-machine-id", "public-ip", "internal-ip", "os-name", "username", "is-ci",
        "ci-info",
    ],
}


def tarball_name(name, version):
    """The file name `npm pack` gives `name@version`."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def load():
    if not OUT.exists():
        sys.exit(f"{OUT.relative_to(ROOT)} is missing: run `bench/popular.py select` first")
    return json.loads(OUT.read_text())


def save(data):
    OUT.write_text(json.dumps(data, indent=1) + "\n")


# ---------------------------------------------------------------- select

def select(_args):
    rows = []
    with LIST.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 3 and fields[2].isdigit():
                rows.append((fields[0], int(fields[2])))
    rows.sort(key=lambda row: (-row[1], row[0]))
    rank = {name: index + 1 for index, (name, _) in enumerate(rows)}
    downloads = dict(rows)

    category = {}
    for kind, names in LOOKALIKES.items():
        for name in names:
            category.setdefault(name, kind)
    missing = [name for name in category if name not in downloads]
    if missing:
        print(f"look-alikes not in the list (kept, downloads unknown): {missing}", file=sys.stderr)

    chosen, types, excluded = [], 0, []
    for name, count in rows:
        if len(chosen) >= TOP:
            break
        if name in EXCLUDED:
            excluded.append({"name": name, "downloads": count, "rank": rank[name],
                             "why": EXCLUDED[name]})
            continue
        if name.startswith("@types/"):
            if types >= TYPES_KEPT:
                continue
            types += 1
        chosen.append(name)
    cut = downloads[chosen[-1]]
    chosen += [name for name in category if name not in chosen]

    old = {entry["name"]: entry for entry in json.loads(OUT.read_text())["packages"]} \
        if OUT.exists() else {}
    packages = []
    for name in chosen:
        entry = {"name": name, "category": category.get(name, "popular"),
                 "downloads": downloads.get(name), "rank": rank.get(name)}
        for key, value in old.get(name, {}).items():   # keep what `resolve` found
            entry.setdefault(key, value)
        packages.append(entry)

    today = datetime.date.today().isoformat()
    save({
        "comment": f"Benign packages for the detection benchmark, selected {today} from {LIST} "
                   f"(name, version, downloads a month, summary) by bench/popular.py: the top "
                   f"{TOP} by monthly downloads (at least {cut:,} a month), only the first "
                   f"{TYPES_KEPT} @types/*, plus legitimate look-alikes of malware below the cut. "
                   f"`downloads` is a month's downloads, `rank` the place in that list. "
                   f"Tarballs go to target/bench-popular*/ and are never committed.",
        "source": str(LIST),
        "date": today,
        "excluded": excluded,
        "packages": packages,
    })
    counts = {}
    for entry in packages:
        counts[entry["category"]] = counts.get(entry["category"], 0) + 1
    table(["category", "packages"], sorted(counts.items()) + [("total", len(packages))])
    print(f"cut: {cut:,} downloads a month; {types} @types kept; excluded: "
          f"{[entry['name'] for entry in excluded]}")


# ---------------------------------------------------------------- resolve

SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def parse(version):
    match = SEMVER.match(version)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else ()


def version_key(parsed):
    """Sort key following semver precedence (a release sorts after its prereleases)."""
    major, minor, patch, pre = parsed
    identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre)
    return (major, minor, patch, 1 if not pre else 0, identifiers)


def same_line(a, b):
    return a[0] == b[0] and (a[0] != 0 or a[1] == b[1])


def pick_previous(newest, versions, times):
    """(previous, how, semver_previous): see the module's docstring."""
    top = parse(newest)
    candidates = []
    for version in versions:
        parsed = parse(version)
        if parsed is None or version == newest or not same_line(parsed, top):
            continue
        if parsed[3] and not top[3]:
            continue
        if version_key(parsed) >= version_key(top):
            continue
        candidates.append((version, parsed))
    if not candidates:
        return None, "first on its line", None
    by_semver = max(candidates, key=lambda item: version_key(item[1]))[0]
    newest_time = times.get(newest)
    timed = [(times[version], version) for version, _ in candidates
             if newest_time and times.get(version) and times[version] < newest_time]
    if timed:
        chosen = max(timed)[1]
        return chosen, "by publish time", by_semver
    return by_semver, "highest lower version (no lower version published before newest)", by_semver


def view(name):
    command = ["npm", "view", name, "time", "dist-tags", "versions", "deprecated", "--json"]
    for attempt in range(3):
        result = subprocess.run(command, capture_output=True, text=True)
        try:
            data = json.loads(result.stdout) if result.stdout.strip() else {}
        except json.JSONDecodeError:
            data = {}
        if result.returncode == 0 and data:
            return data, None
        error = data.get("error", {}) if isinstance(data, dict) else {}
        if error.get("code") == "E404":
            return None, "not found (E404): unpublished or never published"
        message = error.get("summary") or result.stderr.strip().splitlines()[-1:] or ["no output"]
        time.sleep(2 * (attempt + 1))
    return None, f"npm view failed: {message if isinstance(message, str) else message[0]}"


def resolve_one(entry):
    data, error = view(entry["name"])
    if error:
        return {"skip": error}
    if isinstance(data, list):           # one object per matched version: take the last
        data = data[-1]
    times = data.get("time") or {}
    tags = data.get("dist-tags") or {}
    versions = data.get("versions") or []
    if isinstance(versions, str):
        versions = [versions]
    newest = tags.get("latest")
    if times.get("unpublished"):
        return {"skip": "unpublished"}
    if not newest:
        return {"skip": "no dist-tags.latest"}
    if newest not in versions:
        return {"skip": f"dist-tags.latest {newest} is not among the versions"}
    if data.get("deprecated"):
        return {"newest": newest, "skip": f"deprecated: {data['deprecated']}"}
    if parse(newest) is None:
        return {"newest": newest, "skip": f"newest {newest} is not semver"}
    previous, how, by_semver = pick_previous(newest, versions, times)
    result = {"newest": newest, "previous": previous,
              "published": {version: times.get(version) for version in (newest, previous) if version},
              "previous_how": how}
    if previous and by_semver != previous:
        result["notes"] = (f"publish times disagree with version order: {previous} was published "
                           f"last before {newest}, the highest lower version is {by_semver}")
    return result


def resolve(args):
    data = load()
    fields = ("newest", "previous", "published", "previous_how", "notes", "skip")
    todo = [entry for entry in data["packages"] if args.force or "newest" not in entry and "skip" not in entry]
    print(f"resolving {len(todo)} of {len(data['packages'])} names with npm view, "
          f"{VIEW_THREADS} at a time", file=sys.stderr)
    started = time.perf_counter()
    with ThreadPoolExecutor(VIEW_THREADS) as pool:
        for done, (entry, result) in enumerate(zip(todo, pool.map(resolve_one, todo)), 1):
            for field in fields:
                entry.pop(field, None)
            entry.update(result)
            if done % 100 == 0:
                print(f"  {done}/{len(todo)}", file=sys.stderr)
                save(data)
    save(data)
    summary(data)
    print(f"resolve took {time.perf_counter() - started:.0f} s")


def summary(data):
    rows = {}
    for entry in data["packages"]:
        row = rows.setdefault(entry["category"], [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += "newest" in entry and "skip" not in entry
        row[2] += bool(entry.get("previous")) and "skip" not in entry
        row[3] += "notes" in entry
        row[4] += "skip" in entry
    rows = sorted(rows.items())
    total = [sum(row[i] for _, row in rows) for i in range(5)]
    table(["category", "names", "resolved", "with previous", "time order odd", "skipped"],
          [(kind, *row) for kind, row in rows] + [("total", *total)])
    skipped = [(entry["name"], entry["skip"]) for entry in data["packages"] if "skip" in entry]
    if skipped:
        table(["skipped", "why"], skipped)


# ---------------------------------------------------------------- download

def pack(directory, specs):
    """npm pack `specs` into `directory`; {spec: error} for those that failed."""
    command = ["npm", "pack", "--silent", "--ignore-scripts"]
    result = subprocess.run(command + specs, cwd=directory, capture_output=True, text=True)
    if result.returncode == 0:
        return {}
    if len(specs) == 1:
        lines = [line for line in result.stderr.splitlines() if "npm error" in line and "log of this run" not in line]
        return {specs[0]: " ".join(line.replace("npm error", "").strip() for line in lines[:3]) or "failed"}
    failed = {}
    for spec in specs:                # one at a time, to find which one failed
        failed.update(pack(directory, [spec]))
    return failed


def download(args):
    data = load()
    sets = [("newest", NEWEST_DIR)] + ([("previous", PREVIOUS_DIR)] if args.previous else [])
    started = time.perf_counter()
    rows = []
    for which, directory in sets:
        directory.mkdir(parents=True, exist_ok=True)
        wanted = [(entry, entry[which]) for entry in data["packages"]
                  if "skip" not in entry and entry.get(which)]
        missing = [(entry, version) for entry, version in wanted
                   if not (directory / tarball_name(entry["name"], version)).exists()]
        print(f"{which}: {len(wanted)} tarballs, {len(missing)} to download into "
              f"{directory.relative_to(ROOT)}", file=sys.stderr)
        batches = [missing[start:start + BATCH] for start in range(0, len(missing), BATCH)]
        spec_entry = {f"{entry['name']}@{version}": entry for entry, version in missing}
        failed = {}
        with ThreadPoolExecutor(PACK_THREADS) as pool:
            jobs = [pool.submit(pack, directory, [f"{entry['name']}@{version}" for entry, version in batch])
                    for batch in batches]
            for done, job in enumerate(jobs, 1):
                failed.update(job.result())
                if done % 10 == 0 or done == len(jobs):
                    print(f"  {which}: batch {done}/{len(jobs)}", file=sys.stderr)
        for entry, _ in wanted:
            entry.get("pack_failed", {}).pop(which, None)
            if not entry.get("pack_failed"):
                entry.pop("pack_failed", None)
        for spec, error in failed.items():
            spec_entry[spec].setdefault("pack_failed", {})[which] = error
        present = [directory / tarball_name(entry["name"], version) for entry, version in wanted]
        present = [path for path in present if path.exists()]
        size = sum(path.stat().st_size for path in present)
        rows.append((which, len(wanted), len(present), len(wanted) - len(present), f"{size / 2**20:,.0f} MiB"))
    save(data)
    table(["set", "wanted", "present", "failed", "size"], rows)
    failures = [(entry["name"], which, error) for entry in data["packages"]
                for which, error in entry.get("pack_failed", {}).items()]
    if failures:
        table(["failed to pack", "set", "error"], failures)
    print(f"download took {time.perf_counter() - started:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("select", help="write bench/popular.json from the package list")
    resolving = commands.add_parser("resolve", help="find newest and previous versions")
    resolving.add_argument("--force", action="store_true", help="ask again for names already resolved")
    commands.add_parser("summary", help="print what resolve found")
    downloading = commands.add_parser("download", help="npm pack the tarballs")
    downloading.add_argument("--previous", action="store_true", help="the previous versions too")
    args = parser.parse_args()
    {"select": select, "resolve": resolve, "download": download,
     "summary": lambda _: summary(load())}[args.command](args)


if __name__ == "__main__":
    main()
