"""Turns one benchmark run into the markdown report: timings, ratios, registrar calls,
binary size and peak memory, each next to its target.

    report.py PLAN.json TIMES.json FACTS.json

PLAN.json is what measure.py ran (plus the labels and targets of each scenario),
TIMES.json what it measured, FACTS.json what bench/run found out besides (binary size,
peak RSS, versions, why ws.ddns was not measured). Every number printed comes from these
files; nothing is assumed. Writes the report to stdout.
"""

import json
import statistics
import sys

MB = 1_000_000  # decimal megabytes: the stricter reading of the targets


def pct(data):
    q = statistics.quantiles(data, n=10, method="inclusive")
    return statistics.median(data), q[0], q[8]


def ratio_interval(num, den, rounds=1000):
    """90 % bootstrap interval of median(num) / median(den): how sure the ratio is."""
    import random
    rng = random.Random(1)
    ratios = []
    for _ in range(rounds):
        a = statistics.median(rng.choices(num, k=len(num)))
        b = statistics.median(rng.choices(den, k=len(den)))
        ratios.append(a / b)
    ratios.sort()
    return ratios[int(0.05 * rounds)], ratios[int(0.95 * rounds) - 1]


def ms(x):
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def calls_text(schlund, gandi):
    """Mean calls per request, with the range when they were not all the same."""
    total = [s + g for s, g in zip(schlund, gandi)]
    mean = sum(total) / len(total)
    text = f"{mean:g}"
    if min(total) != max(total):
        text += f" ({min(total)}–{max(total)})"
    return text, mean, min(total) == max(total)


def tasks_text(tasks, rounds):
    """The SchlundTech tasks of the timed requests: "0205 + 0202", or each mix with its count."""
    mixes = {mix: n for mix, n in tasks.items() if mix}
    if not mixes:
        return ""
    if len(mixes) == 1 and sum(tasks.values()) == rounds and not tasks.get(""):
        return next(iter(mixes))
    return ", ".join(f"{mix or 'none'} ({n}×)" for mix, n in sorted(tasks.items()))


def main():
    plan_path, times_path, facts_path = sys.argv[1:4]
    with open(plan_path) as f:
        plan = json.load(f)
    with open(times_path) as f:
        times = json.load(f)
    with open(facts_path) as f:
        facts = json.load(f)

    scenarios = {sc["name"]: sc for sc in plan["scenarios"]}
    stats = {name: pct(times[name]["ms"]) for name in times}
    floor = stats["floor"][0]
    out = []
    p = out.append
    targets = []  # (what, value text, target text, ok)

    p("# ddns-cgi benchmark results")
    p("")
    p(f"Run {facts['date']} on {facts['machine']}; ddns-cgi {facts['commit']}; "
      f"{facts['apache']}; {facts['python']}; ws.ddns {facts['wsddns_version']}.")
    p(f"{plan['rounds']} timed requests per scenario after {plan['warmup']} warm-up "
      "requests, all scenarios interleaved in shuffled rounds, one new TCP connection per "
      "request, Basic auth (bcrypt htpasswd) on every path, fake registrars on 127.0.0.1 "
      "without added latency. Times are from connect() to the last byte of the answer. "
      "Ratios are of medians; in brackets their 90 % bootstrap interval. "
      f"Load average before timing: {facts['load']}.")
    p("")

    # --- timings ------------------------------------------------------------------------
    p("## Time per request through Apache")
    p("")
    p("| scenario | answer checked | median ms | p10 ms | p90 ms | ÷ floor | target | |")
    p("|---|---|--:|--:|--:|--:|---|---|")
    for sc in plan["scenarios"]:
        name = sc["name"]
        median, p10, p90 = stats[name]
        ratio = median / floor
        target, ok = "", None
        if sc.get("floor_target"):
            target = f"≤ {sc['floor_target']}×"
            ok = ratio <= sc["floor_target"]
            lo, hi = ratio_interval(times[name]["ms"], times["floor"]["ms"])
            targets.append((f"{sc['label']}: time ÷ floor",
                            f"{ratio:.2f}× ({lo:.2f}–{hi:.2f})", target, ok))
        if name == "floor":
            ratio_text = "1"
        else:
            lo, hi = ratio_interval(times[name]["ms"], times["floor"]["ms"])
            digits = 0 if sc["kind"] == "ws" else 2
            ratio_text = f"{ratio:.{digits}f}× ({lo:.{digits}f}–{hi:.{digits}f})"
        p(f"| {sc['label']} | {sc['answer_text']} | {ms(median)} | {ms(p10)} | {ms(p90)} "
          f"| {ratio_text} | {target} | {'' if ok is None else verdict(ok)} |")
    for name, reason in facts.get("not_measured", {}).items():
        p(f"| {name} | not measured: {reason} | | | | | | |")
    p("")

    # --- ws.ddns against ddns-cgi -------------------------------------------------------
    p("## ws.ddns 1.6.0 against ddns-cgi, same request")
    p("")
    pairs = [sc for sc in plan["scenarios"] if sc["kind"] == "ws"]
    if not pairs:
        p(f"Not measured: {facts.get('wsddns_reason', 'ws.ddns was not installed')}.")
        for what in ("good SchlundTech request", "host not allowed"):
            targets.append((f"ws.ddns ÷ ddns-cgi, {what}", "—", "≥ 20×", None))
    else:
        p("| request | ddns-cgi answer | ws.ddns answer | ddns-cgi median ms "
          "| ws.ddns median ms | ws.ddns ÷ ddns-cgi | target | |")
        p("|---|---|---|--:|--:|--:|---|---|")
        for sc in pairs:
            other = scenarios[sc["pair"]]
            mine, theirs = stats[other["name"]][0], stats[sc["name"]][0]
            ratio = theirs / mine
            lo, hi = ratio_interval(times[sc["name"]]["ms"], times[other["name"]]["ms"])
            ok = ratio >= sc["pair_target"]
            what = f"ws.ddns ÷ ddns-cgi, {sc['request_text']}"
            if sc.get("lower_bound"):
                what += " (lower bound)"
            targets.append((what, f"{ratio:.1f}× ({lo:.1f}–{hi:.1f})",
                            f"≥ {sc['pair_target']}×", ok))
            p(f"| {sc['request_text']} | {other['answer_text']} | {sc['answer_text']} "
              f"| {ms(mine)} | {ms(theirs)} | {ratio:.1f}× ({lo:.1f}–{hi:.1f}) "
              f"| ≥ {sc['pair_target']}× "
              f"| {verdict(ok)} |")
        for sc in pairs:
            if sc.get("note"):
                p("")
                p(sc["note"])
        if facts.get("zone_check"):
            p("")
            p(facts["zone_check"])
    p("")

    # --- registrar calls ----------------------------------------------------------------
    p("## Registrar calls per request")
    p("")
    p("Counted by the fakes around every request of the run. \"First\" is the scenario's "
      "first request, which meets no local state; for nochg that is the good update that "
      "fills the state.")
    p("")
    p("| scenario | first | per timed request | SchlundTech tasks per timed request | target | |")
    p("|---|--:|--:|---|---|---|")
    for sc in plan["scenarios"]:
        name = sc["name"]
        if sc["kind"] in ("floor", "info"):
            continue
        t = times[name]
        text, mean, constant = calls_text(t["schlund"], t["gandi"])
        first = sum(t["first"]) if t["first"] is not None else None
        target, ok = sc.get("calls_target"), None
        if target is not None:
            ok = constant and mean == target
            targets.append((f"{sc['label']}: registrar calls", text, f"{target}", ok))
        first_target = sc.get("first_calls_target")
        first_text = "" if first is None else str(first)
        if first_target is not None and first is not None:
            first_ok = first == first_target
            first_text += f" (target {first_target}: {verdict(first_ok)})"
            targets.append((f"{sc['label']}: registrar calls without state",
                            str(first), f"{first_target}", first_ok))
        tasks = tasks_text(t["tasks"], plan["rounds"])
        p(f"| {sc['label']} | {first_text} | {text} | {tasks} "
          f"| {'' if target is None else target} | {'' if ok is None else verdict(ok)} |")
    p("")

    # --- size and memory ----------------------------------------------------------------
    p("## Binary size and peak memory")
    p("")
    size = facts["binary_size"]
    size_ok = size <= 3 * MB
    targets.append(("stripped release binary", f"{size / MB:.2f} MB", "≤ 3 MB", size_ok))
    p(f"Release binary `ddns-cgi`: {size} bytes ({size / MB:.2f} MB; target ≤ 3 MB: "
      f"{verdict(size_ok)}). `file`: {facts['binary_file']}")
    p("")
    p("Peak RSS of one CGI request, the program run directly with CGI variables "
      "under `/usr/bin/time -v` as www-data (MB = 10⁶ bytes):")
    p("")
    p("| program, request | answer checked | peak RSS MB | target | |")
    p("|---|---|--:|---|---|")
    for row in facts["rss"]:
        mb = row["kib"] * 1024 / MB
        target, ok = "", None
        if row.get("target_mb"):
            target = f"≤ {row['target_mb']} MB"
            ok = mb <= row["target_mb"]
            targets.append((f"peak RSS, {row['label']}", f"{mb:.2f} MB", target, ok))
        p(f"| {row['label']} | {row['answer']} | {mb:.2f} | {target} "
          f"| {'' if ok is None else verdict(ok)} |")
    p("")

    # --- summary ------------------------------------------------------------------------
    p("## Targets")
    p("")
    p("| target | measured | wanted | |")
    p("|---|--:|---|---|")
    for what, value, target, ok in targets:
        p(f"| {what} | {value} | {target} | {verdict(ok)} |")
    met = sum(1 for t in targets if t[3])
    unmeasured = sum(1 for t in targets if t[3] is None)
    p("")
    p(f"{met} of {len(targets)} targets met" +
      (f", {unmeasured} not measured." if unmeasured else "."))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
