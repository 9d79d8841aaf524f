#!/usr/bin/env python3
"""Count the results of meson test runs (testlog.json, one JSON object a line) and of other
checks given as NAME=STATUS (an exit status: 0 passed, 77 skipped, else failed), and print
"N passed, N failed, N skipped". Exit 1 if any test failed or no test ran."""
import json
import sys

counts = {"passed": 0, "failed": 0, "skipped": 0}


def count(name, verdict, detail):
    counts[verdict] += 1
    if verdict != "passed":
        print(f"{verdict}: {name}{detail}")


for arg in sys.argv[1:]:
    if "=" in arg:
        name, status = arg.rsplit("=", 1)
        verdict = {"0": "passed", "77": "skipped"}.get(status, "failed")
        count(name, verdict, f" (exit status {status})" if verdict == "failed" else "")
        continue
    try:
        with open(arg) as f:
            for line in f:
                if not line.strip():
                    continue
                test = json.loads(line)
                result = test["result"]
                verdict = ("passed" if result in ("OK", "EXPECTEDFAIL") else
                           "skipped" if result == "SKIP" else "failed")
                detail = f" ({result})" if verdict == "failed" else ""
                if verdict == "skipped":  # the test's own reason: its "SKIP: ..." line
                    reasons = [ln for ln in (test.get("stdout") or "").splitlines() if ln.startswith("SKIP: ")]
                    detail = f" ({reasons[-1][6:]})" if reasons else ""
                count(test["name"], verdict, detail)
    except OSError as e:
        print(f"test-summary: {arg}: {e.strerror}", file=sys.stderr)
        counts["failed"] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] or counts["passed"] == 0 else 0)
