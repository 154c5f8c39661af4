# bench/report.sh — sonde report on a reproducible 1M-packet capture (made by
# bench/gen, as bench/read.sh makes it): its time against sonde stats computing
# the same statistics (the report is those statistics and a page), and against
# a bare sonde stats (packets and bytes only); the page's size; and the time
# headless Chromium takes to load the page and dump its DOM, against an empty
# page (Chromium's own start, the floor). Targets: report ≤ 1.2× stats, page
# < 5 MB, opened in < 2 s. Run: bench/run report  (PACKETS=…, ROUNDS=…).
need_apt bc chromium
build_sonde
PACKETS=${PACKETS:-1000000}
ROUNDS=${ROUNDS:-5}
PCAP=$(gen_capture "$PACKETS")
OUT=$WORK/report.html
# SONDE_LAB: both commands consult the lab geography (then the embedded
# database), which places bench/gen's servers (198.18.0.0/15) on the map.
# The tables, hierarchy, IO graph and names the report computes (see
# report.AnalyzerConfig), asked of sonde stats.
SAME="--conv ip --conv ipv6 --conv tcp --conv udp --endpoints ip --endpoints ipv6 --phs --io 1s --dns --http --tls --geo"

compare "$ROUNDS" "sonde stats (same statistics)" "SONDE_LAB=bench '$SONDE' stats $SAME '$PCAP'" \
  "sonde report" "SONDE_LAB=bench '$SONDE' report '$PCAP' -o '$OUT'"
R_SAME=$RATIO M_STATS=$MED1 M_REPORT=$MED2
compare "$ROUNDS" "sonde stats (totals only)" "SONDE_LAB=bench '$SONDE' stats '$PCAP'" \
  "sonde report" "SONDE_LAB=bench '$SONDE' report '$PCAP' -o '$OUT'"
R_BARE=$RATIO M_BARE=$MED1
SIZE=$(stat -c %s "$OUT")
echo "page: $SIZE bytes ($(echo "$SIZE / 1048576" | bc -l | awk '{printf "%.2f", $1}') MiB)"

# Chromium: load the page and dump its DOM (scripts run), against an empty
# page; local files only, everything that could use a network off.
chrome() {
  local ud
  ud=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --disable-default-apps --disable-extensions --no-first-run --disable-quic --no-pings \
    --user-data-dir="$ud" --dump-dom "file://$1" >/dev/null 2>&1
  rm -rf "$ud"
}
echo '<!DOCTYPE html><title>empty</title>' >"$WORK/empty.html"
e=() p=()
for ((i = 0; i < ROUNDS; i++)); do
  e+=("$(time_cmd chrome "$WORK/empty.html")")
  p+=("$(time_cmd chrome "$OUT")")
done
M_EMPTY=$(median "${e[@]}") M_PAGE=$(median "${p[@]}")
LOAD=$(echo "$M_PAGE - $M_EMPTY" | bc -l | awk '{printf "%.3f", $1}')
echo "chromium --dump-dom: report $M_PAGE s (${p[*]}), empty page $M_EMPTY s (${e[*]}); the page's own cost $LOAD s"

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
record "Load average after the run: $LOADAVG on $(nproc) cores (shared). The report computes the statistics of \`sonde stats $SAME\` and renders them; bare \`sonde stats\` only decodes and counts.

| report, $PACKETS pkts | stats (same statistics) $M_STATS s, stats (totals) $M_BARE s | report $M_REPORT s: ${R_SAME}× stats with the same statistics, ${R_BARE}× bare stats | page $SIZE bytes | chromium opens it in $M_PAGE s (empty page $M_EMPTY s) |"
