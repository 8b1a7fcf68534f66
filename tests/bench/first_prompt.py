#!/usr/bin/env python3
"""First-run benchmark (issue #17): the dashboard's prompt box, measured
from sending `POST /api/v1/projects` with a prompt (what the box does).

1. To the first streamed token, on the default install's development model
   (the real llm-worker, default slots and context, 2 threads): the time a
   newcomer waits before the turn's card shows the model writing.
2. To the first preview, with a scripted OpenAI-compatible model that
   answers at once (static template, the default warm pool of one): the
   appliance's own part of "prompt to app" (target <= 2 s).

Needs the release binary, the development model and the sandbox images:
  cargo build --release -p autocrea && models/fetch.sh && installer/images.sh
  python3 tests/bench/first_prompt.py [--runs 5]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent import start_model, with_model, turn_end  # noqa: E402
from sandbox import Appliance  # noqa: E402

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "models.toml")
PROMPT = "Build a todo list app with add and delete"


def wait_ready(app):
    started = time.monotonic()
    while time.monotonic() - started < 180:
        if app.json("GET", "/api/v1/admin/llm")["worker"]["state"] == "ready":
            return
        time.sleep(0.1)
    sys.exit("the local model worker did not become ready")


def first_token(app, pid, tid, t0, limit=600):
    """Seconds from t0 to the turn's first `token` event."""
    while time.monotonic() - t0 < limit:
        events = app.json("GET", f"/api/v1/projects/{pid}/threads/{tid}/events?follow=false")["events"]
        if any(e["type"] == "token" for e in events):
            return time.monotonic() - t0
        ends = [e for e in events if e["type"] == "turn:end"]
        if ends:
            sys.exit(f"the turn ended before a token streamed: {ends[-1]['data']}")
        time.sleep(0.01)
    sys.exit("no token streamed")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()

    # 1. The development model, as installed (default slots and context).
    os.environ["AUTOCREA_SANDBOX"] = "off"
    app = Appliance(warm_pool=0, cpus=1, llm=f'models = "{os.path.abspath(MODELS)}"\nthreads = 2')
    del os.environ["AUTOCREA_SANDBOX"]
    try:
        wait_ready(app)
        times, stops = [], []
        for run in range(args.runs):
            t0 = time.monotonic()
            made = app.json("POST", "/api/v1/projects", {"prompt": PROMPT, "template": "vite-react", "model": "local"})
            assert made.get("turn_id"), made
            times.append(first_token(app, made["id"], made["thread_id"], t0))
            # Stop mid-generation, to the turn's end (the next run's first
            # token shows the worker's slot was freed).
            t1 = time.monotonic()
            app.call("POST", f"/api/v1/projects/{made['id']}/threads/{made['thread_id']}/stop")  # 204
            turn_end(app, made["id"], made["thread_id"])
            stops.append(time.monotonic() - t1)
        print(f"dashboard prompt to first streamed token, development model (gemma-3-270m, CPU, 2 threads): "
              f"median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} runs")
        print(f"Stop during generation to the turn's end: median {statistics.median(stops):.2f} s, "
              f"max {max(stops):.2f} s over {len(stops)} runs")
    finally:
        app.proc.kill()

    # 2. A scripted model, to the first preview of the agent's page.
    url = start_model()
    app = Appliance(warm_pool=1, cpus=1)
    try:
        with_model(app, url)
        times = []
        for run in range(args.runs):
            time.sleep(3)  # the warm pool refills between people
            marker = f"page {run} {time.monotonic_ns()}"
            t0 = time.monotonic()
            made = app.json("POST", "/api/v1/projects", {"name": f"Bench {marker}", "prompt": marker, "template": "static",
                                                         "model": "scripted/coder"})
            assert made.get("turn_id"), made
            host, cookie = app.enter_preview(made["id"])
            while True:
                status, _, body = app.call("GET", "/", host=host, extra={"Cookie": cookie, "Accept": "text/html"})
                if status == 200 and marker.encode() in body:
                    break
                if time.monotonic() - t0 > 60:
                    sys.exit(f"no preview of the agent's page after 60 s ({status}): {body[:200]!r}")
                time.sleep(0.02)
            times.append(time.monotonic() - t0)
            turn_end(app, made["id"], made["thread_id"])
            app.json("POST", f"/api/v1/projects/{made['id']}/sandbox/stop")
        print(f"dashboard prompt to first preview, scripted model, static, warm pool of 1: "
              f"median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} runs (target <= 2 s)")
    finally:
        app.proc.kill()


if __name__ == "__main__":
    main()
