#!/usr/bin/env bash
# The SSH tests (tests/unit/training/remote) start a real OpenSSH server on 127.0.0.1 from a
# temporary folder. Install Debian's openssh-server when /usr/sbin/sshd is missing and we may, without
# starting its system service (RUNLEVEL=1: invoke-rc.d leaves it stopped); otherwise say what to install.
set -u
if [ -x /usr/sbin/sshd ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing OpenSSH's server (openssh-server) for the SSH tests..."
  export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
  (apt-get install -y -qq openssh-server >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq openssh-server >/dev/null 2>&1; }) \
    || echo "warning: could not install openssh-server; the SSH tests will fail." >&2
else
  echo "note: /usr/sbin/sshd is missing; install openssh-server to run the SSH tests." >&2
fi
exit 0
