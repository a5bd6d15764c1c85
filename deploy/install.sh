#!/bin/sh
# Install meshaid on Raspberry Pi OS (Bookworm, Trixie; arm64 and armhf) or Debian.
#
#   sudo deploy/install.sh [options]            install or upgrade from this checkout
#   sudo deploy/install.sh --uninstall [--purge] remove it (keeps the data unless --purge)
#
# Options:
#   --source DIR|WHEEL   what to install (default: the checkout this script is in)
#   --radio SPEC         the daemon's radio: serial, serial:/dev/ttyUSB0, tcp:localhost
#                        (default: serial, which finds /dev/meshtastic or the one USB radio)
#   --new-network NAME | --join CODE   create the node now (with --name and --site)
#   --name NAME --site SITE            this node's display name and site
#   --role ROLE          field, relay, ... (default: relay)
#   --tui-login          open 'meshaid tui' when a member of group meshaid logs in
#   --prefix DIR         install below DIR instead of / (for tests and image builds):
#                        no user is created, no service is started, files are owned by the caller
#   --skip-venv          do not create or update the virtualenv (tests, pre-built images)
#   --dry-run            print what would be done, change nothing
#
# Running it again changes nothing unless the source or an option changed.
set -eu

PREFIX=""
SOURCE=""
RADIO=""
NEW_NETWORK=""
JOIN=""
NAME=""
SITE=""
ROLE="relay"
TUI_LOGIN=0
DRY=0
SKIP_VENV=0
ACTION=install
PURGE=0
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "install.sh: $*" >&2; exit 2; }
need_arg() { [ $# -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) need_arg "$@"; PREFIX=$2; shift 2 ;;
        --source) need_arg "$@"; SOURCE=$2; shift 2 ;;
        --radio) need_arg "$@"; RADIO=$2; shift 2 ;;
        --new-network) need_arg "$@"; NEW_NETWORK=$2; shift 2 ;;
        --join) need_arg "$@"; JOIN=$2; shift 2 ;;
        --name) need_arg "$@"; NAME=$2; shift 2 ;;
        --site) need_arg "$@"; SITE=$2; shift 2 ;;
        --role) need_arg "$@"; ROLE=$2; shift 2 ;;
        --tui-login) TUI_LOGIN=1; shift ;;
        --skip-venv) SKIP_VENV=1; shift ;;
        --dry-run) DRY=1; shift ;;
        --uninstall) ACTION=uninstall; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ -n "$NEW_NETWORK" ] && [ -n "$JOIN" ] && die "give --new-network or --join, not both"
[ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ] && die "--purge goes with --uninstall"
[ -n "$SOURCE" ] || SOURCE=$(dirname "$HERE")
if [ -n "$PREFIX" ]; then
    case "$PREFIX" in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac
fi

OPT=$PREFIX/opt/meshaid
DATA=$PREFIX/var/lib/meshaid
ETC=$PREFIX/etc/meshaid
UNITS=$PREFIX/etc/systemd/system
UDEV=$PREFIX/etc/udev/rules.d
BACKUPS=$PREFIX/var/backups/meshaid
PROFILE=$PREFIX/etc/profile.d
BIN=$PREFIX/usr/local/bin
USER_NAME=meshaid
if [ -n "$PREFIX" ]; then
    OWNER=$(id -un)
    GROUP=$(id -gn)
else
    OWNER=$USER_NAME
    GROUP=$USER_NAME
fi

changed=0
say() { echo "$*"; }
run() {
    # Print a command; run it unless this is a dry run.
    say "+ $*"
    changed=1
    if [ "$DRY" = 0 ]; then "$@"; fi
}

# Install a file with owner and mode, only when its content or mode differs.
put() {
    src=$1 dest=$2 mode=$3 owner=${4:-root} group=${5:-root}
    if [ -n "$PREFIX" ]; then owner=$OWNER; group=$GROUP; fi
    if [ -f "$dest" ] && cmp -s "$src" "$dest" \
        && [ "$(stat -c %a "$dest")" = "$mode" ]; then
        return 0
    fi
    run install -D -m "$mode" -o "$owner" -g "$group" "$src" "$dest"
}

# A directory with owner, group and mode, created or corrected only if needed.
dir() {
    path=$1 mode=$2 owner=${3:-root} group=${4:-root}
    if [ -n "$PREFIX" ]; then owner=$OWNER; group=$GROUP; fi
    if [ -d "$path" ] && [ "$(stat -c %a "$path")" = "$mode" ] \
        && [ "$(stat -c %U:%G "$path")" = "$owner:$group" ]; then
        return 0
    fi
    run install -d -m "$mode" -o "$owner" -g "$group" "$path"
}

# Render a template (@OPT@, @DATA@, ... placeholders) to a temporary file.
render() {
    out=$(mktemp)
    sed -e "s|@OPT@|/opt/meshaid|g" -e "s|@DATA@|/var/lib/meshaid|g" \
        -e "s|@ETC@|/etc/meshaid|g" -e "s|@BACKUPS@|/var/backups/meshaid|g" "$1" >"$out"
    echo "$out"
}

systemd_live() { [ -z "$PREFIX" ] && [ -d /run/systemd/system ]; }

source_stamp() {
    # What is being installed, as one line: changes whenever the source does.
    if [ -d "$SOURCE" ]; then
        (cd "$SOURCE" && find pyproject.toml node tui -type f \
            \( -name '*.py' -o -name '*.toml' -o -name '*.tcss' -o -name '*.json' -o -name '*.md' \) \
            ! -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
    else
        sha256sum "$SOURCE" | cut -c1-16
    fi
}

install_all() {
    [ -n "$PREFIX" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or give --prefix DIR"
    [ -e "$SOURCE" ] || die "no source at $SOURCE"

    if [ -z "$PREFIX" ] && ! getent passwd "$USER_NAME" >/dev/null; then
        run useradd --system --user-group --home-dir /var/lib/meshaid --no-create-home \
            --shell /usr/sbin/nologin --comment "meshaid sync daemon" "$USER_NAME"
    fi
    if [ -z "$PREFIX" ] && getent group dialout >/dev/null \
        && ! id -nG "$USER_NAME" 2>/dev/null | tr ' ' '\n' | grep -qx dialout; then
        run usermod -a -G dialout "$USER_NAME"
    fi

    # Code: a virtualenv under /opt/meshaid, rebuilt only when the source changed.
    dir "$OPT" 755
    stamp=$(source_stamp)
    if [ "$SKIP_VENV" = 0 ]; then
        if [ ! -x "$OPT/bin/python" ]; then
            run python3 -m venv "$OPT"
        fi
        if [ "$(cat "$OPT/.meshaid-source" 2>/dev/null || true)" != "$stamp" ]; then
            run "$OPT/bin/pip" install --quiet --upgrade "$SOURCE"
            tmp=$(mktemp); echo "$stamp" >"$tmp"; put "$tmp" "$OPT/.meshaid-source" 644; rm -f "$tmp"
        fi
        dir "$BIN" 755
        if [ "$(readlink "$BIN/meshaid" 2>/dev/null || true)" != /opt/meshaid/bin/meshaid ]; then
            run ln -sfn /opt/meshaid/bin/meshaid "$BIN/meshaid"
        fi
    fi

    # Data: the daemon (user meshaid) and members of group meshaid share it.
    # setgid keeps new files (-wal, -shm, backups) in the group.
    dir "$DATA" 2770 "$USER_NAME" "$USER_NAME"
    dir "$BACKUPS" 2750 "$USER_NAME" "$USER_NAME"
    dir "$ETC" 755

    # Configuration: written once, never overwritten (the operator owns it),
    # except that --radio updates MESHAID_RADIO.
    if [ ! -f "$ETC/meshaid.env" ]; then
        put "$HERE/meshaid.env" "$ETC/meshaid.env" 644
    fi
    if [ -n "$RADIO" ] && ! grep -qx "MESHAID_RADIO=$RADIO" "$ETC/meshaid.env" 2>/dev/null; then
        if [ "$DRY" = 0 ]; then
            sed -i "s|^MESHAID_RADIO=.*|MESHAID_RADIO=$RADIO|" "$ETC/meshaid.env"
        fi
        say "+ set MESHAID_RADIO=$RADIO in $ETC/meshaid.env"
        changed=1
    fi

    for unit in meshaid-daemon.service meshaid-bridge.service meshaid-backup.service \
        meshaid-backup.timer; do
        src=$(render "$HERE/systemd/$unit")
        put "$src" "$UNITS/$unit" 644
        rm -f "$src"
    done
    put "$HERE/udev/99-meshaid-radio.rules" "$UDEV/99-meshaid-radio.rules" 644
    src=$(render "$HERE/profile.d/meshaid.sh")
    put "$src" "$PROFILE/meshaid.sh" 644
    rm -f "$src"
    if [ "$TUI_LOGIN" = 1 ]; then
        if [ ! -f "$ETC/tui-on-login" ]; then
            tmp=$(mktemp); put "$tmp" "$ETC/tui-on-login" 644; rm -f "$tmp"
        fi
    fi

    # The node itself, unless one exists.
    if [ ! -f "$DATA/ledger.db" ] && { [ -n "$NEW_NETWORK" ] || [ -n "$JOIN" ]; }; then
        if [ -n "$NEW_NETWORK" ]; then how="--new-network"; what=$NEW_NETWORK
        else how="--join"; what=$JOIN; fi
        if [ -z "$PREFIX" ]; then
            run runuser -u "$USER_NAME" -- /opt/meshaid/bin/meshaid --data-dir /var/lib/meshaid \
                init "$how" "$what" --name "$NAME" --site "$SITE" --role "$ROLE"
        else
            run "$OPT/bin/meshaid" --data-dir "$DATA" init "$how" "$what" \
                --name "$NAME" --site "$SITE" --role "$ROLE"
        fi
    fi

    # The daemon (owner) and the group's members post with the node's key and write
    # the ledger; nobody else reads either.
    if [ -f "$DATA/ledger.db" ]; then
        for f in "$DATA/key.ed25519" "$DATA/ledger.db" "$DATA/ledger.db-wal" "$DATA/ledger.db-shm"; do
            [ -e "$f" ] || continue
            case "$f" in *.ed25519) want=640 ;; *) want=660 ;; esac
            [ "$(stat -c %a "$f")" = "$want" ] || run chmod "$want" "$f"
            if [ -z "$PREFIX" ] && [ "$(stat -c %G "$f")" != "$USER_NAME" ]; then
                run chgrp "$USER_NAME" "$f"
            fi
        done
    fi

    if systemd_live && [ "$changed" = 1 ]; then
        run systemctl daemon-reload
        run udevadm control --reload-rules
        run udevadm trigger --subsystem-match=tty
        run systemctl enable --now meshaid-backup.timer
        if [ -f "$DATA/ledger.db" ]; then
            run systemctl enable meshaid-daemon.service
            run systemctl restart meshaid-daemon.service
        fi
    fi

    if [ "$changed" = 0 ]; then
        say "meshaid is installed and up to date; nothing changed"
    elif [ "$DRY" = 1 ]; then
        say "(dry run: nothing was changed)"
    else
        say "meshaid installed in $OPT, data in $DATA, settings in $ETC/meshaid.env"
    fi
    if [ ! -f "$DATA/ledger.db" ]; then
        say "no node yet: create it with"
        say "  sudo runuser -u meshaid -- meshaid --data-dir /var/lib/meshaid init --join CODE --name NAME --site SITE"
        say "then: sudo systemctl enable --now meshaid-daemon"
    fi
    say "people who post from this Pi join the group: sudo usermod -a -G meshaid USER (then log in again)"
}

uninstall_all() {
    [ -n "$PREFIX" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or give --prefix DIR"
    if systemd_live; then
        run systemctl disable --now meshaid-daemon.service meshaid-bridge.service \
            meshaid-backup.timer || true
    fi
    for f in "$UNITS/meshaid-daemon.service" "$UNITS/meshaid-bridge.service" \
        "$UNITS/meshaid-backup.service" \
        "$UNITS/meshaid-backup.timer" "$UDEV/99-meshaid-radio.rules" "$PROFILE/meshaid.sh" \
        "$BIN/meshaid"; do
        if [ -e "$f" ] || [ -L "$f" ]; then run rm -f "$f"; fi
    done
    if [ -d "$OPT" ]; then run rm -rf "$OPT"; fi
    if systemd_live; then run systemctl daemon-reload; fi
    if [ "$PURGE" = 1 ]; then
        for d in "$DATA" "$BACKUPS" "$ETC"; do
            if [ -d "$d" ]; then run rm -rf "$d"; fi
        done
        if [ -z "$PREFIX" ] && getent passwd "$USER_NAME" >/dev/null; then
            run userdel "$USER_NAME"
        fi
        say "meshaid removed, with its data"
    else
        say "meshaid removed; the ledger, backups and settings are kept in $DATA, $BACKUPS and $ETC"
        say "(--uninstall --purge removes them too)"
    fi
}

case "$ACTION" in
    install) install_all ;;
    uninstall) uninstall_all ;;
esac
