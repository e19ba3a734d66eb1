#!/usr/bin/env python3
"""A demo backend with a fixed capacity: at most --max-conns requests are worked on at once, each for
--delay-ms; the rest wait their turn (a queue), so capacity is about max_conns * 1000 / delay_ms req/s.

    backend.py --port 8081 --name web-1 --delay-ms 50 --max-conns 4      # ~80 req/s

With --crash-queue N it falls over as a real one does under a burst: once more than N requests have
been waiting or worked on for --crash-after seconds in a row (memory, threads), it exits 3.

GET /        200 "<name>\n" after its turn and the delay.
GET /health  200 "ok\n" at once, never queued (for HAProxy's checks); HEAD and OPTIONS likewise.
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

    def __init__(self, addr, name, delay_s, max_conns):
        super().__init__(addr, Handler)
        self.name = name
        self.delay_s = delay_s
        self.slots = threading.BoundedSemaphore(max_conns)
        self.lock = threading.Lock()
        self.inside = 0  # requests waiting for a slot or worked on


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HAProxy expects
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 60  # an idle keep-alive connection is closed after this long

    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        pass

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
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
        self.reply(200, self.server.name + "\n")

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
    args = ap.parse_args()
    if args.delay_ms < 0 or args.max_conns < 1:
        ap.error("--delay-ms must be >= 0 and --max-conns >= 1")

    threading.stack_size(512 * 1024)  # one thread per connection; a queue of thousands stays small
    try:
        server = Server(("127.0.0.1", args.port), args.name, args.delay_ms / 1000, args.max_conns)
    except OSError as e:
        print(f"backend {args.name}: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    capacity = args.max_conns * 1000 / args.delay_ms if args.delay_ms > 0 else float("inf")
    print(f"backend {args.name}: listening on 127.0.0.1:{server.server_address[1]}, {args.max_conns} at a time, "
          f"{args.delay_ms:g} ms each (~{capacity:.0f} req/s)", file=sys.stderr, flush=True)
    over = 0.0
    while not stop.wait(0.1):
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
