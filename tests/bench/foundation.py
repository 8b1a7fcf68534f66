#!/usr/bin/env python3
"""Foundation benchmark: prints figures, asserts nothing.

- start-to-healthy: from spawning `autocrea serve` on a fresh data folder to the
  first 200 from /healthz (median of 5 starts);
- idle RSS of `autocrea serve` after start and a little use;
- GET /api/v1/projects with an API token under load from a second process
  (wrk, 2 threads, 32 connections, 10 s) on loopback.

Usage: tests/bench/foundation.py [path/to/autocrea]   (default: the release build)
"""
import json, os, re, socket, statistics, subprocess, sys, tempfile, time, urllib.request

target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "release", "autocrea")
PASSWORD = "correct horse battery staple"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
            c.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            return b" 200 " in c.recv(16)
    except OSError:
        return False


def start(data, port):
    env = dict(os.environ, AUTOCREA_DATA_DIR=data, AUTOCREA_LISTEN=f"127.0.0.1:{port}", AUTOCREA_LOG="warn")
    t0 = time.perf_counter()
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthy(port):
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        time.sleep(0.001)
    return proc, time.perf_counter() - t0


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return kb / 1024


def api(port, method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: build it with `cargo build --release -p autocrea` (installer/install.sh --no-start)")
    print(f"binary: {BIN} ({os.path.getsize(BIN) / 1e6:.1f} MB)")
    print(f"machine: {os.cpu_count()} cores")

    starts = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as d:
            proc, took = start(os.path.join(d, "data"), free_port())
            starts.append(took)
            proc.terminate(); proc.wait()
    print(f"start-to-healthy: median {statistics.median(starts) * 1000:.0f} ms (min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}; target < 1000 ms)")

    with tempfile.TemporaryDirectory() as d:
        data, port = os.path.join(d, "data"), free_port()
        env = dict(os.environ, AUTOCREA_DATA_DIR=data, AUTOCREA_LISTEN=f"127.0.0.1:{port}")
        subprocess.run([BIN, "user", "create", "--email", "bench@example.com", "--name", "Bench", "--password-stdin"],
                       input=PASSWORD.encode(), env=env, check=True, capture_output=True)
        token = subprocess.run([BIN, "token", "create", "--email", "bench@example.com", "--name", "bench"],
                               env=env, check=True, capture_output=True).stdout.decode().strip()
        proc, _ = start(data, port)
        time.sleep(1)
        print(f"idle RSS after start: {rss_mb(proc.pid):.1f} MB (target < 60 MB)")
        for i in range(20):
            api(port, "POST", "/api/v1/projects", {"name": f"Project {i}", "description": "benchmark data"}, token)
        assert len(api(port, "GET", "/api/v1/projects", token=token)["projects"]) == 20
        time.sleep(2)
        print(f"idle RSS after 20 API writes: {rss_mb(proc.pid):.1f} MB (target < 60 MB)")

        wrk = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "--latency", "-H", f"Authorization: Bearer {token}",
                              f"http://127.0.0.1:{port}/api/v1/projects"], capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", wrk)
        p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", wrk)
        p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p50.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
        print(f"GET /api/v1/projects (token, 20 projects, wrk -t2 -c32 10 s): {rps:,.0f} req/s, p50 {p50_ms:.2f} ms, "
              f"p99 {p99_ms:.2f} ms, non-2xx {errors.group(1) if errors else 0} (target >= 5,000 req/s, p99 < 20 ms)")
        print(f"RSS after load: {rss_mb(proc.pid):.1f} MB")
        proc.terminate(); proc.wait()


if __name__ == "__main__":
    main()
