#!/usr/bin/env bash
# The Debian packages Tributary's tests need, installed when missing: bubblewrap (the script
# sandbox), chromium (the browser end-to-end tests) and openssh-server (the SFTP tests).
# Run by `npm test` (as its pretest step) and by .ci/run. As root it installs what is missing;
# otherwise it prints the one command to run and fails.
set -euo pipefail

missing=()
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Tributary's tests need these Debian packages: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Tributary's tests need ${missing[*]} (Debian package names), and this system has no apt-get: install them with its package manager." >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
