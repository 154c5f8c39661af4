# bench/lib.sh — helpers for whole-tool benchmarks; sourced by bench/run.
#
#   need_apt PKG…            install Debian packages that are missing (root)
#   build_sonde              build sonde with CGO_ENABLED=0; sets $SONDE
#   time_cmd CMD…            run CMD (output to /dev/null), echo seconds taken
#   median N…                echo the median of the numbers
#   compare ROUNDS L1 C1 L2 C2   run C1 and C2 (shell strings) alternately,
#                            ROUNDS times each, starting with each in turn;
#                            print both medians and C2/C1; sets MED1 MED2 RATIO
#   record TEXT              append TEXT under a dated heading to RESULTS.md
#   lab_up TOPOLOGY [FLAGS…] build a lab for this run (torn down on exit);
#                            sets $LAB
#   lab_exec NODE CMD…       run CMD inside NODE of that lab
#   gen_capture N            make (once) bench/gen's capture of N packets, in
#                            the page cache; echo its path
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
WORK=$BENCH_DIR/work
mkdir -p "$WORK"
GO=$(command -v go || echo /usr/local/go/bin/go)

need_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "bench: missing packages ${missing[*]} (run as root to install them)" >&2; exit 1; fi
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_sonde() {
  (cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$WORK/sonde" ./cmd/sonde)
  SONDE=$WORK/sonde
}

time_cmd() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "bench: command failed: $*" >&2; return 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l | awk '{printf "%.4f\n", $1}'
}

median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'
}

compare() {
  local rounds=$1 l1=$2 c1=$3 l2=$4 c2=$5 i t1s=() t2s=()
  for ((i = 0; i < rounds; i++)); do
    if ((i % 2 == 0)); then
      t1s+=("$(time_cmd bash -c "$c1")"); t2s+=("$(time_cmd bash -c "$c2")")
    else
      t2s+=("$(time_cmd bash -c "$c2")"); t1s+=("$(time_cmd bash -c "$c1")")
    fi
  done
  MED1=$(median "${t1s[@]}")
  MED2=$(median "${t2s[@]}")
  RATIO=$(echo "$MED2 / $MED1" | bc -l | awk '{printf "%.2f", $1}')
  printf '%-40s median %8.4f s  (%s)\n' "$l1" "$MED1" "${t1s[*]}"
  printf '%-40s median %8.4f s  (%s)\n' "$l2" "$MED2" "${t2s[*]}"
  printf '%-40s %s× the time of %s\n' "ratio" "$RATIO" "$l1"
}

record() {
  local f=$BENCH_DIR/RESULTS.md
  [ -f "$f" ] || printf '# Benchmark results\n\nAppended by `bench/run NAME`; newest last. Ratios are measured in one run, peer and sonde alternating.\n' >"$f"
  {
    printf '\n## %s — %s — %s, %s cores, %s\n\n' "$BENCH_NAME" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -r)" "$(nproc)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    printf '%s\n' "$*"
  } >>"$f"
}

LAB=""
LAB_PID=""
lab_up() {
  [ -n "${SONDE:-}" ] || build_sonde
  LAB=b$$
  "$SONDE" lab up "$@" --name "$LAB" >"$WORK/lab-$LAB.log" 2>&1 &
  LAB_PID=$!
  trap lab_cleanup EXIT
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q "lab $LAB is up" "$WORK/lab-$LAB.log" 2>/dev/null && return 0
    kill -0 "$LAB_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/lab-$LAB.log" >&2
  echo "bench: lab $* did not come up" >&2
  exit 1
}

lab_cleanup() {
  [ -n "$LAB" ] && "$SONDE" lab down "$LAB" >/dev/null 2>&1 || true
}

lab_exec() {
  local node=$1
  shift
  "$SONDE" lab exec --lab "$LAB" "$node" -- "$@"
}

gen_capture() {
  # The file's name carries a hash of the generator: a changed generator
  # makes a new file.
  local pcap
  pcap=$WORK/mix-$1-$(md5sum <"$ROOT/bench/gen/main.go" | cut -c1-8).pcap
  if [ ! -s "$pcap" ]; then
    echo "generating $pcap ($1 packets)" >&2
    (cd "$ROOT" && "$GO" run ./bench/gen -n "$1" -o "$pcap") >&2
  fi
  cat "$pcap" >/dev/null # into the page cache
  echo "$pcap"
}
