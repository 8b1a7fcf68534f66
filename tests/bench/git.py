#!/usr/bin/env python3
"""Git store benchmark: prints figures, asserts nothing.

- clone of a repository with 10,000 files and 50 MB through /git/ (smart HTTP)
  against `git clone --no-local` of the same bare repository by path (git's own
  pack protocol without HTTP: the local limit), median of 3;
- the server's memory growth (RSS) while it receives a 100 MB push.

Usage: tests/bench/git.py [path/to/autocrea]   (default: the release build)
"""
import os, random, re, shutil, socket, statistics, subprocess, sys, tempfile, threading, time, json, urllib.request

target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "release", "autocrea")
PASSWORD = "correct horse battery staple"


def git(*args, cwd=None, env=None):
    e = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
             GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com", **(env or {}))
    subprocess.run(["git", *args], cwd=cwd, env=e, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def timed(fn, runs=3):
    out = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return statistics.median(out)


def make_repo(path, files, total_bytes):
    os.makedirs(path)
    git("init", "-q", "-b", "main", cwd=path)
    rng = random.Random(42)
    per = total_bytes // files
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789 \n"
    for i in range(files):
        d = os.path.join(path, f"dir{i // 100:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"file{i:05d}.txt"), "wb") as f:
            f.write(bytes(rng.choice(alphabet) for _ in range(per)))
    git("add", "-A", cwd=path)
    git("commit", "-qm", "10,000 files", cwd=path)


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: build it with installer/install.sh --no-start")
    with tempfile.TemporaryDirectory() as d:
        print("preparing a repository of 10,000 files / 50 MB ...", flush=True)
        src = os.path.join(d, "src")
        make_repo(src, 10_000, 50 * 1024 * 1024)

        data, port = os.path.join(d, "data"), free_port()
        env = dict(os.environ, AUTOCREA_DATA_DIR=data, AUTOCREA_LISTEN=f"127.0.0.1:{port}", AUTOCREA_LOG="warn")
        subprocess.run([BIN, "user", "create", "--email", "bench@example.com", "--name", "Bench", "--password-stdin"],
                       input=PASSWORD.encode(), env=env, check=True, capture_output=True)
        token = subprocess.run([BIN, "token", "create", "--email", "bench@example.com", "--name", "bench"],
                               env=env, check=True, capture_output=True).stdout.decode().strip()
        server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); break
                except OSError:
                    time.sleep(0.05)
            ids = {}
            for name in ["big", "huge"]:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/projects", method="POST",
                                             data=json.dumps({"name": name}).encode(),
                                             headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
                ids[name] = json.loads(urllib.request.urlopen(req).read())["id"]
            url = f"http://bench:{token}@127.0.0.1:{port}/git/bench/big.git"
            git("push", "-q", "--force", url, "main", cwd=src)
            # The local limit is measured on the very repository the server serves.
            bare = os.path.join(data, "repos", f"{ids['big']}.git")

            def clone_http():
                out = os.path.join(d, "c-http"); shutil.rmtree(out, ignore_errors=True)
                git("clone", "-q", url, out)

            def clone_local():
                out = os.path.join(d, "c-local"); shutil.rmtree(out, ignore_errors=True)
                git("clone", "-q", "--no-local", bare, out)

            def clone_hardlink():
                out = os.path.join(d, "c-link"); shutil.rmtree(out, ignore_errors=True)
                git("clone", "-q", bare, out)

            http_s, local_s, link_s = timed(clone_http), timed(clone_local), timed(clone_hardlink)
            print(f"clone 10,000 files / 50 MB through /git/: {http_s:.2f} s")
            print(f"clone of the same bare repository by path, git's pack protocol (--no-local): {local_s:.2f} s")
            print(f"  -> /git/ runs at {local_s / http_s:.2f} of the local speed (target >= 0.7)")
            print(f"  (plain `git clone PATH` hardlinks objects instead of packing: {link_s:.2f} s)")

            # Memory while receiving a 100 MB push.
            big = os.path.join(d, "push100")
            os.makedirs(big); git("init", "-q", "-b", "main", cwd=big)
            with open(os.path.join(big, "blob.bin"), "wb") as f:
                f.write(os.urandom(100 * 1024 * 1024))
            git("add", "-A", cwd=big); git("commit", "-qm", "100 MB", cwd=big)
            baseline = rss_kb(server.pid)
            peak = [baseline]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kb(server.pid)); time.sleep(0.02)

            t = threading.Thread(target=sample); t.start()
            start = time.perf_counter()
            git("push", "-q", "--force", f"http://bench:{token}@127.0.0.1:{port}/git/bench/huge.git", "main", cwd=big)
            took = time.perf_counter() - start
            done.set(); t.join()
            print(f"100 MB push: {took:.2f} s; server RSS {baseline / 1024:.1f} MB before, peak {peak[0] / 1024:.1f} MB, "
                  f"growth {(peak[0] - baseline) / 1024:.1f} MB (target < 100 MB)")
        finally:
            server.terminate(); server.wait()


if __name__ == "__main__":
    main()
