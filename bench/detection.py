#!/usr/bin/env python3
"""Detection benchmark: `airlock scan` on real malware it was tuned on, on real malware
from families it never saw, and on real popular packages.

Malware: bench/malware/samples.json lists real malicious npm versions by family, each
family in `tune` (the rules were developed on these), `fresh` (the first families held
out, measured blind once and then read) or `fresh2` (families held out:
the rules' authors never read their code; measured once per release of the rules);
bench/malware/fetch.py rebuilds them from local mirrors of public research
repositories into target/malware/<split>/<family>/ (never committed, installed or
run). Benign: bench/popular.json lists >= 1,000 popular packages (most downloaded
names, plus native builds, binary downloaders, telemetry, obfuscated commercial code,
wallets and CLIs); bench/popular.py downloads their newest versions into
target/bench-popular/.

Prints, per family and in total: samples stopped (block or quarantine) and flagged
(anything but allow); for the popular set: verdict counts with the rules and codes
behind them, every package stopped or warned, and the time per package; then the
issue's targets.

    bench/detection.py                   # tune families and the popular set
    bench/detection.py --split fresh2    # the held-out families (per family, no code)
    bench/detection.py --split all --benign 0
    bench/detection.py --split all --no-sandbox   # the static analysis alone
    bench/detection.py --split fresh6 --benign 0 --wider 1201:3000   # benign packages picked
                                         # by the download ranking alone (bench/wider.py)
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tables import table
from wider import chosen, span, tarball

ROOT = Path(__file__).resolve().parent.parent
MALWARE = ROOT / "target/malware"
POPULAR = ROOT / "target/bench-popular"


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


SANDBOX = ["--no-sandbox"] if "--no-sandbox" in sys.argv else []


def scan(paths):
    """One `airlock scan --json` process over `paths`, in chunks; one report per path.
    Tarballs with install scripts are also run in the sandbox, as a user's scan runs
    them (when bubblewrap is here), unless `--no-sandbox`."""
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    if not binary.exists():
        sys.exit(f"build first: cargo build --release -p airlock (or set AIRLOCK_BIN); {binary} is missing")
    reports = {}
    for start in range(0, len(paths), 400):
        chunk = paths[start:start + 400]
        result = subprocess.run([str(binary), "scan", "--json", *SANDBOX, *map(str, chunk)], capture_output=True,
                                text=True, env={**os.environ, "AIRLOCK_LOG": "warn"})
        if result.returncode not in (0, 1):
            sys.exit(f"airlock scan failed:\n{result.stderr[-4000:]}")
        found = documents(result.stdout)
        if len(found) != len(chunk):
            sys.exit(f"expected {len(chunk)} reports, got {len(found)}:\n{result.stderr[-2000:]}")
        for path, report in zip(chunk, found):
            reports[path] = report
    return reports


def documents(text):
    """The JSON documents in `text`, one after another (one scanned path prints
    one indented document; several print one per line)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return found
        document, at = decoder.raw_decode(text, at)
        found.append(document)


RANK = {"allow": 0, "warn": 1, "quarantine": 2, "block": 3}


def verdict(report):
    """The verdict, leaving out a missing package.json: some samples are the payload
    file alone (the manifest was not published with it), and the rules are judged
    on what the code does, not on the sample's incompleteness."""
    reasons = [reason for reason in report["reasons"]
               if not (reason["code"] == "tarball-malformed" and "no readable package.json" in reason["message"])]
    if len(reasons) == len(report["reasons"]):
        return report["verdict"]["verdict"]
    return max((reason["action"]["verdict"] for reason in reasons), key=RANK.get, default="allow")


def deciding(report):
    """The reasons that made the verdict, as `code (rule)`."""
    out = []
    for reason in report["reasons"]:
        message = reason["message"]
        rule = message.split("[rule ", 1)[1].split(":", 1)[0].rstrip("]") if "[rule " in message else None
        out.append(f"{reason['code']}" + (f" ({rule})" if rule else ""))
    return out


# The held-out splits, in the order they were gathered; each was measured once blind.
HELD_OUT = ["fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9", "fresh10", "fresh11"]


def malware(split):
    manifest = json.loads((ROOT / "bench/malware/samples.json").read_text())["samples"]
    splits = ["tune", *HELD_OUT] if split == "all" else [split]
    samples = [sample for sample in manifest if sample["split"] in splits]
    built = {entry["id"]: MALWARE / entry["path"]
             for entry in json.loads((MALWARE / "index.json").read_text())["samples"]} if (MALWARE / "index.json").exists() else {}
    paths, missing = [], []
    for sample in samples:
        path = built.get(sample["id"])
        (paths if path and path.exists() else missing).append((sample, path))
    if missing:
        print(f"# {len(missing)} samples not built (run bench/malware/fetch.py): "
              + ", ".join(sample["id"] for sample, _ in missing[:10]), file=sys.stderr)
    reports = scan([path for _, path in paths])
    families = {}
    for sample, path in paths:
        report = reports[path]
        family = families.setdefault((sample["split"], sample["family"]), {"n": 0, "stopped": 0, "flagged": 0, "missed": []})
        family["n"] += 1
        if verdict(report) in ("block", "quarantine"):
            family["stopped"] += 1
        if verdict(report) != "allow":
            family["flagged"] += 1
        else:
            family["missed"].append(sample["id"])
        sample["_report"] = report
    rows = []
    for (split_name, family), counts in sorted(families.items()):
        rows.append((split_name, family, counts["n"], counts["stopped"], counts["flagged"]))
    table(["split", "family", "samples", "stopped", "flagged"], rows)
    totals = {}
    for (split_name, _), counts in families.items():
        total = totals.setdefault(split_name, {"families": 0, "n": 0, "stopped": 0, "flagged": 0, "family_stopped": 0})
        total["families"] += 1
        total["n"] += counts["n"]
        total["stopped"] += counts["stopped"]
        total["flagged"] += counts["flagged"]
    summary = []
    for split_name, total in sorted(totals.items()):
        summary.append((split_name, total["families"], total["n"],
                        f"{total['stopped']} ({100 * total['stopped'] / total['n']:.0f}%)",
                        f"{total['flagged']} ({100 * total['flagged'] / total['n']:.0f}%)"))
    table(["split", "families", "samples", "stopped", "flagged"], summary)
    if split not in HELD_OUT:
        # Only the tuning split is shown in detail: the held-out families stay unseen.
        for sample, _ in paths:
            if sample["split"] != "tune":
                continue
            report = sample["_report"]
            print(f"  {verdict(report):<10} {sample['id']}: {', '.join(deciding(report)) or '-'}")
        print()
    return totals


def popular_tarballs(limit):
    """The first `limit` packages of bench/popular.json whose newest tarball
    bench/popular.py downloaded: [(package entry, tarball path)]."""
    packages = json.loads((ROOT / "bench/popular.json").read_text())["packages"][:limit]
    found = []
    for package in packages:
        path = POPULAR / f"{package['name'].lstrip('@').replace('/', '-')}-{package['newest']}.tgz"
        if path.exists():
            found.append((package, path))
    return found


def benign(limit):
    paths = [(f"{package['name']}@{package['newest']} ({package['category']})", path)
             for package, path in popular_tarballs(limit)]
    return judge_benign("Popular packages", paths)


def wider_benign(ranks):
    """Packages ranked FIRST..LAST by downloads outside popular.json (bench/wider.py):
    benign packages nobody looked at while the rules were written."""
    first, last = span(ranks)
    paths = [(f"{name}@{found['version']}", tarball(name, found["version"])) for name, found in chosen(first, last)]
    missing = sum(1 for _, path in paths if not path.exists())
    if missing:
        print(f"# {missing} tarballs missing: run bench/wider.py download {ranks}", file=sys.stderr)
    return judge_benign(f"Packages ranked {first}-{last}", [(label, path) for label, path in paths if path.exists()])


def judge_benign(title, paths):
    """Scans `paths` ([(label, tarball)]) and prints the verdicts, every package stopped or
    warned with its reasons, and the time per package."""
    reports = scan([path for _, path in paths])
    by_verdict = {"block": [], "quarantine": [], "warn": [], "allow": []}
    for label, path in paths:
        by_verdict[verdict(reports[path])].append((label, reports[path]))
    rows = []
    for name in ("block", "quarantine", "warn", "allow"):
        codes = {}
        for _, report in by_verdict[name]:
            for reason in deciding(report):
                codes[reason] = codes.get(reason, 0) + 1
        rows.append((name, len(by_verdict[name]), ", ".join(f"{code} x{count}" for code, count in sorted(codes.items(), key=lambda item: -item[1])) or "-"))
    print(f"{title}: {len(paths)} scanned\n")
    table(["verdict", "packages", "deciding reasons"], rows)
    for name in ("block", "quarantine", "warn"):
        for label, report in by_verdict[name]:
            print(f"  {name:<10} {label}")
            for reason in report["reasons"]:
                print(f"             {reason['code']}: {reason['message'][:260]}")
    print()
    millis = [report["millis"] for report in reports.values()]
    table(["time per package", "ms"], [
        ("median", f"{statistics.median(millis):.1f}"),
        ("p99", f"{percentile(millis, 0.99):.1f}"),
        ("max", f"{max(millis):.1f}"),
    ])
    return by_verdict, millis, len(paths)


def benign_targets(title, by_verdict, millis, total):
    stopped = len(by_verdict["block"]) + len(by_verdict["quarantine"])
    warned = len(by_verdict["warn"])
    return [
        (f"{title}: 0 stopped", stopped == 0, f"{stopped} of {total}"),
        (f"{title}: <= 2% warned", warned <= total * 0.02, f"{warned} of {total} ({100 * warned / total:.1f}%)"),
        (f"{title}: median <= 20 ms per package", statistics.median(millis) <= 20, f"{statistics.median(millis):.1f} ms"),
        (f"{title}: p99 <= 500 ms per package", percentile(millis, 0.99) <= 500, f"{percentile(millis, 0.99):.1f} ms"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tune", *HELD_OUT, "all"], default="tune")
    parser.add_argument("--benign", type=int, default=100000, help="scan the first N popular packages (0: none)")
    parser.add_argument("--no-sandbox", action="store_true", help="the static analysis alone (tarballs are not run)")
    parser.add_argument("--wider", metavar="FIRST:LAST",
                        help="also scan the packages ranked FIRST..LAST by downloads (bench/wider.py download first)")
    args = parser.parse_args()
    targets = []
    totals = malware(args.split)
    for split_name, total in sorted(totals.items()):
        stopped = total["stopped"] / total["n"]
        flagged = total["flagged"] / total["n"]
        targets.append((f"{split_name}: stopped >= 90%", stopped >= 0.9, f"{100 * stopped:.0f}%"))
        targets.append((f"{split_name}: flagged >= 97%", flagged >= 0.97, f"{100 * flagged:.0f}%"))
    if args.benign:
        targets += benign_targets("popular", *benign(args.benign))
    if args.wider:
        targets += benign_targets(f"ranked {args.wider}", *wider_benign(args.wider))
    table(["target", "met", "figure"], [(name, "yes" if met else "NO", figure) for name, met, figure in targets])


if __name__ == "__main__":
    main()
