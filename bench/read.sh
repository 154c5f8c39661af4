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
PCAP=$WORK/mix-$PACKETS.pcap
if [ ! -s "$PCAP" ]; then
  echo "generating $PCAP ($PACKETS packets)"
  (cd "$ROOT" && "$GO" run ./bench/gen -n "$PACKETS" -o "$PCAP")
fi
cat "$PCAP" >/dev/null # into the page cache for both tools

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

rows="| stats --conv tcp --phs, $PACKETS pkts | tshark $T_CPU CPU s, $T_PPS pkt/s, $((T_MEM / 1024)) MB | sonde $S_CPU CPU s, $S_PPS pkt/s, $((S_MEM / 1024)) MB | ${RATIO}x (conv tables $SAME) |"

# ---- sonde read vs tcpdump -------------------------------------------------
# Placeholder until `sonde read` lands: it is measured here as soon as the
# binary has the subcommand.
if "$SONDE" read --help >/dev/null 2>&1; then
  r_cpu=() d_cpu=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r c m < <(cpu_mem "$SONDE" read -n "$PCAP"); r_cpu+=("$c")
    read -r c m < <(cpu_mem tcpdump -n -r "$PCAP"); d_cpu+=("$c")
  done
  R_CPU=$(median "${r_cpu[@]}"); D_CPU=$(median "${d_cpu[@]}")
  RRATIO=$(echo "$D_CPU / $R_CPU" | bc -l | awk '{printf "%.1f", $1}')
  echo "sonde read -n: $R_CPU CPU s; tcpdump -n -r: $D_CPU CPU s; sonde is ${RRATIO}x"
  rows="$rows
| read -n, $PACKETS pkts | tcpdump $D_CPU CPU s | sonde $R_CPU CPU s | ${RRATIO}x |"
else
  echo "sonde read: not built yet (skipped)"
fi

record "| what | peer | sonde | peer/sonde CPU |
|---|---|---|---|
$rows"
