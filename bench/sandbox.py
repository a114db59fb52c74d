#!/usr/bin/env python3
"""Install-script sandbox benchmark (issue 16): `airlock sandbox` on real packages.

1. Popular packages with install scripts (native builds, binary downloaders, hooks,
   telemetry): the newest version of each, fetched through `airlock sandbox
   name@version` from the registry this machine's npm is configured with. Target:
   none stopped (quarantine or block) by runtime findings.
2. The development corpus's malware (target/malware/, built by
   bench/malware/fetch.py; never installed, only run inside the sandbox) that has a
   preinstall, install or postinstall script. Target: runtime findings alone stop at
   least 90%.
3. Median sandbox time per package under 5 s.

Only runtime findings (`runtime-*` codes) count here: the static analysis is
measured by bench/detection.py. Prints a row per package, the misses, and the targets.

    bench/sandbox.py                 # both sets
    bench/sandbox.py --popular-only
    bench/sandbox.py --malware-only
    bench/sandbox.py --wider 1201:5000   # also the packages ranked 1,201 to 5,000 by
                                         # monthly downloads (the tool library's npm.tsv)
                                         # whose newest version has install scripts

The wider set checks the runtime rules on installers nobody picked by hand: its
names come from the download ranking alone, and which have install scripts from
the registry's `latest` version document (bench/wider.py; cached in bench/work/wider.json).
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

from tables import table
from wider import chosen, span

ROOT = Path(__file__).resolve().parent.parent
MALWARE = ROOT / "target" / "malware"
WORK = ROOT / "bench" / "work" / "sandbox"
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")
# Popular packages that run something at install (their newest versions).
POPULAR = [
    "esbuild", "sharp", "puppeteer", "cypress", "husky", "core-js", "protobufjs", "@swc/core",
    "bcrypt", "sqlite3", "better-sqlite3", "canvas", "electron", "prisma", "@prisma/client",
    "@prisma/engines", "msw", "nodemon", "es5-ext", "utf-8-validate", "bufferutil",
    "@sentry/cli", "node-pty", "argon2", "re2", "deasync", "leveldown", "@parcel/watcher",
    "spawn-sync", "styled-components", "yarn", "pnpm", "@biomejs/biome", "lefthook",
    "simple-git-hooks", "@napi-rs/canvas", "keytar", "fsevents", "node-sass", "grpc-tools",
    "playwright", "@playwright/browser-chromium", "chromedriver", "geckodriver", "phantomjs-prebuilt",
    "nx", "@nestjs/core", "vue-demi", "unrs-resolver", "protoc-gen-ts", "ngrok",
]


def wider(airlock, workers, ranks):
    """The ranked packages whose latest version has install scripts, run like the popular set."""
    first, last = span(ranks)
    picked = [(name, found["version"]) for name, found in chosen(first, last) if found["install_scripts"]]
    log(f"wider set: {len(picked)} with install scripts")
    targets = [(f"{name}@{version}", f"{name}@{version}") for name, version in picked]
    reports = run_all(airlock, targets, workers)
    rows, times, ran, stopped, warned = tally(targets, reports, every_row=False)
    print(f"Wider set: {ran} packages ranked {first}-{last} with install scripts run; those not allowed:\n")
    table(["package", "runtime verdict", "seconds", "observations", "runtime findings"], rows)
    return ran, stopped, warned, times


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def binary():
    path = ROOT / "target" / "release" / "airlock"
    log("building Airlock (release)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "airlock"], cwd=ROOT, check=True)
    return path


def has_install_scripts(tgz):
    """Reads package.json out of the tarball (nothing is unpacked to disk or run)."""
    try:
        with tarfile.open(tgz) as archive:
            for member in archive.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/package.json"):
                    scripts = json.load(archive.extractfile(member)).get("scripts") or {}
                    return any(scripts.get(name) for name in INSTALL_SCRIPTS)
    except (tarfile.TarError, ValueError, AttributeError, OSError):
        return False
    return False


def sandbox(airlock, target, data_dir):
    command = [str(airlock), "sandbox", target, "--json", "--time-limit", "30", "--data-dir", str(data_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"error": (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]}


def runtime_action(report):
    """The strongest default action of the runtime findings alone."""
    rank = {"info": 0, "low": 0, "medium": 1, "high": 2, "critical": 3}
    best = 0
    for finding in report.get("findings", []):
        if not finding["code"].startswith("runtime-"):
            continue
        step = rank[finding["severity"]]
        if finding.get("confidence") == "low" and step > 0:
            step -= 1
        best = max(best, step)
    return ["allow", "warn", "quarantine", "block"][best]


def runtime_codes(report):
    codes = []
    for finding in report.get("findings", []):
        if finding["code"].startswith("runtime-") and finding["severity"] in ("medium", "high", "critical"):
            label = f"{finding['code']} ({finding.get('rule') or '-'})"
            if label not in codes:
                codes.append(label)
    return ", ".join(codes) or "-"


def newest(name):
    result = subprocess.run(["npm", "view", name, "version"], capture_output=True, text=True, timeout=60)
    return result.stdout.strip().splitlines()[-1] if result.returncode == 0 and result.stdout.strip() else None


def run_all(airlock, targets, workers):
    data_dir = WORK / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(sandbox, airlock, target, data_dir): label for label, target in targets}
        reports = {}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            reports[futures[future]] = future.result()
            if done % 10 == 0:
                log(f"{done} of {len(futures)}")
    return reports


def tally(targets, reports, every_row):
    """Rows (every package run, or only those not allowed), run times, how many ran,
    and the labels stopped and not allowed."""
    rows, times, ran, stopped, warned = [], [], 0, [], []
    for label, _ in targets:
        report = reports[label]
        if "error" in report:
            rows.append((label, "error", "-", "-", " ".join(report["error"])[:80]))
            continue
        if not report["scripts"]:
            continue
        ran += 1
        times.append(report["millis"] / 1000)
        action = runtime_action(report)
        if action in ("quarantine", "block"):
            stopped.append(label)
        if action != "allow":
            warned.append(label)
        if every_row or action != "allow":
            rows.append((label, action, f"{report['millis'] / 1000:.1f}", len(report["observations"]), runtime_codes(report)))
    return rows, times, ran, stopped, warned


def popular(airlock, workers):
    targets = []
    for name in POPULAR:
        version = newest(name)
        if version:
            targets.append((f"{name}@{version}", f"{name}@{version}"))
        else:
            log(f"no version for {name}")
    reports = run_all(airlock, targets, workers)
    rows, times, ran, stopped, _ = tally(targets, reports, every_row=True)
    table(["popular package (has install scripts)", "runtime verdict", "seconds", "observations", "runtime findings"], rows)
    return ran, stopped, times


def malware(airlock, workers):
    index = json.loads((MALWARE / "index.json").read_text())["samples"]
    samples = [sample for sample in index if has_install_scripts(MALWARE / sample["path"])]
    targets = [(sample["id"], str(MALWARE / sample["path"])) for sample in samples]
    reports = run_all(airlock, targets, workers)
    families, times, missed = {}, [], []
    for sample in samples:
        report = reports[sample["id"]]
        family = families.setdefault((sample["split"], sample["family"]), [0, 0, 0])
        family[0] += 1
        if "error" in report:
            missed.append((sample["id"], "error: " + " ".join(report["error"])[:80]))
            continue
        times.append(report["millis"] / 1000)
        action = runtime_action(report)
        if action in ("quarantine", "block"):
            family[1] += 1
        if action != "allow":
            family[2] += 1
        if action not in ("quarantine", "block"):
            missed.append((sample["id"], f"{action}: {runtime_codes(report)}; exit {report.get('exit_code')}"))
    rows = [(split, name, n, s, f) for (split, name), (n, s, f) in sorted(families.items())]
    table(["split", "family", "samples with install scripts", "stopped by runtime findings", "flagged"], rows)
    if missed:
        table(["not stopped", "why"], missed)
    total = sum(n for n, _, _ in families.values())
    stopped = sum(s for _, s, _ in families.values())
    return total, stopped, len(families), times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--popular-only", action="store_true")
    parser.add_argument("--malware-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wider", metavar="FIRST:LAST", help="also run packages ranked FIRST..LAST by downloads")
    args = parser.parse_args()
    airlock = binary()
    WORK.mkdir(parents=True, exist_ok=True)
    targets, times = [], []
    if not args.malware_only:
        ran, stopped, popular_times = popular(airlock, args.workers)
        times += popular_times
        targets.append(("popular packages with install scripts: none stopped by runtime findings",
                        not stopped, f"{len(stopped)} of {ran} stopped" + (f" ({', '.join(stopped)})" if stopped else "")))
    if args.wider:
        ran, stopped, warned, wider_times = wider(airlock, args.workers, args.wider)
        times += wider_times
        targets.append((f"packages ranked {args.wider} with install scripts: none stopped (no issue target; a check)",
                        not stopped, f"{len(stopped)} of {ran} stopped, {len(warned) - len(stopped)} warned"
                        + (f" ({', '.join(stopped)})" if stopped else "")))
    if not args.popular_only:
        if not (MALWARE / "index.json").exists():
            sys.exit("build the corpus first: bench/malware/fetch.py")
        total, stopped, families, malware_times = malware(airlock, args.workers)
        times += malware_times
        share = stopped / total if total else 0
        targets.append(("malware with install scripts: runtime findings alone stop >= 90%", share >= 0.9,
                        f"{stopped} of {total} ({share:.0%}), {families} families"))
    if times:
        median = statistics.median(times)
        targets.append(("median sandbox time per package < 5 s", median < 5,
                        f"{median:.2f} s (p90 {sorted(times)[int(len(times) * 0.9) - 1]:.1f} s, {len(times)} runs)"))
    table(["target", "met", "figure"], [(name, "yes" if met else "NO", figure) for name, met, figure in targets])


if __name__ == "__main__":
    main()
