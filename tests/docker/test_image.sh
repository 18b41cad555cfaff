#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/docker/test_image.sh: builds docker/Dockerfile with podman from this repository alone (no registry: the
# Debian base image is made here with debootstrap + podman import), checks the image (user, entrypoint,
# healthcheck, volume, env, no toolchain), runs `mltrackd --version`, and where this machine lets containers
# run, starts one with data on a volume, checks /health and the health check, restarts and replaces the
# container and checks the data survived. Must not touch anything outside build-docker/ (podman's storage,
# run and temporary directories all live there and are removed at the end).
#   MT_DOCKER_KEEP=1      keep build-docker/ (base rootfs, storage) for the next run: faster local iteration
#   MT_DEBIAN_MIRROR=URL  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   MT_SKIP_DOCKER=1      skip this test altogether (says so)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/build-docker"
image="localhost/mltrackd:test"
base="localhost/debian-bookworm-minbase:local"
mirror="${MT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
t_start=$(date +%s)

say() { printf 'docker-test: %s\n' "$*"; }
fail() { printf 'docker-test: FAIL: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - t_start ))s"; }

if [ "${MT_SKIP_DOCKER:-0}" = "1" ]; then
  say "SKIPPED (MT_SKIP_DOCKER=1)"; exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root (rootful podman and debootstrap); run as root as CI does"; exit 0
fi

# ---- setup: podman, debootstrap and runc from Debian (the machine's own apt sources) ----
need=()
for p in podman debootstrap runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Everything podman keeps goes under build-docker/: storage, run state, temporary files, volumes.
if [ "${MT_DOCKER_KEEP:-0}" != "1" ] && [ -d "$work" ]; then
  podman --root "$work/storage" --runroot "$work/run" --tmpdir "$work/tmp" system reset --force >/dev/null 2>&1 || true
  rm -rf "$work"
fi
mkdir -p "$work/tmp" "$work/storage" "$work/run"
export TMPDIR="$work/tmp"
driver=overlay
glob_opts=()
pm() { podman "${glob_opts[@]}" --root "$work/storage" --runroot "$work/run" --tmpdir "$work/tmp" --storage-driver "$driver" \
         --cgroup-manager cgroupfs --events-backend file "$@"; }
if ! pm info >/dev/null 2>"$work/overlay.err"; then
  say "overlay storage refused ($(tail -1 "$work/overlay.err")); using vfs"
  driver=vfs
  pm info >/dev/null
fi

cleanup() {
  set +e
  pm rm -a -f -t 0 >>"$work/podman.log" 2>&1
  if [ "${MT_DOCKER_KEEP:-0}" != "1" ]; then
    pm system reset --force >>"$work/podman.log" 2>&1
    # Whatever podman left mounted under build-docker/ (it must not outlive the test).
    grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount "$m" || umount -l "$m"; done
    rm -rf "$work" || say "could not remove $work: $(tail -3 "$work/podman.log" 2>/dev/null)"
  fi
}
trap cleanup EXIT

# ---- the base image, made locally ----
if ! pm image exists "$base"; then
  say "debootstrap --variant=minbase bookworm ($mirror)"
  rm -rf "$work/rootfs"
  # One retry: a mirror hiccup should not fail CI.
  if ! debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    say "debootstrap failed ($(tail -1 "$work/debootstrap.log")); retrying once"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -20 "$work/debootstrap.log"; fail "debootstrap failed twice"; }
  fi
  # As debian:bookworm-slim: no downloaded packages or lists, and dpkg's settings of Debian's container images
  # (no docs, man pages or locales unpacked; unsafe-io, since an image build is redone, not recovered).
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/*
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    'path-include /usr/share/locale/locale.alias' >"$work/rootfs/etc/dpkg/dpkg.cfg.d/docker"
  echo force-unsafe-io >"$work/rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  echo 'Acquire::Retries "3";' >"$work/rootfs/etc/apt/apt.conf.d/80-retries"
  tar -C "$work/rootfs" -c . | pm import - "$base" >"$work/import.log" 2>&1 || { cat "$work/import.log"; fail "podman import failed"; }
  rm -rf "$work/rootfs"
  say "base image imported ($(elapsed))"
fi

# ---- the build, from the repository alone ----
# chroot isolation runs the RUN steps without an OCI runtime, so the build works even where this sandbox
# refuses containers (crun/runc setrlimit and cgroup errors); RUN steps share the host's network for apt.
say "podman build docker/Dockerfile"
if ! pm build --isolation=chroot --format docker --build-arg "BASE_IMAGE=$base" -f "$repo/docker/Dockerfile" \
     -t "$image" "$repo" >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log"; fail "podman build failed"
fi
say "image built ($(elapsed))"

# ---- inspect ----
insp() { pm image inspect --format "$1" "$image"; }
[ "$(insp '{{.Config.User}}')" = "mltrackd:mltrackd" ] || fail "image user is '$(insp '{{.Config.User}}')'"
[ "$(insp '{{json .Config.Entrypoint}}')" = '["/usr/local/bin/mltrackd"]' ] ||
  fail "entrypoint is $(insp '{{json .Config.Entrypoint}}')"
hc="$(insp '{{json .Config.Healthcheck}}')"
case "$hc" in *'/health'*) ;; *) fail "no HEALTHCHECK on /health: $hc" ;; esac
case "$(insp '{{json .Config.Volumes}}')" in *'"/data"'*) ;; *) fail "no /data volume" ;; esac
envs="$(insp '{{json .Config.Env}}')"
for e in MLTRACKD_BACKEND_STORE_URI=sqlite:////data/mltrackd.db MLTRACKD_ARTIFACTS_DESTINATION=/data/artifacts \
         MLTRACKD_HOST=0.0.0.0 MLTRACKD_PORT=5000; do
  case "$envs" in *"\"$e\""*) ;; *) fail "image env lacks $e: $envs" ;; esac
done
# The runtime stage holds the shared libraries only: no compiler, no headers. Read from the image's files.
mnt="$(pm image mount "$image")"
[ -x "$mnt/usr/local/bin/mltrackd" ] || fail "no /usr/local/bin/mltrackd in the image"
for f in usr/bin/gcc usr/bin/cc usr/bin/cmake usr/include/microhttpd.h usr/include/sqlite3.h; do
  [ ! -e "$mnt/$f" ] || fail "the runtime image contains build tool $f"
done
grep -q '^mltrackd:x:10001:10001:' "$mnt/etc/passwd" || fail "no mltrackd user (uid 10001) in /etc/passwd"
[ "$(stat -c %u "$mnt/data")" = 10001 ] || fail "/data is not owned by the mltrackd user"
# The binary and its shared libraries, from the image's own root (no container runtime needed).
chroot_version="$(chroot "$mnt" /usr/local/bin/mltrackd --version)" || fail "mltrackd --version fails in the image root"
pm image umount "$image" >/dev/null
size="$(insp '{{.Size}}')"
say "inspected: user mltrackd (10001), entrypoint, HEALTHCHECK on /health, VOLUME /data, env, no toolchain;" \
    "size $((size / 1024 / 1024)) MiB; chroot: $chroot_version"

# ---- can containers run here? ----
# This sandbox has been seen to refuse crun's and runc's setrlimit (no CAP_SYS_RESOURCE: podman raises
# RLIMIT_NOFILE/NPROC above the hard limits) and crun's cgroup setup (cgroup v1 + v2 hybrid). Try podman's
# defaults first, then runc with limits at or below the current ones.
hard_nofile="$(ulimit -Hn)"
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
# Each candidate: global podman options | run options.
limits="--ulimit=nofile=$hard_nofile:$hard_nofile --ulimit=nproc=4096:4096"
candidates=("|" "--runtime=runc|$limits" "--runtime=crun|--cgroups=disabled $limits")
glob_opts=() run_opts=() run_err="" out=""
for c in "${candidates[@]}"; do
  read -r -a g <<<"${c%%|*}"
  read -r -a r <<<"${c#*|}"
  if out="$(pm "${g[@]}" run --rm "${r[@]}" "$image" --version 2>"$work/run.err")"; then
    glob_opts=("${g[@]}") run_opts=("${r[@]}") run_err=""
    break
  fi
  run_err="${c/|/ } -> $(tail -1 "$work/run.err")"
done
if [ -n "$run_err" ]; then
  say "SKIPPED the container run part: no podman configuration can run a container on this machine;" \
      "last error: $run_err"
  say "PASS (build + inspect + chroot --version only) in $(elapsed)"
  exit 0
fi
say "podman run $image --version: $out (options: ${glob_opts[*]} ${run_opts[*]})"
case "$out" in "mltrackd "*) ;; *) fail "unexpected --version output: $out" ;; esac

# ---- a container with data on a volume: /health, health check, restart, replacement ----
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
pm volume create mt-test-data >/dev/null
# --health-interval=disable: podman would schedule the checks with systemd timers, which this machine may not
# have; the check itself stays in the container and is run below with `podman healthcheck run`.
start() { # start NAME
  pm run -d --name "$1" "${run_opts[@]}" --health-interval=disable --network=host -e "MLTRACKD_PORT=$port" \
    -v mt-test-data:/data "$image" >>"$work/podman.log" 2>&1 || { tail -5 "$work/podman.log"; fail "podman run $1"; }
}
wait_health() { # wait_health NAME
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$url/health" 2>/dev/null && return 0
    [ "$(pm inspect -f '{{.State.Running}}' "$1")" = true ] || { pm logs "$1" | tail -20; fail "$1 exited"; }
    sleep 0.1
  done
  pm logs "$1" | tail -20; fail "$1 did not answer /health in 15 s"
}
api() { curl -fsS -H 'Content-Type: application/json' "$@"; }
start mt-test-a
wait_health mt-test-a
[ "$(curl -fsS "$url/health")" = OK ] || fail "/health did not answer OK"
[ "$(pm exec mt-test-a id -u)" = 10001 ] || fail "the server does not run as uid 10001"
exp_id="$(api -d '{"name":"docker-volume-test"}' "$url/api/2.0/mlflow/experiments/create" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')"
run_id="$(api -d "{\"experiment_id\":\"$exp_id\"}" "$url/api/2.0/mlflow/runs/create" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')"
api -d "{\"run_id\":\"$run_id\",\"key\":\"loss\",\"value\":0.25,\"timestamp\":1,\"step\":3}" \
  "$url/api/2.0/mlflow/runs/log-metric" >/dev/null
curl -fsS -X PUT --data-binary 'hello from the volume' \
  "$url/api/2.0/mlflow-artifacts/artifacts/$exp_id/$run_id/artifacts/note.txt" >/dev/null
pm healthcheck run mt-test-a >>"$work/podman.log" 2>&1 || fail "podman healthcheck run: unhealthy"
check_data() {
  local got
  got="$(curl -fsS "$url/api/2.0/mlflow/experiments/get-by-name?experiment_name=docker-volume-test" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])')"
  [ "$got" = "$exp_id" ] || fail "after $1: experiment id $got, expected $exp_id"
  got="$(curl -fsS "$url/api/2.0/mlflow/runs/get?run_id=$run_id" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["data"]["metrics"][0]["value"])')"
  [ "$got" = 0.25 ] || fail "after $1: metric $got, expected 0.25"
  got="$(curl -fsS "$url/api/2.0/mlflow-artifacts/artifacts/$exp_id/$run_id/artifacts/note.txt")"
  [ "$got" = "hello from the volume" ] || fail "after $1: artifact reads '$got'"
}
check_data "the first start"
pm restart -t 10 mt-test-a >>"$work/podman.log" 2>&1
wait_health mt-test-a
check_data "podman restart"
pm rm -f -t 10 mt-test-a >>"$work/podman.log" 2>&1
start mt-test-b
wait_health mt-test-b
check_data "a new container on the same volume"
pm stop -t 10 mt-test-b >>"$work/podman.log" 2>&1
[ "$(pm inspect -f '{{.State.ExitCode}}' mt-test-b)" = 0 ] || fail "mltrackd did not exit 0 on SIGTERM"
say "container run: /health OK, healthy, uid 10001, data survived a restart and a new container"
say "PASS in $(elapsed)"
