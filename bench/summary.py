"""What the benchmarks (irc_bench.py, chat_bench.py, contention_bench.py) share: median and
min–max over rounds, their rendering, and writing a report with its JSON."""
import json
import os
import statistics


def spread(values):
    """Median, min, max and count of the values that are not None (None if none are)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(s, pattern="{:.2f}"):
    """'median (min–max)', or a dash for nothing measured."""
    if not s:
        return "—"
    m, lo, hi = (pattern.format(s[k]) for k in ("median", "min", "max"))
    return f"{m} ({lo}–{hi})"


def save(out, stem, text, res):
    """Writes out/stem.md and out/stem.json and prints the report."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, stem + ".md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, stem + ".json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)


def heading(title, quick, what):
    """A report's first lines: its title and, for a --quick run, a warning that says `what`."""
    lines = [f"# {title}", ""]
    if quick:
        lines += [f"**Quick run (`--quick`): {what} — checks that the script works; not figures to quote.**", ""]
    return lines
