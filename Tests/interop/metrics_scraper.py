#!/usr/bin/env python3
"""Scrapes a Prometheus endpoint RATE times a second for SECONDS over one kept-alive
connection, as a Prometheus server scraping too often would.

  metrics_scraper.py URL RATE SECONDS

Prints JSON: scrapes made, their achieved rate, and the slowest answer in ms.
"""
import http.client
import json
import sys
import time
import urllib.parse


def main():
    url, rate, seconds = urllib.parse.urlsplit(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    start = time.monotonic()
    period, made, slowest, failed = 1.0 / rate, 0, 0.0, 0
    while time.monotonic() - start < seconds:
        due = start + made * period
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        t0 = time.monotonic()
        try:
            conn.request("GET", url.path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        slowest = max(slowest, (time.monotonic() - t0) * 1000)
        made += 1
    elapsed = time.monotonic() - start
    print(json.dumps({"scrapes": made, "rate": made / elapsed, "slowest_ms": slowest, "failed": failed}))


if __name__ == "__main__":
    main()
