#!/usr/bin/env bash
# STONITH for hafs: power off the old Active NameNode's host through its BMC.
#
# Configured as a fencing method (hdfs-site.xml):
#   dfs.ha.fencing.methods = sshfence(hdfs)
#                            shell(/etc/hafs/fence-ipmi.sh)
#
# The failover controller runs it with `bash -e -c` and these variables set:
#   target_host           host of the NameNode to fence (e.g. nn1.example.com)
#   target_port           its RPC port (8020)
#   target_address        host:port
#   target_nameserviceid  mycluster
#   target_namenodeid     nn1
# plus every configuration key with '.' and '-' turned into '_' (so never print the
# environment: it can hold secrets such as ha_zookeeper_auth).
#
# Exit 0 ONLY when the BMC confirms the power is off. Any other exit status means
# "not fenced": the controller then does not make its NameNode Active (it retries
# after a few seconds). The controller kills this script (and its process group)
# after dfs.ha.fencing.shell.timeout (hafs default 60s) and counts that as failure,
# so keep the polling below well inside that timeout.
#
# The BMC password is read from a file readable only by the hafs user, and passed
# to ipmitool through the environment (-E), not on the command line.

set -euo pipefail

host="${target_host:?target_host is not set: run by hafs zkfc / haadmin only}"

# Map each NameNode host to its BMC. Keep this table next to the host inventory.
case "$host" in
  nn1.example.com) bmc=nn1-ipmi.example.com ;;
  nn2.example.com) bmc=nn2-ipmi.example.com ;;
  nn3.example.com) bmc=nn3-ipmi.example.com ;;
  *)
    echo "fence-ipmi: no BMC known for $host; refusing to report it fenced" >&2
    exit 1
    ;;
esac

IPMI_PASSWORD="$(cat /etc/hafs/fencing/ipmi-password)"
export IPMI_PASSWORD
ipmi() {
  # -N: seconds per attempt, -R: retries; bounded so the loop below stays short.
  ipmitool -I lanplus -H "$bmc" -U hafs-fence -E -N 3 -R 2 "$@"
}

echo "fence-ipmi: powering off $host (NameNode ${target_namenodeid:-?} of ${target_nameserviceid:-?}) via $bmc" >&2
ipmi chassis power off

# Confirm: up to 20 checks, 2 s apart (about 40 s plus ipmitool time).
for _ in $(seq 1 20); do
  if ipmi chassis power status | grep -q "Chassis Power is off"; then
    echo "fence-ipmi: $host is powered off" >&2
    exit 0
  fi
  sleep 2
done

echo "fence-ipmi: $bmc never reported $host powered off" >&2
exit 1
