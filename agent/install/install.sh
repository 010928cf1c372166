#!/bin/sh
# Edgehook agent installer (POSIX sh). Served by the control plane at /install.sh:
#   curl -fsSL https://<control-plane>/install.sh | sudo sh -s -- --token-file -
# The enrollment token comes from --token-file PATH, or with `-` from stdin or, when stdin is the
# script itself, a prompt on the terminal: never from the command line, where `ps` shows it.
# Running it again upgrades in place and keeps the device's credentials.
set -eu

# Filled in by the control plane that serves this script (left as is in a checkout).
DEFAULT_SERVER='__EDGEHOOK_SERVER__'
DEFAULT_FINGERPRINT='__EDGEHOOK_FINGERPRINT__'
DEFAULT_PUBKEY_PIN='__EDGEHOOK_PUBKEY_PIN__'

usage() {
  cat <<'EOF'
Usage: install.sh [--token-file PATH|-] [options]
       install.sh --uninstall [--purge] [--prefix DIR] [--no-systemd]

  --token-file PATH|-       the enrollment token (- reads stdin, or asks on the terminal)
  --server URL              the control plane (default: the one that served this script)
  --server-fingerprint FP   pin its certificate: sha256:HEX (self-signed control planes)
  --ca FILE                 trust this CA for the control plane instead of the system CAs
  --profile ID              board profile (raspberry-pi-4b, raspberry-pi-5, pikvm-v3, ...)
  --package FILE            install this edgehook-agent.tgz instead of downloading it
  --prefix DIR              install under DIR (tests, images); implies no user creation
  --no-systemd              lay the files down but do not install or start a service
  --no-native               skip the optional native modules (terminals, serial, GPIO, I2C)
  --run-as-root             run the service as root instead of the edgehook-agent user
  --uninstall               stop and remove the agent (credentials kept unless --purge)
  -h, --help                this help
EOF
}

die() {
  echo "edgehook install: $*" >&2
  exit 1
}
say() { echo "edgehook install: $*"; }

TOKEN_FILE='' SERVER='' FINGERPRINT='' CA='' PROFILE='' PACKAGE='' PREFIX='' SYSTEMD=yes NATIVE=yes
UNINSTALL=no PURGE=no RUN_AS_ROOT=no

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --token-file) need_value "$@"; TOKEN_FILE=$2; shift 2 ;;
      --server) need_value "$@"; SERVER=$2; shift 2 ;;
      --server-fingerprint) need_value "$@"; FINGERPRINT=$2; shift 2 ;;
      --ca) need_value "$@"; CA=$2; shift 2 ;;
      --profile) need_value "$@"; PROFILE=$2; shift 2 ;;
      --package) need_value "$@"; PACKAGE=$2; shift 2 ;;
      --prefix) need_value "$@"; PREFIX=${2%/}; shift 2 ;;
      --no-systemd) SYSTEMD=no; shift ;;
      --no-native) NATIVE=no; shift ;;
      --run-as-root) RUN_AS_ROOT=yes; shift ;;
      --uninstall) UNINSTALL=yes; shift ;;
      --purge) PURGE=yes; shift ;;
      -h|--help) usage; exit 0 ;;
      --enroll|--token) die "$1: the token never goes on the command line (ps shows it); use --token-file PATH or --token-file -" ;;
      *) usage >&2; die "unknown option $1" ;;
    esac
  done
  case "$DEFAULT_SERVER" in __*) DEFAULT_SERVER='' ;; esac
  case "$DEFAULT_FINGERPRINT" in __*) DEFAULT_FINGERPRINT='' ;; esac
  case "$DEFAULT_PUBKEY_PIN" in __*) DEFAULT_PUBKEY_PIN='' ;; esac
  [ -n "$SERVER" ] || SERVER=$DEFAULT_SERVER
  [ -n "$FINGERPRINT" ] || FINGERPRINT=$DEFAULT_FINGERPRINT
  SERVER=${SERVER%/}
  if [ -n "$FINGERPRINT" ]; then
    echo "$FINGERPRINT" | grep -Eq '^sha256:([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' || die "--server-fingerprint must be sha256: followed by 64 hex digits, as \`edgehook serve\` prints"
  fi
  [ -z "$CA" ] || [ -r "$CA" ] || die "--ca $CA: no such readable file"
  [ -z "$PACKAGE" ] || [ -r "$PACKAGE" ] || die "--package $PACKAGE: no such readable file"
  if [ -n "$PROFILE" ]; then
    echo "$PROFILE" | grep -Eq '^[a-z0-9][a-z0-9-]{0,62}$' || die "--profile $PROFILE: not a profile id"
  fi
}

# Paths (under --prefix for tests and image builds).
set_paths() {
  APP_DIR="$PREFIX/opt/edgehook-agent"
  STATE_DIR="$PREFIX/var/lib/edgehook-agent"
  CONF_DIR="$PREFIX/etc/edgehook-agent"
  UNIT_FILE="$PREFIX/etc/systemd/system/edgehook-agent.service"
  # Paths the installed service sees (the unit names them without the prefix).
  RUN_APP_DIR=/opt/edgehook-agent
  RUN_STATE_DIR=/var/lib/edgehook-agent
  RUN_CONF_DIR=/etc/edgehook-agent
  if [ -n "$PREFIX" ]; then
    RUN_APP_DIR=$APP_DIR RUN_STATE_DIR=$STATE_DIR RUN_CONF_DIR=$CONF_DIR
  fi
}

check_root() {
  [ "$(id -u)" = 0 ] || die "run as root (sudo): it installs under /opt, /var/lib and /etc and a systemd service"
}

check_node() {
  NODE=$(command -v node 2>/dev/null || true)
  nodesource='Debian 13 (trixie) and Raspberry Pi OS trixie: sudo apt install nodejs (20.19); Debian 12 / Raspberry Pi OS bookworm ship Node.js 18, so install the nodejs 20 package from NodeSource (https://deb.nodesource.com) or the official binaries (https://nodejs.org)'
  [ -n "$NODE" ] || die "Node.js >= 20 is needed and node is not installed. $nodesource"
  version=$("$NODE" -p 'process.versions.node' 2>/dev/null || echo unknown)
  major=${version%%.*}
  case "$major" in ''|*[!0-9]*) die "cannot tell the version of $NODE ($version). $nodesource" ;; esac
  [ "$major" -ge 20 ] || die "Node.js >= 20 is needed, found $version at $NODE. $nodesource"
}

# The token: a file, or with `-` stdin, or when stdin is exhausted (curl | sh) the terminal.
read_token() {
  TOKEN=''
  [ -n "$TOKEN_FILE" ] || die "first install: give the enrollment token with --token-file PATH or --token-file - (create one with \`edgehook enroll-token create\` or the console's Add device)"
  if [ "$TOKEN_FILE" = - ]; then
    IFS= read -r TOKEN || true
    if [ -z "$TOKEN" ]; then
      [ -r /dev/tty ] && [ -w /dev/tty ] || die "--token-file -: no token on stdin and no terminal to ask on; use --token-file PATH"
      printf 'Enrollment token (not shown): ' >/dev/tty
      stty -echo </dev/tty 2>/dev/null || true
      IFS= read -r TOKEN </dev/tty || true
      stty echo </dev/tty 2>/dev/null || true
      printf '\n' >/dev/tty
    fi
  else
    [ -r "$TOKEN_FILE" ] || die "--token-file $TOKEN_FILE: no such readable file"
    IFS= read -r TOKEN <"$TOKEN_FILE" || true
  fi
  TOKEN=$(printf '%s' "$TOKEN" | tr -d ' \r\t')
  [ ${#TOKEN} -ge 10 ] || die "that does not look like an enrollment token"
}

download() { # url dest
  command -v curl >/dev/null 2>&1 || die "curl is needed to download the agent (or pass --package FILE)"
  if [ -n "$CA" ]; then
    curl -fsSL --cacert "$CA" -o "$2" "$1"
  elif [ -n "$FINGERPRINT" ] && [ -n "$DEFAULT_PUBKEY_PIN" ]; then
    # Self-signed: no CA to check, so the server's key must match the pin this script came with.
    curl -fsSLk --pinnedpubkey "$DEFAULT_PUBKEY_PIN" -o "$2" "$1"
  else
    curl -fsSL -o "$2" "$1"
  fi
}

fetch_package() {
  if [ -n "$PACKAGE" ]; then
    cp "$PACKAGE" "$WORK/edgehook-agent.tgz"
    return
  fi
  [ -n "$SERVER" ] || die "--server URL is needed to download the agent"
  download "$SERVER/downloads/edgehook-agent.tgz" "$WORK/edgehook-agent.tgz" || die "could not download $SERVER/downloads/edgehook-agent.tgz"
  download "$SERVER/downloads/edgehook-agent.tgz.sha256" "$WORK/sha256" || die "could not download the package checksum"
  want=$(cut -d' ' -f1 <"$WORK/sha256")
  got=$(sha256sum "$WORK/edgehook-agent.tgz" | cut -d' ' -f1)
  [ "$want" = "$got" ] || die "the downloaded package does not match its checksum"
}

stage() {
  mkdir -p "$WORK/unpack"
  tar -xzf "$WORK/edgehook-agent.tgz" -C "$WORK/unpack" || die "the package is not a readable tarball"
  [ -f "$WORK/unpack/edgehook-agent/lib/edgehook-agent.mjs" ] || die "the package has no agent in it"
  [ -f "$WORK/unpack/edgehook-agent/lib/launcher.mjs" ] || die "the package has no launcher in it (built before agent updates: rebuild it)"
  if [ "$NATIVE" = yes ]; then
    if command -v npm >/dev/null 2>&1; then
      say "installing the native modules (node-pty, serialport, onoff, i2c-bus; this can take a while on a Pi)"
      (cd "$WORK/unpack/edgehook-agent" && npm install --omit=dev --no-audit --no-fund --no-package-lock --loglevel=error) ||
        say "warning: some native modules failed to install; terminals, serial, GPIO or I2C may be unavailable"
    else
      say "warning: npm not found (Debian package npm): skipping the native modules, so terminals, serial, GPIO and I2C stay off"
    fi
  fi
}

service_user() {
  if [ "$RUN_AS_ROOT" = yes ] || [ "$PROFILE" = pikvm-v3 ]; then
    SERVICE_USER=root
    return
  fi
  SERVICE_USER=edgehook-agent
  SUPP_GROUPS=''
  for g in gpio dialout i2c spi video docker; do
    getent group "$g" >/dev/null 2>&1 && SUPP_GROUPS="$SUPP_GROUPS $g"
  done
  SUPP_GROUPS=${SUPP_GROUPS# }
  if [ -z "$PREFIX" ] && ! id "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --home-dir "$RUN_STATE_DIR" --no-create-home --shell /bin/sh "$SERVICE_USER" || die "could not create the user $SERVICE_USER (or use --run-as-root)"
  fi
}

write_env() {
  mkdir -p "$CONF_DIR"
  chmod 0755 "$CONF_DIR"
  umask 077
  {
    echo "EDGEHOOK_STATE_DIR=$RUN_STATE_DIR"
    echo "EDGEHOOK_INSTALL_DIR=$RUN_APP_DIR"
    [ -z "$PROFILE" ] || echo "EDGEHOOK_PROFILE=$PROFILE"
    [ -z "$FINGERPRINT" ] || echo "EDGEHOOK_SERVER_FINGERPRINT=$FINGERPRINT"
    [ -z "$CA" ] || echo "EDGEHOOK_CA=$RUN_CONF_DIR/ca.pem"
    echo "EDGEHOOK_LOG_FORMAT=json"
  } >"$CONF_DIR/agent.env.new"
  umask 022
  [ -z "$CA" ] || cp "$CA" "$CONF_DIR/ca.pem"
  mv "$CONF_DIR/agent.env.new" "$CONF_DIR/agent.env"
}

# Node flags of the unit (BENCHMARKS.md, "Lean agent"): 1 MB semi-spaces (-4 MB idle); a 4x interrupt
# budget, so code that only runs at start-up (schemas, profiles, module set-up) stays in the
# interpreter instead of waking the optimising compiler (-4 MB idle, the same CPU per relayed MB:
# a flood's hot loop still gets optimised, a little later); bytecode that went unused through one
# full GC is dropped (V8's default is five) and compiled again if it ever runs again (-0.6 MB idle).
# glibc's malloc for the agent's own process (the launcher drops the variable, so what the agent
# spawns gets the defaults): free memory at the top of the heap goes back to the system from 64 KB
# instead of 128 KB, and V8's worker threads share one arena instead of each keeping its own
# (-1.5 MB idle, BENCHMARKS.md, "Lean agent").
write_unit() {
  mkdir -p "$(dirname "$UNIT_FILE")"
  {
    cat <<EOF
[Unit]
Description=Edgehook device agent
Documentation=https://github.com/edgehook/edgehook
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
EnvironmentFile=$RUN_CONF_DIR/agent.env
Environment=GLIBC_TUNABLES=glibc.malloc.trim_threshold=65536:glibc.malloc.arena_max=1
ExecStart=$NODE --max-semi-space-size=1 --interrupt-budget=270336 --bytecode-old-age=1 $RUN_APP_DIR/launcher.mjs
Restart=always
RestartSec=5
TimeoutStopSec=15
StateDirectory=edgehook-agent
StateDirectoryMode=0700
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectControlGroups=yes
ProtectKernelModules=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
EOF
    if [ "$SERVICE_USER" != root ]; then
      echo "User=$SERVICE_USER"
      [ -z "$SUPP_GROUPS" ] || echo "SupplementaryGroups=$SUPP_GROUPS"
      echo "ProtectHome=yes"
    fi
    cat <<EOF

[Install]
WantedBy=multi-user.target
EOF
  } >"$UNIT_FILE.new"
  mv "$UNIT_FILE.new" "$UNIT_FILE"
  if command -v systemd-analyze >/dev/null 2>&1 && [ -z "$PREFIX" ]; then
    systemd-analyze verify "$UNIT_FILE" || say "warning: systemd-analyze verify reported problems with $UNIT_FILE"
  fi
}

uninstall() {
  if [ "$SYSTEMD" = yes ] && [ -z "$PREFIX" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now edgehook-agent.service 2>/dev/null || true
  fi
  rm -f "$UNIT_FILE"
  [ "$SYSTEMD" = no ] || [ -n "$PREFIX" ] || ! command -v systemctl >/dev/null 2>&1 || systemctl daemon-reload || true
  rm -rf "$APP_DIR" "$CONF_DIR"
  if [ "$PURGE" = yes ]; then
    rm -rf "$STATE_DIR"
    say "removed the agent and its credentials (the device stays listed on the control plane until deleted there)"
  else
    say "removed the agent; its credentials stay in $STATE_DIR (remove them with --uninstall --purge)"
  fi
}

# The versioned layout updates use: versions/<v>/ per package, `current` pointing at the running
# one, launcher.mjs (what the service starts) outside any version. A reinstall starts afresh.
install_version() {
  VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$WORK/unpack/edgehook-agent/package.json" | head -n 1)
  echo "$VERSION" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$' || die "the package has no usable version in its package.json ($VERSION)"
  mkdir -p "$(dirname "$APP_DIR")"
  rm -rf "$APP_DIR.old"
  # An install from before versioned layouts: moved aside, removed once the new one is in place.
  if [ -d "$APP_DIR" ] && [ ! -d "$APP_DIR/versions" ]; then mv "$APP_DIR" "$APP_DIR.old"; fi
  mkdir -p "$APP_DIR/versions"
  rm -rf "$APP_DIR/versions/$VERSION.new"
  mv "$WORK/unpack/edgehook-agent" "$APP_DIR/versions/$VERSION.new"
  rm -rf "$APP_DIR/versions/$VERSION"
  mv "$APP_DIR/versions/$VERSION.new" "$APP_DIR/versions/$VERSION"
  rm -f "$APP_DIR/.current.new"
  ln -s "versions/$VERSION" "$APP_DIR/.current.new"
  mv -T "$APP_DIR/.current.new" "$APP_DIR/current"
  cp "$APP_DIR/versions/$VERSION/lib/launcher.mjs" "$APP_DIR/launcher.mjs.new"
  mv "$APP_DIR/launcher.mjs.new" "$APP_DIR/launcher.mjs"
  rm -f "$APP_DIR/update.json"
  for old in "$APP_DIR"/versions/*; do
    [ "$old" = "$APP_DIR/versions/$VERSION" ] || rm -rf "$old"
  done
  rm -rf "$APP_DIR.old"
}

cleanup() {
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
  [ -z "${LOCK:-}" ] || rmdir "$LOCK" 2>/dev/null || true
}

main() {
  parse_args "$@"
  set_paths
  check_root
  mkdir -p "$PREFIX/var/lib"
  LOCK="$PREFIX/var/lib/.edgehook-agent-install.lock"
  mkdir "$LOCK" 2>/dev/null || { LOCK=''; die "another install or uninstall is running (or one was killed: remove $PREFIX/var/lib/.edgehook-agent-install.lock)"; }
  trap cleanup EXIT INT TERM
  if [ "$UNINSTALL" = yes ]; then
    uninstall
    return
  fi
  check_node
  ENROLLED=no
  [ -f "$STATE_DIR/credentials.json" ] && ENROLLED=yes
  if [ "$ENROLLED" = no ]; then
    read_token
  elif [ -n "$TOKEN_FILE" ]; then
    say "already enrolled ($STATE_DIR/credentials.json): upgrading in place; the token is not used"
  fi
  WORK=$(mktemp -d)
  chmod 0700 "$WORK"
  fetch_package
  stage
  service_user
  CREATED_STATE=no
  if [ "$ENROLLED" = no ]; then
    [ -d "$STATE_DIR" ] || CREATED_STATE=yes
    mkdir -p "$STATE_DIR"
    chmod 0700 "$STATE_DIR"
    umask 077
    printf '%s\n' "$TOKEN" >"$WORK/token"
    umask 022
    set -- --enroll-only --server "$SERVER" --state-dir "$STATE_DIR" --enroll-token-file "$WORK/token"
    [ -z "$FINGERPRINT" ] || set -- "$@" --server-fingerprint "$FINGERPRINT"
    [ -z "$CA" ] || set -- "$@" --ca "$CA"
    [ -z "$PROFILE" ] || set -- "$@" --profile "$PROFILE"
    [ -n "$SERVER" ] || die "--server URL is needed to enroll"
    if ! "$NODE" "$WORK/unpack/edgehook-agent/bin/edgehook-agent" "$@"; then
      # Leave the machine as it was: no files, no half-made state.
      [ "$CREATED_STATE" = no ] || rm -rf "$STATE_DIR"
      die "enrollment failed (see above); nothing was installed"
    fi
  fi
  install_version
  [ "$SERVICE_USER" = root ] || [ -n "$PREFIX" ] || chown -R "$SERVICE_USER" "$STATE_DIR"
  # The agent updates itself into $APP_DIR/versions (docs/agent-updates.md), so it owns the tree.
  [ "$SERVICE_USER" = root ] || [ -n "$PREFIX" ] || chown -R "$SERVICE_USER" "$APP_DIR"
  write_env
  write_unit
  if [ "$SYSTEMD" = yes ] && [ -z "$PREFIX" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable edgehook-agent.service >/dev/null 2>&1
    systemctl restart edgehook-agent.service
    say "the agent is running as a service (user $SERVICE_USER)"
    say "its log: journalctl -u edgehook-agent -f"
  else
    say "installed in $APP_DIR (no systemd service started)"
    say "start it with: set -a; . $CONF_DIR/agent.env; set +a; $NODE $APP_DIR/launcher.mjs"
  fi
}

main "$@"
