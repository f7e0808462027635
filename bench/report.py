"""Turns one benchmark run into the markdown report: timings through Apache with each
password scheme, ratios, the processes alone, registrar calls, binary size and peak memory,
each next to its target.

    report.py PLAN.json TIMES.json FACTS.json

PLAN.json is what measure.py ran (plus the labels and targets of each scenario),
TIMES.json what it measured, FACTS.json what bench/run found out besides (the processes
timed alone and their instruction counts, binary size, peak RSS, versions, why ws.ddns was
not measured). Every number printed comes from these files; nothing is assumed. Writes the
report to stdout.
"""

import json
import random
import statistics
import sys

MB = 1_000_000  # decimal megabytes: the stricter reading of the targets


def pct(data):
    q = statistics.quantiles(data, n=10, method="inclusive")
    return statistics.median(data), q[0], q[8]


def bootstrap(num, den, combine, rounds=1000):
    """90 % bootstrap interval of combine(median(num), median(den)): how sure it is."""
    rng = random.Random(1)
    values = []
    for _ in range(rounds):
        a = statistics.median(rng.choices(num, k=len(num)))
        b = statistics.median(rng.choices(den, k=len(den)))
        values.append(combine(a, b))
    values.sort()
    return values[int(0.05 * rounds)], values[int(0.95 * rounds) - 1]


def ratio_interval(num, den):
    return bootstrap(num, den, lambda a, b: a / b)


def difference_interval(num, den):
    return bootstrap(num, den, lambda a, b: a - b)


def ms(x):
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def calls_text(schlund, gandi, dns):
    """Mean calls per request, with the range when they were not all the same."""
    total = [s + g + d for s, g, d in zip(schlund, gandi, dns)]
    mean = sum(total) / len(total)
    text = f"{mean:g}"
    if min(total) != max(total):
        text += f" ({min(total)}–{max(total)})"
    return text, mean, min(total) == max(total)


def tasks_text(tasks, requests):
    """The SchlundTech tasks of the timed requests: "0205 + 0202", or each mix with its count."""
    mixes = {mix: n for mix, n in tasks.items() if mix}
    if not mixes:
        return ""
    if len(mixes) == 1 and sum(tasks.values()) == requests and not tasks.get(""):
        return next(iter(mixes))
    return ", ".join(f"{mix or 'none'} ({n}×)" for mix, n in sorted(tasks.items()))


class Report:
    def __init__(self, plan, times, facts):
        self.plan, self.times, self.facts = plan, times, facts
        self.scenarios = {sc["name"]: sc for sc in plan["scenarios"]}
        self.stats = {name: pct(times[name]["ms"]) for name in times}
        self.schemes = list(plan["auth"])
        self.lines = []
        self.targets = []  # (what, value text, target text, ok)

    def p(self, line=""):
        self.lines.append(line)

    def floor_of(self, sc):
        return "floor-" + sc["auth"]

    def header(self):
        f, plan = self.facts, self.plan
        schemes = " and ".join(self.schemes)
        self.p("# ddns-cgi benchmark results")
        self.p()
        self.p(f"Run {f['date']} on {f['machine']}; ddns-cgi {f['commit']}; {f['apache']}; "
               f"{f['python']}; ws.ddns {f['wsddns_version']}.")
        self.p(f"Through Apache: every scenario twice, as a user whose htpasswd hash is "
               f"{schemes} respectively, {plan['rounds']} timed requests each after "
               f"{plan['warmup']} warm-up requests, all interleaved in the same shuffled "
               "rounds, one new TCP connection per request, fake registrars on 127.0.0.1 "
               "without added latency. "
               "Times are from connect() to the last byte of the answer. Each ratio is of "
               "medians, against the floor measured with the same scheme; in brackets its "
               "90 % bootstrap interval. "
               f"Load average before timing: {f['load']}.")
        self.p()

    def apache_tables(self):
        self.p("## Time per request through Apache")
        self.p()
        for auth in self.schemes:
            self.p(f"### {self.plan['auth_text'][auth]}")
            self.p()
            self.p("| scenario | answer checked | median ms | p10 ms | p90 ms | ÷ floor | target | |")
            self.p("|---|---|--:|--:|--:|--:|---|---|")
            for sc in self.plan["scenarios"]:
                if sc["auth"] == auth:
                    self.apache_row(sc)
            for name, reason in self.facts.get("not_measured", {}).items():
                self.p(f"| {name} | not measured: {reason} | | | | | | |")
            self.p()
        self.password_check()

    def apache_row(self, sc):
        name, floor = sc["name"], self.floor_of(sc)
        median, p10, p90 = self.stats[name]
        ratio = median / self.stats[floor][0]
        target, ok = "", None
        if name == floor:
            ratio_text = "1"
        else:
            lo, hi = ratio_interval(self.times[name]["ms"], self.times[floor]["ms"])
            digits = 0 if sc["kind"] == "ws" else 2
            ratio_text = f"{ratio:.{digits}f}× ({lo:.{digits}f}–{hi:.{digits}f})"
            if sc.get("floor_target"):
                target = f"≤ {sc['floor_target']}×"
                ok = ratio <= sc["floor_target"]
                self.targets.append((f"{sc['label']}, {sc['auth']}: time ÷ floor",
                                     f"{ratio:.2f}× ({lo:.2f}–{hi:.2f})", target, ok))
        self.p(f"| {sc['label']} | {sc['answer_text']} | {ms(median)} | {ms(p10)} | {ms(p90)} "
               f"| {ratio_text} | {target} | {'' if ok is None else verdict(ok)} |")

    def password_check(self):
        """What the slower scheme adds: the same static file and floor under both."""
        if len(self.schemes) != 2:
            return
        slow, fast = self.schemes
        parts = []
        for base, what in (("static", "static file"), ("floor", "floor")):
            a, b = f"{base}-{slow}", f"{base}-{fast}"
            if a not in self.times or b not in self.times:
                return
            d = self.stats[a][0] - self.stats[b][0]
            lo, hi = difference_interval(self.times[a]["ms"], self.times[b]["ms"])
            parts.append(f"the {what} {ms(d)} ms ({ms(lo)}–{ms(hi)})")
        self.p(f"What the password check costs: with {slow}, {parts[0]} and {parts[1]} longer "
               f"than with {fast} (difference of medians). Every request under {slow} "
               "carries that much, which brings its ratios to the floor closer to 1.")
        self.p()

    def ws_section(self):
        self.p("## ws.ddns 1.6.0 against ddns-cgi, same request")
        self.p()
        pairs = [sc for sc in self.plan["scenarios"] if sc["kind"] == "ws"]
        if not pairs:
            self.p(f"Not measured: {self.facts.get('wsddns_reason', 'ws.ddns was not installed')}.")
            self.p()
            for auth in self.schemes:
                for what in ("good SchlundTech request", "host not allowed"):
                    self.targets.append((f"ws.ddns ÷ ddns-cgi, {what}, {auth}", "—", "≥ 25×", None))
            return
        self.p("| request | htpasswd | ddns-cgi answer | ws.ddns answer | ddns-cgi median ms "
               "| ws.ddns median ms | ws.ddns ÷ ddns-cgi | target | |")
        self.p("|---|---|---|---|--:|--:|--:|---|---|")
        for sc in pairs:
            other = self.scenarios[sc["pair"]]
            mine, theirs = self.stats[other["name"]][0], self.stats[sc["name"]][0]
            ratio = theirs / mine
            lo, hi = ratio_interval(self.times[sc["name"]]["ms"], self.times[other["name"]]["ms"])
            ok = ratio >= sc["pair_target"]
            what = f"ws.ddns ÷ ddns-cgi, {sc['request_text']}, {sc['auth']}"
            self.targets.append((what, f"{ratio:.1f}× ({lo:.1f}–{hi:.1f})",
                                 f"≥ {sc['pair_target']}×", ok))
            self.p(f"| {sc['request_text']} | {sc['auth']} | {other['answer_text']} "
                   f"| {sc['answer_text']} | {ms(mine)} | {ms(theirs)} "
                   f"| {ratio:.1f}× ({lo:.1f}–{hi:.1f}) | ≥ {sc['pair_target']}× | {verdict(ok)} |")
        for text in (self.plan.get("ws_note"), self.facts.get("zone_check")):
            if text:
                self.p()
                self.p(text)
        self.p()

    def process_section(self):
        proc = self.facts["process"]
        cases = {c["name"]: c for c in proc["cases"]}
        floor, empty = cases["floor"]["ms"], cases["empty-static"]["ms"]
        self.p("## The processes alone, without a web server")
        self.p()
        self.p(f"Each program started {proc['runs']} times as a CGI by `bench/spawn.c` "
               "(posix_spawn, stdout into a pipe, the CGI variables the peak-RSS runs below "
               "use, as www-data), all interleaved in shuffled rounds after 20 warm-up runs "
               "each; every answer checked. Time from posix_spawn() to waitpid() after the "
               "last byte. No TCP, no Apache, no password check: what is left is the "
               "process itself. Instructions: callgrind's count for one run, user space "
               "only (the dynamic loader included, the kernel's exec, page faults and "
               "system calls not), which the machine's load does not change.")
        self.p()
        self.p("| program | answer checked | median ms | p10 ms | p90 ms | ÷ floor "
               "| − static empty program, ms | instructions |")
        self.p("|---|---|--:|--:|--:|--:|--:|--:|")
        for c in proc["cases"]:
            median, p10, p90 = pct(c["ms"])
            ratio = "1" if c["name"] == "floor" else f"{median / statistics.median(floor):.2f}×"
            own = ""
            if c["name"] != "empty-static":
                d = median - statistics.median(empty)
                lo, hi = difference_interval(c["ms"], empty)
                own = f"{d:.3f} ({lo:.3f}–{hi:.3f})"
            ir = "" if c["instructions"] is None else f"{c['instructions']:,}"
            self.p(f"| {c['label']} | {c['answer']} | {median:.3f} | {p10:.3f} | {p90:.3f} "
                   f"| {ratio} | {own} | {ir} |")
        self.p()
        self.own_work(cases, empty, proc)

    def own_work(self, cases, empty, proc):
        """ddns-cgi's own work: its time minus the static empty program's, and in instructions."""
        nochg = cases["nochg"]["ms"]
        d = statistics.median(nochg) - statistics.median(empty)
        lo, hi = difference_interval(nochg, empty)
        self.targets.append(("ddns-cgi's own work, nochg: process time − static empty program's",
                             f"{d:.3f} ms ({lo:.3f}–{hi:.3f})", "≤ 0.1 ms", d <= 0.1))
        dynamic = statistics.median(nochg) - statistics.median(cases["empty"]["ms"])
        self.p("ddns-cgi is linked statically, so its own work is its time minus the static "
               "empty program's: what it does beyond starting and ending a process. Against "
               f"the dynamic empty program, nochg's difference is {dynamic:.3f} ms: smaller by "
               "the dynamic loader's time, which ddns-cgi does not spend.")
        irs = {n: cases[n]["instructions"] for n in ("nochg", "nohost", "empty-static")}
        if None in irs.values():
            why = proc.get("valgrind_reason", "valgrind did not run")
            self.p()
            self.p(f"Instructions not counted: {why}.")
        else:
            self.p()
            self.p(f"In instructions ({proc['valgrind']}, callgrind): nochg "
                   f"{irs['nochg'] - irs['empty-static']:,} and nohost "
                   f"{irs['nohost'] - irs['empty-static']:,} more than the static empty "
                   "program.")
        self.p()

    def calls_section(self):
        self.p("## Registrar calls per request")
        self.p()
        self.p("Counted by the fakes around every request of the run, and for DNS UPDATE by "
               "the queries and UPDATE messages BIND logged meanwhile. How Apache checked the "
               "password does not change what ddns-cgi does, so each row counts the timed "
               "requests of both schemes together. \"First\" is the scenario's first "
               "request, which meets no local state; for nochg that is the good update that "
               "fills the state.")
        self.p()
        self.p("| scenario | first | per timed request | SchlundTech tasks per timed request "
               "| target | |")
        self.p("|---|--:|--:|---|---|---|")
        bases = {}
        for sc in self.plan["scenarios"]:
            if sc["kind"] not in ("floor", "info"):
                bases.setdefault(sc["base"], []).append(sc)
        for variants in bases.values():
            self.calls_row(variants)
        self.p()

    def calls_row(self, variants):
        # The first variant in plan order is the first to send a request.
        sc, runs = variants[0], [self.times[v["name"]] for v in variants]
        schlund = [n for t in runs for n in t["schlund"]]
        gandi = [n for t in runs for n in t["gandi"]]
        # DNS exchanges with BIND; none in a result written before they were counted.
        dns = [n for t in runs for n in t.get("dns", [0] * len(t["gandi"]))]
        tasks = {}
        for t in runs:
            for mix, n in t["tasks"].items():
                tasks[mix] = tasks.get(mix, 0) + n
        text, mean, constant = calls_text(schlund, gandi, dns)
        first = sum(runs[0]["first"]) if runs[0]["first"] is not None else None
        target, ok = sc.get("calls_target"), None
        if target is not None:
            ok = constant and mean == target
            self.targets.append((f"{sc['label']}: registrar calls", text, f"{target}", ok))
        first_target = sc.get("first_calls_target")
        first_text = "" if first is None else str(first)
        if first_target is not None and first is not None:
            first_ok = first == first_target
            first_text += f" (target {first_target}: {verdict(first_ok)})"
            self.targets.append((f"{sc['label']}: registrar calls without state",
                                 str(first), f"{first_target}", first_ok))
        self.p(f"| {sc['label']} | {first_text} | {text} | {tasks_text(tasks, len(schlund))} "
               f"| {'' if target is None else target} | {'' if ok is None else verdict(ok)} |")

    def size_and_memory(self):
        f = self.facts
        self.p("## Binary size and peak memory")
        self.p()
        size = f["binary_size"]
        size_ok = size <= 3 * MB
        self.targets.append(("static stripped release binary", f"{size / MB:.2f} MB", "≤ 3 MB",
                             size_ok))
        self.p(f"Release binary `ddns-cgi`, as `deploy/build` makes it: {size} bytes "
               f"({size / MB:.2f} MB; target ≤ 3 MB: {verdict(size_ok)}). "
               f"`file`: {f['binary_file']}")
        self.p()
        self.p("Peak RSS of one CGI request, the program run directly with CGI variables "
               "under `/usr/bin/time -v` as www-data (MB = 10⁶ bytes):")
        self.p()
        self.p("| program, request | answer checked | peak RSS MB | target | |")
        self.p("|---|---|--:|---|---|")
        for row in f["rss"]:
            mb = row["kib"] * 1024 / MB
            target, ok = "", None
            if row.get("target_mb"):
                target = f"≤ {row['target_mb']:g} MB"
                ok = mb <= row["target_mb"]
                self.targets.append((f"peak RSS, {row['label']}", f"{mb:.2f} MB", target, ok))
            self.p(f"| {row['label']} | {row['answer']} | {mb:.2f} | {target} "
                   f"| {'' if ok is None else verdict(ok)} |")
        self.p()

    def summary(self):
        self.p("## Targets")
        self.p()
        self.p("| target | measured | wanted | |")
        self.p("|---|--:|---|---|")
        for what, value, target, ok in self.targets:
            self.p(f"| {what} | {value} | {target} | {verdict(ok)} |")
        met = sum(1 for t in self.targets if t[3])
        unmeasured = sum(1 for t in self.targets if t[3] is None)
        missed = [t[0] for t in self.targets if t[3] is False]
        self.p()
        self.p(f"{met} of {len(self.targets)} targets met" +
               (f", {unmeasured} not measured" if unmeasured else "") +
               (f"; missed: {'; '.join(missed)}." if missed else "."))


def main():
    plan_path, times_path, facts_path = sys.argv[1:4]
    with open(plan_path) as f:
        plan = json.load(f)
    with open(times_path) as f:
        times = json.load(f)
    with open(facts_path) as f:
        facts = json.load(f)
    r = Report(plan, times, facts)
    r.header()
    r.apache_tables()
    r.ws_section()
    r.process_section()
    r.calls_section()
    r.size_and_memory()
    r.summary()
    print("\n".join(r.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
