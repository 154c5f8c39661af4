package labsvc

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SNMP (RFC 1157, RFC 3416) in BER (X.690): just what an agent needs to
// answer get and get-next requests on the system group (RFC 3418).
const (
	berInteger   = 0x02
	berOctets    = 0x04
	berNull      = 0x05
	berOID       = 0x06
	berSequence  = 0x30
	berTimeTicks = 0x43

	snmpGet         = 0xa0
	snmpGetNext     = 0xa1
	snmpResponse    = 0xa2
	snmpNoSuchObj   = 0x80 // v2c exceptions
	snmpEndOfMib    = 0x82
	snmpNoSuchName  = 2 // v1 error-status
	snmpCommunity   = "public"
	snmpMaxVarBinds = 16
)

var (
	oidSystem    = []uint32{1, 3, 6, 1, 2, 1, 1}
	oidNetSNMPOS = []uint32{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10} // NET-SNMP-TC::linux
)

// snmpReply answers an SNMPv1 or v2c get or get-next request for community
// "public" on the system group (sysDescr.0 to sysLocation.0) into out.
// Other communities, PDUs and malformed messages get no reply, as agents do.
func snmpReply(req []byte, hostname string, uptime time.Duration, out []byte) ([]byte, string) {
	tag, msg, _, ok := berNext(req)
	if !ok || tag != berSequence {
		return nil, "malformed SNMP message"
	}
	tag, ver, msg, ok := berNext(msg)
	if !ok || tag != berInteger || len(ver) != 1 || ver[0] > 1 {
		return nil, "malformed or unsupported SNMP version"
	}
	tag, community, msg, ok := berNext(msg)
	if !ok || tag != berOctets {
		return nil, "malformed SNMP message"
	}
	if string(community) != snmpCommunity {
		return nil, "SNMP community " + strconv.Quote(respClean(string(community)))
	}
	pduType, pdu, _, ok := berNext(msg)
	if !ok || pduType != snmpGet && pduType != snmpGetNext {
		return nil, "unsupported SNMP PDU"
	}
	tag, reqID, pdu, ok := berNext(pdu)
	if !ok || tag != berInteger || len(reqID) == 0 || len(reqID) > 4 {
		return nil, "malformed SNMP PDU"
	}
	for range 2 { // error-status, error-index
		if tag, _, pdu, ok = berNext(pdu); !ok || tag != berInteger {
			return nil, "malformed SNMP PDU"
		}
	}
	tag, vbl, _, ok := berNext(pdu)
	if !ok || tag != berSequence {
		return nil, "malformed SNMP PDU"
	}
	var oids [][]uint32
	for len(vbl) > 0 {
		var vb, oid []byte
		if tag, vb, vbl, ok = berNext(vbl); !ok || tag != berSequence {
			return nil, "malformed SNMP varbind"
		}
		if tag, oid, _, ok = berNext(vb); !ok || tag != berOID {
			return nil, "malformed SNMP varbind"
		}
		o, ok := decodeOID(oid)
		if !ok || len(oids) == snmpMaxVarBinds {
			return nil, "malformed or too many SNMP varbinds"
		}
		oids = append(oids, o)
	}

	mib := systemMIB(hostname, uptime)
	var vbs []byte
	errStatus, errIndex := 0, 0
	var names []string
	for i, o := range oids {
		var val []byte
		switch pduType {
		case snmpGet:
			if j := slices.IndexFunc(mib, func(e mibEntry) bool { return slices.Equal(e.oid, o) }); j >= 0 {
				val = mib[j].val
			}
		case snmpGetNext:
			if j := slices.IndexFunc(mib, func(e mibEntry) bool { return slices.Compare(e.oid, o) > 0 }); j >= 0 {
				o, val = mib[j].oid, mib[j].val
			}
		}
		names = append(names, oidString(o))
		if val == nil {
			if ver[0] == 0 {
				if errStatus == 0 {
					errStatus, errIndex = snmpNoSuchName, i+1
				}
				val = []byte{berNull, 0}
			} else if pduType == snmpGet {
				val = []byte{snmpNoSuchObj, 0}
			} else {
				val = []byte{snmpEndOfMib, 0}
			}
		}
		vbs = berAppend(vbs, berSequence, append(berAppend(nil, berOID, encodeOID(o)), val...))
	}
	if errStatus != 0 { // v1: the request's varbinds come back unchanged
		vbs = vbs[:0]
		for _, o := range oids {
			vbs = berAppend(vbs, berSequence, append(berAppend(nil, berOID, encodeOID(o)), berNull, 0))
		}
	}
	var p []byte
	p = berAppend(p, berInteger, reqID)
	p = berAppend(p, berInteger, []byte{byte(errStatus)})
	p = berAppend(p, berInteger, []byte{byte(errIndex)})
	p = berAppend(p, berSequence, vbs)
	var m []byte
	m = berAppend(m, berInteger, ver)
	m = berAppend(m, berOctets, community)
	m = berAppend(m, snmpResponse, p)
	op := "get"
	if pduType == snmpGetNext {
		op = "get-next"
	}
	return berAppend(out, berSequence, m), "SNMPv" + [2]string{"1", "2c"}[ver[0]] + " " + op + " " + strings.Join(names, " ")
}

type mibEntry struct {
	oid []uint32
	val []byte // BER-encoded value
}

// systemMIB is the system group of a Debian host running net-snmp, in OID
// order.
func systemMIB(hostname string, uptime time.Duration) []mibEntry {
	str := func(s string) []byte { return berAppend(nil, berOctets, []byte(s)) }
	ticks := uint32(uptime / (10 * time.Millisecond))
	var t []byte
	t = binary.BigEndian.AppendUint32(t, ticks)
	for len(t) > 1 && t[0] == 0 && t[1] < 0x80 {
		t = t[1:]
	}
	if t[0] >= 0x80 {
		t = append([]byte{0}, t...)
	}
	sys := func(n uint32) []uint32 { return append(slices.Clone(oidSystem), n, 0) }
	return []mibEntry{
		{sys(1), str("Linux " + hostname + " 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64")},
		{sys(2), berAppend(nil, berOID, encodeOID(oidNetSNMPOS))},
		{sys(3), berAppend(nil, berTimeTicks, t)},
		{sys(4), str("Me <me@example.org>")},
		{sys(5), str(hostname)},
		{sys(6), str("sonde practice lab")},
	}
}

// berNext splits the first TLV off b: its tag, its value and what follows.
// It accepts definite lengths of up to 2 length bytes.
func berNext(b []byte) (tag byte, val, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, n, i := b[0], int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 2 || len(b) < 2+k {
			return 0, nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i = 2 + k
	}
	if len(b)-i < n {
		return 0, nil, nil, false
	}
	return tag, b[i : i+n], b[i+n:], true
}

// berAppend appends a TLV with a definite length.
func berAppend(b []byte, tag byte, val []byte) []byte {
	b = append(b, tag)
	switch n := len(val); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, val...)
}

// decodeOID decodes the value of an OBJECT IDENTIFIER.
func decodeOID(b []byte) ([]uint32, bool) {
	if len(b) == 0 || len(b) > 128 {
		return nil, false
	}
	var o []uint32
	var v uint32
	for i, c := range b {
		if v >= 1<<25 {
			return nil, false // would overflow 32 bits
		}
		v = v<<7 | uint32(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return nil, false
			}
			continue
		}
		if len(o) == 0 {
			first := min(v/40, 2)
			o = append(o, first, v-40*first)
		} else {
			o = append(o, v)
		}
		v = 0
	}
	return o, true
}

// encodeOID encodes an OBJECT IDENTIFIER of at least two arcs.
func encodeOID(o []uint32) []byte {
	if len(o) < 2 {
		return []byte{0}
	}
	var b []byte
	for _, v := range append([]uint32{o[0]*40 + o[1]}, o[2:]...) {
		var tmp [5]byte
		n := len(tmp) - 1
		tmp[n] = byte(v & 0x7f)
		for v >>= 7; v > 0; v >>= 7 {
			n--
			tmp[n] = byte(v&0x7f) | 0x80
		}
		b = append(b, tmp[n:]...)
	}
	return b
}

func oidString(o []uint32) string {
	var b strings.Builder
	for i, v := range o {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}
