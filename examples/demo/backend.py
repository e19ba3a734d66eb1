#!/usr/bin/env python3
"""A demo backend with a fixed capacity: at most --max-conns requests are worked on at once, each for
--delay-ms; the rest wait their turn (a queue), so capacity is about max_conns * 1000 / delay_ms req/s.

    backend.py --port 8081 --name web-1 --delay-ms 50 --max-conns 4      # ~80 req/s

With --crash-queue N it falls over as a real one does under a burst: once more than N requests have
been waiting or worked on for --crash-after seconds in a row (memory, threads), it exits 3.

With a leak it falls over as a real one does when it runs out of memory: its memory ratio starts at
--memory-base (default 0.2) and grows by --leak-per-request for every GET / it serves and by
--leak-per-second for every second it runs, load or not (both default 0: no leak). Once the ratio is past
--crash-memory (default 1.0; only when a leak option is set) it prints why to stderr and exits 3.

    backend.py --port 8083 --name web-3 --leak-per-request 0.0005 --crash-memory 0.95

GET /        200 "<name>\n" after its turn and the delay.
GET /health  200 "ok\n" at once, never queued (for HAProxy's checks); HEAD and OPTIONS likewise.
GET /metrics 200, Prometheus text exposition (text/plain; version=0.0.4), at once, never queued:
             demo_memory_ratio (gauge: the memory ratio above) and demo_requests_total (counter: GET /
             requests served).
Listens on 127.0.0.1 only, logs nothing per request, and exits 0 on SIGTERM or SIGINT.
Python 3 standard library only.
"""
import argparse
import os
import select
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still waiting its turn does not hold up the exit
    request_queue_size = 1024  # listen backlog: a burst of connections waits instead of being refused
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client left before its answer (it timed out): not the server's error
        super().handle_error(request, client_address)

    def __init__(self, addr, name, delay_s, max_conns, leak=None):
        super().__init__(addr, Handler)
        self.name = name
        self.delay_s = delay_s
        self.slots = threading.BoundedSemaphore(max_conns)
        self.lock = threading.Lock()
        self.inside = 0  # requests waiting for a slot or worked on
        self.served = 0  # GET / answered
        self.started = time.monotonic()
        self.leak = leak  # argparse namespace with memory_base, leak_per_request, leak_per_second, crash_memory

    def memory(self):
        """The memory ratio now: the base plus what the requests served and the time running leaked."""
        if self.leak is None:
            return 0.2
        return (self.leak.memory_base + self.leak.leak_per_request * self.served
                + self.leak.leak_per_second * (time.monotonic() - self.started))

    def check_memory(self):
        """Falls over (exit 3) once the memory ratio is past --crash-memory, when a leak is set."""
        leak = self.leak
        if leak is None or (leak.leak_per_request <= 0 and leak.leak_per_second <= 0):
            return
        memory = self.memory()
        if memory > leak.crash_memory:
            print(f"backend {self.name}: out of memory: ratio {memory:.3f} > {leak.crash_memory:g} after "
                  f"{self.served} requests in {time.monotonic() - self.started:.1f} s: falling over",
                  file=sys.stderr, flush=True)
            os._exit(3)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HAProxy expects
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 60  # an idle keep-alive connection is closed after this long

    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        pass

    def reply(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def client_gone(self):
        """True when the client closed its connection while the request waited for a slot."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, 0x2) == b""  # MSG_PEEK
        except OSError:
            return True

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self.reply(200, "ok\n")
        if path == "/metrics":
            return self.reply(200, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        if path != "/":
            return self.reply(404, "not found\n")
        with self.server.lock:
            self.server.inside += 1
        try:
            with self.server.slots:
                if self.client_gone():  # it gave up while queued: do not spend capacity on it
                    self.close_connection = True
                    return
                time.sleep(self.server.delay_s)
        finally:
            with self.server.lock:
                self.server.inside -= 1
        with self.server.lock:
            self.server.served += 1
        self.server.check_memory()  # the request that pushed it past the limit is never answered
        self.reply(200, self.server.name + "\n")

    def metrics(self):
        with self.server.lock:
            memory, served = self.server.memory(), self.server.served
        return ("# HELP demo_memory_ratio Memory in use as a ratio of the limit.\n"
                "# TYPE demo_memory_ratio gauge\n"
                f"demo_memory_ratio {memory:.6f}\n"
                "# HELP demo_requests_total Requests to GET / served.\n"
                "# TYPE demo_requests_total counter\n"
                f"demo_requests_total {served}\n")

    def do_HEAD(self):
        self.reply(200, "")

    def do_OPTIONS(self):  # HAProxy's default `option httpchk`
        self.reply(200, "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--name", required=True, help="the name GET / answers with")
    ap.add_argument("--delay-ms", type=float, default=50, help="time each request takes (default 50)")
    ap.add_argument("--max-conns", type=int, default=4, help="requests worked on at once (default 4)")
    ap.add_argument("--crash-queue", type=int, default=0, help="fall over past this many requests inside (0 = never)")
    ap.add_argument("--crash-after", type=float, default=2.0, help="...for this many seconds in a row (default 2)")
    ap.add_argument("--leak-per-request", type=float, default=0.0,
                    help="memory ratio added per GET / served (default 0: no leak)")
    ap.add_argument("--leak-per-second", type=float, default=0.0,
                    help="memory ratio added per second, load or not (default 0)")
    ap.add_argument("--memory-base", type=float, default=0.2, help="the memory ratio it starts at (default 0.2)")
    ap.add_argument("--crash-memory", type=float, default=1.0,
                    help="fall over past this memory ratio (default 1.0; only with a leak option)")
    args = ap.parse_args()
    if args.delay_ms < 0 or args.max_conns < 1:
        ap.error("--delay-ms must be >= 0 and --max-conns >= 1")
    if args.leak_per_request < 0 or args.leak_per_second < 0:
        ap.error("--leak-per-request and --leak-per-second must be >= 0")

    threading.stack_size(512 * 1024)  # one thread per connection; a queue of thousands stays small
    try:
        server = Server(("127.0.0.1", args.port), args.name, args.delay_ms / 1000, args.max_conns, leak=args)
    except OSError as e:
        print(f"backend {args.name}: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    capacity = args.max_conns * 1000 / args.delay_ms if args.delay_ms > 0 else float("inf")
    leaking = args.leak_per_request > 0 or args.leak_per_second > 0
    leak = (f", leaking {args.leak_per_request:g}/request {args.leak_per_second:g}/s from {args.memory_base:g}, "
            f"falls over past {args.crash_memory:g}") if leaking else ""
    print(f"backend {args.name}: listening on 127.0.0.1:{server.server_address[1]}, {args.max_conns} at a time, "
          f"{args.delay_ms:g} ms each (~{capacity:.0f} req/s){leak}", file=sys.stderr, flush=True)
    over = 0.0
    while not stop.wait(0.1):
        server.check_memory()
        if args.crash_queue <= 0:
            continue
        over = over + 0.1 if server.inside > args.crash_queue else 0.0
        if over >= args.crash_after:
            print(f"backend {args.name}: {server.inside} requests inside for {args.crash_after:g} s: falling over",
                  file=sys.stderr, flush=True)
            os._exit(3)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
