#!/usr/bin/env python3
"""Count the results of meson test runs (testlog.json, one JSON object a line) and print
"N passed, N failed, N skipped". Exit 1 if any test failed or no test ran."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
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
