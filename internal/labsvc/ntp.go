package labsvc

import (
	"encoding/binary"
	"strconv"
	"time"
)

// NTP constants (RFC 5905).
const (
	ntpHeaderLen  = 48
	ntpModeClient = 3
	ntpModeServer = 4
	ntpStratum    = 2
	ntpPrecision  = -20 // about a microsecond, log2 seconds
	ntpEpochDelta = 2208988800
)

// ntpRefID is the reference identifier of a stratum-2 server: the IPv4
// address of its upstream server, here one from the documentation range
// (RFC 5737), which is never contacted.
var ntpRefID = [4]byte{192, 0, 2, 123}

// ntpReply builds the server reply (mode 4) to a client request (mode 3)
// into out: stratum 2, the request's version and poll, its transmit
// timestamp as origin, rx and tx as receive and transmit timestamps.
// Anything else (short packets, other modes) gets no reply.
func ntpReply(req []byte, rx, tx time.Time, out []byte) ([]byte, string) {
	if len(req) < ntpHeaderLen {
		return nil, "short NTP packet"
	}
	vn := req[0] >> 3 & 7
	if mode := req[0] & 7; mode != ntpModeClient {
		return nil, "NTP mode " + strconv.Itoa(int(mode))
	}
	if vn < 1 || vn > 4 {
		return nil, "NTP version " + strconv.Itoa(int(vn))
	}
	out = append(out, vn<<3|ntpModeServer, ntpStratum, req[2], byte(ntpPrecision&0xff))
	out = binary.BigEndian.AppendUint32(out, 0x0000_0200) // root delay, 16.16 s: ~7.8 ms
	out = binary.BigEndian.AppendUint32(out, 0x0000_0300) // root dispersion: ~11.7 ms
	out = append(out, ntpRefID[:]...)
	out = appendNTPTime(out, rx.Add(-17*time.Minute).Truncate(time.Second)) // reference: last sync
	out = append(out, req[40:48]...)                                        // origin = client's transmit
	out = appendNTPTime(out, rx)
	out = appendNTPTime(out, tx)
	return out, "NTP v" + strconv.Itoa(int(vn)) + " time"
}

// appendNTPTime appends t in the 64-bit NTP timestamp format: seconds since
// 1900 (era 0, which wraps in 2036 as the format does) and a binary fraction.
func appendNTPTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(t.Unix()+ntpEpochDelta))
	return binary.BigEndian.AppendUint32(b, uint32(uint64(t.Nanosecond())<<32/1e9))
}
