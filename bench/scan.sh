# bench/scan.sh — sonde scan against nmap, masscan and zmap in the same lab,
# alternating: the full-port scan of the pair (7 open TCP ports among
# 65,536) and the one-port sweep of a /16, without loss and at 5% loss each
# way. Prints medians, ratios and how much each tool found.
#
#   ROUNDS (default 5) rounds of the fast commands; SLOW_ROUNDS (default 1)
#   of nmap -T4 at 5% loss, which takes a minute a run.
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

pair_round 0
pair_round 5
sweep_round 0
sweep_round 5

table="| scan | peer | found | peer median | sonde median | sonde/peer |
|---|---|---|---|---|---|"
for r in "${rows[@]}"; do table+=$'\n'"$r"; done
echo "$table"
record "$table"
