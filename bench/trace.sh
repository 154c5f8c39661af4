# bench/trace.sh — sonde trace against Linux traceroute and mtr, in labs.
#
#  1. Speed: a chain of 6 routers (ICMP rate limits off, so both tools see
#     every answer), UDP, ICMP and TCP, then with a silent router (r3):
#     traceroute -n against sonde trace -n, alternating, medians and ratio.
#     Also the floor: the same lab exec running `sonde version`, which does
#     nothing but start the binary (the trace itself takes under 1 ms of
#     the total in this lab: see trace.Result.Elapsed).
#     Each comparison twice: through `sonde lab exec` per run (compare: the
#     wrapper, itself a start of sonde, counts in both tools' times), and
#     in the node (innode: one loop inside the client node runs both tools
#     alternately, ROUNDS_IN times each, and times each run with bash's
#     $EPOCHREALTIME: the tools' own times, a fork and exec of each
#     included). Start-up alone: `sonde version` against
#     `traceroute --version`, the same way.
#  2. Rate limits: the same chain with the kernel's default ICMP rate limits,
#     RUNS traces back to back with -q 3 by each tool: how many stars each
#     shows (every hop answers, so every star is false); then
#     mtr -n -r -c 10 against sonde trace --report 10: loss per hop.
need_apt traceroute mtr-tiny bc
build_sonde
ROUNDS=${ROUNDS:-11}
ROUNDS_IN=${ROUNDS_IN:-101}
RUNS=${RUNS:-20}
FAR=198.18.200.1
rows=""

# innode L1 C1 L2 C2: C1 and C2 (simple commands, split on spaces) run in
# the client node by one bash loop, alternately, ROUNDS_IN times each,
# starting with each in turn; prints both medians and C2/C1 and sets IN1 IN2
# (milliseconds) and INRATIO.
innode() {
  local out
  # Both must work: a failing command would be timed as a fast one.
  lab_exec client bash -c "$2 && $4" >/dev/null 2>&1 || { echo "bench: in the node, '$2' or '$4' fails" >&2; exit 1; }
  # shellcheck disable=SC2016
  out=$(lab_exec client bash -c '
    n=$1 c1=$2 c2=$3 a=() b=()
    run() { local t0=$EPOCHREALTIME; $1 >/dev/null 2>&1; local t1=$EPOCHREALTIME; echo $((${t1/./} - ${t0/./})); }
    for ((i = 0; i < n; i++)); do
      if ((i % 2 == 0)); then a+=("$(run "$c1")"); b+=("$(run "$c2")")
      else b+=("$(run "$c2")"); a+=("$(run "$c1")"); fi
    done
    med() { printf "%s\n" "$@" | sort -n | awk "{v[NR] = \$1} END {printf \"%.3f\", v[int((NR + 1) / 2)] / 1000}"; }
    echo "$(med "${a[@]}") $(med "${b[@]}")"' _ "$ROUNDS_IN" "$2" "$4")
  read -r IN1 IN2 <<<"$out"
  INRATIO=$(echo "$IN2 / $IN1" | bc -l | awk '{printf "%.2f", $1}')
  printf '%-40s median %8.3f ms (in the node, %s runs)\n' "$1" "$IN1" "$ROUNDS_IN"
  printf '%-40s median %8.3f ms (in the node, %s runs)\n' "$3" "$IN2" "$ROUNDS_IN"
  printf '%-40s %s× the time of %s\n' "ratio" "$INRATIO" "$1"
}

lab_up chain --routers 6 --icmp-ratelimit off --services none
for m in "" -I -T; do
  label=${m:--U}
  echo "chain, 6 routers, $label: $ROUNDS rounds"
  compare "$ROUNDS" "traceroute -n $label" "$SONDE lab exec --lab $LAB client -- traceroute -n $m $FAR" \
    "sonde trace -n $label" "$SONDE lab exec --lab $LAB client -- $SONDE trace -n $m $FAR"
  rows+="| chain 6 routers, $label, each run through lab exec | traceroute $MED1 s | sonde $MED2 s | $RATIO |
"
  innode "traceroute -n $label" "traceroute -n $m $FAR" "sonde trace -n $label" "$SONDE trace -n $m $FAR"
  rows+="| chain 6 routers, $label, in the node | traceroute $IN1 ms | sonde $IN2 ms | $INRATIO |
"
done
echo "startup floor: $ROUNDS rounds"
compare "$ROUNDS" "traceroute -n -U" "$SONDE lab exec --lab $LAB client -- traceroute -n $FAR" \
  "sonde version (start, no trace)" "$SONDE lab exec --lab $LAB client -- $SONDE version"
rows+="| startup floor: sonde version (no trace), through lab exec | traceroute -U $MED1 s | sonde version $MED2 s | $RATIO |
"
innode "traceroute --version" "traceroute --version" "sonde version" "$SONDE version"
rows+="| start-up alone, in the node | traceroute --version $IN1 ms | sonde version $IN2 ms | $INRATIO |
"
lab_cleanup
wait "$LAB_PID" 2>/dev/null || true
LAB=""

lab_up chain --routers 6 --icmp-ratelimit off --services none --silent r3
echo "chain, 6 routers, r3 silent: $ROUNDS rounds"
compare "$ROUNDS" "traceroute -n (r3 silent)" "$SONDE lab exec --lab $LAB client -- traceroute -n $FAR" \
  "sonde trace -n (r3 silent)" "$SONDE lab exec --lab $LAB client -- $SONDE trace -n $FAR"
rows+="| chain 6 routers, r3 silent, -U, through lab exec | traceroute $MED1 s | sonde $MED2 s | $RATIO |
"
lab_cleanup
wait "$LAB_PID" 2>/dev/null || true
LAB=""

# Rate limits: the kernel's defaults on every node.
lab_up chain --routers 6 --services none
stars() { { grep -v '^trace' || true; } | { grep -o '\*' || true; } | wc -l; }
count_runs() {
  local total=0 t0 t1 i n
  t0=$(date +%s.%N)
  for ((i = 0; i < RUNS; i++)); do
    n=$(lab_exec client "$@" | stars) || true
    total=$((total + n))
  done
  t1=$(date +%s.%N)
  echo "$total $(echo "$t1 - $t0" | bc -l | awk '{printf "%.1f", $1}')"
}
read -r tr_stars tr_time < <(count_runs traceroute -n -q 3 $FAR)
sleep 8
read -r so_stars so_time < <(count_runs "$SONDE" trace -n -q 3 $FAR)
echo "default ICMP rate limits, $RUNS runs back to back, -q 3 (21 probes a run, all answerable):"
echo "  traceroute -n: $tr_stars false stars in $tr_time s; sonde trace -n: $so_stars false stars in $so_time s"
ratio=$(echo "$so_time / $tr_time" | bc -l | awk '{printf "%.2f", $1}')
echo "  total time: sonde/traceroute $ratio"
report_loss() {
  local interval=$1 mtr_out sonde_out
  sleep 8
  mtr_out=$(lab_exec client mtr -n -r -c 10 -i "$interval" $FAR)
  sleep 8
  sonde_out=$(lab_exec client "$SONDE" trace -n --report 10 -i "$interval" $FAR)
  echo "mtr -n -r -c 10 -i $interval:"; echo "$mtr_out"
  echo "sonde trace -n --report 10 -i $interval:"; echo "$sonde_out"
  rows2+="| default rate limits, 10 rounds $interval s apart: loss per hop | mtr -r: $(echo "$mtr_out" | awk '/\|--/ {printf "%s ", $3}')| sonde --report: $(echo "$sonde_out" | awk '/\|--/ {printf "%s ", $3}')| — |
"
}
rows2=""
report_loss 1
report_loss 0.2

record "| what | peer | sonde | sonde/peer |
|---|---|---|---|
$rows| default rate limits, $RUNS runs back to back, -q 3: false stars, total time | traceroute $tr_stars in $tr_time s | sonde $so_stars in $so_time s | $ratio |
$rows2"
