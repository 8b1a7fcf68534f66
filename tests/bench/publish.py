#!/usr/bin/env python3
"""Publish benchmark (issue #19).

1. Publish click -> the live URL answering the new version, per template
   (targets: static <= 1 s, vite-react <= 15 s, nextjs <= 60 s here): from
   POST /deployments to the app's address serving the changed page.
2. Promote (rollback) -> live: from POST .../promote to the address serving
   the earlier version (target <= 0.5 s).
3. A live static app's asset against the appliance's own static asset
   (wrk, 2 threads, 32 connections, 10 s, gzip): target >= 0.8 times.

Needs the release binary, the sandbox images and wrk:
  cargo build --release -p autocrea && installer/images.sh
  python3 tests/bench/publish.py [--runs 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import Appliance  # noqa: E402

PAGES = {
    "static": ("index.html", "<!doctype html><title>Bench</title><h1>{mark}</h1>\n"),
    # React renders in the browser: the mark goes into the built index.html (still a full vite build).
    "vite-react": ("index.html", '<!doctype html>\n<html lang="en"><head><meta charset="UTF-8" /><title>{mark}</title></head>\n'
                   '<body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>\n'),
    "nextjs": ("app/page.tsx", "export default function Home() {{\n  return <main><h1>{mark}</h1></main>;\n}}\n"),
}


def save(app, pid, path, content):
    status, _, body = app.call("GET", f"/api/v1/projects/{pid}/file?path={path}")
    sha = __import__("json").loads(body).get("sha") if status == 200 else None
    app.json("PUT", f"/api/v1/projects/{pid}/file?path={path}", {"content": content, "sha": sha})


def wait_serving(app, host, mark, started, limit=300):
    while True:
        status, _, body = app.call("GET", "/", host=host, extra={"Accept": "text/html"})
        if status == 200 and mark.encode() in body:
            return time.perf_counter() - started
        if time.perf_counter() - started > limit:
            sys.exit(f"{host} did not serve {mark!r} in {limit} s (last {status})")
        time.sleep(0.02)


def wait_built(app, pid, dep):
    while True:
        d = app.json("GET", f"/api/v1/projects/{pid}/deployments/{dep}")
        if d["status"] not in ("queued", "building"):
            if d["status"] != "ready":
                sys.exit(f"deployment {dep}: {d['status']} {d.get('error')}")
            return d
        time.sleep(0.05)


def wrk(url, host):
    out = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "-H", f"Host: {host}", "-H", "Accept-Encoding: gzip", url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    app = Appliance(warm_pool=0, cpus=2)
    try:
        targets = {"static": 1.0, "vite-react": 15.0, "nextjs": 60.0}
        rollbacks = []
        for template, target in targets.items():
            pid = app.json("POST", "/api/v1/projects", {"name": f"bench {template}", "template": template})["id"]
            app.json("PUT", f"/api/v1/projects/{pid}/site", {"access": "public"})
            name = app.json("GET", f"/api/v1/projects/{pid}/site")["name"]
            host = f"{name}.apps.localhost:{app.port}"
            path, page = PAGES[template]
            times, first = [], None
            for run in range(args.runs + 1):
                mark = f"Version {run} of {template}"
                save(app, pid, path, page.format(mark=mark))
                started = time.perf_counter()
                dep = app.json("POST", f"/api/v1/projects/{pid}/deployments", {})["id"]
                wait_built(app, pid, dep)
                took = wait_serving(app, host, mark, started)
                if run == 0:
                    first = (dep, mark)  # the first build also fills caches: not counted
                else:
                    times.append(took)
            print(f"publish -> live, {template}: median {statistics.median(times):.2f} s, "
                  f"runs {', '.join(f'{t:.2f}' for t in times)} (target <= {target:.0f} s)")
            started = time.perf_counter()
            app.json("POST", f"/api/v1/projects/{pid}/deployments/{first[0]}/promote")
            rollbacks.append((template, wait_serving(app, host, first[1], started)))
        for template, t in rollbacks:
            print(f"promote (rollback) -> live, {template}: {t * 1000:.0f} ms (target <= 500 ms)")

        # Throughput: the static app's app.js against the console's own script.
        pid = app.json("POST", "/api/v1/projects", {"name": "bench throughput", "template": "static"})["id"]
        app.json("PUT", f"/api/v1/projects/{pid}/site", {"access": "public"})
        dep = app.json("POST", f"/api/v1/projects/{pid}/deployments", {})["id"]
        wait_built(app, pid, dep)
        name = app.json("GET", f"/api/v1/projects/{pid}/site")["name"]
        base = f"http://{app.host}:{app.port}"
        # Assets of like size: the console's icon and the starter's script.
        own = wrk(f"{base}/assets/favicon.svg", f"{app.host}:{app.port}")
        served = wrk(f"{base}/app.js", f"{name}.apps.localhost:{app.port}")
        print(f"static asset throughput (wrk -t2 -c32 10 s, gzip): app {served:,.0f} req/s, "
              f"console {own:,.0f} req/s, ratio {served / own:.2f} (target >= 0.8)")
    finally:
        app.close()


if __name__ == "__main__":
    main()
