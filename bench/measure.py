"""Times CGI answers through Apache: every scenario once per round, in a shuffled order,
so that all of them see the same machine state and their ratios are fair.

    measure.py PLAN.json OUT.json

PLAN.json (written by bench/run):
    {"port": 8080, "inspect": "http://127.0.0.1:N/", "dns_log": "/path/named.log",
     "auth": {"bcrypt": {"user": "...", "password": "..."}, "apr1": {...}},
     "rounds": 200, "warmup": 5, "seed": 1,
     "scenarios": [{"name": "...", "path": "/nic/update",
                    "auth": "bcrypt",            # whose Basic-auth credentials it sends
                    "setup": [VARIANT, ...],     # sent once before the warm-up, not timed
                    "variants": [VARIANT, ...]}]} # request i sends variants[i % len]
    VARIANT: {"query": "hostname=...&myip=...", "status": 200,
              "body": "exact answer"  or  "body_re": "regular expression"}

Each request opens a new TCP connection (Connection: close), as a router's update does, and
its time runs from before connect() to the last byte of the answer. Every answer is checked
against the plan; the first wrong one stops the run with exit status 1, because timing an
error answer would measure the wrong thing. After each request (outside the timed part) the
fakes' request counters are read, so every request's registrar calls are known exactly,
and for SchlundTech which tasks they were (e.g. "0205 + 0202"); the DNS exchanges with BIND
(the DNS UPDATE backend) are the lines its log gained meanwhile: one per query (querylog)
and one per UPDATE message (its "updating zone" lines, grouped by the client's port: each
exchange is a TCP connection of its own). BIND writes them before it answers, so they are
there when ddns-cgi has answered.

Standard library only: runs on Debian's python3 as installed.
"""

import base64
import http.client
import json
import random
import re
import sys
import time
import urllib.request


class WrongAnswer(Exception):
    pass


def registrar_counts(inspect):
    """(SchlundTech total, Gandi total, SchlundTech requests by task code)."""
    with urllib.request.urlopen(inspect + "requests", timeout=10) as r:
        data = json.load(r)
    return data["schlund"]["total"], data["gandi"]["total"], data["schlund"]["by_task"]


# One UPDATE message's lines share the client's address and port.
UPDATE_LINE = re.compile(r"client @\S+ (\S+?)/key \S+: (?:updating zone|update )")


class DnsLog:
    """BIND's log, read on from where the last reading ended."""

    def __init__(self, path):
        self.path, self.offset = path, 0
        if path:
            with open(path, "rb") as f:
                self.offset = f.seek(0, 2)

    def exchanges(self):
        """The queries and UPDATE messages logged since the last call."""
        if not self.path:
            return 0
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            text = f.read()
        # A line still being written is read next time.
        end = text.rfind(b"\n") + 1
        self.offset += end
        lines = text[:end].decode("utf-8", "replace").splitlines()
        queries = sum(1 for line in lines if ": query: " in line)
        updates = {m.group(1) for m in map(UPDATE_LINE.search, lines) if m}
        return queries + len(updates)


# Inquire first, then updates, as a client sends them.
TASK_ORDER = {"0205": 0, "0202": 1, "0202001": 2}


def task_mix(before, after):
    """The SchlundTech tasks between two counter readings, e.g. "0205 + 0202"; "" if none."""
    parts = []
    for code in sorted(after, key=lambda c: (TASK_ORDER.get(c, 9), c)):
        n = after[code] - before.get(code, 0)
        if n:
            parts.append(code if n == 1 else f"{n} × {code}")
    return " + ".join(parts)


def basic_auth(credentials):
    """The Authorization header's value for {"user": ..., "password": ...}."""
    pair = f"{credentials['user']}:{credentials['password']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def request(port, authorization, path, variant):
    """One request on a fresh connection; returns (seconds, status, body)."""
    headers = {"Authorization": authorization, "Connection": "close",
               "User-Agent": "ddns-cgi-bench"}
    target = path + "?" + variant["query"]
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - start
    return elapsed, response.status, body.decode("utf-8", "replace")


def check(name, variant, status, body):
    want_status = variant["status"]
    ok = status == want_status
    if "body" in variant:
        ok = ok and body == variant["body"]
        want = repr(variant["body"])
    else:
        ok = ok and re.fullmatch(variant["body_re"], body, re.S) is not None
        want = "/" + variant["body_re"] + "/"
    if not ok:
        raise WrongAnswer(
            f"scenario '{name}': ?{variant['query']} answered HTTP {status} {body!r}, "
            f"expected HTTP {want_status} {want}")


def run(plan):
    scenarios = plan["scenarios"]
    inspect = plan["inspect"]
    authorization = {name: basic_auth(c) for name, c in plan["auth"].items()}
    dns = DnsLog(plan.get("dns_log"))
    results = {}
    sent = {}
    for sc in scenarios:
        results[sc["name"]] = {"ms": [], "schlund": [], "gandi": [], "dns": [], "tasks": {},
                               "first": None, "answer": None}
        sent[sc["name"]] = 0

    def one(sc, variant):
        before = registrar_counts(inspect)
        dns.exchanges()
        seconds, status, body = request(plan["port"], authorization[sc["auth"]], sc["path"],
                                        variant)
        after = registrar_counts(inspect)
        check(sc["name"], variant, status, body)
        calls = (after[0] - before[0], after[1] - before[1], task_mix(before[2], after[2]),
                 dns.exchanges())
        return seconds, calls, status, body

    def next_variant(sc):
        variants = sc["variants"]
        variant = variants[sent[sc["name"]] % len(variants)]
        sent[sc["name"]] += 1
        return variant

    # Setup and warm-up, scenario by scenario. The first request of a scenario is the one
    # that meets no local state yet (for ddns-cgi: registrar calls without a known TTL).
    for sc in scenarios:
        res = results[sc["name"]]
        for variant in sc.get("setup", []):
            _, calls, _, _ = one(sc, variant)
            if res["first"] is None:
                res["first"] = [calls[0], calls[1], calls[3]]
        for _ in range(plan["warmup"]):
            _, calls, _, _ = one(sc, next_variant(sc))
            if res["first"] is None:
                res["first"] = [calls[0], calls[1], calls[3]]

    rng = random.Random(plan["seed"])
    order = list(scenarios)
    started = time.monotonic()
    for round_no in range(plan["rounds"]):
        rng.shuffle(order)
        for sc in order:
            seconds, calls, status, body = one(sc, next_variant(sc))
            res = results[sc["name"]]
            res["ms"].append(seconds * 1000.0)
            res["schlund"].append(calls[0])
            res["gandi"].append(calls[1])
            res["dns"].append(calls[3])
            res["tasks"][calls[2]] = res["tasks"].get(calls[2], 0) + 1
            res["answer"] = f"HTTP {status} {body!r}"
        if (round_no + 1) % 50 == 0:
            print(f"bench: {round_no + 1}/{plan['rounds']} rounds "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    return results


def main():
    if len(sys.argv) != 3:
        print("usage: measure.py PLAN.json OUT.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    unknown = [sc["name"] for sc in plan["scenarios"] if sc.get("auth") not in plan["auth"]]
    if unknown:
        print(f"bench: the plan names no known credentials for: {', '.join(unknown)}",
              file=sys.stderr)
        return 2
    try:
        results = run(plan)
    except WrongAnswer as e:
        print(f"bench: wrong answer, stopping: {e}", file=sys.stderr)
        return 1
    with open(sys.argv[2], "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
