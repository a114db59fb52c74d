#!/usr/bin/env python3
"""Metamorphic benchmark: does a verdict survive the rewrites attackers apply?

Real malware is seldom published as its author wrote it: it is minified, run through
javascript-obfuscator (a base64 string array), or has its host names cut into pieces.
A rule that reads text shapes loses the sample; a rule that follows values does not.
This takes every malware sample of bench/malware/samples.json (built by
bench/malware/fetch.py), unpacks it under target/metamorphic/<mode>/, rewrites its
JavaScript with bench/metamorphic.js (terser, javascript-obfuscator, acorn: installed
into target/js-tools from npm's configured registry on first use; they read the text,
nothing runs it) and scans the result with `airlock scan --no-sandbox`.

The benign control does the same to the first N popular packages
(target/bench-popular, bench/popular.py download): a rewrite that turns benign code
into "stopped" would make the malware figures meaningless.

Prints, per rewrite: malware stopped and flagged (of those stopped unrewritten), and
stopped by behaviour (a rule about what the code does, not only "obfuscated"); the
benign packages stopped either way; every sample the rewrite lost, and every benign
package the rewrite made stopped.

    bench/metamorphic.py                       # minify, obfuscate and split; 300 benign
    bench/metamorphic.py --modes split --benign 0
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.argv.append("--no-sandbox")  # detection.scan reads it: directories are never run
from detection import MALWARE, ROOT, popular_tarballs, scan, verdict  # noqa: E402
from tables import table  # noqa: E402

TOOLS = ROOT / "target/js-tools"
WORK = ROOT / "target/metamorphic"
MODES = ["minify", "obfuscate", "split"]
PACKAGES = ["terser@5", "javascript-obfuscator@4", "acorn@8", "acorn-walk@8"]


def tools():
    """The transformers, installed once under target/js-tools (no install scripts run)."""
    if all((TOOLS / "node_modules" / name.rsplit("@", 1)[0]).exists() for name in PACKAGES):
        return
    TOOLS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--ignore-scripts", "--no-audit", "--no-fund",
                    "--no-save", *PACKAGES], check=True)


def unpack(tarball, into):
    """`tarball` unpacked into `into`; the package root (the directory with
    package.json, or the single top directory)."""
    into.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    entries = [entry for entry in into.iterdir()]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def rewrite(mode, directory):
    result = subprocess.run(["node", str(ROOT / "bench/metamorphic.js"), mode, str(directory)],
                            capture_output=True, text=True,
                            env={**os.environ, "NODE_PATH": str(TOOLS / "node_modules")})
    if result.returncode != 0:
        sys.exit(f"bench/metamorphic.js {mode} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def malware_samples():
    manifest = json.loads((ROOT / "bench/malware/samples.json").read_text())["samples"]
    built = {entry["id"]: MALWARE / entry["path"]
             for entry in json.loads((MALWARE / "index.json").read_text())["samples"]}
    return [(sample, built[sample["id"]]) for sample in manifest
            if sample["id"] in built and built[sample["id"]].exists()]


def benign_samples(limit):
    return [({"id": f"{package['name']}@{package['newest']}", "split": "benign"}, path)
            for package, path in popular_tarballs(limit)]


def prepare(mode, samples):
    """Every sample unpacked under WORK/mode and rewritten (`none`: left as it is)."""
    root = WORK / mode
    shutil.rmtree(root, ignore_errors=True)
    directories = []
    for index, (sample, tarball) in enumerate(samples):
        name = "".join(c if c.isalnum() or c in ".-" else "_" for c in sample["id"])
        directories.append(unpack(tarball, root / f"{index:03d}-{name}"))
    counts = rewrite(mode, root) if mode != "none" else {}
    return directories, counts


def stopped(report):
    return verdict(report) in ("block", "quarantine")


def stopped_by_behaviour(report):
    """Stopped by what the code does, not only by looking obfuscated: under the
    `obfuscate` rewrite every package looks obfuscated, benign ones too."""
    return any(reason["action"]["verdict"] in ("block", "quarantine")
               and reason["code"] not in ("obfuscated-code", "tarball-malformed")
               for reason in report["reasons"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--benign", type=int, default=300, help="rewrite the first N popular packages too")
    args = parser.parse_args([arg for arg in sys.argv[1:] if arg != "--no-sandbox"])
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        sys.exit(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    tools()
    samples = malware_samples() + benign_samples(args.benign)
    directories, _ = prepare("none", samples)
    baseline = scan(directories)
    base = {sample["id"]: baseline[directory] for (sample, _), directory in zip(samples, directories)}
    rows, lost, gained = [], [], []
    for mode in modes:
        directories, counts = prepare(mode, samples)
        reports = scan(directories)
        per_split = {}
        for (sample, _), directory in zip(samples, directories):
            report, before = reports[directory], base[sample["id"]]
            group = "benign" if sample["split"] == "benign" else ("tune" if sample["split"] == "tune" else "held-out")
            tally = per_split.setdefault(group, {"base": 0, "kept": 0, "behaviour": 0, "flagged": 0, "n": 0,
                                                 "stopped": 0, "stopped_behaviour": 0})
            tally["n"] += 1
            tally["stopped"] += stopped(report)
            tally["stopped_behaviour"] += stopped_by_behaviour(report)
            if group == "benign":
                if stopped(report) and not stopped(before):
                    gained.append((mode, sample["id"], report))
                continue
            if stopped(before):
                tally["base"] += 1
                tally["kept"] += stopped(report)
                tally["behaviour"] += stopped_by_behaviour(report)
                tally["flagged"] += verdict(report) != "allow"
                if not stopped(report):
                    lost.append((mode, sample["id"], verdict(report)))
                elif stopped_by_behaviour(before) and not stopped_by_behaviour(report):
                    lost.append((mode, sample["id"], "stopped only as obfuscated"))
        for group in ("tune", "held-out"):
            tally = per_split.get(group)
            if tally:
                share = lambda count: f"{count} ({100 * count / max(1, tally['base']):.0f}%)"  # noqa: E731
                rows.append((mode, group, tally["base"], share(tally["kept"]), share(tally["behaviour"]),
                             share(tally["flagged"])))
        if "benign" in per_split:
            tally = per_split["benign"]
            rows.append((mode, "benign", tally["n"], f"{tally['stopped']} stopped",
                         f"{tally['stopped_behaviour']} stopped", "-"))
        print(f"# {mode}: {counts.get('changed', 0)} files rewritten, {counts.get('failed', 0)} left as they were "
              f"(the rewriter failed), {counts.get('skipped', 0)} over 256 KB left", file=sys.stderr)
    table(["rewrite", "set", "stopped unrewritten", "still stopped", "stopped by behaviour", "still flagged"], rows)
    for mode, name, now in lost:
        print(f"  lost  {mode:<10} {name}: {now}")
    for mode, name, report in gained:
        reasons = ", ".join(f"{reason['code']}: {reason['message'][:120]}" for reason in report["reasons"])
        print(f"  benign stopped  {mode:<10} {name}: {reasons}")


if __name__ == "__main__":
    main()
