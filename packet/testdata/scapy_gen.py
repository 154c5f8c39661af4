# Regenerates scapy.golden with Scapy (2.5.0 here): each expression, then
# the hex of every packet it expands to, in Scapy's order.
# Run: python3 scapy_gen.py > scapy.golden
from scapy.all import *

EXPRS = [
    'IP(src="198.18.0.1", dst="198.18.0.2")/TCP()',
    'IP(src="198.18.0.1", dst="198.18.0.0/31", ttl=(1,2))/TCP(dport=[22,80], flags="SA")',
    'IP(src="198.18.0.1", dst="198.18.0.2", id=7, flags="DF", tos=0x10)/UDP(sport=4444, dport=33434)',
    'IP(src="198.18.0.1", dst="198.18.0.2")/ICMP()',
    'IP(src="198.18.0.1", dst="198.18.0.2")/ICMP(type="echo-reply", id=0x1234, seq=(1,3))/Raw(load="hello")',
    'IP(src="198.18.0.1", dst="198.18.0.2")/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname="target.lab"))',
    'IP(src="198.18.0.1", dst="198.18.0.2")/UDP(sport=1234)/DNS(id=42, qd=DNSQR(qname="target.lab", qtype="AAAA"))',
    'IPv6(src="2001:2::2", dst="2001:2::1")/ICMPv6EchoRequest()',
    'IPv6(src="2001:2::2", dst="2001:2::1", hlim=(1,2))/ICMPv6EchoRequest(id=5, seq=[1,2])',
    'IPv6(src="2001:2::2", dst="2001:2::1")/TCP(dport=443, flags="S", seq=1000)',
    'Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/IP(src="198.18.0.1", dst="198.18.0.2")/TCP(sport=1234, dport=80, flags="PA", seq=1, ack=2, window=512)/Raw(load="GET / HTTP/1.0\\r\\n\\r\\n")',
    'Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")/ARP(hwsrc="02:00:00:00:00:01", psrc="198.18.5.1", pdst="198.18.5.0/30")',
    'IP(src="198.18.0.1", dst="198.18.0.2", ttl=300)/TCP()',
    'IP(src="198.18.0.1", dst="198.18.0.2", chksum=0x1234, len=40)/TCP(chksum=0)',
    'IP(src="198.18.0.9", dst="198.18.0.1")/ICMP(type="time-exceeded", code=0)/IP(src="198.18.0.1", dst="198.18.0.2", ttl=1)/UDP(sport=40000, dport=33434)',
]

for e in EXPRS:
    try:
        pkts = [bytes(p) for p in eval(e)]
    except Exception as ex:
        continue
    print("expr " + e)
    for p in pkts:
        print(p.hex())
