# bench/lab.sh — the smoke benchmark: how long a lab takes to build and tear
# down. The peer is the same pair topology built with iproute2 commands, as
# people script it by hand (ip netns add, ip link add veth, ip addr, up).
need_apt iproute2 bc
build_sonde
ROUNDS=${ROUNDS:-11}

iproute_pair() {
  cat <<'SH'
set -e
ip netns add pb-client; ip netns add pb-target
ip -n pb-client link add eth0 type veth peer name eth0 netns pb-target
ip -n pb-client addr add 198.18.0.1/24 dev eth0; ip -n pb-target addr add 198.18.0.2/24 dev eth0
ip -n pb-client link set lo up; ip -n pb-target link set lo up
ip -n pb-client link set eth0 up; ip -n pb-target link set eth0 up
ip netns del pb-client; ip netns del pb-target
SH
}

echo "pair: build and tear down, $ROUNDS rounds"
compare "$ROUNDS" "iproute2 script (pair)" "$(iproute_pair)" "sonde lab up pair --for 0s" "$SONDE lab up pair --services none --for 0s"
r1="| pair up+down | iproute2 script $MED1 s | sonde $MED2 s | ratio $RATIO |"
echo "chain of 6 routers with services and 5% loss: $ROUNDS rounds of sonde alone"
ts=()
for ((i = 0; i < ROUNDS; i++)); do ts+=("$(time_cmd "$SONDE" lab up chain --routers 6 --loss 5 --for 0s)"); done
chain=$(median "${ts[@]}")
echo "sonde lab up chain --routers 6 --loss 5: median $chain s"
record "| what | peer | sonde | sonde/peer |
|---|---|---|---|
$r1
| chain 6 routers, services, 5% loss, up+down | — | $chain s | — |"
