#!/usr/bin/env python3
"""Local inference benchmark: AUTOCREA's llm-worker against the two servers a
user would pick instead, side by side in one run, same GGUF, same threads,
fixed-length answers (end-of-generation tokens banned with logit_bias):

  - llama.cpp's own llama-server with --parallel 8,
  - llama-cpp-python's OpenAI-compatible server,

both built from llama-cpp-python's source distribution on PyPI by
tests/bench/peers.sh (outside the checkout). Prints, per server: time to
first token, single-stream decode tokens/s, aggregate tokens/s with 8
concurrent streams and how many of the 8 got tokens while all were running;
for ours also the worker's memory against model + KV cache.

Usage: tests/bench/inference.py [--threads 2] [--tokens 128] [--skip-peers]
                                [--binary PATH] [--models models.toml] [--check-invariance]
(needs a release build: cargo build --release -p autocrea). --binary and
--models run another build against another manifest (a CUDA build with
gpu_layers set, on a GPU host); --check-invariance also compares the 8
answers decoded side by side with the same requests decoded one at a time."""
import argparse, json, os, re, shutil, statistics, subprocess, sys, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODEL = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
PEERS = os.environ.get("AUTOCREA_BENCH_DIR", os.path.expanduser("~/.cache/autocrea-bench"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/autocrea-target"))
# Gemma 3's end-of-generation tokens: <eos> and <end_of_turn>.
BAN_EOG = {"1": -100, "106": -100}
PROMPTS = ["Write a story about a lighthouse keeper.", "Explain how rain forms.", "Describe a busy market.",
           "Tell me about the history of bread.", "Write a letter to a friend.", "Describe the ocean at night.",
           "Explain how a bicycle works.", "Write a poem about mountains."]


def post_stream(url, prompt, tokens, marks, text=None):
    """Streams one chat answer; appends the arrival time of each content chunk to marks
    (and the content to text, when given)."""
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": tokens,
                       "temperature": 0, "logit_bias": BAN_EOG, "stream": True}).encode()
    req = urllib.request.Request(f"{url}/v1/chat/completions", body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for c in chunk.get("choices", []):
                content = (c.get("delta") or {}).get("content")
                if content:
                    marks.append(time.perf_counter())
                    if text is not None:
                        text.append(content)


def single(url, tokens):
    """(time to first token, decode tokens/s) of one stream."""
    marks = []
    start = time.perf_counter()
    post_stream(url, PROMPTS[0], tokens, marks)
    ttft = marks[0] - start
    decode = (len(marks) - 1) / (marks[-1] - marks[0]) if len(marks) > 1 else 0.0
    return ttft, decode, len(marks)


def parallel(url, tokens, n=8, texts=None):
    """(aggregate tokens/s, streams that got tokens while all ran, streams finished)."""
    marks = [[] for _ in range(n)]
    errors = []

    def run(i):
        try:
            post_stream(url, PROMPTS[i % len(PROMPTS)], tokens, marks[i], texts[i] if texts else None)
        except Exception as e:  # a refused or dropped stream counts as not served
            errors.append(repr(e))

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    end = time.perf_counter()
    total = sum(len(m) for m in marks)
    first_done = min((m[-1] for m in marks if m), default=end)
    served = sum(1 for m in marks if m and m[0] < first_done)
    finished = sum(1 for m in marks if len(m) >= tokens * 0.9)
    return total / (end - start), served, finished, errors


def wait_up(url, proc, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not start within {timeout} s")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def invariance(url, tokens, n=8):
    """How many of n greedy answers decoded side by side equal the same request decoded alone."""
    alone = []
    for i in range(n):
        text = []
        post_stream(url, PROMPTS[i % len(PROMPTS)], tokens, [], text)
        alone.append("".join(text))
    together = [[] for _ in range(n)]
    parallel(url, tokens, n, together)
    same = sum(1 for a, t in zip(alone, together) if a == "".join(t))
    for i, (a, t) in enumerate(zip(alone, together)):
        if a != "".join(t):
            print(f"stream {i} differs:\n  alone:    {a[:160]!r}\n  together: {''.join(t)[:160]!r}")
    return same


def measure(name, cmd, url, tokens, env=None, after=None, check_invariance=False, stderr=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL, env=env)
    try:
        wait_up(url, proc, name)
        single(url, 8)  # warm up
        runs = [single(url, tokens) for _ in range(3)]
        ttft = statistics.median(r[0] for r in runs)
        decode = statistics.median(r[1] for r in runs)
        agg, served, finished, errors = parallel(url, tokens)
        extra = after(proc) if after else ""
        if check_invariance:
            same = invariance(url, tokens)
            extra += f"\ngreedy answers decoded beside 7 others equal to decoded alone: {same}/8"
        return {"name": name, "ttft_ms": ttft * 1000, "decode": decode, "aggregate": agg, "served": served,
                "finished": finished, "errors": errors[:2], "extra": extra}
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--binary", default=os.path.join(TARGET, "release", "autocrea"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "models.toml"))
    ap.add_argument("--check-invariance", action="store_true")
    ap.add_argument("--worker-log", help="file for the worker's stderr")
    args = ap.parse_args()
    ours = args.binary
    if not os.path.exists(ours):
        raise SystemExit(f"build first: cargo build --release -p autocrea ({ours} missing)")
    bin_dir = os.path.join(PEERS, "llama.cpp-build", "bin")
    if not args.skip_peers and not os.path.exists(os.path.join(bin_dir, "llama-server")):
        subprocess.run([os.path.join(HERE, "peers.sh")], check=True)
    t = str(args.threads)
    results = []

    bench_tg = float("nan")
    if not args.skip_peers:
        out = subprocess.run([os.path.join(bin_dir, "llama-bench"), "-m", MODEL, "-t", t, "-p", "0", "-n",
                              str(args.tokens), "-r", "3", "-o", "json"], capture_output=True, text=True)
        bench_tg = json.loads(out.stdout)[0]["avg_ts"] if out.returncode == 0 else float("nan")

    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def worker_memory(proc):
        health = json.load(urllib.request.urlopen(f"{url}/health"))
        rss = rss_mb(proc.pid)
        budget = (health["model_bytes"] + health["kv_bytes"]) / 2**20 + 200
        return (f"worker RSS {rss:.0f} MB after the 8-stream run; model {health['model_bytes'] / 2**20:.0f} MB + "
                f"KV {health['kv_bytes'] / 2**20:.0f} MB ({health['slots']} slots x {health['context']} cells) + 200 MB = "
                f"{budget:.0f} MB budget: {'within' if rss <= budget else 'OVER'}\n"
                f"logits from {'the output head' if health.get('output_head') else 'llama.cpp'}")

    results.append(measure("autocrea llm-worker", [ours, "llm-worker", "--listen", f"127.0.0.1:{port}", "--threads", t,
                                                    "--slots", "8", "--context", "1024",
                                                    "--models", args.models],
                           url, args.tokens, after=worker_memory, check_invariance=args.check_invariance,
                           stderr=open(args.worker_log, "w") if args.worker_log else None))
    if not args.skip_peers:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        results.append(measure("llama-server --parallel 8", [os.path.join(bin_dir, "llama-server"), "-m", MODEL, "-t", t,
                                                             "-tb", t, "--parallel", "8", "-c", "8192", "--port", str(port),
                                                             "--host", "127.0.0.1", "--chat-template", "gemma",
                                                             "--no-webui"], url, args.tokens))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        results.append(measure("llama-cpp-python server", [os.path.join(PEERS, "venv", "bin", "python"), "-m",
                                                           "llama_cpp.server", "--model", MODEL, "--n_threads", t,
                                                           "--n_ctx", "2048", "--chat_format", "gemma", "--host",
                                                           "127.0.0.1", "--port", str(port)], url, args.tokens))

    if not args.skip_peers:
        print(f"\nllama-bench (same build as llama-server): decode {bench_tg:.1f} tokens/s, {t} threads")
    print(f"{'server':28} {'TTFT ms':>8} {'1-stream tok/s':>15} {'8-stream tok/s':>15} {'served':>7} {'finished':>9}")
    for r in results:
        print(f"{r['name']:28} {r['ttft_ms']:8.1f} {r['decode']:15.1f} {r['aggregate']:15.1f} {r['served']:>5}/8 "
              f"{r['finished']:>7}/8")
    ours_r = results[0]
    if not args.skip_peers:
        print(f"\nours: single stream {ours_r['decode'] / bench_tg:.2f} x llama-bench (target >= 0.95), "
              f"first token {ours_r['ttft_ms']:.0f} ms (target < 70)")
    if len(results) > 1:
        print(f"ours: 8 streams {ours_r['aggregate'] / results[1]['aggregate']:.2f} x llama-server --parallel 8 "
              f"(target >= 1.2), {ours_r['served']}/8 served")
    print(ours_r["extra"])
    for r in results:
        if r["errors"]:
            print(f"{r['name']} errors: {r['errors']}")


if __name__ == "__main__":
    main()
