# shellcheck shell=sh
# meshaid: members of group "meshaid" use the node's shared ledger.
# Installed as /etc/profile.d/meshaid.sh by deploy/install.sh.
if id -nG 2>/dev/null | tr ' ' '\n' | grep -qx meshaid; then
    MESHAID_HOME=@DATA@
    export MESHAID_HOME
    # Field terminals: open the TUI on an interactive login when the operator
    # asked for it (install.sh --tui-login creates @ETC@/tui-on-login).
    # Quit the TUI with q to reach the shell; MESHAID_NO_TUI=1 skips it.
    if [ -f @ETC@/tui-on-login ] && [ -t 0 ] && [ -t 1 ] && [ -z "${MESHAID_NO_TUI:-}" ] \
        && [ -z "${MESHAID_TUI_STARTED:-}" ]; then
        MESHAID_TUI_STARTED=1
        export MESHAID_TUI_STARTED
        @OPT@/bin/meshaid tui || true
    fi
fi
