#!/usr/bin/env python3
"""An open-loop HTTP load generator: requests start on a schedule set by a rate profile, whether or
not earlier ones have finished (a slow server gets a growing backlog, as in life).

    loadgen.py --url http://127.0.0.1:8080/ \\
        --profile "base:60:20,step:30:120,ramp:60:120-200,hold:30:200,fall:60:200-20" --out timeline.csv

A profile is comma-separated phases NAME:SECONDS:RATE, RATE in requests/s: one number (constant) or
FROM-TO (linear over the phase). NAME is only a label. Each request is a GET on a fresh connection
(Connection: close); a 2xx answer is ok, anything else (status, refused, reset) an error, no complete
answer within --timeout a timeout. At most --max-inflight requests are open at once; a request due
beyond that is not sent and counted as dropped.

Every second it prints one line and appends one CSV row:
  second, phase, target_rps, sent, ok, errors, timeouts, dropped, p50_ms, p99_ms, inflight, lag_ms
target_rps is what the profile asks of that second (its average rate there); sent and dropped count
in the second they were due; ok, errors, timeouts in the second they ended;
p50/p99 are over that second's ok answers (blank if none); lag_ms is how late the scheduler woke at
worst (a large lag means this generator, not the server, is the bottleneck). After the profile, it
waits up to --timeout for the requests still open ("drain" rows). SIGINT/SIGTERM stop it early; the
CSV is written row by row, so it holds everything up to then. Exits 0. Python 3 standard library only.
"""
import argparse
import asyncio
import csv
import math
import resource
import signal
import sys
import time
import urllib.parse

COLUMNS = ["second", "phase", "target_rps", "sent", "ok", "errors", "timeouts", "dropped", "p50_ms", "p99_ms",
           "inflight", "lag_ms"]


def parse_profile(text):
    """[(name, seconds, rate_from, rate_to)]; raises ValueError with the offending phase."""
    phases = []
    for part in text.split(","):
        fields = part.strip().split(":")
        try:
            if len(fields) != 3:
                raise ValueError("want NAME:SECONDS:RATE")
            name, seconds = fields[0], float(fields[1])
            lo, _, hi = fields[2].partition("-")
            r0, r1 = float(lo), float(hi or lo)
            if seconds <= 0 or r0 < 0 or r1 < 0 or not all(map(math.isfinite, (seconds, r0, r1))):
                raise ValueError("seconds must be > 0 and rates >= 0")
        except ValueError as e:
            raise ValueError(f"bad phase {part.strip()!r}: {e}") from None
        phases.append((name, seconds, r0, r1))
    return phases


class Schedule:
    """The rate profile as a function of time: the rate now, and how many requests are due by now."""

    def __init__(self, phases):
        self.phases, self.starts, self.due_at_start = phases, [], []
        t = due = 0.0
        for _, seconds, r0, r1 in phases:
            self.starts.append(t)
            self.due_at_start.append(due)
            t += seconds
            due += (r0 + r1) / 2 * seconds
        self.duration, self.total = t, due

    def at(self, t):
        """(phase name, rate, requests due in [0, t]) for 0 <= t <= duration."""
        t = min(max(t, 0.0), self.duration)
        i = max(j for j, s in enumerate(self.starts) if s <= t)
        name, seconds, r0, r1 = self.phases[i]
        tau = t - self.starts[i]
        rate = r0 + (r1 - r0) * tau / seconds
        return name, rate, self.due_at_start[i] + r0 * tau + (r1 - r0) * tau * tau / (2 * seconds)


class Second:
    def __init__(self):
        self.phase, self.target, self.sent, self.ok, self.errors, self.timeouts, self.dropped = "", 0.0, 0, 0, 0, 0, 0
        self.latencies, self.lag = [], 0.0


def percentile(sorted_values, p):
    if not sorted_values:
        return ""
    return round(sorted_values[min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1)], 1)


class LoadGen:
    def __init__(self, args, schedule):
        url = urllib.parse.urlsplit(args.url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"--url must be http://HOST[:PORT]/PATH, got {args.url!r}")
        self.host, self.port = url.hostname, url.port or 80
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        self.request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode()
        self.args, self.schedule = args, schedule
        self.seconds, self.inflight, self.tasks = {}, 0, set()
        self.stop = asyncio.Event()
        self.t0 = 0.0

    def now(self):
        return time.monotonic() - self.t0

    def bucket(self, t):
        return self.seconds.setdefault(int(t), Second())

    async def fetch(self):
        """One request on its own connection: True for a 2xx answer read to its end."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = None
            for line in lines[1:]:
                key, _, value = line.partition(":")
                if key.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is not None:
                await reader.readexactly(length)
            else:
                await reader.read()  # Connection: close: the body ends with the connection
            return 200 <= status < 300
        finally:
            writer.close()

    async def one(self):
        start = time.monotonic()
        outcome = "errors"
        try:
            async with asyncio.timeout(self.args.timeout):
                if await self.fetch():
                    outcome = "ok"
        except TimeoutError:
            outcome = "timeouts"
        except Exception:  # refused, reset, cut short, malformed: all errors
            pass
        finally:
            self.inflight -= 1
        b = self.bucket(self.now())
        setattr(b, outcome, getattr(b, outcome) + 1)
        if outcome == "ok":
            b.latencies.append((time.monotonic() - start) * 1000)

    def send(self, b):
        if self.inflight >= self.args.max_inflight:
            b.dropped += 1
            return
        self.inflight += 1
        b.sent += 1
        task = asyncio.create_task(self.one())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def generate(self):
        fired, wake = 0, 0.0
        while not self.stop.is_set():
            t = self.now()
            if t >= self.schedule.duration:  # the last requests due, then done
                b = self.bucket(self.schedule.duration - 1e-6)
                for _ in range(int(self.schedule.total + 1e-6) - fired):
                    self.send(b)
                return
            name, rate, due = self.schedule.at(t)
            b = self.bucket(t)
            b.phase, b.lag = name, max(b.lag, (t - wake) * 1000)
            for _ in range(int(due) - fired):
                self.send(b)
            fired = max(fired, int(due))
            pause = min(0.005, 1 / rate) if rate > 0 else 0.005
            wake = t + pause
            try:
                await asyncio.wait_for(self.stop.wait(), pause)
            except TimeoutError:
                pass

    def row(self, sec, b, out):
        lat = sorted(b.latencies)
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        bad = b.errors + b.timeouts + b.dropped
        try:
            print(f"t={sec:<4} rate {b.target:4.0f} sent {b.sent:4} ok {b.ok:4} err {bad:3} "
                  f"p50 {p50 if p50 != '' else '-':>6} p99 {p99 if p99 != '' else '-':>6} ms", flush=True)
        except OSError:  # nobody reads stdout any more: the CSV still gets the row
            pass
        out.writerow([sec, b.phase, round(b.target, 1), b.sent, b.ok, b.errors, b.timeouts, b.dropped, p50, p99,
                      self.inflight, round(b.lag, 1)])

    async def report(self, out, csvfile):
        """Writes second s once it is over; after the profile, goes on while requests are still open."""
        sec, drain_until = 0, None
        while True:
            if not self.stop.is_set():
                try:
                    await asyncio.wait_for(self.stop.wait(), max(0.0, sec + 1 - self.now()))
                except TimeoutError:
                    pass
            b = self.seconds.pop(sec, Second())  # stopped mid-second: what it has so far
            b.target = self.schedule.at(sec + 1)[2] - self.schedule.at(sec)[2]  # requests due in it
            b.phase = b.phase or "drain"
            self.row(sec, b, out)
            csvfile.flush()
            sec += 1
            if self.stop.is_set():
                return
            if sec >= self.schedule.duration:
                drain_until = drain_until or self.now() + self.args.timeout + 1
                if not self.tasks or self.now() >= drain_until:
                    return

    async def run(self, out, csvfile):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        self.t0 = time.monotonic()
        reporter = asyncio.create_task(self.report(out, csvfile))
        await self.generate()
        await reporter
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--url", required=True, help="http://HOST:PORT/PATH (the balancer's frontend)")
    ap.add_argument("--profile", required=True, help="NAME:SECONDS:RATE[-RATE],... (requests/s)")
    ap.add_argument("--out", help="CSV file for the per-second timeline")
    ap.add_argument("--max-inflight", type=int, default=2000, help="requests open at once (default 2000)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default 5)")
    args = ap.parse_args()
    try:
        schedule = Schedule(parse_profile(args.profile))
    except ValueError as e:
        ap.error(str(e))
    limit = raise_fd_limit(args.max_inflight + 64)
    if limit < args.max_inflight + 64:
        args.max_inflight = max(1, limit - 64)
        print(f"loadgen: open-file limit {limit}: --max-inflight lowered to {args.max_inflight}", file=sys.stderr)

    try:
        gen = LoadGen(args, schedule)
    except ValueError as e:
        ap.error(str(e))
    with open(args.out or "/dev/null", "w", newline="") as csvfile:
        out = csv.writer(csvfile)
        out.writerow(COLUMNS)
        asyncio.run(gen.run(out, csvfile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
