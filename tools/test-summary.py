#!/usr/bin/env python3
"""Count the results of meson test runs (testlog.json, one JSON object a line) and of other
checks given as NAME=STATUS (an exit status: 0 passed, 77 skipped, else failed), and print
"N passed, N failed, N skipped". Exit 1 if any test failed or no test ran."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if "=" in path:
        name, status = path.rsplit("=", 1)
        if status == "0":
            passed += 1
        elif status == "77":
            skipped += 1
            print(f"skipped: {name}")
        else:
            failed += 1
            print(f"failed: {name} (exit status {status})")
        continue
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                result = json.loads(line)["result"]
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                    print(f"skipped: {json.loads(line)['name']}")
                else:
                    failed += 1
                    print(f"failed: {json.loads(line)['name']} ({result})")
    except OSError as e:
        print(f"test-summary: {path}: {e.strerror}", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
