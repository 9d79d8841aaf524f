"""A storm of alerts is bounded: at most 10 per scan, one summary line, nothing lost.

12 processes each leak 3 CLOSE_WAIT sockets before the daemon starts, so its first scan finds all
12 over the threshold at once: it writes 10 alerts and one line saying 2 were held back, and the
next scan writes the other 2. Each process is alerted exactly once.
"""

import time

import cwtest as t
import daemontest as dt

N = 12
CAP = 10


def main():
    j = dt.private_journal()
    holders = [t.Holder(t.unique_comm("cws%d-" % i)) for i in range(N)]
    for h in holders:
        dt.leak(h, 3)
    time.sleep(1.2)  # older than hold (1 s) before the first scan

    d = dt.Daemon()
    pids = {str(h.pid) for h in holders}
    mid = "MESSAGE_ID=" + dt.MID_CLOSE_WAIT

    def mine(es):
        return [e for e in es if e.get("CLOSEWAITD_PID") in pids]

    alerts = mine(j.wait(lambda es: len(mine(es)) >= N, "all %d alerts" % N, 30, mid))
    time.sleep(1.0)  # more scans: no duplicates
    alerts = mine(j.entries(mid))
    t.check_eq(sorted(e["CLOSEWAITD_PID"] for e in alerts), sorted(pids),
               "one alert per leaking process")

    summary = [e for e in j.entries("SYSLOG_IDENTIFIER=closewaitd")
               if e.get("CLOSEWAITD_SUPPRESSED")]
    t.check_eq(len(summary), 1, "summary lines for held-back alerts")
    t.check_eq(summary[0]["CLOSEWAITD_SUPPRESSED"], str(N - CAP), "alerts held back")
    at = int(summary[0]["__MONOTONIC_TIMESTAMP"])
    before = [e for e in alerts if int(e["__MONOTONIC_TIMESTAMP"]) <= at]
    t.check_eq(len(before), CAP, "alerts written in the scan of the summary (the cap)")
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
