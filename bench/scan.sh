# bench/scan.sh — sonde scan against nmap, masscan and zmap in the same lab,
# alternating: the full-port scan of the pair (7 open TCP ports among
# 65,536) and the one-port sweep of a /16, without loss and at 5% loss each
# way. Prints medians, ratios and how much each tool found.
#
# Then the pair's full-port SYN scan over IPv6 against nmap -6, and a UDP
# scan of 34 ports (DNS, NTP, echo open, 30 closed, one dropped) over IPv4
# and IPv6 against nmap -sU, with the kernel's default ICMP rate limits.
#
#   ROUNDS (default 5) rounds of the fast commands; SLOW_ROUNDS (default 1)
#   of nmap -T4 at 5% loss, which takes a minute a run; UDP_ROUNDS
#   (default 4) of the UDP scans (half a minute a run over IPv4).
#   SCAN_PARTS (default "pair sweep v6 udp") picks the parts to run.
need_apt nmap masscan zmap bc
build_sonde
ROUNDS=${ROUNDS:-5}
SLOW_ROUNDS=${SLOW_ROUNDS:-1}
EMPTY=$WORK/empty-blocklist
: >"$EMPTY"

x() { echo "$SONDE lab exec --lab $LAB client -- $*"; }
# found CMD PATTERN: run CMD once in the client and count the output lines
# matching PATTERN.
found() { bash -c "$1" 2>/dev/null | grep -c -E "$2" || true; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 s | $5 s | $RATIO |"); }

pair_round() {
  local loss=$1 tmac
  lab_up pair --loss "$loss"
  # (not /sys: "lab exec" does not remount sysfs, which shows another namespace)
  tmac=$(lab_exec target ip -br link show eth0 | awk '{print $3}')
  local sonde_cmd nmap_cmd masscan_cmd
  sonde_cmd=$(x "$SONDE" scan -n -Pn -p0-65535 198.18.0.2)
  nmap_cmd=$(x nmap -n -Pn -sS -p- -T4 198.18.0.2)
  # masscan 1.3.2 reaches "100% done" here and then never exits: bound it
  # and count what it printed; its time is not compared.
  masscan_cmd="timeout -s KILL 30 $(x stdbuf -oL masscan -p0-65535 --rate 100000 198.18.0.2 -e eth0 --router-mac "$tmac" --wait 1)"
  local fs fn fm rounds=$ROUNDS
  fs=$(found "$sonde_cmd" '^[0-9]+/tcp +open')
  fm=$(found "$masscan_cmd" '^Discovered open port')
  echo "pair, ${loss}% loss: sonde vs nmap -T4"
  [ "$loss" != 0 ] && rounds=$SLOW_ROUNDS
  fn=$(found "$nmap_cmd" '^[0-9]+/tcp +open')
  compare "$rounds" "nmap -sS -p- -T4" "$nmap_cmd" "sonde scan -p0-65535" "$sonde_cmd"
  row "pair -p- ${loss}% loss" "nmap -T4" "nmap $fn/7, sonde $fs/7" "$MED1" "$MED2"
  rows+=("| pair -p- ${loss}% loss | masscan --rate 100000 | masscan $fm/7, sonde $fs/7 | (hangs after 100%) | — | — |")
  lab_cleanup
}

sweep_round() {
  local loss=$1 tmac
  lab_up sweep --loss "$loss"
  # (not /sys: "lab exec" does not remount sysfs, which shows another namespace)
  tmac=$(lab_exec target ip -br link show eth0 | awk '{print $3}')
  local sonde_cmd zmap_cmd nmap_cmd masscan_cmd
  sonde_cmd=$(x "$SONDE" scan -n -Pn -p80 198.19.0.0/16 --json)
  zmap_cmd=$(x zmap -q -p 80 198.19.0.0/16 -i eth0 -G "$tmac" -b "$EMPTY" -r 200000 -c 1)
  masscan_cmd="timeout -s KILL 30 $(x stdbuf -oL masscan -p80 198.19.0.0/16 --rate 200000 --wait 2 -e eth0 --router-mac "$tmac")"
  nmap_cmd=$(x nmap -n -Pn -sS -p80 -T4 198.19.0.0/16 -oG -)
  local fs fz fm fn
  fs=$(found "$sonde_cmd" '"type":"port".*"open"')
  fz=$(found "$zmap_cmd" '^198\.19\.')
  fm=$(found "$masscan_cmd" '^Discovered open port')
  echo "sweep /16 port 80, ${loss}% loss: sonde vs zmap"
  compare "$ROUNDS" "zmap -r 200000 -c 1" "$zmap_cmd" "sonde scan -p80 /16" "$sonde_cmd"
  row "sweep /16 -p80 ${loss}% loss" "zmap" "zmap $fz, sonde $fs of 65536" "$MED1" "$MED2"
  rows+=("| sweep /16 -p80 ${loss}% loss | masscan --rate 200000 | masscan $fm, sonde $fs of 65536 | (hangs after 100%) | — | — |")
  if [ "$loss" != 0 ]; then
    fn=$(found "$nmap_cmd" '80/open')
    echo "sweep /16 port 80, ${loss}% loss: sonde vs nmap -T4"
    compare "$SLOW_ROUNDS" "nmap -sS -p80 -T4" "$nmap_cmd" "sonde scan -p80 /16" "$sonde_cmd"
    row "sweep /16 -p80 ${loss}% loss" "nmap -T4" "nmap $fn, sonde $fs of 65536" "$MED1" "$MED2"
  fi
  lab_cleanup
}

v6_round() {
  lab_up pair
  local sonde_cmd nmap_cmd fs fn
  sonde_cmd=$(x "$SONDE" scan -n -Pn -p0-65535 2001:2::2)
  nmap_cmd=$(x nmap -6 -n -Pn -sS -p- -T4 2001:2::2)
  fs=$(found "$sonde_cmd" '^[0-9]+/tcp +open')
  fn=$(found "$nmap_cmd" '^[0-9]+/tcp +open')
  echo "pair over IPv6: sonde vs nmap -6 -T4"
  compare "$ROUNDS" "nmap -6 -sS -p- -T4" "$nmap_cmd" "sonde scan -p0-65535 (IPv6)" "$sonde_cmd"
  row "pair -p- IPv6" "nmap -6 -T4" "nmap $fn/7, sonde $fs/7" "$MED1" "$MED2"
  lab_cleanup
}

# udp_run CMD: after 7 s idle (the target's ICMP token bucket refills, as
# before a first scan), run CMD once; set T (seconds) and OK (1 when every
# one of the 34 ports got its true state: DNS, NTP and echo open, the 30
# closed ports closed, 5000 open|filtered).
udp_run() {
  local t0 t1 out
  sleep 7
  t0=$(date +%s.%N)
  out=$(bash -c "$1" 2>/dev/null || true)
  t1=$(date +%s.%N)
  T=$(echo "$t1 - $t0" | bc -l | awk '{printf "%.4f", $1}')
  OK=0
  if grep -qE '^Not shown: 30 closed udp ports' <<<"$out" &&
    [ "$(grep -cE '^[0-9]+/udp +open ' <<<"$out")" = 3 ] &&
    grep -qE '^5000/udp +open\|filtered' <<<"$out"; then
    OK=1
  fi
}

# udp_round ADDR: a UDP scan of 34 ports, nmap and sonde alternating; the
# time of each run and whether it got every port right.
udp_round() {
  local addr=$1 six="" i ts=() tn=() rs=0 rn=0
  [[ $addr == *:* ]] && six="-6"
  lab_up pair --drop 5000
  local ports=7,53,123,1000-1029,5000 sonde_cmd nmap_cmd
  sonde_cmd=$(x "$SONDE" scan -n -Pn -sU -p "$ports" "$addr")
  nmap_cmd=$(x nmap $six -n -Pn -sU -p "$ports" "$addr")
  for ((i = 0; i < UDP_ROUNDS; i++)); do
    if ((i % 2 == 0)); then
      udp_run "$nmap_cmd"; tn+=("$T"); rn=$((rn + OK))
      udp_run "$sonde_cmd"; ts+=("$T"); rs=$((rs + OK))
    else
      udp_run "$sonde_cmd"; ts+=("$T"); rs=$((rs + OK))
      udp_run "$nmap_cmd"; tn+=("$T"); rn=$((rn + OK))
    fi
  done
  MED1=$(median "${tn[@]}")
  MED2=$(median "${ts[@]}")
  RATIO=$(echo "$MED2 / $MED1" | bc -l | awk '{printf "%.2f", $1}')
  echo "UDP, 34 ports of $addr: sonde vs nmap -sU"
  printf '%-40s median %8.4f s  (%s), all right in %d of %d runs\n' "nmap $six -sU" "$MED1" "${tn[*]}" "$rn" "$UDP_ROUNDS"
  printf '%-40s median %8.4f s  (%s), all right in %d of %d runs\n' "sonde scan -sU" "$MED2" "${ts[*]}" "$rs" "$UDP_ROUNDS"
  row "-sU 34 ports $addr" "nmap $six -sU" "every port right: nmap in $rn of $UDP_ROUNDS runs, sonde in $rs of $UDP_ROUNDS" "$MED1" "$MED2"
  lab_cleanup
}

UDP_ROUNDS=${UDP_ROUNDS:-4}
for part in ${SCAN_PARTS:-pair sweep v6 udp}; do
  case $part in
  pair) pair_round 0; pair_round 5 ;;
  sweep) sweep_round 0; sweep_round 5 ;;
  v6) v6_round ;;
  udp) udp_round 198.18.0.2; udp_round 2001:2::2 ;;
  esac
done

table="| scan | peer | found | peer median | sonde median | sonde/peer |
|---|---|---|---|---|---|"
for r in "${rows[@]}"; do table+=$'\n'"$r"; done
echo "$table"
record "$table"
