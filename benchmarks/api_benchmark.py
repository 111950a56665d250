"""Department lookups under load while a night publishes: throughput, p50/p99 latency, errors.

    flock /tmp/heavy.lock .venv/bin/python benchmarks/api_benchmark.py --people 100000 --work /tmp/apibench
    .venv/bin/python benchmarks/api_benchmark.py --work /tmp/apibench --seconds 60 --clients 16 --night-at 10

Prepares once (kept in WORK/night1: a HOME after night 1, with night 2's deliveries landed), then each
run copies it to WORK/run and: starts `registry serve` on 127.0.0.1, issues a labour credential, and
drives CLIENTS concurrent keep-alive connections over loopback, each looking up random labour record
keys (GET /api/v1/records/labour/{key}) for a fixed time; NIGHT_AT seconds in, `registry run` merges
and publishes night 2 beside it (the load goes on until that night has finished, however long). Every
answer must be 200 and name a published run; a client that sees night 2 must never see night 1 again.
Prints, for the whole time and for the time the night ran: requests, throughput, p50/p99/max latency,
errors; when the service switched; the service's peak memory; and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
NIGHT1, NIGHT2 = "2026-11-19", "2026-11-20"
CONTENT_LENGTH = re.compile(rb"content-length: *(\d+)", re.I)
RUN_ID = re.compile(rb'"run_id":"([^"]+)"')
RUN_HEADER = re.compile(rb"x-registry-run-id: *([^\r\n]+)", re.I)


def _registry(*args: str, log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    out = open(log, "w") if log else subprocess.PIPE
    try:
        done = subprocess.run([str(BIN / "registry"), *args], stdout=out, stderr=subprocess.STDOUT, text=True)
    finally:
        if log:
            out.close()
    if check and done.returncode != 0:
        raise SystemExit(f"registry {' '.join(args)} failed" + (f"; see {log}" if log else f": {done.stdout}"))
    return done


def prepare(work: Path, people: int, seed: int) -> Path:
    """WORK/night1: a HOME after night 1 (full), with night 2's deliveries in its landing zone (the
    latest night there is the one published under load)."""
    ready = work / "night1"
    if (ready / "published" / "registry.duckdb").exists() and len(list((ready / "landing").glob("20*"))) >= 2:
        return ready
    shutil.rmtree(ready, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    print(f"preparing night 1 of {people:,} people in {ready} (once)", flush=True)
    _registry("generate", "--people", str(people), "--date", NIGHT1, "--home", str(ready), "--seed", str(seed),
              "--truth", str(work / "truth" / f"{NIGHT1}.csv"), log=work / "generate-1.log")
    _registry("run", "--home", str(ready), "--date", NIGHT1, log=work / "night-1.log")
    _registry("generate", "--people", str(people), "--date", NIGHT2, "--home", str(ready), "--seed", str(seed),
              "--previous", str(ready / "landing" / NIGHT1), "--truth", str(work / "truth" / f"{NIGHT2}.csv"),
              log=work / "generate-2.log")
    return ready


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def _client(port: int, secret: str, keys: list[str], stop: asyncio.Event, log: list, seed: int) -> None:
    rng = random.Random(seed)
    head = (f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n\r\n").encode()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as exc:
            log.append((time.monotonic(), 0.0, f"connect: {exc}", None, seed, None))
            await asyncio.sleep(0.05)
            continue
        try:
            while not stop.is_set():
                key = rng.choice(keys)
                started = time.monotonic()
                writer.write(f"GET /api/v1/records/labour/{key} HTTP/1.1\r\n".encode() + head)
                header = await reader.readuntil(b"\r\n\r\n")
                body = await reader.readexactly(int(CONTENT_LENGTH.search(header).group(1)))
                took = time.monotonic() - started
                status = int(header[9:12])
                run = (RUN_ID.match(body, 1) if status == 200 else RUN_HEADER.search(header))
                run = run.group(1).decode() if run else None
                outcome = status if status in (200, 404) and run else f"{status} {body[:120]!r}"
                log.append((started, took, outcome, run, seed, key))
        except (OSError, asyncio.IncompleteReadError) as exc:
            log.append((time.monotonic(), 0.0, f"connection: {exc!r}", None, seed, None))
        finally:
            writer.close()


def _figures(rows: list, t0: float, t1: float) -> dict:
    window = [r for r in rows if t0 <= r[0] < t1]
    ok = sorted(r[1] for r in window if r[2] == 200)
    errors = [r for r in window if r[2] != 200]
    seconds = max(t1 - t0, 1e-9)
    q = (lambda p: ok[min(len(ok) - 1, int(p * len(ok)))] * 1000) if ok else (lambda p: float("nan"))
    return {"seconds": round(seconds, 1), "requests": len(window), "throughput_per_s": round(len(ok) / seconds, 1),
            "p50_ms": round(q(0.50), 2), "p99_ms": round(q(0.99), 2), "max_ms": round(ok[-1] * 1000, 1) if ok else None,
            "errors": len(errors), "first_errors": [str(e[2]) for e in errors[:3]]}


async def _drive(port: int, secret: str, keys: list[str], clients: int, seconds: float, night_at: float,
                 home: Path, work: Path, night_nice: int = 0) -> dict:
    rows: list = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_client(port, secret, keys, stop, rows, i)) for i in range(clients)]
    started = time.monotonic()
    await asyncio.sleep(night_at)
    night_started = time.monotonic()
    nice = ["nice", "-n", str(night_nice)] if night_nice else []
    night = await asyncio.create_subprocess_exec(*nice, str(BIN / "registry"), "run", "--home", str(home),
                                                 stdout=open(work / "night-2.log", "w"), stderr=subprocess.STDOUT)
    code = await night.wait()
    night_ended = time.monotonic()
    await asyncio.sleep(max(0.0, started + seconds - time.monotonic(), 2.0))
    ended = time.monotonic()
    stop.set()
    await asyncio.gather(*tasks)
    return {"rows": rows, "started": started, "ended": ended, "night": (night_started, night_ended, code)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/apibench"), help="working folder (kept)")
    parser.add_argument("--people", type=int, default=100_000, help="people of the prepared nights")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=60.0, help="at least this long (and until the night ends)")
    parser.add_argument("--night-at", type=float, default=10.0, help="start night 2 this many seconds in")
    parser.add_argument("--keys", type=int, default=20000, help="distinct record keys looked up")
    parser.add_argument("--prepare-only", action="store_true",
                        help="build WORK/night1 and stop (it is not timed: no need to hold the heavy lock for it)")
    parser.add_argument("--night-nice", type=int, default=0,
                        help="run the night at this nice level (as a deployment may: `Nice=10` in its unit)")
    args = parser.parse_args()

    prepared = prepare(args.work, args.people, args.seed)
    if args.prepare_only:
        return
    home = args.work / "run"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(prepared, home, symlinks=True)
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        night1 = con.execute("SELECT run_id FROM runs WHERE status = 'published' ORDER BY finished_at DESC LIMIT 1").fetchone()[0]
        residents = con.execute("SELECT count(*) FROM residents").fetchone()[0]
        keys = [k for k, in con.execute("SELECT source_record_id FROM crosswalk WHERE department = 'labour' "
                                        f"USING SAMPLE reservoir({int(args.keys)} ROWS) REPEATABLE (1)").fetchall()]
    finally:
        con.close()
    secret = _registry("access", "grant", "labour", "--home", str(home)).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen([str(BIN / "registry"), "serve", "--home", str(home), "--port", str(port)],
                              stdout=open(args.work / "serve.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/me",
                                             headers={"Authorization": f"Bearer {secret}"})
                if json.loads(urllib.request.urlopen(req, timeout=2).read())["run_id"]:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"registry serve did not start; see {args.work / 'serve.log'}")
            time.sleep(0.2)
        print(f"serving {residents:,} residents (run {night1}) on 127.0.0.1:{port}; {args.clients} clients, "
              f"{len(keys):,} labour keys; night 2 starts {args.night_at:.0f} s in", flush=True)
        result = asyncio.run(_drive(port, secret, keys, args.clients, args.seconds, args.night_at, home, args.work,
                                    args.night_nice))
        peak = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)

    # A key of night 1 that night 2 removed answers 404 from night 2: right, not an error. Any other 404 is.
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        night2 = con.execute("SELECT run_id FROM runs WHERE status = 'published' ORDER BY finished_at DESC LIMIT 1").fetchone()[0]
        kept = {k for k, in con.execute("SELECT source_record_id FROM crosswalk WHERE department = 'labour'").fetchall()}
    finally:
        con.close()
    rows = [(*r[:2], 200 if r[2] == 404 and r[3] == night2 and r[5] not in kept else r[2], *r[3:]) for r in result["rows"]]
    gone = sum(1 for a, b in zip(result["rows"], rows) if a[2] == 404 and b[2] == 200)
    night_started, night_ended, code = result["night"]
    runs: dict[str, int] = {}
    for r in rows:
        if r[3]:
            runs[r[3]] = runs.get(r[3], 0) + 1
    switched = min((r[0] for r in rows if r[3] and r[3] != night1), default=None)
    # Never mixed: once a client has been answered from night 2, it is never answered from night 1 again.
    went_back, seen_new = 0, set()
    for started, _, _, run, client, _ in sorted(rows, key=lambda r: r[0]):
        if run and run != night1:
            seen_new.add(client)
        elif run == night1 and client in seen_new:
            went_back += 1
    whole = _figures(rows, result["started"], result["ended"])
    during = _figures(rows, night_started, night_ended)
    t = lambda x: f"{x - result['started']:.1f} s"  # noqa: E731
    print(f"night 2: exit {code}, ran {t(night_started)} -> {t(night_ended)}; service switched to it at "
          f"{t(switched) if switched else 'never'}; answers per run: {runs}")
    for name, f in (("whole run", whole), ("while the night ran", during)):
        print(f"{name:>20}: {f['requests']:>7} requests in {f['seconds']:>5} s = {f['throughput_per_s']:>7} /s, "
              f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms, errors {f['errors']} {f['first_errors'] or ''}")
    timeline = []
    for t0 in range(0, int(result["ended"] - result["started"]), 5):   # where the slow answers were
        f = _figures(rows, result["started"] + t0, result["started"] + t0 + 5)
        timeline.append(f"{t0:>3}s {f['throughput_per_s']:>6.0f}/s p99 {f['p99_ms']:>6.1f}")
    print("per 5 s:  " + " | ".join(timeline))
    print(f"service peak memory {peak:,.0f} MB; answers from night 1 after night 2 (per client): {went_back}; "
          f"404 for keys night 2 removed (counted as answered): {gone}")
    print(json.dumps({"benchmark": "api_lookups", "residents": residents, "clients": args.clients,
                      "night_nice": args.night_nice,
                      "night_exit": code, "switched": switched is not None, "whole": whole, "during_night": during,
                      "runs": runs, "service_peak_mb": round(peak), "night1_after_switch": went_back,
                      "removed_keys_404": gone}))


if __name__ == "__main__":
    main()
