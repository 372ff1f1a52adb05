#!/usr/bin/env bash
# Installs the Debian packages the app and tests use, if missing: Fashion-MNIST, Chromium, a Hangul font, HAProxy
# (the classroom server, deploy/serve_class.py, and tests/test_deploy.py) and Redis (the class store's second back end:
# tests/app/test_class_store.py starts its own redis-server on a free port; the package's own service is not used).
set -euo pipefail
packages=(dataset-fashion-mnist chromium fonts-nanum haproxy redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
