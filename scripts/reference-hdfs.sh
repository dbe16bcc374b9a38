#!/usr/bin/env bash
# The reference cluster: real Apache HDFS (Hadoop 3.5.0 from Maven Central) on loopback,
# beside hafs, so compatibility and performance are measured side by side.
#
#   scripts/reference-hdfs.sh fetch               get the Hadoop jars (once; cached)
#   scripts/reference-hdfs.sh start [--dir DIR] [--set KEY=VALUE]... [--datanodes N]
#                                   [--datanode-hosts]
#                                                start an HA cluster, print its ready line
#                                                (--set: extra hdfs-site.xml properties;
#                                                --datanodes: how many, default 3;
#                                                --datanode-hosts: each on its own 127.0.0.x)
#   scripts/reference-hdfs.sh add-datanode [--dir DIR]
#                                                start one more DataNode in that cluster,
#                                                print its line once both NameNodes see it
#   scripts/reference-hdfs.sh stop [--dir DIR]    stop every daemon of that cluster
#
# `fetch` resolves scripts/reference-hdfs/pom.xml (hadoop-hdfs, hadoop-hdfs-client,
# hadoop-common and their runtime dependencies) with `mvn dependency:copy-dependencies`
# into ${HAFS_CACHE:-~/.cache/hafs}/reference-hdfs/<version>/lib (and its test scope,
# Hadoop's FileSystem contract suites with JUnit 5, into test-lib), with Maven's local
# repository in the same cache; a second run finds the marker and does nothing.
#
# `start` formats and starts a fresh cluster in DIR (default ${TMPDIR:-/tmp}/hafs-reference-hdfs):
# a standalone ZooKeeper (Debian's `zookeeper` package, as hafs's --zookeeper mode uses),
# 3 JournalNodes, 2 NameNodes (nameservice `refhdfs`, nn1 and nn2) each with a
# DFSZKFailoverController, and 3 DataNodes (--datanodes N): each daemon its own JVM
# (scripts/hdfs) with a bounded heap (HDFS_HEAP, default 256m), on free loopback ports,
# logging to DIR/logs/<name>.log. With --datanode-hosts DataNode i listens on
# 127.0.0.(i+1) and binds the sockets it opens there too (DataNodeBoundSocketFactory,
# compiled once into the cache), so the NameNode sees one host per DataNode and a
# topology script can put them on racks. It returns once one NameNode is Active, the
# other Standby, both out of safe mode and both see every DataNode live, printing one line:
#   reference-hdfs ready: Apache Hadoop 3.5.0, nameservice hdfs://refhdfs; conf dir DIR/conf; ...
# with every daemon's address and pid (also in DIR/ready and DIR/pids). The daemons stay
# in the caller's process group, so a test harness that kills the group kills them too.
# Clients use DIR/conf as HADOOP_CONF_DIR (scripts/hdfs, scripts/hadoop-fs, hdfs-native).
set -euo pipefail

HAFS_CACHE="${HAFS_CACHE:-$HOME/.cache/hafs}"
HADOOP_VERSION="3.5.0"
REF_CACHE="$HAFS_CACHE/reference-hdfs"
LIB_DIR="$REF_CACHE/$HADOOP_VERSION/lib"
WEB_DIR="$REF_CACHE/$HADOOP_VERSION/web"
TEST_LIB_DIR="$REF_CACHE/$HADOOP_VERSION/test-lib"
MARKER="$REF_CACHE/$HADOOP_VERSION/.complete"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HDFS="$SCRIPT_DIR/hdfs"
NAMESERVICE="refhdfs"
# Debian's zookeeper package: the server jar (its manifest names its dependencies) and
# its log4j configuration, the same server crates/cluster/src/zookeeper.rs runs.
ZK_JAR="/usr/share/java/zookeeper.jar"
ZK_CONF_DIR="/etc/zookeeper/conf"
START_TIMEOUT="${REFERENCE_HDFS_START_TIMEOUT:-180}"

log() { echo "reference-hdfs: $*" >&2; }
die() {
    echo "reference-hdfs: ERROR: $*" >&2
    exit 1
}

usage() {
    echo "usage: reference-hdfs.sh fetch | start [--dir DIR] [--set KEY=VALUE]... [--datanodes N] [--datanode-hosts] | add-datanode [--dir DIR] | stop [--dir DIR]" >&2
    exit 1
}

# ---------------------------------------------------------------- fetch
# mvn GOAL ARGS... in batch mode with the cache's local repository, from the cache dir
# (so nothing lands in the repo), its output in REF_CACHE/mvn.log, shown on failure.
mvn_quiet() {
    local goal="$1"
    shift
    if ! (cd "$REF_CACHE" && mvn -B -Dstyle.color=never -Dmaven.repo.local="$REF_CACHE/m2" \
        "$goal" "$@") >"$REF_CACHE/mvn.log" 2>&1; then
        tail -n 40 "$REF_CACHE/mvn.log" >&2
        die "mvn $goal failed (log above, whole in $REF_CACHE/mvn.log)"
    fi
}

fetch() {
    if [ -f "$MARKER" ] && [ -f "$LIB_DIR/hadoop-hdfs-$HADOOP_VERSION.jar" ] && [ -d "$WEB_DIR/webapps" ] \
        && [ -f "$TEST_LIB_DIR/hadoop-common-$HADOOP_VERSION-tests.jar" ] \
        && [ -f "$TEST_LIB_DIR/hadoop-hdfs-$HADOOP_VERSION-tests.jar" ] \
        && compgen -G "$TEST_LIB_DIR/mockito-core-*.jar" >/dev/null; then
        log "Apache Hadoop $HADOOP_VERSION: cached in $LIB_DIR"
        return
    fi
    command -v mvn >/dev/null || die "mvn is not installed (Debian package: maven)"
    command -v java >/dev/null || die "java is not installed (need a JDK 17+)"
    log "Apache Hadoop $HADOOP_VERSION: resolving with mvn into $LIB_DIR (once)"
    mkdir -p "$REF_CACHE/$HADOOP_VERSION" || die "cannot create $REF_CACHE/$HADOOP_VERSION"
    local staging="$REF_CACHE/$HADOOP_VERSION/lib.tmp"
    rm -rf "$staging" "$staging.tests" "$MARKER"
    mkdir -p "$staging"
    # Run from the cache, so no Maven output lands in the repo.
    mvn_quiet dependency:copy-dependencies -f "$SCRIPT_DIR/reference-hdfs/pom.xml" \
        -Dhadoop.version="$HADOOP_VERSION" \
        -DincludeScope=runtime \
        -DoutputDirectory="$staging"
    # The POM's test scope (the contract suites in hadoop-common's test jar, JUnit 5)
    # apart from the daemons' jars: tests put both on their classpath.
    local test_staging="$REF_CACHE/$HADOOP_VERSION/test-lib.tmp"
    rm -rf "$test_staging"
    mvn_quiet dependency:copy-dependencies -f "$SCRIPT_DIR/reference-hdfs/pom.xml" \
        -Dhadoop.version="$HADOOP_VERSION" \
        -DexcludeScope=runtime \
        -DoutputDirectory="$test_staging"
    [ -f "$test_staging/hadoop-common-$HADOOP_VERSION-tests.jar" ] \
        || die "mvn did not produce hadoop-common-$HADOOP_VERSION-tests.jar (found: $(ls "$test_staging"))"
    rm -rf "$TEST_LIB_DIR"
    mv "$test_staging" "$TEST_LIB_DIR"
    local jar
    for jar in hadoop-hdfs hadoop-hdfs-client hadoop-common; do
        [ -f "$staging/$jar-$HADOOP_VERSION.jar" ] \
            || die "mvn did not produce $jar-$HADOOP_VERSION.jar (found: $(ls "$staging"))"
    done
    # The daemons' web UIs (webapps/hdfs, datanode, journal, static …) are not in the
    # hadoop-hdfs jar; Hadoop ships them in its tarball and in the hadoop-hdfs test jar,
    # whose webapps/ tree alone goes on the daemons' classpath (WEB_DIR): the HTTP
    # servers refuse to start without it.
    local tests_jar="hadoop-hdfs-$HADOOP_VERSION-tests.jar"
    mvn_quiet dependency:copy -Dartifact="org.apache.hadoop:hadoop-hdfs:$HADOOP_VERSION:jar:tests" \
        -DoutputDirectory="$staging.tests"
    [ -f "$staging.tests/$tests_jar" ] || die "mvn did not produce $tests_jar"
    rm -rf "$WEB_DIR"
    python3 - "$staging.tests/$tests_jar" "$WEB_DIR" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith("webapps/")]
    if not names:
        sys.exit("no webapps/ in " + sys.argv[1])
    z.extractall(sys.argv[2], names)
EOF
    [ -d "$WEB_DIR/webapps/journal" ] || die "no webapps/journal in $tests_jar"
    # Hadoop's own NameNode benchmark (NNThroughputBenchmark) lives in that jar too.
    mv "$staging.tests/$tests_jar" "$TEST_LIB_DIR/"
    rm -rf "$staging.tests"
    rm -rf "$LIB_DIR"
    mv "$staging" "$LIB_DIR"
    touch "$MARKER"
    log "Apache Hadoop $HADOOP_VERSION: $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $LIB_DIR"
}

# ---------------------------------------------------------------- helpers
# N free loopback ports, from below the kernel's ephemeral range (where no outgoing
# connection can take one before the daemon binds it), in a slice picked by pid so
# that concurrent starts rarely meet; crates/cluster hands out 20000 and up.
free_ports() {
    python3 - "$1" "$$" <<'EOF'
import socket, sys
n, pid = int(sys.argv[1]), int(sys.argv[2])
start = 10000 + (pid % 90) * 100
found = []
for port in list(range(start, start + 100)) + list(range(10000, 20000)):
    if len(found) == n:
        break
    if port in found:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        found.append(port)
    except OSError:
        pass
    finally:
        s.close()
if len(found) < n:
    sys.exit("no free loopback ports")
print(" ".join(map(str, found)))
EOF
}

# Writes a Hadoop site file from "key=value" arguments.
site_xml() {
    local file="$1"
    shift
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<!-- Written by scripts/reference-hdfs.sh start. -->'
        echo '<configuration>'
        local kv
        for kv in "$@"; do
            printf '  <property><name>%s</name><value>%s</value></property>\n' "${kv%%=*}" "${kv#*=}"
        done
        echo '</configuration>'
    } >"$file"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_of() {
    awk -v n="$1" '$1 == n { print $2 }' "$DIR/pids"
}

# Starts daemon NAME in the background as `scripts/hdfs ARGS...`, logging to logs/NAME.log.
start_daemon() {
    local name="$1"
    shift
    HADOOP_CONF_DIR="$CONF" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
    echo "$name $!" >>"$DIR/pids"
}

# Fails the start with the end of NAME's log when its process is gone.
check_alive() {
    local name="$1" pid
    pid="$(pid_of "$name")"
    if ! kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) exited during start; end of $DIR/logs/$name.log:"
        tail -n 30 "$DIR/logs/$name.log" >&2 || true
        stop_all
        die "the reference cluster did not start"
    fi
}

# Waits until CONDITION (a command) succeeds, checking that the daemons NAMES stay alive.
wait_until() {
    local what="$1" condition="$2"
    shift 2
    local deadline=$((SECONDS + START_TIMEOUT))
    while ! eval "$condition"; do
        local name
        for name in "$@"; do check_alive "$name"; done
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "timed out after ${START_TIMEOUT}s waiting for $what"
            stop_all
            die "the reference cluster did not start"
        fi
        sleep 0.2
    done
}

# One-shot commands (format, bootstrap) are short JVMs: C1 only and serial GC start
# faster on a busy 2-core machine; the daemons keep the JVM's defaults.
ONE_SHOT_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC ${HDFS_JAVA_OPTS:-}"

# Runs a one-shot command (format, bootstrap) with its output in logs/NAME.log.
run_step() {
    local name="$1"
    shift
    if ! HADOOP_CONF_DIR="$CONF" HDFS_JAVA_OPTS="$ONE_SHOT_OPTS" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null; then
        log "$name failed; end of $DIR/logs/$name.log:"
        tail -n 30 "$DIR/logs/$name.log" >&2 || true
        stop_all
        die "the reference cluster did not start"
    fi
}

# A NameNode's JMX bean over HTTP (what the web UI reads).
nn_jmx() {
    curl -sf --max-time 2 "http://127.0.0.1:$1/jmx?qry=Hadoop:service=NameNode,name=$2" 2>/dev/null || true
}

# active, standby or nothing.
nn_state() {
    nn_jmx "$1" NameNodeStatus | sed -n 's/.*"State" *: *"\([a-z]*\)".*/\1/p'
}

# True when the NameNode at HTTP port $1 sees DN_COUNT live DataNodes and is out of
# safe mode.
nn_serves() {
    local fs info
    fs="$(nn_jmx "$1" FSNamesystemState)"
    info="$(nn_jmx "$1" NameNodeInfo)"
    echo "$fs" | grep -q "\"NumLiveDataNodes\" *: *$DN_COUNT\\b" && echo "$info" | grep -q '"Safemode" *: *""'
}

# The classes dir of DataNodeBoundSocketFactory, compiled against the Hadoop jars once
# per source text.
bound_socket_factory() {
    local src="$SCRIPT_DIR/reference-hdfs/DataNodeBoundSocketFactory.java" out
    out="$REF_CACHE/$HADOOP_VERSION/bound-socket-factory-$(sha256sum "$src" | cut -c1-16)"
    if [ ! -f "$out/DataNodeBoundSocketFactory.class" ]; then
        command -v javac >/dev/null || die "javac is not installed (need a JDK 17+)"
        rm -rf "$out.tmp$$"
        mkdir -p "$out.tmp$$"
        javac -cp "$LIB_DIR/*" -d "$out.tmp$$" "$src" >&2 || die "javac $src failed"
        mv "$out.tmp$$" "$out" 2>/dev/null || rm -rf "$out.tmp$$"
    fi
    echo "$out"
}

# DataNode I (1-based) with its data, HTTP and IPC ports: on 127.0.0.1, or with
# --datanode-hosts on 127.0.0.(I+1) with its sockets bound there.
start_datanode() {
    local i="$1" data="$2" http="$3" ipc="$4" ip=127.0.0.1
    local extra=()
    if [ "$DN_HOSTS" = 1 ]; then
        ip="127.0.0.$((i + 1))"
        extra=(-D "dfs.datanode.hostname=$ip"
            -D "hadoop.rpc.socket.factory.class.default=DataNodeBoundSocketFactory")
    fi
    HDFS_CLASSPATH="${FACTORY_DIR:-}" start_daemon "dn$i" "$HDFS" datanode \
        -D "dfs.datanode.address=$ip:$data" \
        -D "dfs.datanode.http.address=$ip:$http" \
        -D "dfs.datanode.ipc.address=$ip:$ipc" \
        -D "dfs.datanode.data.dir=$DIR/dn$i" \
        ${extra[@]+"${extra[@]}"}
    echo "dn$i $ip:$data" >>"$DIR/datanodes"
}

stop_all() {
    [ -f "$DIR/pids" ] || return 0
    local name pid pids=()
    while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done <"$DIR/pids"
    local deadline=$((SECONDS + 15))
    for pid in "${pids[@]+"${pids[@]}"}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$DIR/pids" "$DIR/ready"
}

# ---------------------------------------------------------------- start
start() {
    [ -f "$MARKER" ] || die "Apache Hadoop $HADOOP_VERSION is not fetched; run scripts/reference-hdfs.sh fetch (or scripts/test-deps.sh)"
    [ -f "$ZK_JAR" ] || die "ZooKeeper is not installed ($ZK_JAR is missing): apt-get install zookeeper (or run scripts/test-deps.sh)"
    command -v curl >/dev/null || die "curl is not installed"
    if [ -f "$DIR/pids" ]; then
        local name pid
        while read -r name pid; do
            kill -0 "$pid" 2>/dev/null && die "a reference cluster is running in $DIR ($name pid $pid); stop it first"
        done <"$DIR/pids"
    fi
    # A fresh cluster each time, but never wipe a directory this script did not make.
    if [ -n "$(ls -A "$DIR")" ] && [ ! -f "$DIR/.reference-hdfs" ]; then
        die "$DIR is not empty and holds no reference cluster; pick another --dir"
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR/logs" "$DIR/conf" "$DIR/zk/data"
    touch "$DIR/.reference-hdfs"
    : >"$DIR/pids"
    CONF="$DIR/conf"

    # zk, jn×(rpc,http), nn×(rpc,http,zkfc), dn×(data,http,ipc)
    local ports
    read -r -a ports <<<"$(free_ports $((13 + 3 * DN_COUNT)))" || die "no free loopback ports"
    local zk_port="${ports[0]}"
    local jn_rpc=("${ports[1]}" "${ports[2]}" "${ports[3]}")
    local jn_http=("${ports[4]}" "${ports[5]}" "${ports[6]}")
    local nn_rpc=("${ports[7]}" "${ports[8]}")
    local nn_http=("${ports[9]}" "${ports[10]}")
    local zkfc_port=("${ports[11]}" "${ports[12]}")
    local dn_ports=("${ports[@]:13}")
    FACTORY_DIR=""
    if [ "$DN_HOSTS" = 1 ]; then
        FACTORY_DIR="$(bound_socket_factory)"
    fi
    # What add-datanode needs to know of this cluster.
    {
        echo "DN_HOSTS=$DN_HOSTS"
        echo "NN_HTTP=\"${nn_http[*]}\""
        echo "FACTORY_DIR=\"$FACTORY_DIR\""
    } >"$DIR/cluster.env"
    : >"$DIR/datanodes"

    local qjournal="qjournal://127.0.0.1:${jn_rpc[0]};127.0.0.1:${jn_rpc[1]};127.0.0.1:${jn_rpc[2]}/$NAMESERVICE"
    site_xml "$CONF/core-site.xml" \
        "fs.defaultFS=hdfs://$NAMESERVICE" \
        "hadoop.tmp.dir=$DIR/tmp" \
        "ha.zookeeper.quorum=127.0.0.1:$zk_port" \
        "ipc.client.connect.max.retries=2" \
        "ipc.client.connect.retry.interval=100" \
        "ipc.client.connect.max.retries.on.timeouts=2"
    local ns="$NAMESERVICE" i
    local hdfs_site=(
        "dfs.nameservices=$ns"
        "dfs.ha.namenodes.$ns=nn1,nn2"
        "dfs.namenode.shared.edits.dir=$qjournal"
        "dfs.client.failover.proxy.provider.$ns=org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"
        "dfs.ha.automatic-failover.enabled=true"
        # Every NameNode shares this machine, so a fence could only hit the wrong
        # process; the controllers' ZooKeeper lock and the JournalNodes' epochs are
        # the real fence.
        "dfs.ha.fencing.methods=shell(/bin/true)"
        # Clients ride out a failover of a few seconds, as against hafs in the tests.
        "dfs.client.failover.max.attempts=20"
        "dfs.client.failover.sleep.base.millis=50"
        "dfs.client.failover.sleep.max.millis=1000"
        # A fresh namespace has no blocks to wait for.
        "dfs.namenode.safemode.extension=0"
        # Hadoop's FileSystem contract suites write 1 KiB blocks; HDFS's own test
        # configuration allows them, and so does this one.
        "dfs.namenode.fs-limits.min-block-size=0"
        # Every DataNode registers from 127.0.0.1, which need not resolve back.
        "dfs.namenode.datanode.registration.ip-hostname-check=false"
    )
    for i in 1 2; do
        hdfs_site+=(
            "dfs.namenode.rpc-address.$ns.nn$i=127.0.0.1:${nn_rpc[$((i - 1))]}"
            "dfs.namenode.http-address.$ns.nn$i=127.0.0.1:${nn_http[$((i - 1))]}"
            "dfs.namenode.name.dir.$ns.nn$i=$DIR/nn$i"
            "dfs.ha.zkfc.port.$ns.nn$i=${zkfc_port[$((i - 1))]}"
        )
    done
    site_xml "$CONF/hdfs-site.xml" "${hdfs_site[@]}" ${EXTRA_SITE[@]+"${EXTRA_SITE[@]}"}
    # Daemons log INFO to their logs/NAME.log.
    cat >"$CONF/log4j.properties" <<'EOF'
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %-5p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
EOF

    local t0=$SECONDS
    # ZooKeeper and the JournalNodes first: formatting needs both.
    cat >"$DIR/zk/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DIR/zk/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
EOF
    start_daemon zookeeper java -Xmx256m -cp "$ZK_CONF_DIR:$ZK_JAR" \
        -Dzookeeper.root.logger=INFO,CONSOLE \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zk/zoo.cfg"
    for i in 1 2 3; do
        start_daemon "jn$i" "$HDFS" journalnode \
            -D "dfs.journalnode.rpc-address=127.0.0.1:${jn_rpc[$((i - 1))]}" \
            -D "dfs.journalnode.http-address=127.0.0.1:${jn_http[$((i - 1))]}" \
            -D "dfs.journalnode.edits.dir=$DIR/jn$i"
    done
    wait_until "ZooKeeper on port $zk_port" "port_open $zk_port" zookeeper
    for i in 1 2 3; do
        wait_until "jn$i on port ${jn_rpc[$((i - 1))]}" "port_open ${jn_rpc[$((i - 1))]}" "jn$i"
    done

    # Format nn1 (and through it the shared edits on the JournalNodes) and the
    # controllers' znode at once.
    HADOOP_CONF_DIR="$CONF" HDFS_JAVA_OPTS="$ONE_SHOT_OPTS" "$HDFS" namenode -D dfs.ha.namenode.id=nn1 \
        -format -nonInteractive -clusterid "CID-$NAMESERVICE" >"$DIR/logs/format-nn1.log" 2>&1 </dev/null &
    local format_pid=$!
    run_step format-zk "$HDFS" zkfc -D dfs.ha.namenode.id=nn1 -formatZK -nonInteractive
    if ! wait "$format_pid"; then
        log "namenode -format failed; end of $DIR/logs/format-nn1.log:"
        tail -n 30 "$DIR/logs/format-nn1.log" >&2 || true
        stop_all
        die "the reference cluster did not start"
    fi

    # nn1 with its controller (which makes it Active) and the DataNodes; then nn2 is
    # bootstrapped from nn1's image, as an operator does.
    start_daemon nn1 "$HDFS" namenode -D dfs.ha.namenode.id=nn1
    start_daemon zkfc1 "$HDFS" zkfc -D dfs.ha.namenode.id=nn1
    for ((i = 1; i <= DN_COUNT; i++)); do
        local k=$((3 * (i - 1)))
        start_datanode "$i" "${dn_ports[$k]}" "${dn_ports[$((k + 1))]}" "${dn_ports[$((k + 2))]}"
    done
    wait_until "nn1 on port ${nn_rpc[0]}" "port_open ${nn_rpc[0]} && port_open ${nn_http[0]}" nn1
    run_step bootstrap-nn2 "$HDFS" namenode -D dfs.ha.namenode.id=nn2 -bootstrapStandby -nonInteractive
    start_daemon nn2 "$HDFS" namenode -D dfs.ha.namenode.id=nn2
    start_daemon zkfc2 "$HDFS" zkfc -D dfs.ha.namenode.id=nn2

    local all=(zookeeper jn1 jn2 jn3 nn1 zkfc1 nn2 zkfc2)
    for ((i = 1; i <= DN_COUNT; i++)); do all+=("dn$i"); done
    wait_until "an Active and a Standby NameNode" \
        '[ "$(nn_state "${nn_http[0]}")$(nn_state "${nn_http[1]}")" = activestandby ] || [ "$(nn_state "${nn_http[0]}")$(nn_state "${nn_http[1]}")" = standbyactive ]' \
        "${all[@]}"
    wait_until "$DN_COUNT live DataNodes at both NameNodes, out of safe mode" \
        'nn_serves "${nn_http[0]}" && nn_serves "${nn_http[1]}"' "${all[@]}"

    local active
    if [ "$(nn_state "${nn_http[0]}")" = active ]; then active=nn1; else active=nn2; fi
    local nn_list="" jn_list="" dn_list=""
    for i in 1 2; do
        local state
        state="$(nn_state "${nn_http[$((i - 1))]}")"
        nn_list+="${nn_list:+, }nn$i 127.0.0.1:${nn_rpc[$((i - 1))]} (pid $(pid_of "nn$i"), $state, controller pid $(pid_of "zkfc$i"))"
    done
    for i in 1 2 3; do
        jn_list+="${jn_list:+, }jn$i 127.0.0.1:${jn_rpc[$((i - 1))]} (pid $(pid_of "jn$i"))"
    done
    local name addr
    while read -r name addr; do
        dn_list+="${dn_list:+, }$name $addr (pid $(pid_of "$name"))"
    done <"$DIR/datanodes"
    local ready="reference-hdfs ready: Apache Hadoop $HADOOP_VERSION, nameservice hdfs://$NAMESERVICE; conf dir $CONF; active $active; zookeeper 127.0.0.1:$zk_port (pid $(pid_of zookeeper)); namenodes $nn_list; journalnodes $jn_list; datanodes $dn_list; started in $((SECONDS - t0)) s; logs in $DIR/logs; stop with: scripts/reference-hdfs.sh stop --dir $DIR"
    echo "$ready" >"$DIR/ready"
    echo "$ready"
}

# ---------------------------------------------------------------- add-datanode
# One more DataNode (the next number) in the running cluster of DIR, as an operator
# adds a machine; returns once both NameNodes see it live.
add_datanode() {
    [ -f "$DIR/cluster.env" ] && [ -f "$DIR/pids" ] || die "no running reference cluster in $DIR"
    local DN_HOSTS NN_HTTP FACTORY_DIR
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    CONF="$DIR/conf"
    DN_COUNT=$(($(wc -l <"$DIR/datanodes") + 1))
    local i=$DN_COUNT ports http
    [ "$DN_HOSTS" = 0 ] || [ "$i" -le 254 ] || die "no loopback address left for dn$i"
    read -r -a ports <<<"$(free_ports 3)" || die "no free loopback ports"
    start_datanode "$i" "${ports[0]}" "${ports[1]}" "${ports[2]}"
    read -r -a http <<<"$NN_HTTP"
    wait_until "dn$i live at both NameNodes" \
        'nn_serves "${http[0]}" && nn_serves "${http[1]}"' "dn$i"
    echo "reference-hdfs datanode: dn$i $(awk -v n="dn$i" '$1 == n { print $2 }' "$DIR/datanodes") (pid $(pid_of "dn$i"))"
}

# ---------------------------------------------------------------- main
[ $# -ge 1 ] || usage
action="$1"
shift
DIR="${TMPDIR:-/tmp}/hafs-reference-hdfs"
# `start --set KEY=VALUE`: extra hdfs-site.xml properties, after (so over) the script's.
EXTRA_SITE=()
DN_COUNT=3
DN_HOSTS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dir)
            [ $# -ge 2 ] || usage
            DIR="$2"
            shift 2
            ;;
        --set)
            [ $# -ge 2 ] || usage
            case "$2" in
                ?*=*) EXTRA_SITE+=("$2") ;;
                *) die "--set takes KEY=VALUE, not '$2'" ;;
            esac
            shift 2
            ;;
        --datanodes)
            [ $# -ge 2 ] || usage
            case "$2" in
                [1-9] | [1-9][0-9]) DN_COUNT="$2" ;;
                *) die "--datanodes takes a number from 1 to 99, not '$2'" ;;
            esac
            shift 2
            ;;
        --datanode-hosts)
            DN_HOSTS=1
            shift
            ;;
        *) usage ;;
    esac
done
case "$action" in
    fetch) fetch ;;
    start)
        mkdir -p "$DIR" && DIR="$(cd "$DIR" && pwd)"
        start
        ;;
    add-datanode) add_datanode ;;
    stop)
        [ -d "$DIR" ] || die "no reference cluster in $DIR"
        stop_all
        log "stopped the reference cluster in $DIR"
        ;;
    *) usage ;;
esac
