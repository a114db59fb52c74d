#!/usr/bin/env python3
"""`airlock audit` on 5,000-package lockfiles of every format, against a warm cache.

The fake registry (`target/release/fake-registry ADDR 5000`) serves a synthetic graph
of 5,000 packages (package i depends on 2i+1 and 2i+2), so a project depending on
`synth-0000` locks all of them. The real clients write the lockfiles against it (npm
v1, v2, v3; pnpm 9 and, through pnpm 8 from the machine's registry, pnpm 6; Yarn
classic and berry; Bun), kept under bench/work/audit. One audit warms Airlock's data
directory (packuments and analyses of all 5,000); then each lockfile is audited
`--runs` times, and the table gives the wall time of the whole command: start,
parse, decide every version, print JSON.

Usage: bench/audit.py [--packages 5000] [--runs 5] [--no-build]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tables import table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench/work/audit"
PORT = 48755
REGISTRY = f"http://127.0.0.1:{PORT}/"
CLIENTS = Path(os.environ.get("AIRLOCK_JS_CLIENTS", ROOT / "target/js-clients")) / "node_modules"
AIRLOCK = Path(os.environ.get("AIRLOCK_BIN", ROOT / "target/release/airlock"))


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def client_env(home):
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "npm_config_userconfig": str(home / ".npmrc"),
        "npm_config_globalconfig": str(home / "global-npmrc"),
        "npm_config_cache": str(home / ".npm"),
        "YARN_CACHE_FOLDER": str(home / ".yarn-cache"),
        "BUN_INSTALL_CACHE_DIR": str(home / ".bun-cache"),
        "YARN_ENABLE_TELEMETRY": "0",
        "DO_NOT_TRACK": "1",
    }


def pnpm8():
    """pnpm 8 (writes lockfile 6.0), installed once from the machine's registry."""
    target = WORK / "pnpm8"
    binary = target / "node_modules/pnpm/bin/pnpm.cjs"
    if not binary.exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(target), "pnpm@8"], check=True)
    return ["node", str(binary)]


FORMATS = {
    # name: (lockfile, command)
    "npm v1": ("package-lock.json", lambda: ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--lockfile-version", "1"]),
    "npm v2": ("package-lock.json", lambda: ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--lockfile-version", "2"]),
    "npm v3": ("package-lock.json", lambda: ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--lockfile-version", "3"]),
    "pnpm 6": ("pnpm-lock.yaml", lambda: pnpm8() + ["install", "--lockfile-only", "--ignore-scripts"]),
    "pnpm 9": ("pnpm-lock.yaml", lambda: ["node", str(CLIENTS / "pnpm/bin/pnpm.cjs"), "install", "--lockfile-only", "--ignore-scripts"]),
    "yarn classic": ("yarn.lock", lambda: ["node", str(CLIENTS / "yarn/bin/yarn.js"), "install", "--ignore-scripts", "--non-interactive"]),
    "yarn berry": ("yarn.lock", lambda: ["node", str(CLIENTS / "@yarnpkg/cli-dist/bin/yarn.js"), "install", "--mode=update-lockfile"]),
    "bun": ("bun.lock", lambda: [str(CLIENTS / "bun/bin/bun.exe"), "install", "--lockfile-only"]),
}


def lockfile(name, packages):
    """The lockfile `name`'s client writes for the project, generated once."""
    lock_name, command = FORMATS[name]
    directory = WORK / f"{packages}" / name.replace(" ", "-")
    if (directory / lock_name).exists():
        return directory
    log(f"writing the {name} lockfile with the real client")
    with tempfile.TemporaryDirectory() as scratch:
        project, home = Path(scratch) / "project", Path(scratch) / "home"
        project.mkdir()
        home.mkdir()
        (project / "package.json").write_text(json.dumps(
            {"name": "bench", "version": "1.0.0", "private": True, "dependencies": {"synth-0000": "^1.0.0"}}))
        (home / ".npmrc").write_text(f"registry={REGISTRY}\n")
        (project / ".yarnrc").write_text(f'registry "{REGISTRY}"\n')
        (project / ".yarnrc.yml").write_text(
            f'npmRegistryServer: "{REGISTRY}"\nunsafeHttpWhitelist:\n  - "127.0.0.1"\nnodeLinker: node-modules\n'
            "enableGlobalCache: false\nenableTelemetry: false\nenableScripts: false\nnpmMinimalAgeGate: 0\n")
        (project / "bunfig.toml").write_text(f'[install]\nregistry = "{REGISTRY}"\n')
        subprocess.run(command(), cwd=project, env=client_env(home), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(project / lock_name, directory / lock_name)
    return directory


def audit(directory, data, extra=()):
    started = time.perf_counter()
    result = subprocess.run(
        [str(AIRLOCK), "audit", str(directory), "--format", "json", "--data-dir", str(data),
         "--upstream", REGISTRY, "--log", "warn", *extra],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": str(data)})
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"airlock audit failed on {directory}:\n{result.stderr}")
    report = json.loads(result.stdout)
    return elapsed, report["lockfiles"][0]["packages"], len(report["findings"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "airlock", "-p", "airlock-test", "--bins"],
                       cwd=ROOT, check=True)
    registry = subprocess.Popen([str(ROOT / "target/release/fake-registry"), f"127.0.0.1:{PORT}", str(args.packages)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # It listens before it has published the whole graph, and a 404 during a
        # revalidation would make Airlock forget that package: wait for its banner.
        if "listening" not in registry.stdout.readline():
            raise SystemExit("the fake registry did not start")
        directories = {name: lockfile(name, args.packages) for name in FORMATS}
        data = WORK / f"{args.packages}" / "data"
        fresh = not data.exists()
        log("warming the data directory (fetches or revalidates every packument, analyses what never was)")
        cold, packages, _ = audit(directories["npm v3"], data)
        first = "cold first audit" if fresh else "first audit, revalidating an older data directory"
        log(f"{first} of {packages} packages: {cold:.1f} s")
        rows = []
        for name, directory in directories.items():
            times, count, findings = [], 0, 0
            for _ in range(args.runs):
                elapsed, count, findings = audit(directory, data)
                times.append(elapsed)
            metadata_only = statistics.median(audit(directory, data, ["--no-analysis"])[0] for _ in range(args.runs))
            rows.append([name, count, findings, f"{statistics.median(times):.3f}", f"{max(times):.3f}",
                         f"{metadata_only:.3f}"])
        print(f"`airlock audit` wall time per lockfile, warm data directory, {args.runs} runs "
              f"({first} of {packages} packages: {cold:.1f} s)\n")
        table(["lockfile", "packages", "findings", "median s", "max s", "--no-analysis median s"], rows)
    finally:
        registry.terminate()
        registry.wait()


if __name__ == "__main__":
    main()
