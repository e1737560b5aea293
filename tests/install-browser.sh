#!/usr/bin/env bash
# Headless Chromium for the report's rendering tests (tests/test_report.py), where this machine can install
# it (Debian/Ubuntu, as root). Elsewhere those tests skip, saying what to install; nothing else needs it.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${TILTGUARD_CHROMIUM:-}" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the report rendering tests (apt-get install chromium)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
        || echo "could not install Chromium: the browser rendering tests will skip"
else
    echo "Chromium not found: the browser rendering tests will skip (install chromium, or set TILTGUARD_CHROMIUM)"
fi
exit 0
