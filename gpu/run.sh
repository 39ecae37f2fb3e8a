#!/usr/bin/env bash
# One prepared run of grad4j's OpenCL backend on this machine: build, list the OpenCL devices,
# run the OpenCL tests with -Dgrad4j.requireOpenCl=true (a skip or a fallback to Aparapi's Java
# thread pool fails them), then benchmarks against the cpu backend. Everything printed goes to the
# terminal and to a results file (gpu/results-<host>-<UTC time>.txt, or $RESULTS).
#
#   gpu/run.sh                       # from anywhere; needs java 17+, mvn, an OpenCL driver (ICD)
#   SKIP_BUILD=1 gpu/run.sh          # reuse target/grad4j.jar (the tests still need mvn)
#   MVN_FLAGS=-o gpu/run.sh          # offline Maven (dependencies already in ~/.m2)
#   GRAD4J_OPENCL_DEVICE=1 gpu/run.sh  # -Dgrad4j.opencl.device=1 (index or name part; default: first GPU)
#   MATMUL_SIZES="512 1024" gpu/run.sh # matmul sizes (default 256..2048 with a GPU, else 128 256 512)
#
# Exit status: 0 when every step passed; 3 when no OpenCL device is usable; otherwise the status of
# the first failed step (124 when a step ran past its timeout). Later steps still run after a
# failed benchmark, not after a failed build or device check.
#
# About 2-3 minutes on a GPU machine with a warm Maven cache; about 4 minutes on PoCL with 2 cores.
# Each step has its own timeout (seconds, generous for PoCL); their sum stays under 10 minutes
# apart from the build.
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS=${RESULTS:-gpu/results-$(hostname)-$(date -u +%Y%m%dT%H%M%SZ).txt}
MVN_FLAGS=${MVN_FLAGS:-}
JAVA_OPTS=(--add-modules jdk.incubator.vector)
if [[ -n ${GRAD4J_OPENCL_DEVICE:-} ]]; then JAVA_OPTS+=("-Dgrad4j.opencl.device=$GRAD4J_OPENCL_DEVICE"); fi
JAR=target/grad4j.jar
status=0

exec > >(tee "$RESULTS") 2>&1

# step NAME TIMEOUT_S COMMAND...: runs one step under a timeout, prints its time and status.
step() {
    local name=$1 limit=$2
    shift 2
    echo
    echo "=== $name (timeout ${limit}s) $(date -u +%H:%M:%S)"
    local t0=$SECONDS rc=0
    timeout --kill-after=10 "$limit" "$@" || rc=$?
    echo "=== $name: exit $rc after $((SECONDS - t0)) s"
    if ((rc != 0 && status == 0)); then status=$rc; fi
    return $rc
}

echo "grad4j OpenCL run on $(hostname), $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
java -version 2>&1 | head -1
command -v nvidia-smi >/dev/null && nvidia-smi -L || true
command -v clinfo >/dev/null && clinfo -l || echo "clinfo not installed (optional)"

if [[ -z ${SKIP_BUILD:-} ]]; then
    step "build (mvn package -DskipTests)" 600 mvn -B -q $MVN_FLAGS package -DskipTests || exit $status
fi

if ! step "OpenCL devices" 60 java "${JAVA_OPTS[@]}" -jar "$JAR" devices; then
    echo "No usable OpenCL device: install a driver (see gpu/README.md) and check with 'clinfo -l'."
    exit 3
fi

# The OpenCL tests print the reference vs opencl losses and the bytes moved per training step.
rm -rf target/surefire-reports
step "OpenCL tests (requireOpenCl)" 420 mvn -B -q $MVN_FLAGS test -Dtest='OpenCl*,PoolAllocatorTest' \
    -Dsurefire.failIfNoSpecifiedTests=false -Dgrad4j.requireOpenCl=true \
    ${GRAD4J_OPENCL_DEVICE:+-Dtest.argLine=-Dgrad4j.opencl.device=$GRAD4J_OPENCL_DEVICE} || true
for f in target/surefire-reports/TEST-*.xml; do # mvn -q prints failures only: the counts per class
    [[ -e $f ]] && sed -n 's/.*<testsuite [^>]*name="io.github.grad4j.\([^"]*\)" time="\([^"]*\)" tests="\([^"]*\)" errors="\([^"]*\)" skipped="\([^"]*\)" failures="\([^"]*\)".*/  \1: \3 tests, \6 failures, \4 errors, \5 skipped, \2 s/p' "$f"
done

# matmul GFLOP/s: opencl simple and tiled kernels vs the cpu backend (and the reference up to 512),
# plus the time and bytes of one execute. On a CPU OpenCL device (PoCL) n = 1024 takes minutes.
if [[ -z ${MATMUL_SIZES:-} ]]; then
    if grep -q '| GPU |' "$RESULTS"; then MATMUL_SIZES="256 512 1024 2048"; else MATMUL_SIZES="128 256 512"; fi
fi
step "matmul benchmark (n = $MATMUL_SIZES)" 240 java "${JAVA_OPTS[@]}" -cp "$JAR" io.github.grad4j.backend.opencl.OpenClBench $MATMUL_SIZES || true

# `bench gpt2-step` takes no device: it always measures the cpu backend (its baselines are the
# composite ops and the reference backend). The same step on OpenCL, with transfers per step, is
# OpenClBench's gpt2 mode; `bench gpt2-step --quick --no-baseline` gives the cpu figure with a
# per-kernel profile. (`bench gpt2-train --device opencl` is not used: Gpt2Trainer saves a
# checkpoint whose FLOAT64 learning-rate scalar the opencl backend refuses.)
step "GPT-2 training step, opencl vs cpu, transfers" 180 java "${JAVA_OPTS[@]}" -cp "$JAR" io.github.grad4j.backend.opencl.OpenClBench gpt2 5 || true
step "bench gpt2-step --quick (cpu backend only)" 120 java "${JAVA_OPTS[@]}" -jar "$JAR" bench gpt2-step --quick --no-baseline --steps 5 --warmup 5 || true

# A Conv-4 prototypical-network episode (forward, backward, Adam); `bench fewshot` takes --device.
for device in opencl cpu; do
    step "bench fewshot --device $device (5-way 5-shot, 32 filters)" 120 java "${JAVA_OPTS[@]}" -jar "$JAR" bench fewshot \
        --device "$device" --filters 32 --steps 3 || true
done

echo
echo "results: $RESULTS; exit status $status"
exit $status
