#!/usr/bin/env bash
# Installs the Debian packages the app and tests use, if missing: Fashion-MNIST, Chromium, a Hangul font, and HAProxy
# (the classroom server, deploy/serve_class.py, and tests/test_deploy.py).
set -euo pipefail
packages=(dataset-fashion-mnist chromium fonts-nanum haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
