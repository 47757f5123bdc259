# Sourced by test.sh: make sure the real test peers are installed and running, and export
# the URLs the test kit reads. As root on Debian, missing packages are installed.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
need_pkgs=()
command -v pg_ctlcluster >/dev/null || need_pkgs+=(postgresql)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v chromium >/dev/null || need_pkgs+=(chromium)
# DHCP: ISC Kea with its PostgreSQL backends, and a real DHCP client for the namespace tests
command -v kea-dhcp4 >/dev/null || need_pkgs+=(kea-dhcp4-server)
command -v kea-admin >/dev/null || need_pkgs+=(kea-admin)
command -v dhclient >/dev/null || need_pkgs+=(isc-dhcp-client)
# RADIUS: FreeRADIUS's radclient (a real client) and the server with its PostgreSQL driver
command -v radclient >/dev/null || need_pkgs+=(freeradius-utils)
command -v freeradius >/dev/null || need_pkgs+=(freeradius)
[ -e /usr/lib/freeradius/rlm_sql_postgresql.so ] || need_pkgs+=(freeradius-postgresql)
command -v ip >/dev/null || need_pkgs+=(iproute2)
# NetFlow: softflowd exports a pcap as NetFlow v5/v9/IPFIX (usage collector tests)
command -v softflowd >/dev/null || need_pkgs+=(softflowd)
# nfdump's nfcapd: the collector benchmark's yardstick
command -v nfcapd >/dev/null || need_pkgs+=(nfdump)
# SNMP: Debian's net-snmp agent (run unprivileged on a high port by the poller tests)
command -v snmpd >/dev/null || [ -x /usr/sbin/snmpd ] || need_pkgs+=(snmpd)
# IMAP: Dovecot, run by the tickets tests in a temp folder on a loopback port
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || need_pkgs+=(dovecot-imapd)
# net-snmp's snmpget/snmpbulkget: the poller benchmark's yardstick
command -v snmpbulkget >/dev/null || need_pkgs+=(snmp)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "==> installing test peers: ${need_pkgs[*]}"
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "!! cannot install ${need_pkgs[*]}: not a Debian machine" >&2
  fi
fi

# PostgreSQL: start the cluster if stopped; a login role that may create databases.
if command -v pg_lsclusters >/dev/null; then
  ver=$(pg_lsclusters -h | awk 'NR==1{print $1}')
  cluster=$(pg_lsclusters -h | awk 'NR==1{print $2}')
  if [ -n "$ver" ] && ! pg_lsclusters -h | awk 'NR==1{print $4}' | grep -q online; then
    echo "==> starting PostgreSQL $ver/$cluster"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
  $SUDO su postgres -c "psql -q -tAc \"SELECT 1 FROM pg_roles WHERE rolname='backhaul_test'\" | grep -q 1 || psql -q -c \"CREATE ROLE backhaul_test LOGIN CREATEDB PASSWORD 'backhaul_test'\"" </dev/null
  export BACKHAUL_TEST_DATABASE_URL="${BACKHAUL_TEST_DATABASE_URL:-postgresql://backhaul_test:backhaul_test@127.0.0.1:5432/postgres}"
fi

# Redis: start one (nothing kept on disk) if none answers.
if command -v redis-server >/dev/null; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "==> starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  export BACKHAUL_TEST_REDIS_URL="${BACKHAUL_TEST_REDIS_URL:-redis://127.0.0.1:6379/14}"
fi
export BACKHAUL_TEST_CHROMIUM="${BACKHAUL_TEST_CHROMIUM:-$(command -v chromium || true)}"
