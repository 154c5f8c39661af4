# bench/trace.sh — sonde trace against Linux traceroute and mtr, in labs.
#
#  1. Speed: a chain of 6 routers (ICMP rate limits off, so both tools see
#     every answer), UDP, ICMP and TCP, then with a silent router (r3):
#     traceroute -n against sonde trace -n, alternating, medians and ratio.
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
stars() { grep -v '^trace' | grep -o '\*' | wc -l; }
count_runs() {
  local total=0 t0 t1 i n
  t0=$(date +%s.%N)
  for ((i = 0; i < RUNS; i++)); do
    n=$(lab_exec client "$@" | stars)
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
sleep 8
mtr_out=$(lab_exec client mtr -n -r -c 10 $FAR)
sleep 8
sonde_out=$(lab_exec client "$SONDE" trace -n --report 10 $FAR)
echo "mtr -n -r -c 10:"; echo "$mtr_out"
echo "sonde trace -n --report 10:"; echo "$sonde_out"
mtr_loss=$(echo "$mtr_out" | awk '/\|--/ {printf "%s ", $3}')
sonde_loss=$(echo "$sonde_out" | awk '/\|--/ {printf "%s ", $3}')

record "| what | peer | sonde | sonde/peer |
|---|---|---|---|
$rows| default rate limits, $RUNS runs back to back, -q 3: false stars | traceroute $tr_stars in $tr_time s | sonde $so_stars in $so_time s | — |
| default rate limits, 10 rounds: loss per hop | mtr -r -c 10: $mtr_loss| sonde --report 10: $sonde_loss| — |"
