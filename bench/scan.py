#!/usr/bin/env python3
"""Content-analysis benchmark: `airlock scan` on a corpus of popular real packages,
side by side with GuardDog.

The corpus (bench/corpus.json: exact versions, including packages with legitimate
install scripts, native addons, huge bundles and wallet libraries) is downloaded with
`npm pack` through the machine's own npm configuration into target/bench-corpus, once;
tarballs are never committed. Airlock scans every tarball in one process with
`--offline` (the content analysis alone; bench/detection.py measures the dependency
look-ups too), and the time per package is measured inside it, as the proxy would
spend it. GuardDog, installed from
PyPI into target/bench-venv, scans the same tarballs one process each
(`guarddog npm scan <tgz> --output-format json`), as its CLI works.

Prints: verdict counts with reason codes, median / p99 / total time per package, the
targets (block 0, warn <= 10% of the corpus, median < 20 ms, p99 < 500 ms), and the
comparison with GuardDog (time per package, packages flagged).

    bench/scan.py                      # everything (GuardDog takes a while)
    bench/scan.py --guarddog 0         # Airlock only
    bench/scan.py --guarddog 50        # GuardDog on the first 50 packages
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tables import table

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "target/bench-corpus"
VENV = ROOT / "target/bench-venv"
GUARDDOG_VERSION = "3.2.0"


def tarball_name(name, version):
    """The file name `npm pack` gives `name@version`."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def download(packages):
    CORPUS.mkdir(parents=True, exist_ok=True)
    missing = [f"{name}@{version}" for name, version in packages.items()
               if not (CORPUS / tarball_name(name, version)).exists()]
    for start in range(0, len(missing), 16):
        batch = missing[start:start + 16]
        print(f"npm pack {len(batch)} packages ({start + len(batch)}/{len(missing)})", file=sys.stderr)
        subprocess.run(["npm", "pack", "--silent", *batch], cwd=CORPUS, check=True,
                       stdout=subprocess.DEVNULL)
    return [(name, version, CORPUS / tarball_name(name, version)) for name, version in packages.items()]


def percentile(values, fraction):
    """Nearest rank: the smallest value with at least `fraction` of all at or below it."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def run_airlock(corpus):
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    if not binary.exists():
        sys.exit("build first: cargo build --release -p airlock")
    started = time.perf_counter()
    result = subprocess.run([str(binary), "scan", "--offline", "--json", *[str(path) for _, _, path in corpus]],
                            capture_output=True, text=True, env={**os.environ, "AIRLOCK_LOG": "warn"})
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"airlock scan failed:\n{result.stderr}")
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return reports, wall


def summarise_airlock(reports, wall):
    verdicts = {"block": [], "quarantine": [], "warn": [], "allow": []}
    for report in reports:
        verdicts[report["verdict"]["verdict"]].append(report)
    rows = []
    for verdict in ("block", "quarantine", "warn", "allow"):
        codes = {}
        for report in verdicts[verdict]:
            for reason in report["reasons"]:
                codes[reason["code"]] = codes.get(reason["code"], 0) + 1
        examples = ", ".join(f"{report['package']}" for report in verdicts[verdict][:6])
        rows.append((verdict, len(verdicts[verdict]),
                     ", ".join(f"{code} x{count}" for code, count in sorted(codes.items())) or "-",
                     examples if verdict != "allow" else "-"))
    print(f"Airlock: {len(reports)} packages\n")
    table(["verdict", "packages", "reason codes", "packages (first 6)"], rows)
    for verdict in ("block", "quarantine", "warn"):
        for report in verdicts[verdict]:
            print(f"  {verdict:<10} {report['package']}@{report['version']}")
            for reason in report["reasons"]:
                print(f"             {reason['code']}: {reason['message'][:150]}")
    print()
    millis = [report["millis"] for report in reports]
    slowest = max(reports, key=lambda report: report["millis"])
    table(["time per package", "ms"], [
        ("median", f"{statistics.median(millis):.1f}"),
        ("p99", f"{percentile(millis, 0.99):.1f}"),
        ("max", f"{slowest['millis']:.1f} ({slowest['package']})"),
        ("total (in process)", f"{sum(millis):.0f}"),
        ("total (wall, one process)", f"{wall * 1000:.0f}"),
    ])
    slowest = sorted(reports, key=lambda report: -report["millis"])[:8]
    table(["slowest", "ms", "files", "unpacked MB"], [
        (f"{report['package']}@{report['version']}", f"{report['millis']:.0f}", report.get("files", "-"),
         f"{report.get('unpacked_bytes', 0) / 1e6:.1f}") for report in slowest])
    return verdicts, millis


def ensure_guarddog():
    guarddog = VENV / "bin/guarddog"
    if not guarddog.exists():
        print(f"installing guarddog {GUARDDOG_VERSION} into {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin/pip"), "install", "--quiet", f"guarddog=={GUARDDOG_VERSION}"], check=True)
    return guarddog


def run_guarddog(corpus, limit):
    guarddog = ensure_guarddog()
    results = {}
    for name, version, path in corpus[:limit]:
        started = time.perf_counter()
        try:
            result = subprocess.run([str(guarddog), "npm", "scan", str(path), "--output-format", "json"],
                                    capture_output=True, text=True, timeout=300)
            output = result.stdout
        except subprocess.TimeoutExpired:
            output = ""
        seconds = time.perf_counter() - started
        try:
            report = json.loads(output)
            # GuardDog 3 reports capabilities (informational) and threats; a threat
            # rule that fires is its alarm.
            rules = sorted(rule for rule, found in report.get("results", {}).items()
                           if found and not rule.startswith("capability-"))
            issues = len(rules)
        except json.JSONDecodeError:
            issues, rules = None, ["no result (timeout or error)"]
        results[name] = (issues, rules, seconds)
        print(f"guarddog {name}@{version}: {issues} issue(s) in {seconds:.1f} s", file=sys.stderr)
    return results


def compare(reports, guarddog):
    by_name = {report["package"]: report for report in reports}
    names = [name for name in guarddog if name in by_name]
    airlock_ms = [by_name[name]["millis"] for name in names]
    guarddog_ms = [guarddog[name][2] * 1000 for name in names]
    airlock_flagged = [name for name in names if by_name[name]["verdict"]["verdict"] != "allow"]
    guarddog_flagged = [name for name in names if guarddog[name][0]]
    print(f"Side by side on the same {len(names)} packages (GuardDog: packages where a threat-* rule fired)\n")
    table(["tool", "median ms/package", "p99 ms/package", "total s", "packages flagged"], [
        ("airlock", f"{statistics.median(airlock_ms):.1f}", f"{percentile(airlock_ms, 0.99):.1f}",
         f"{sum(airlock_ms) / 1000:.1f}", len(airlock_flagged)),
        ("guarddog", f"{statistics.median(guarddog_ms):.0f}", f"{percentile(guarddog_ms, 0.99):.0f}",
         f"{sum(guarddog_ms) / 1000:.1f}", len(guarddog_flagged)),
    ])
    speedup = statistics.median(guarddog_ms) / max(statistics.median(airlock_ms), 0.001)
    print(f"median speed-up: {speedup:.0f}x\n")
    rows = []
    for name in names:
        report = by_name[name]
        issues, rules, seconds = guarddog[name]
        if report["verdict"]["verdict"] != "allow" or issues:
            rows.append((name, report["verdict"]["verdict"],
                         ",".join(reason["code"] for reason in report["reasons"]) or "-",
                         issues, ",".join(rules)[:90] or "-"))
    if rows:
        table(["package", "airlock", "airlock codes", "guarddog issues", "guarddog rules"], rows)
    return speedup, len(airlock_flagged), len(guarddog_flagged)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guarddog", type=int, default=None,
                        help="run GuardDog on the first N packages (default: all; 0 skips it)")
    args = parser.parse_args()
    packages = json.loads((ROOT / "bench/corpus.json").read_text())["packages"]
    corpus = download(packages)
    reports, wall = run_airlock(corpus)
    verdicts, millis = summarise_airlock(reports, wall)
    total = len(reports)
    warned = len(verdicts["warn"])
    targets = [
        ("block 0 of the corpus", len(verdicts["block"]) == 0, f"{len(verdicts['block'])}"),
        ("warn at most 10% of the corpus", warned <= total // 10, f"{warned} of {total}"),
        ("median < 20 ms per package", statistics.median(millis) < 20, f"{statistics.median(millis):.1f} ms"),
        ("p99 < 500 ms per package", percentile(millis, 0.99) < 500, f"{percentile(millis, 0.99):.1f} ms"),
    ]
    limit = total if args.guarddog is None else args.guarddog
    if limit > 0:
        guarddog = run_guarddog(corpus, limit)
        speedup, airlock_flagged, guarddog_flagged = compare(reports, guarddog)
        targets.append(("at least 30x faster than GuardDog per package", speedup >= 30, f"{speedup:.0f}x"))
        targets.append(("fewer false alarms than GuardDog", airlock_flagged < guarddog_flagged,
                        f"{airlock_flagged} vs {guarddog_flagged} flagged"))
    table(["target", "met", "measured"], [(name, "yes" if met else "NO", measured) for name, met, measured in targets])


if __name__ == "__main__":
    main()
