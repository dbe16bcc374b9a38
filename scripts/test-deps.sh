#!/usr/bin/env bash
# Installs everything the hafs test suite needs that is not a Rust crate:
#   (a) Debian packages (sshd, ZooKeeper, the MIT Kerberos KDC and tools),
#   (b) the Hadoop 3.5.0 Java client jars, taken from the PySpark 4.3.0 sdist, and
#       jaxrs-shim.jar beside them (the JAX-RS runtime class webhdfs:// needs),
#   (c) a Python venv with hdfs-native, prometheus-client, HdfsCLI and fsspec (pinned),
#   (d) cargo-nextest, the test runner (pinned, built from crates.io once),
#   (e) Apache Hadoop 3.5.0 itself (hadoop-hdfs, hadoop-common and their dependencies,
#       from Maven Central with mvn), the reference HDFS cluster that
#       scripts/reference-hdfs.sh starts beside hafs and the real `hdfs` tools
#       (scripts/hdfs) run from, and Hadoop's FileSystem contract suites with JUnit 5,
#   (f) npm's playwright-core (pinned), which drives Debian's Chromium in the web UI test.
# Everything is cached outside the repo under ${HAFS_CACHE:-$HOME/.cache/hafs}, and every
# step checks its own result first, so running this again is cheap and changes nothing.
set -euo pipefail

HAFS_CACHE="${HAFS_CACHE:-$HOME/.cache/hafs}"
JARS_DIR="$HAFS_CACHE/hadoop-jars"
VENV_DIR="$HAFS_CACHE/venv"
PYSPARK_VERSION="4.3.0"
# Pinned so a new hdfs-native release cannot change what the interop tests exercise
# unnoticed; raise it on purpose (0.14.7 is the first with hsync and the retry fixes
# the tests rely on).
HDFS_NATIVE_VERSION="0.14.7"
# The Prometheus text-format parser the /prom tests check the output with.
PROMETHEUS_CLIENT_VERSION="0.26.0"
# The WebHDFS clients the webhdfs tests drive: HdfsCLI (PyPI `hdfs`) and fsspec.
HDFSCLI_VERSION="2.7.3"
FSSPEC_VERSION="2026.9.0"
NEXTEST_VERSION="0.9.151"
# The browser driver of the web UI test (needs Node >= 20; drives the system Chromium).
PLAYWRIGHT_CORE_VERSION="1.65.2"
NPM_DIR="$HAFS_CACHE/npm"
TOOLS_DIR="$HAFS_CACHE/cargo-tools"
# Hadoop's shaded client plus the logging jars it needs at runtime. Globs are matched
# against pyspark-<version>/deps/jars/ inside the sdist.
JAR_GLOBS=(
    "hadoop-client-api-*.jar"
    "hadoop-client-runtime-*.jar"
    "slf4j-api-*.jar"
    "log4j-api-*.jar"
    "log4j-core-*.jar"
    "log4j-slf4j2-impl-*.jar"
    "log4j-1.2-api-*.jar"
)
# Debian packages the tests need.
# openssh-server/-client and psmisc (fuser): the sshfence test runs its own sshd.
# zookeeper: the ZooKeeper election tests start a standalone server (jars under
# /usr/share/zookeeper).
# krb5-kdc, krb5-admin-server (kadmin.local, kdb5_util) and krb5-user (kinit, kvno): the
# Kerberos tests run a throwaway MIT KDC on loopback (crates/cluster/src/kdc.rs); the
# GSSAPI library they exercise, libgssapi_krb5.so.2, comes with these too.
# maven: fetches Apache Hadoop for the reference HDFS cluster (step e).
# chromium and a font: the web UI test drives a real headless browser (step f) and saves
# screenshots a person can read.
DEB_PACKAGES=(openssh-server openssh-client psmisc zookeeper krb5-kdc krb5-admin-server krb5-user maven chromium fonts-dejavu-core)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "test-deps: $*"; }
die() {
    echo "test-deps: ERROR: $*" >&2
    exit 1
}

mkdir -p "$HAFS_CACHE" || die "cannot create cache dir $HAFS_CACHE"

# ---------------------------------------------------------------- (a) Debian packages
install_debs() {
    local missing=()
    local pkg
    for pkg in "${DEB_PACKAGES[@]+"${DEB_PACKAGES[@]}"}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "debian packages: nothing to install (${#DEB_PACKAGES[@]} required)"
        return
    fi
    log "debian packages: installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
        sudo="sudo"
    fi
    $sudo apt-get update -q || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------- (b) Hadoop client jars
jars_complete() {
    local glob
    for glob in "${JAR_GLOBS[@]}"; do
        # shellcheck disable=SC2086
        compgen -G "$JARS_DIR/$glob" >/dev/null || return 1
    done
    return 0
}

install_jars() {
    local marker="$JARS_DIR/.complete-pyspark-$PYSPARK_VERSION"
    if [ -f "$marker" ] && jars_complete; then
        log "hadoop jars: cached in $JARS_DIR"
        return
    fi
    command -v java >/dev/null || die "java is not installed (need a JRE 17+ for the Hadoop client)"
    local dl="$HAFS_CACHE/download"
    mkdir -p "$dl"
    local sdist="$dl/pyspark-$PYSPARK_VERSION.tar.gz"
    if [ ! -f "$sdist" ]; then
        log "hadoop jars: downloading the pyspark==$PYSPARK_VERSION sdist (large, once)"
        python3 -m pip download --quiet --no-deps --no-binary :all: \
            --dest "$dl" "pyspark==$PYSPARK_VERSION" \
            || die "pip download pyspark==$PYSPARK_VERSION failed"
        [ -f "$sdist" ] || die "pip download did not produce $sdist (found: $(ls "$dl"))"
    fi
    log "hadoop jars: extracting from $sdist"
    local patterns=()
    local glob
    for glob in "${JAR_GLOBS[@]}"; do
        patterns+=("pyspark-$PYSPARK_VERSION/deps/jars/$glob")
    done
    local staging="$dl/extract"
    rm -rf "$staging"
    mkdir -p "$staging"
    tar -xzf "$sdist" -C "$staging" --wildcards "${patterns[@]}" \
        || die "extracting jars from $sdist failed (is the sdist corrupt? delete it and rerun)"
    rm -rf "$JARS_DIR"
    mkdir -p "$JARS_DIR"
    mv "$staging/pyspark-$PYSPARK_VERSION/deps/jars/"*.jar "$JARS_DIR/"
    rm -rf "$staging"
    jars_complete || die "jar set in $JARS_DIR is incomplete: $(ls "$JARS_DIR")"
    # The jars are all we need; drop the sdist and remember that extraction finished.
    rm -f "$sdist"
    touch "$marker"
    log "hadoop jars: installed $(ls "$JARS_DIR" | tr '\n' ' ')"
}

# ---------------------------------------------------------------- (c) Python venv
# The shaded Hadoop 3.5.0 client parses WebHDFS replies' Content-Type with JAX-RS but
# ships no JAX-RS runtime; crates/tests/java/jaxrs-shim/ is the one class it needs.
# Rebuilt when its source changes (the source's sha256 is kept beside the jar).
install_jaxrs_shim() {
    local src="$SCRIPT_DIR/../crates/tests/java/jaxrs-shim/MediaTypeRuntimeDelegate.java"
    # The jar is current when the source it was built from (kept beside it) is the
    # checkout's, byte for byte; the tests compare the same two files.
    local jar="$JARS_DIR/jaxrs-shim.jar" built_from="$JARS_DIR/jaxrs-shim.java"
    [ -f "$src" ] || die "jaxrs shim source missing: $src"
    if [ -f "$jar" ] && cmp -s "$src" "$built_from"; then
        log "jaxrs shim: cached in $jar"
        return
    fi
    command -v javac >/dev/null || die "javac is not installed (a JDK 17 is needed for the jaxrs shim)"
    command -v jar >/dev/null || die "jar is not installed (a JDK 17 is needed for the jaxrs shim)"
    local build
    build="$(mktemp -d)"
    mkdir -p "$build/META-INF/services"
    javac -cp "$JARS_DIR/*" -d "$build" "$src" || die "javac of $src failed"
    echo hafs.testshim.MediaTypeRuntimeDelegate \
        >"$build/META-INF/services/org.apache.hadoop.shaded.javax.ws.rs.ext.RuntimeDelegate"
    (cd "$build" && jar cf "$build.jar" .) || die "jar of the jaxrs shim failed"
    mv "$build.jar" "$jar"
    cp "$src" "$built_from"
    rm -f "$JARS_DIR/jaxrs-shim.sha256"
    rm -rf "$build"
    log "jaxrs shim: built $jar"
}

install_venv() {
    local py="$VENV_DIR/bin/python"
    local have=""
    if [ -x "$py" ]; then
        have="$("$py" -m pip show hdfs-native 2>/dev/null | sed -n 's/^Version: //p')"
    fi
    local prom=""
    if [ -x "$py" ]; then
        prom="$("$py" -m pip show prometheus-client 2>/dev/null | sed -n 's/^Version: //p')"
    fi
    local hdfscli="" fsspec=""
    if [ -x "$py" ]; then
        hdfscli="$("$py" -m pip show hdfs 2>/dev/null | sed -n 's/^Version: //p')"
        fsspec="$("$py" -m pip show fsspec 2>/dev/null | sed -n 's/^Version: //p')"
    fi
    if [ "$have" = "$HDFS_NATIVE_VERSION" ] && [ "$prom" = "$PROMETHEUS_CLIENT_VERSION" ] \
        && [ "$hdfscli" = "$HDFSCLI_VERSION" ] && [ "$fsspec" = "$FSSPEC_VERSION" ] \
        && "$py" -c "import hdfs_native, prometheus_client.parser, hdfs, fsspec" 2>/dev/null; then
        log "python venv: cached in $VENV_DIR (hdfs-native $have, prometheus-client $prom, hdfs $hdfscli, fsspec $fsspec)"
        return
    fi
    log "python venv: installing hdfs-native==$HDFS_NATIVE_VERSION prometheus-client==$PROMETHEUS_CLIENT_VERSION hdfs==$HDFSCLI_VERSION fsspec==$FSSPEC_VERSION in $VENV_DIR (had: ${have:-none}, ${prom:-none}, ${hdfscli:-none}, ${fsspec:-none})"
    [ -x "$py" ] || python3 -m venv "$VENV_DIR" || die "python3 -m venv $VENV_DIR failed"
    "$py" -m pip install --quiet "hdfs-native==$HDFS_NATIVE_VERSION" \
        "prometheus-client==$PROMETHEUS_CLIENT_VERSION" "hdfs==$HDFSCLI_VERSION" \
        "fsspec==$FSSPEC_VERSION" \
        || die "pip install hdfs-native==$HDFS_NATIVE_VERSION prometheus-client==$PROMETHEUS_CLIENT_VERSION hdfs==$HDFSCLI_VERSION fsspec==$FSSPEC_VERSION failed"
    "$py" -c "import hdfs_native, prometheus_client.parser, hdfs, fsspec" \
        || die "hdfs_native, prometheus_client, hdfs or fsspec does not import in $VENV_DIR"
    log "python venv: ready (hdfs-native $HDFS_NATIVE_VERSION, prometheus-client $PROMETHEUS_CLIENT_VERSION, hdfs $HDFSCLI_VERSION, fsspec $FSSPEC_VERSION)"
}

# ---------------------------------------------------------------- (d) cargo-nextest
install_nextest() {
    local bin="$TOOLS_DIR/bin/cargo-nextest"
    if [ -x "$bin" ] && "$bin" nextest --version 2>/dev/null | grep -q "$NEXTEST_VERSION"; then
        log "cargo-nextest: cached in $TOOLS_DIR ($NEXTEST_VERSION)"
        return
    fi
    command -v cargo >/dev/null || die "cargo is not installed"
    log "cargo-nextest: building $NEXTEST_VERSION into $TOOLS_DIR (once, a few minutes)"
    cargo install --quiet --locked --root "$TOOLS_DIR" --version "$NEXTEST_VERSION" cargo-nextest \
        || die "cargo install cargo-nextest $NEXTEST_VERSION failed"
    "$bin" nextest --version >/dev/null || die "cargo-nextest does not run from $bin"
}

# ---------------------------------------------------------------- (e) Apache Hadoop
# scripts/reference-hdfs.sh owns the fetch (the POM, the cache layout, the marker), so
# that it can be run alone; it is idempotent and fails loudly on its own.
install_reference_hdfs() {
    if ! HAFS_CACHE="$HAFS_CACHE" bash "$SCRIPT_DIR/reference-hdfs.sh" fetch 2>&1 | sed 's/^/test-deps: /'; then
        die "scripts/reference-hdfs.sh fetch failed (see above)"
    fi
}

# ---------------------------------------------------------------- (f) playwright-core
install_playwright() {
    local have=""
    if [ -f "$NPM_DIR/node_modules/playwright-core/package.json" ]; then
        have="$(node -p "require('$NPM_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
    fi
    if [ "$have" = "$PLAYWRIGHT_CORE_VERSION" ]; then
        log "playwright-core: cached in $NPM_DIR ($have)"
        return
    fi
    command -v npm >/dev/null || die "npm is not installed (need Node >= 20 for playwright-core)"
    command -v chromium >/dev/null || die "chromium is not installed (a Debian package of step a)"
    log "playwright-core: installing $PLAYWRIGHT_CORE_VERSION in $NPM_DIR (had: ${have:-none})"
    mkdir -p "$NPM_DIR"
    (cd "$NPM_DIR" && npm install --silent --no-audit --no-fund --no-save "playwright-core@$PLAYWRIGHT_CORE_VERSION") \
        || die "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"
    node -e "require('$NPM_DIR/node_modules/playwright-core')" \
        || die "playwright-core does not load from $NPM_DIR"
}

install_debs
install_jars
install_jaxrs_shim
install_venv
install_nextest
install_reference_hdfs
install_playwright
log "done; cache is $HAFS_CACHE"
