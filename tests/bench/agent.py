#!/usr/bin/env python3
"""Agent benchmark (issue #6), with a scripted OpenAI-compatible model that
answers at once (a stateless script: the first call of a turn writes the
files, the next says it is done).

1. Agent overhead per turn, model time excluded, for a 20-file edit (10 new
   files, 10 changed): the turn's own duration minus the time spent waiting
   for the model, both reported by the appliance in `turn:end`. Sandboxes
   are off here, so the check after the changes is skipped (a sandbox check
   is the template's own build, timed in tests/bench/sandbox.py).
2. Prompt to first preview, static template: from sending the prompt on a new
   project (sandbox stopped) to the preview answering with the agent's page,
   cold (no warm pool) and with the default warm pool of one.

Needs the release binary and the sandbox images:
  cargo build --release -p autocrea && installer/images.sh
  python3 tests/bench/agent.py [--runs 10]
"""
import argparse
import http.server
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import Appliance  # noqa: E402


class Model(http.server.BaseHTTPRequestHandler):
    """The first call of a turn edits 20 files (or writes the page); later calls end the turn."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        msgs = body["messages"]
        # The request as the appliance words it: "The request: <prompt>".
        request = next(m["content"] for m in msgs if m["role"] == "user").removeprefix("The request: ")
        if any(m["role"] == "tool" for m in msgs):
            message = {"role": "assistant", "content": "Done."}
        elif request.startswith("page"):
            page = f"<!doctype html><title>Bench</title><h1>{request}</h1>\n"
            message = calls([("full_file_rewrite", {"path": "index.html", "content": page})])
        else:
            run = request.split()[-1]
            edits = [("create_file", {"path": f"pages/p{run}-{i}.html", "content": f"<h1>Page {i} of run {run}</h1>\n" * 20})
                     for i in range(10)]
            edits += [("full_file_rewrite", {"path": f"parts/part{i}.js", "content": f"export const part{i} = {run};\n" * 20})
                      for i in range(10)]
            message = calls(edits)
        out = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "coder",
                          "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def calls(edits):
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for i, (n, a) in enumerate(edits)]}


def start_model():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def with_model(app, url):
    app.json("PUT", "/api/v1/admin/llm/policy", {"local": True, "providers": [
        {"id": "scripted", "kind": "openai", "base_url": url, "enabled": True, "models": ["coder"]}]})
    app.json("PUT", "/api/v1/admin/llm/providers/scripted/key", {"key": "sk-bench-0000"})


def new_thread(app, template="static"):
    pid = app.json("POST", "/api/v1/projects", {"name": f"Agent {time.monotonic_ns()}", "template": template})["id"]
    tid = app.json("POST", f"/api/v1/projects/{pid}/threads", {})["id"]
    return pid, tid


def turn_end(app, pid, tid, limit=120):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        events = app.json("GET", f"/api/v1/projects/{pid}/threads/{tid}/events?follow=false")["events"]
        ends = [e for e in events if e["type"] == "turn:end"]
        if ends:
            return ends[-1]["data"]
        time.sleep(0.005)
    sys.exit("a turn did not end")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args()
    url = start_model()

    os.environ["AUTOCREA_SANDBOX"] = "off"
    app = Appliance(warm_pool=0, cpus=1)
    del os.environ["AUTOCREA_SANDBOX"]
    try:
        with_model(app, url)
        pid, tid = new_thread(app)
        samples, totals = [], []
        for run in range(args.runs + 1):
            app.json("POST", f"/api/v1/projects/{pid}/threads/{tid}/messages", {"content": f"edit run {run}", "model": "scripted/coder"})
            end = turn_end(app, pid, tid)
            assert end["status"] == "done", end
            if run == 0:
                continue  # warm-up
            samples.append(end["duration_ms"] - end["model_ms"])
            totals.append(end["duration_ms"])
            # A new thread per turn keeps each turn's event list short.
            pid, tid = new_thread(app)
        print(f"agent overhead per 20-file edit, model time excluded ({args.runs} turns): "
              f"median {statistics.median(samples)} ms, max {max(samples)} ms "
              f"(whole turn median {statistics.median(totals)} ms; target < 50 ms)")
    finally:
        app.proc.kill()

    for warm in (0, 1):
        app = Appliance(warm_pool=warm, cpus=1)
        try:
            with_model(app, url)
            times = []
            for run in range(max(3, args.runs // 3)):
                if warm:
                    # Let the pool refill between runs, as between people.
                    time.sleep(3)
                pid, tid = new_thread(app)
                host, cookie = app.enter_preview(pid)
                marker = f"page {run} {time.monotonic_ns()}"
                t0 = time.monotonic()
                app.json("POST", f"/api/v1/projects/{pid}/threads/{tid}/messages", {"content": marker, "model": "scripted/coder"})
                while True:
                    status, _, body = app.call("GET", "/", host=host, extra={"Cookie": cookie, "Accept": "text/html"})
                    if status == 200 and marker.encode() in body:
                        break
                    if time.monotonic() - t0 > 60:
                        sys.exit(f"no preview of the agent's page after 60 s ({status}): {body[:200]!r}")
                    time.sleep(0.02)
                times.append(time.monotonic() - t0)
                turn_end(app, pid, tid)
                app.json("POST", f"/api/v1/projects/{pid}/sandbox/stop")
            label = "warm pool of 1" if warm else "cold (no warm pool)"
            print(f"prompt to first preview, static, {label}: median {statistics.median(times):.2f} s, "
                  f"max {max(times):.2f} s over {len(times)} runs (target < 5 s)")
        finally:
            app.proc.kill()


if __name__ == "__main__":
    main()
