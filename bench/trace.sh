# bench/trace.sh — sonde trace against Linux traceroute and mtr, in labs.
#
#  1. Speed: a chain of 6 routers (ICMP rate limits off, so both tools see
#     every answer), UDP, ICMP and TCP, then with a silent router (r3):
#     traceroute -n against sonde trace -n, alternating, medians and ratio.
#     Also the floor: the same lab exec running `sonde version`, which does
#     nothing but start the binary (the trace itself takes under 1 ms of
#     the total in this lab: see trace.Result.Elapsed).
#  2. Rate limits: the same chain with the kernel's default ICMP rate limits,
#     RUNS traces back to back with -q 3 by each tool: how many stars each
#     shows (every hop answers, so every star is false); then
#     mtr -n -r -c 10 against sonde trace --report 10: loss per hop.
need_apt traceroute mtr-tiny bc
build_sonde
ROUNDS=${ROUNDS:-11}
RUNS=${RUNS:-20}
FAR=198.18.200.1
rows=""

lab_up chain --routers 6 --icmp-ratelimit off --services none
for m in "" -I -T; do
  label=${m:--U}
  echo "chain, 6 routers, $label: $ROUNDS rounds"
  compare "$ROUNDS" "traceroute -n $label" "$SONDE lab exec --lab $LAB client -- traceroute -n $m $FAR" \
    "sonde trace -n $label" "$SONDE lab exec --lab $LAB client -- $SONDE trace -n $m $FAR"
  rows+="| chain 6 routers, $label | traceroute $MED1 s | sonde $MED2 s | $RATIO |
"
done
echo "startup floor: $ROUNDS rounds"
compare "$ROUNDS" "traceroute -n -U" "$SONDE lab exec --lab $LAB client -- traceroute -n $FAR" \
  "sonde version (start, no trace)" "$SONDE lab exec --lab $LAB client -- $SONDE version"
rows+="| startup floor: sonde version (no trace) | traceroute -U $MED1 s | sonde version $MED2 s | $RATIO |
"
lab_cleanup
wait "$LAB_PID" 2>/dev/null || true
LAB=""

lab_up chain --routers 6 --icmp-ratelimit off --services none --silent r3
echo "chain, 6 routers, r3 silent: $ROUNDS rounds"
compare "$ROUNDS" "traceroute -n (r3 silent)" "$SONDE lab exec --lab $LAB client -- traceroute -n $FAR" \
  "sonde trace -n (r3 silent)" "$SONDE lab exec --lab $LAB client -- $SONDE trace -n $FAR"
rows+="| chain 6 routers, r3 silent, -U | traceroute $MED1 s | sonde $MED2 s | $RATIO |
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
