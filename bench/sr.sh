# bench/sr.sh — Scapy's sr() against sonde sr: 1000 TCP SYNs to the target
# of the pair lab (5 open ports, 995 closed), answers counted and timed.
# Scapy 2.5 (python3-scapy) waits its timeout unless all are answered; it
# answered 128 of 1000 on this kind of machine (PEERS.md).
need_apt python3-scapy bc
build_sonde
ROUNDS=${ROUNDS:-7}
lab_up pair
EXPR='IP(dst="198.18.0.2")/TCP(dport=(1,1000),flags="S")'
cat >"$WORK/scapy_sr.py" <<PY
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, sr, conf
conf.verb = 0
ans, unans = sr(IP(dst="198.18.0.2")/TCP(dport=(1,1000),flags="S"), timeout=2)
print(len(ans), len(unans))
PY
echo "answers (answered unanswered), one run each:"
scapy_counts=$(lab_exec client /usr/bin/python3 "$WORK/scapy_sr.py")
sonde_counts=$(lab_exec client "$SONDE" sr --json "$EXPR" | tail -1)
echo "  scapy: $scapy_counts"
echo "  sonde: $sonde_counts"
compare "$ROUNDS" "scapy sr() 1000 SYNs" "$SONDE lab exec --lab $LAB client -- /usr/bin/python3 $WORK/scapy_sr.py" \
  "sonde sr 1000 SYNs" "$SONDE lab exec --lab $LAB client -- $SONDE sr '$EXPR'"
record "| what | Scapy 2.5 sr() | sonde sr | sonde/Scapy time |
|---|---|---|---|
| 1000 SYNs to pair (answered unanswered) | $scapy_counts, median $MED1 s | $(echo "$sonde_counts" | sed 's/.*"answered":\([0-9]*\),"unanswered":\([0-9]*\).*/\1 \2/'), median $MED2 s | $RATIO |"
