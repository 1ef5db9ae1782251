#!/usr/bin/env python3
"""Opens a file that is on disk in the server, as an editor does, and closes it.

    python3 benches/open_close.py [--runs N] SERVER_BINARY FILE.tf
    python3 benches/open_close.py --index SERVER_BINARY FOLDER

Prints, per run: didOpen sent -> first publishDiagnostics of the file
received (open), didClose sent -> its empty publish received (close; 0 for
a file without diagnostics, which has nothing to clear), that publish -> the
reply to the next request (a hover: how long the server was busy with the
close), and the server's resident memory (VmRSS, MiB) idle,
after the open, after the close, with its peak (VmHWM). The workspace root
is an empty folder, so the server reads nothing but the file's own folder.
(`cargo bench --bench lsp_latency` opens documents that are not on disk.)

With --index, the server is started on FOLDER as an editor's workspace and
nothing is opened: it prints the server's CPU time and memory once it has
been idle (no CPU used) for two seconds after reading the folder.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def start_server(server, root, stdout):
    """The server, initialized with `root` as its workspace folder (not
    waiting for the answer), and a function sending it a message."""
    proc = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=stdout,
                            stderr=subprocess.DEVNULL)

    def send(message):
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"processId": None, "rootUri": "file://" + os.path.abspath(root),
                     "capabilities": {}}})
    return proc, send


def memory(pid):
    """VmRSS and VmHWM of process `pid`, in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                values[key] = int(value.split()[0]) // 1024
    return values


def run(server, path, quiet=False):
    """Prints the figures of one open and close (returns them if `quiet`)."""
    root = tempfile.TemporaryDirectory()
    proc, send = start_server(server, root.name, subprocess.PIPE)

    def receive():
        headers = {}
        while True:
            line = proc.stdout.readline()
            if line in (b"\r\n", b""):
                break
            key, value = line.decode().split(":", 1)
            headers[key.lower()] = value.strip()
        return json.loads(proc.stdout.read(int(headers["content-length"])))

    def until(test):
        while True:
            message = receive()
            if test(message):
                return message

    def memory_now():
        return memory(proc.pid)

    def published(message):
        return (message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri)

    uri = "file://" + os.path.abspath(path)
    with root:
        until(lambda m: m.get("id") == 1)
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        time.sleep(0.5)
        idle = memory_now()
        with open(path) as f:
            text = f.read()
        start = time.monotonic()
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
              "params": {"textDocument": {"uri": uri, "languageId": "terraform",
                                          "version": 1, "text": text}}})
        diagnostics = len(until(published)["params"]["diagnostics"])
        opened_at = time.monotonic()
        opened = memory_now()
        close_sent = time.monotonic()
        send({"jsonrpc": "2.0", "method": "textDocument/didClose",
              "params": {"textDocument": {"uri": uri}}})
        # Nothing shown, nothing to clear: the server publishes no empty
        # list again, and the close is timed by the reply below alone.
        if diagnostics:
            until(published)
        closed_at = time.monotonic()
        send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
              "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})
        until(lambda m: m.get("id") == 2)
        replied_at = time.monotonic()
        time.sleep(1)
        closed = memory_now()
        send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        until(lambda m: m.get("id") == 3)
        send({"jsonrpc": "2.0", "method": "exit"})
        proc.stdin.close()
        proc.wait(timeout=60)
    figures = {"diagnostics": diagnostics, "open_ms": 1000 * (opened_at - start),
               "idle": idle["VmRSS"], "opened": opened["VmRSS"],
               "closed": closed["VmRSS"], "peak": closed["VmHWM"]}
    if quiet:
        return figures
    print(f"{os.path.getsize(path) / 1e6:.1f} MB, {diagnostics} diagnostics: "
          f"open {1000 * (opened_at - start):.0f} ms, "
          f"close {1000 * (closed_at - close_sent):.0f} ms, "
          f"next reply {1000 * (replied_at - closed_at):.0f} ms; "
          f"RSS idle {idle['VmRSS']}, opened {opened['VmRSS']}, closed {closed['VmRSS']}, "
          f"peak {closed['VmHWM']} MiB")
    return figures


def index(server, folder):
    proc, send = start_server(server, folder, subprocess.DEVNULL)
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open(f"/proc/{proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    start = time.monotonic()
    last, idle_since = -1.0, time.monotonic()
    while time.monotonic() - idle_since < 2:
        time.sleep(0.25)
        now = cpu()
        if now != last:
            last, idle_since = now, time.monotonic()
    values = memory(proc.pid)
    proc.kill()
    proc.wait()
    print(f"{folder}: idle after {idle_since - start:.1f} s, CPU {last:.1f} s, "
          f"RSS {values['VmRSS']} MiB, peak {values['VmHWM']} MiB")


def main():
    args = sys.argv[1:]
    if args[:1] == ["--index"] and len(args) == 3:
        index(*args[1:])
        return
    runs = 1
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    for _ in range(runs):
        run(*args)


if __name__ == "__main__":
    main()
