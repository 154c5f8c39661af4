# bench/read.sh — reading captures: `sonde stats --conv tcp --phs` against
# `tshark -q -z conv,tcp -z io,phs` on a reproducible 1M-packet pcap (made by
# bench/gen: interleaved TCP connections with handshakes, HTTP, TLS
# ClientHellos and bulk data, DNS, ICMP, ICMPv6, ARP, TCP over IPv6).
# Measures CPU seconds (user+sys) and peak RSS with /usr/bin/time; reports
# packets per CPU second and the ratio. Run: bench/run read  (PACKETS=…,
# ROUNDS=… to change the defaults).
need_apt tshark tcpdump time bc
build_sonde
PACKETS=${PACKETS:-1000000}
ROUNDS=${ROUNDS:-3}
PCAP=$(gen_capture "$PACKETS")

# cpu_mem CMD… — run CMD with output discarded; echo "cpu_seconds peak_kb".
cpu_mem() {
  /usr/bin/time -o "$WORK/time.txt" -f '%e %U %S %M' "$@" >/dev/null 2>&1 ||
    { echo "bench: command failed: $*" >&2; return 1; }
  awk '{printf "%.3f %d\n", $2 + $3, $4}' "$WORK/time.txt"
}

# measure LABEL_VAR CMD… — alternate with the other tool by the caller.
s_cpu=() s_mem=() t_cpu=() t_mem=()
for ((i = 0; i < ROUNDS; i++)); do
  read -r c m < <(cpu_mem "$SONDE" stats --conv tcp --phs "$PCAP"); s_cpu+=("$c"); s_mem+=("$m")
  read -r c m < <(cpu_mem tshark -n -q -r "$PCAP" -z conv,tcp -z io,phs); t_cpu+=("$c"); t_mem+=("$m")
done
S_CPU=$(median "${s_cpu[@]}"); T_CPU=$(median "${t_cpu[@]}")
S_MEM=$(printf '%s\n' "${s_mem[@]}" | sort -n | tail -1); T_MEM=$(printf '%s\n' "${t_mem[@]}" | sort -n | tail -1)
S_PPS=$(echo "$PACKETS / $S_CPU" | bc -l | awk '{printf "%.0f", $1}')
T_PPS=$(echo "$PACKETS / $T_CPU" | bc -l | awk '{printf "%.0f", $1}')
RATIO=$(echo "$T_CPU / $S_CPU" | bc -l | awk '{printf "%.1f", $1}')
echo "sonde stats --conv tcp --phs:        median $S_CPU CPU s (${s_cpu[*]}), $S_PPS packets/CPU s, peak $((S_MEM / 1024)) MB"
echo "tshark -q -z conv,tcp -z io,phs:     median $T_CPU CPU s (${t_cpu[*]}), $T_PPS packets/CPU s, peak $((T_MEM / 1024)) MB"
echo "sonde is ${RATIO}x tshark in packets per CPU second"

# Same tables? The TCP conversation table must be identical.
"$SONDE" stats --conv tcp "$PCAP" >"$WORK/read-sonde.txt"
tshark -n -q -r "$PCAP" -z conv,tcp >"$WORK/read-tshark.txt" 2>/dev/null
if cmp -s "$WORK/read-sonde.txt" "$WORK/read-tshark.txt"; then SAME="identical"; else SAME="DIFFERENT"; fi
echo "TCP conversation tables: $SAME"
# The protocol hierarchies, but for what sonde does not decode (the text
# under http) and what tshark calls malformed (sonde does not judge).
"$SONDE" stats --phs "$PCAP" >"$WORK/phs-sonde.txt"
tshark -n -q -r "$PCAP" -z io,phs 2>/dev/null | grep -v -e data-text-lines -e tcp.segments -e _ws.malformed >"$WORK/phs-tshark.txt"
if cmp -s "$WORK/phs-sonde.txt" "$WORK/phs-tshark.txt"; then PHS="identical"; else PHS="DIFFERENT"; fi
echo "protocol hierarchies (but for data-text-lines, _ws.malformed): $PHS"

rows="| stats --conv tcp --phs, $PACKETS pkts | tshark $T_CPU CPU s, $T_PPS pkt/s, $((T_MEM / 1024)) MB | sonde $S_CPU CPU s, $S_PPS pkt/s, $((S_MEM / 1024)) MB | ${RATIO}x (conv tables $SAME, hierarchies $PHS) |"

# ---- sonde read against tcpdump (lines) and tshark (fields, JSON) --------
FIELDS=frame.number,ip.src,ip.dst,tcp.dstport
r_cpu=() r_mem=() d_cpu=() d_mem=() rf_cpu=() rf_mem=() tf_cpu=() tf_mem=()
for ((i = 0; i < ROUNDS; i++)); do
  read -r c m < <(cpu_mem "$SONDE" read -n "$PCAP"); r_cpu+=("$c"); r_mem+=("$m")
  read -r c m < <(cpu_mem tcpdump -nn -r "$PCAP"); d_cpu+=("$c"); d_mem+=("$m")
  read -r c m < <(cpu_mem "$SONDE" read "$PCAP" --fields "$FIELDS"); rf_cpu+=("$c"); rf_mem+=("$m")
  read -r c m < <(cpu_mem tshark -n -r "$PCAP" -T fields -e frame.number -e ip.src -e ip.dst -e tcp.dstport); tf_cpu+=("$c"); tf_mem+=("$m")
done
row() { # LABEL PEER_LABEL peer_cpu… -- sonde_cpu… (medians of arrays passed by name)
  local label=$1 peer=$2 pc=$3 sc=$4 pm=$5 sm=$6 n=$7
  local ratio; ratio=$(echo "$pc / $sc" | bc -l | awk '{printf "%.1f", $1}')
  echo "$label: $peer $pc CPU s ($(echo "$n / $pc" | bc -l | awk '{printf "%.0f", $1}') pkt/s, $((pm / 1024)) MB); sonde $sc CPU s ($(echo "$n / $sc" | bc -l | awk '{printf "%.0f", $1}') pkt/s, $((sm / 1024)) MB); sonde is ${ratio}x" >&2
  echo "| $label, $n pkts | $peer $pc CPU s, $(echo "$n / $pc" | bc -l | awk '{printf "%.0f", $1}') pkt/s, $((pm / 1024)) MB | sonde $sc CPU s, $(echo "$n / $sc" | bc -l | awk '{printf "%.0f", $1}') pkt/s, $((sm / 1024)) MB | ${ratio}x |"
}
maxof() { printf '%s\n' "$@" | sort -n | tail -1; }
rows="$rows
$(row "read (one line a packet)" "tcpdump -nn -r" "$(median "${d_cpu[@]}")" "$(median "${r_cpu[@]}")" "$(maxof "${d_mem[@]}")" "$(maxof "${r_mem[@]}")" "$PACKETS")
$(row "read --fields $FIELDS" "tshark -T fields" "$(median "${tf_cpu[@]}")" "$(median "${rf_cpu[@]}")" "$(maxof "${tf_mem[@]}")" "$(maxof "${rf_mem[@]}")" "$PACKETS")"

# JSON: tshark -T json runs at ~10k packets/s, so it is measured on the
# first 100,000 packets.
JPACKETS=100000
JPCAP=$WORK/mix-$JPACKETS.pcap
[ -s "$JPCAP" ] || (cd "$ROOT" && "$GO" run ./bench/gen -n "$JPACKETS" -o "$JPCAP")
rj_cpu=() rj_mem=() tj_cpu=() tj_mem=()
for ((i = 0; i < ROUNDS; i++)); do
  read -r c m < <(cpu_mem "$SONDE" read "$JPCAP" --json); rj_cpu+=("$c"); rj_mem+=("$m")
  read -r c m < <(cpu_mem tshark -n -r "$JPCAP" -T json); tj_cpu+=("$c"); tj_mem+=("$m")
done
rows="$rows
$(row "read --json" "tshark -T json" "$(median "${tj_cpu[@]}")" "$(median "${rj_cpu[@]}")" "$(maxof "${tj_mem[@]}")" "$(maxof "${rj_mem[@]}")" "$JPACKETS")"

record "| what | peer | sonde | peer/sonde CPU |
|---|---|---|---|
$rows"
