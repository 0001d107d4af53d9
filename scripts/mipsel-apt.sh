# Sourced by the scripts that download Debian's mipsel packages
# (fetch-guests.sh, cpython-suite.sh): makes apt know the mipsel
# architecture and its package lists. Needs root, or sudo.
mipsel_apt() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! dpkg --print-foreign-architectures | grep -qx mipsel; then
        $sudo dpkg --add-architecture mipsel
    fi
    $sudo apt-get update -qq
}
