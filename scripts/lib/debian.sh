# Shared by scripts/rt-server.sh and scripts/postgres-server.sh (sourced, not run):
# sudo when not root, Debian package checks, and installs that start no daemons.

SUDO=""
use_sudo() {
  [ "$(id -u)" -ne 0 ] || return 0
  # Interactive users may type their password once; unattended runs must not hang on a prompt.
  if [ -t 0 ]; then sudo -v && SUDO="sudo"; else SUDO="sudo -n"; fi
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=300)

# apt_install_without_services PACKAGE...
# Packages such as postgresql and request-tracker5 (with exim4) start their services when
# installed, and fail where there is no init system; the scripts start what they need
# themselves, configured for loopback. A policy-rc.d saying "no" prevents that meanwhile.
apt_install_without_services() {
  export DEBIAN_FRONTEND=noninteractive
  local made_policy="" status=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  $SUDO apt-get "${APT_LOCK_WAIT[@]}" update -q &&
    $SUDO apt-get "${APT_LOCK_WAIT[@]}" install -y -q --no-install-recommends "$@" || status=$?
  [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
  return "$status"
}
