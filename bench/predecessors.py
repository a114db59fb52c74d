#!/usr/bin/env python3
"""Malware as the proxy meets it: each sample diffed against the version before it.

`bench/detection.py` scans every sample alone, as `airlock scan` sees a tarball. The
proxy sees more: a hijacked release arrives as the next version of a package with a
history, and Airlock diffs it against the version published before it on its line
(install scripts added, dependencies added, files emptied). This benchmark measures
that: for every sample whose package still has earlier, ordinary versions on the
registry npm is configured with, it downloads that predecessor (`npm pack
--ignore-scripts`: nothing is installed and no script runs; the predecessors are the
benign releases before the attack) into target/malware/.previous/ and runs `airlock
scan --previous PREDECESSOR SAMPLE`. Samples of packages that never had another
version (typosquats, dependency-confusion uploads) have no predecessor; they are
counted alone, as the proxy meets them too.

The predecessor is the highest version below the sample's on its major line (on its
minor line for 0.x; a release is not diffed against a prerelease) that the registry
still serves; `-security` placeholders are not versions of the package. Version order,
not publish time: registries that mirror others can record when they copied a
version rather than when it was published (the one this machine reaches does), and
the malicious version itself, and any malicious ones beside it, are no longer served. Lookups are cached in
bench/work/predecessors.json (delete it to ask again).

    bench/malware/fetch.py && cargo build --release -p airlock
    bench/predecessors.py                 # every split
    bench/predecessors.py --split fresh10
    bench/predecessors.py --no-sandbox    # the static analysis alone

Prints, per split: samples, those with a predecessor, stopped alone and stopped with
the diff (block or quarantine), and every sample the diff changed.
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from detection import HELD_OUT, MALWARE, ROOT, SANDBOX, documents, verdict
from detection import scan as scan_alone
from popular import parse, same_line, version_key
from tables import table

CACHE = ROOT / "bench/work/predecessors.json"
PREVIOUS = MALWARE / ".previous"
def registry_view(name):
    """`npm view NAME versions time --json`: the answer, None when the registry has no
    such package, or "failed" (not cached) when it could not be asked."""
    try:
        result = subprocess.run(["npm", "view", name, "versions", "time", "--json"],
                                capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "failed"
    if result.returncode != 0:
        return None if "E404" in result.stdout + result.stderr else "failed"
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return "failed"


def predecessor(sample, view):
    """The version the proxy would diff `sample` against, or None."""
    if not view:
        return None
    top = parse(sample["version"])
    if top is None:
        return None
    key = version_key(top)
    versions = view.get("versions") or []
    versions = [versions] if isinstance(versions, str) else versions
    candidates = []
    for version in versions:
        parsed = parse(version)
        if (parsed is None or "security" in version or version_key(parsed) >= key
                or not same_line(parsed, top) or (parsed[3] and not top[3])):
            continue
        candidates.append((version_key(parsed), version))
    return max(candidates)[1] if candidates else None


def lookups(samples, refresh):
    cache = {} if refresh or not CACHE.exists() else json.loads(CACHE.read_text())
    names = sorted({sample["name"] for sample in samples} - set(cache))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for name, view in zip(names, pool.map(registry_view, names)):
            if view == "failed":
                print(f"# could not ask the registry about {name}; run again", file=sys.stderr)
            else:
                cache[name] = view
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return cache


def download(name, version):
    """The predecessor's tarball under target/malware/.previous/ (`npm pack --ignore-scripts`)."""
    directory = PREVIOUS / f"{name.replace('/', '+')}@{version}"
    found = list(directory.glob("*.tgz")) if directory.exists() else []
    if found:
        return found[0]
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["npm", "pack", "--silent", "--ignore-scripts", f"{name}@{version}"],
                            cwd=directory, capture_output=True, text=True, timeout=300)
    found = list(directory.glob("*.tgz"))
    if result.returncode != 0 or not found:
        print(f"# could not download {name}@{version}: {result.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return found[0]


def has_manifest(path):
    """Whether a sample carries its package.json: a payload file alone cannot be diffed
    (every file of the predecessor would look removed)."""
    with tarfile.open(path) as archive:
        return any(name.count("/") == 1 and name.endswith("/package.json") for name in archive.getnames())


def scan(sample_path, previous_path):
    """`airlock scan --previous PREVIOUS SAMPLE`: (report, None) or (None, the error)."""
    binary = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))
    # As bench/detection.py scans: dependencies judged through the registry, install
    # scripts run in the sandbox unless `--no-sandbox`.
    command = [str(binary), "scan", "--json", *SANDBOX, "--previous", str(previous_path), str(sample_path)]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "AIRLOCK_LOG": "warn"})
    if result.returncode not in (0, 1):
        return None, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    found = documents(result.stdout)
    return (found[0], None) if found else (None, "no report")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tune", *HELD_OUT, "all"], default="all")
    parser.add_argument("--refresh", action="store_true", help="ask the registry again")
    parser.add_argument("--no-sandbox", action="store_true", help="the static analysis alone (tarballs are not run)")
    args = parser.parse_args()
    manifest = json.loads((ROOT / "bench/malware/samples.json").read_text())["samples"]
    built = {entry["id"]: MALWARE / entry["path"]
             for entry in json.loads((MALWARE / "index.json").read_text())["samples"]}
    splits = ["tune", *HELD_OUT] if args.split == "all" else [args.split]
    samples = [sample for sample in manifest if sample["split"] in splits and built.get(sample["id"], Path()).exists()]
    views = lookups(samples, args.refresh)
    totals, changed = {}, []
    # Alone, in one process (as bench/detection.py scans); then each sample that has
    # a predecessor once more, against it.
    alone_reports = scan_alone([built[sample["id"]] for sample in samples])
    for sample in samples:
        previous = predecessor(sample, views.get(sample["name"])) if has_manifest(built[sample["id"]]) else None
        previous_path = download(sample["name"], previous) if previous else None
        alone = alone_reports[built[sample["id"]]]
        diffed, error = scan(built[sample["id"]], previous_path) if previous_path else (alone, None)
        if error:
            print(f"# {sample['id']} against {previous}: {error}", file=sys.stderr)
            diffed = alone
        total = totals.setdefault(sample["split"], {"n": 0, "with": 0, "alone": 0, "diffed": 0})
        total["n"] += 1
        total["with"] += previous_path is not None and error is None
        total["alone"] += verdict(alone) in ("block", "quarantine")
        total["diffed"] += verdict(diffed) in ("block", "quarantine")
        if verdict(alone) != verdict(diffed):
            changed.append((sample["split"], sample["family"],
                            f"{sample['name']}@{sample['version']}", previous, verdict(alone), verdict(diffed)))
    rows = []
    for split in splits:
        if split in totals:
            total = totals[split]
            rows.append((split, total["n"], total["with"],
                         f"{total['alone']} ({100 * total['alone'] / total['n']:.0f}%)",
                         f"{total['diffed']} ({100 * total['diffed'] / total['n']:.0f}%)"))
    table(["split", "samples", "with a predecessor", "stopped alone", "stopped with the diff"], rows)
    if changed:
        table(["split", "family", "sample", "diffed against", "alone", "with the diff"], changed)


if __name__ == "__main__":
    main()
