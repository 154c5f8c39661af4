package labsvc

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// exchange sends one datagram to kind k on host and returns the reply, or
// nil when none comes within wait.
func (r *running) exchange(t *testing.T, host string, k Kind, req []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", r.addr(host, k))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// dnsQuery builds a query with gopacket, an encoder nobody here wrote.
func dnsQuery(t testing.TB, id uint16, name string, qtype layers.DNSType) []byte {
	q := &layers.DNS{ID: id, RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	if err := q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeDNS(t testing.TB, b []byte) *layers.DNS {
	t.Helper()
	var d layers.DNS
	if err := d.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("reply %x does not decode: %v", b, err)
	}
	return &d
}

func TestDNS(t *testing.T) {
	r := start(t, nil)
	type rr struct {
		typ  layers.DNSType
		data string
	}
	for _, tc := range []struct {
		name  string
		qtype layers.DNSType
		rcode layers.DNSResponseCode
		want  []rr
	}{
		{"target.lab", layers.DNSTypeA, layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypeA, "198.19.0.10"}}},
		{"TARGET.Lab.", layers.DNSTypeA, layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypeA, "198.19.0.10"}}},
		{"target.lab", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypeAAAA, "fd00:5::10"}}},
		{"router.lab", layers.DNSTypeA, layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypeA, "198.19.0.1"}}},
		{"router.lab", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr, nil}, // NODATA
		{"lab", layers.DNSTypeA, layers.DNSResponseCodeNoErr, nil},           // an empty non-terminal
		{"target.lab", layers.DNSTypeMX, layers.DNSResponseCodeNoErr, nil},
		{"nowhere.lab", layers.DNSTypeA, layers.DNSResponseCodeNXDomain, nil},
		{"example.com", layers.DNSTypeAAAA, layers.DNSResponseCodeNXDomain, nil},
		{"10.0.19.198.in-addr.arpa", layers.DNSTypePTR, layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypePTR, "target.lab"}}},
		{"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.0.0.d.f.ip6.arpa", layers.DNSTypePTR, layers.DNSResponseCodeNoErr,
			[]rr{{layers.DNSTypePTR, "v6only.lab"}}},
		{"target.lab", layers.DNSType(255), layers.DNSResponseCodeNoErr, []rr{{layers.DNSTypeA, "198.19.0.10"}, {layers.DNSTypeAAAA, "fd00:5::10"}}},
	} {
		for _, h := range hosts(t) {
			id := uint16(len(tc.name)*7 + int(tc.qtype))
			b := r.exchange(t, h, DNS, dnsQuery(t, id, tc.name, tc.qtype), 2*time.Second)
			if b == nil {
				t.Fatalf("%s %v via %s: no reply", tc.name, tc.qtype, h)
			}
			d := decodeDNS(t, b)
			var got []rr
			for _, a := range d.Answers {
				if !bytes.EqualFold(a.Name, []byte(strings.TrimSuffix(tc.name, "."))) || a.Class != layers.DNSClassIN || a.TTL != 60 {
					t.Errorf("%s: answer %s %v TTL %d", tc.name, a.Name, a.Class, a.TTL)
				}
				switch a.Type {
				case layers.DNSTypeA, layers.DNSTypeAAAA:
					ip, _ := netip.AddrFromSlice(a.IP)
					got = append(got, rr{a.Type, ip.String()})
				case layers.DNSTypePTR:
					got = append(got, rr{a.Type, string(a.PTR)})
				}
			}
			if d.ID != id || !d.QR || !d.AA || !d.RD || d.RA || d.TC || d.OpCode != layers.DNSOpCodeQuery ||
				d.ResponseCode != tc.rcode || len(d.Questions) != 1 ||
				string(d.Questions[0].Name) != strings.TrimSuffix(tc.name, ".") || d.Questions[0].Type != tc.qtype ||
				!slices.Equal(got, tc.want) {
				t.Errorf("%s %v via %s: id %d QR %v AA %v RD %v RA %v %v, question %+v, answers %v; want %v %v",
					tc.name, tc.qtype, h, d.ID, d.QR, d.AA, d.RD, d.RA, d.ResponseCode, d.Questions, got, tc.rcode, tc.want)
			}
		}
	}
	if !r.log.has(DNS, "A target.lab: 1 answer") || !r.log.has(DNS, "A nowhere.lab: NXDOMAIN") {
		t.Error("DNS events not logged")
	}
}

func TestDNSIgnoresMalformed(t *testing.T) {
	r := start(t, nil)
	q := dnsQuery(t, 7, "target.lab", layers.DNSTypeA)
	resp := slices.Clone(q)
	resp[2] |= 0x80
	for _, bad := range [][]byte{
		nil, []byte("hello"), q[:len(q)-1], resp,
		append(slices.Clone(q[:12]), 0xc0, 0x0c, 0, 1, 0, 1), // pointer in the question
	} {
		if len(bad) == 0 {
			bad = []byte{0}
		}
		if b := r.exchange(t, "127.0.0.1", DNS, bad, 200*time.Millisecond); b != nil {
			t.Errorf("query %x answered %x", bad, b)
		}
	}
	// Still serving.
	if b := r.exchange(t, "127.0.0.1", DNS, q, 2*time.Second); b == nil {
		t.Error("no answer after malformed queries")
	}
}

func TestDNSOtherOpcodeAndClass(t *testing.T) {
	z, err := newZone(testNames)
	if err != nil {
		t.Fatal(err)
	}
	q := dnsQuery(t, 9, "target.lab", layers.DNSTypeA)
	q[2] |= 2 << 3 // STATUS
	b, _ := z.answer(q, nil, dnsMaxUDP, true)
	if d := decodeDNS(t, b); d.ResponseCode != layers.DNSResponseCodeNotImp || len(d.Answers) != 0 {
		t.Errorf("STATUS query: %v", d.ResponseCode)
	}
	q = dnsQuery(t, 9, "version.bind", layers.DNSTypeTXT)
	q[len(q)-1] = 3 // class CHAOS
	b, _ = z.answer(q, nil, dnsMaxUDP, true)
	if d := decodeDNS(t, b); d.ResponseCode != layers.DNSResponseCodeRefused {
		t.Errorf("CHAOS query: %v", d.ResponseCode)
	}
}

func TestDNSTruncates(t *testing.T) {
	var many []netip.Addr
	for i := range 100 {
		many = append(many, netip.AddrFrom4([4]byte{198, 19, 1, byte(i)}))
	}
	z, err := newZone(map[string][]netip.Addr{"big.lab": many})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := z.answer(dnsQuery(t, 1, "big.lab", layers.DNSTypeA), nil, dnsMaxUDP, true)
	d := decodeDNS(t, b)
	if len(b) > 512 || !d.TC || len(d.Answers) == 0 || int(d.ANCount) != len(d.Answers) {
		t.Errorf("%d bytes, TC %v, %d answers", len(b), d.TC, len(d.Answers))
	}
}

func TestDNSOverTCP(t *testing.T) {
	var many []netip.Addr
	for i := range 100 {
		many = append(many, netip.AddrFrom4([4]byte{198, 19, 1, byte(i)}))
	}
	r := start(t, &Config{Names: map[string][]netip.Addr{"big.lab": many, "target.lab": testNames["target.lab"]}})
	for _, h := range hosts(t) {
		c := r.dial(t, h, DNSTCP)
		// Two queries in one write, as RFC 7766 allows; answers in order.
		var req []byte
		for i, name := range []string{"big.lab", "nowhere.lab"} {
			q := dnsQuery(t, uint16(i+1), name, layers.DNSTypeA)
			req = binary.BigEndian.AppendUint16(req, uint16(len(q)))
			req = append(req, q...)
		}
		c.Write(req)
		for i, want := range []int{100, 0} {
			var hdr [2]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
			if _, err := io.ReadFull(c, b); err != nil {
				t.Fatal(err)
			}
			d := decodeDNS(t, b)
			if d.ID != uint16(i+1) || d.TC || len(d.Answers) != want {
				t.Errorf("query %d via %s: id %d TC %v, %d answers; want %d", i+1, h, d.ID, d.TC, len(d.Answers), want)
			}
		}
		// A malformed query ends the connection.
		c.Write([]byte{0, 3, 1, 2, 3})
		expectClosed(t, c, 2*time.Second)
	}
}

func TestDNSAnswerAllocs(t *testing.T) {
	z, _ := newZone(testNames)
	q := dnsQuery(t, 1, "target.lab", layers.DNSTypeA)
	out := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { z.answer(q, out[:0], dnsMaxUDP, false) }); n != 0 {
		t.Errorf("answer allocates %v times", n)
	}
}

func FuzzDNSAnswer(f *testing.F) {
	f.Add(dnsQuery(f, 1, "target.lab", layers.DNSTypeA))
	f.Add(dnsQuery(f, 2, "Router.Lab.", layers.DNSTypeAAAA))
	f.Add(dnsQuery(f, 3, "10.0.19.198.in-addr.arpa", layers.DNSTypePTR))
	f.Add(dnsQuery(f, 4, "x.y", layers.DNSType(255)))
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12})
	z, err := newZone(testNames)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		b, _ := z.answer(q, nil, dnsMaxUDP, true)
		if b == nil {
			return
		}
		if len(b) > 512 {
			t.Fatalf("reply of %d bytes", len(b))
		}
		d := decodeDNS(t, b)
		if !d.QR || d.ID != binary.BigEndian.Uint16(q) || len(d.Questions) != 1 {
			t.Fatalf("reply %+v to %x", d, q)
		}
		if d.QDCount != 1 || int(d.ANCount) != len(d.Answers) {
			t.Fatalf("counts %d %d, %d answers", d.QDCount, d.ANCount, len(d.Answers))
		}
	})
}

func ntpRequest(vn byte, tx uint64) []byte {
	req := make([]byte, 48)
	req[0] = vn<<3 | 3
	req[2] = 6
	binary.BigEndian.PutUint64(req[40:], tx)
	return req
}

// ntpTime decodes a 64-bit NTP timestamp of era 0 (1900–2036) or, for
// seconds below 2^31, era 1 (2036–2104).
func ntpTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint32(b))
	if sec < 1<<31 {
		sec += 1 << 32
	}
	frac := uint64(binary.BigEndian.Uint32(b[4:]))
	return time.Unix(sec-ntpEpochDelta, int64(frac*1e9>>32))
}

func TestNTP(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		for _, vn := range []byte{3, 4} {
			const tx = 0xdeadbeef_01234567
			before := time.Now()
			b := r.exchange(t, h, NTP, ntpRequest(vn, tx), 2*time.Second)
			after := time.Now()
			if len(b) != 48 {
				t.Fatalf("reply %x", b)
			}
			rx, xmt := ntpTime(b[32:]), ntpTime(b[40:])
			if b[0] != vn<<3|4 || b[1] != 2 || b[2] != 6 || int8(b[3]) != -20 ||
				binary.BigEndian.Uint64(b[24:]) != tx || !bytes.Equal(b[12:16], []byte{192, 0, 2, 123}) {
				t.Errorf("reply %x", b)
			}
			slack := time.Millisecond // the fraction's rounding
			if rx.Before(before.Add(-slack)) || xmt.After(after.Add(slack)) || xmt.Before(rx) {
				t.Errorf("receive %v transmit %v, not within [%v, %v]", rx, xmt, before, after)
			}
			if ref := ntpTime(b[16:]); ref.After(rx) || rx.Sub(ref) > time.Hour {
				t.Errorf("reference time %v", ref)
			}
		}
	}
	// Not a client request: no reply.
	for _, req := range [][]byte{ntpRequest(4, 1)[:47], func() []byte { b := ntpRequest(4, 1); b[0] = 4<<3 | 4; return b }(),
		func() []byte { b := ntpRequest(4, 1); b[0] = 0<<3 | 3; return b }()} {
		if b := r.exchange(t, "127.0.0.1", NTP, req, 200*time.Millisecond); b != nil {
			t.Errorf("%x answered %x", req, b)
		}
	}
}

func TestNTPTimestamp(t *testing.T) {
	for _, s := range []string{"2026-11-28T05:00:00.5Z", "2036-02-07T06:28:15Z", "2036-02-07T06:28:17.25Z", "1999-12-31T23:59:59.999999Z"} {
		want, _ := time.Parse(time.RFC3339Nano, s)
		got := ntpTime(appendNTPTime(nil, want))
		if d := got.Sub(want); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: round trip %v", s, got)
		}
	}
}

func FuzzNTPReply(f *testing.F) {
	f.Add(ntpRequest(4, 42))
	f.Add(ntpRequest(3, 0))
	f.Add(make([]byte, 68))
	now := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, req []byte) {
		b, _ := ntpReply(req, now, now, nil)
		if b == nil {
			return
		}
		if len(b) != 48 || b[0]&7 != 4 || !bytes.Equal(b[24:32], req[40:48]) || !ntpTime(b[40:]).Equal(now) {
			t.Fatalf("reply %x to %x", b, req)
		}
	})
}

func TestUDPEcho(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		msg := []byte("echo me\x00\xff")
		if b := r.exchange(t, h, UDPEcho, msg, 2*time.Second); !bytes.Equal(b, msg) {
			t.Errorf("echo via %s: %x", h, b)
		}
	}
}

// TestUDPEchoNoLoop: a datagram from another echo service (port 7) or from
// the service's own port gets no echo, so forged sources cannot make two
// echo services bounce a datagram for ever.
func TestUDPEchoNoLoop(t *testing.T) {
	srv, err := Listen([]Spec{{Kind: UDPEcho}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Specs()[0].Port
	for _, from := range []uint16{7, 19, 53, port} {
		if b, what := srv.answer(srv.Specs()[0], []byte("x"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), from), nil); b != nil {
			t.Errorf("echo from port %d answered (%s)", from, what)
		}
	}
	if b, _ := srv.answer(srv.Specs()[0], []byte("x"), netip.MustParseAddrPort("127.0.0.1:40000"), nil); string(b) != "x" {
		t.Errorf("echo from port 40000: %q", b)
	}
	srv.Close()
}

// tlv encodes a BER TLV by hand (RFC 1157's ASN.1, definite lengths
// below 256); it does not use the package's encoder.
func tlv(tag byte, v ...[]byte) []byte {
	body := bytes.Join(v, nil)
	if len(body) < 0x80 {
		return append([]byte{tag, byte(len(body))}, body...)
	}
	return append([]byte{tag, 0x81, byte(len(body))}, body...)
}

// snmpMessage builds an SNMP message with the given PDU type and varbinds
// (OID and encoded value).
func snmpMessage(version byte, community string, pdu byte, errStatus, errIndex byte, vbs ...[2][]byte) []byte {
	var list [][]byte
	for _, vb := range vbs {
		list = append(list, tlv(0x30, tlv(0x06, vb[0]), vb[1]))
	}
	return tlv(0x30, tlv(0x02, []byte{version}), tlv(0x04, []byte(community)),
		tlv(pdu, tlv(0x02, []byte{0x12, 0x34}), tlv(0x02, []byte{errStatus}), tlv(0x02, []byte{errIndex}), tlv(0x30, list...)))
}

// snmpGetRequest builds a get (0xa0) or get-next (0xa1) for oids.
func snmpGetRequest(version byte, community string, pdu byte, oids ...[]byte) []byte {
	var vbs [][2][]byte
	for _, o := range oids {
		vbs = append(vbs, [2][]byte{o, {0x05, 0}})
	}
	return snmpMessage(version, community, pdu, 0, 0, vbs...)
}

// sysDescr.0 is 1.3.6.1.2.1.1.1.0.
var oidSysDescr = []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}

func TestSNMP(t *testing.T) {
	r := start(t, &Config{Hostname: "snmp.lab"})
	descr := tlv(0x04, []byte("Linux snmp.lab 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64"))
	for _, h := range hosts(t) {
		for _, v := range []byte{0, 1} {
			b := r.exchange(t, h, SNMP, snmpGetRequest(v, "public", 0xa0, oidSysDescr), 2*time.Second)
			want := snmpMessage(v, "public", 0xa2, 0, 0, [2][]byte{oidSysDescr, descr})
			if !bytes.Equal(b, want) {
				t.Errorf("v%d via %s:\n got %x\nwant %x", v+1, h, b, want)
			}
		}
	}
	// get-next on the system group's root gives sysDescr.0.
	b := r.exchange(t, "127.0.0.1", SNMP, snmpGetRequest(1, "public", 0xa1, []byte{0x2b, 6, 1, 2, 1, 1}), 2*time.Second)
	if want := snmpMessage(1, "public", 0xa2, 0, 0, [2][]byte{oidSysDescr, descr}); !bytes.Equal(b, want) {
		t.Errorf("get-next reply %x", b)
	}
	// Unknown object: v2c noSuchObject, v1 noSuchName.
	unknown := []byte{0x2b, 6, 1, 2, 1, 2, 1, 0}
	b = r.exchange(t, "127.0.0.1", SNMP, snmpGetRequest(1, "public", 0xa0, unknown), 2*time.Second)
	if want := snmpMessage(1, "public", 0xa2, 0, 0, [2][]byte{unknown, {0x80, 0}}); !bytes.Equal(b, want) {
		t.Errorf("v2c unknown object: %x", b)
	}
	b = r.exchange(t, "127.0.0.1", SNMP, snmpGetRequest(0, "public", 0xa0, unknown), 2*time.Second)
	if want := snmpMessage(0, "public", 0xa2, 2, 1, [2][]byte{unknown, {0x05, 0}}); !bytes.Equal(b, want) {
		t.Errorf("v1 unknown object: %x", b)
	}
	// Wrong community: silence.
	if b := r.exchange(t, "127.0.0.1", SNMP, snmpGetRequest(1, "private", 0xa0, oidSysDescr), 200*time.Millisecond); b != nil {
		t.Errorf("community private answered %x", b)
	}
}

func TestOIDRoundTrip(t *testing.T) {
	for _, o := range [][]uint32{{1, 3, 6, 1, 2, 1, 1, 1, 0}, {1, 3, 6, 1, 4, 1, 8072, 3, 2, 10}, {2, 999, 1 << 31}, {0, 0}} {
		got, ok := decodeOID(encodeOID(o))
		if !ok || !slices.Equal(got, o) {
			t.Errorf("%v: round trip %v, %v", o, got, ok)
		}
	}
}

func FuzzSNMPReply(f *testing.F) {
	f.Add(snmpGetRequest(0, "public", 0xa0, oidSysDescr))
	f.Add(snmpGetRequest(1, "public", 0xa1, []byte{0x2b, 6, 1}))
	f.Add(snmpGetRequest(1, "public", 0xa0, []byte{0x2b, 6, 1, 0x81}))
	f.Fuzz(func(t *testing.T, req []byte) {
		b, _ := snmpReply(req, "fuzz.lab", time.Hour, nil)
		if b == nil {
			return
		}
		tag, _, rest, ok := berNext(b)
		if !ok || tag != berSequence || len(rest) != 0 {
			t.Fatalf("reply %x to %x", b, req)
		}
	})
}

func BenchmarkDNSAnswer(b *testing.B) {
	z, _ := newZone(testNames)
	q := dnsQuery(b, 1, "Target.Lab", layers.DNSTypeA)
	out := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = z.answer(q, out[:0], dnsMaxUDP, false)
	}
}

func BenchmarkNTPReply(b *testing.B) {
	req := ntpRequest(4, 42)
	out := make([]byte, 0, 48)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		out, _ = ntpReply(req, now, now, out[:0])
	}
}
