# Helpers shared by the kiln guest's /init, installer and rc scripts (busybox ash).
# shellcheck shell=sh

KVER=$(uname -r)
# shellcheck disable=SC2034  # used by the installer to strip CRLF line ends
CR=$(printf '\r')

# say MESSAGE...: one line on every active console (serial log and VGA screen).
say() {
    _consoles=$(cat /sys/class/tty/console/active 2>/dev/null)
    for _c in ${_consoles:-console}; do
        echo "$*" >"/dev/$_c" 2>/dev/null
    done
}

# cmdline_arg NAME: the value of the last NAME=value word on the kernel command line.
cmdline_arg() {
    _val=""
    set -f
    # shellcheck disable=SC2013  # words, not lines
    for _w in $(cat /proc/cmdline); do
        case "$_w" in "$1="*) _val=${_w#*=} ;; esac
    done
    set +f
    echo "$_val"
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    _n=$(($1 * 10))
    shift
    while ! "$@" >/dev/null 2>&1; do
        _n=$((_n - 1))
        [ "$_n" -gt 0 ] || return 1
        usleep 100000
    done
}

# load_modules GROUP: insmod the modules listed (dependency-ordered) in /etc/kiln/modules.GROUP.
load_modules() {
    while read -r _m; do
        [ -n "$_m" ] || continue
        _name=${_m##*/}
        _name=$(echo "${_name%.ko}" | tr - _)
        grep -q "^$_name " /proc/modules && continue
        insmod "/lib/modules/$KVER/$_m" || say "kiln: warning: could not load $_m"
    done <"/etc/kiln/modules.$1"
}

# first_netdev: name of the first network interface that is not loopback.
first_netdev() {
    for _d in /sys/class/net/*; do
        [ -e "$_d" ] || continue
        [ "${_d##*/}" = lo ] && continue
        echo "${_d##*/}"
        return 0
    done
    return 1
}

# net_up once|daemon: DHCP on the first NIC. "once" returns after the lease (or fails);
# "daemon" leaves udhcpc running to renew it.
net_up() {
    ip link set lo up 2>/dev/null
    wait_for 15 first_netdev || return 1
    _if=$(first_netdev)
    if [ "$1" = daemon ]; then
        udhcpc -i "$_if" -s /usr/share/udhcpc/default.script -t 20 -T 1 -A 2 -b -p /run/udhcpc.pid >/dev/null 2>&1
    else
        udhcpc -i "$_if" -s /usr/share/udhcpc/default.script -t 20 -T 1 -n -q >/dev/null 2>&1
    fi
}

# ipv4_of IFACE: its IPv4 address (a.b.c.d), empty if none.
ipv4_of() {
    ip -4 addr show dev "$1" 2>/dev/null | sed -n 's/.*inet \([0-9.]*\).*/\1/p' | head -n 1
}

# is_iso DEVICE: true when DEVICE holds an ISO 9660 file system.
is_iso() {
    [ "$(dd if="$1" bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=1 count=5 2>/dev/null)" = CD001 ]
}

# tcp_listening PORT: true when something listens on TCP PORT (IPv4 or IPv6).
tcp_listening() {
    _hex=$(printf '%04X' "$1")
    grep -q ":$_hex [0-9A-F]*:[0-9A-F]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# boot_system ROOTSPEC: mount the installed root file system and switch to its /sbin/init.
# Returns only on failure.
boot_system() {
    say "kiln-guest: mounting root $1"
    case "$1" in
    /dev/*) _dev=$1 ;;
    *)
        wait_for 30 findfs "$1" || {
            say "kiln-guest: ERROR: no block device matches root=$1"
            return 1
        }
        _dev=$(findfs "$1")
        ;;
    esac
    mkdir -p /newroot
    mount -t ext4 -o rw "$_dev" /newroot || return 1
    if [ ! -x /newroot/sbin/init ]; then
        say "kiln-guest: ERROR: $_dev has no /sbin/init"
        umount /newroot
        return 1
    fi
    for _m in dev proc sys; do
        mkdir -p "/newroot/$_m"
        mount --move "/$_m" "/newroot/$_m"
    done
    exec switch_root /newroot /sbin/init
}

# rescue_shell MESSAGE: print MESSAGE and hand PID 1 to busybox init with root shells on
# ttyS0 and tty1 (no login). Never returns.
rescue_shell() {
    say "$1"
    cp /etc/kiln/inittab.rescue /etc/inittab
    exec /sbin/init
}
