package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// udpPayload writes into buf (maxPayload bytes) the probe a UDP port is
// sent, and returns it: a request its usual service answers (a closed
// port answers anything with an ICMP port unreachable; an open one often
// answers nothing but its protocol). Where the protocol echoes a field of
// the request, that field carries the probe's cookie: the DNS and NetBIOS
// identifier, NTP's transmit timestamp ([udpAnswerValid] checks it).
func udpPayload(buf []byte, port uint16, cookie uint32) []byte {
	b := buf[:0]
	switch port {
	case 53, 5353:
		// A DNS query (RFC 1035) for the root's NS records; mDNS gets
		// the same question.
		b = append(b, 0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1)
		binary.BigEndian.PutUint16(b, uint16(cookie))
		if port == 5353 {
			b[2] = 0
		}
	case 123:
		// An NTP client request (RFC 5905): version 4, mode 3; the server
		// copies the transmit timestamp into its origin timestamp.
		b = b[:48]
		clear(b)
		b[0] = 4<<3 | 3
		binary.BigEndian.PutUint32(b[40:], cookie)
		binary.BigEndian.PutUint32(b[44:], ^cookie)
	case 161:
		// SNMPv1 get-request of sysDescr.0, community "public" (RFC 1157).
		b = append(b, 0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
			0xa0, 0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c,
			0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00)
	case 137:
		// A NetBIOS node status query for "*" (RFC 1002 section 4.2.17).
		b = append(b, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, 'C', 'K')
		for range 30 {
			b = append(b, 'A')
		}
		b = append(b, 0, 0, 0x21, 0, 1)
		binary.BigEndian.PutUint16(b, uint16(cookie))
	case 1900:
		b = append(b, "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"...)
	case 7, 19, 13, 37:
		b = append(b, "sonde\r\n"...)
	}
	return b
}

// udpAnswerValid reports whether a UDP reply from port answers the probe
// that carried cookie, where the protocol echoes it (DNS, NetBIOS, NTP);
// other replies are taken on their ports alone.
func udpAnswerValid(port uint16, b []byte, cookie uint32) bool {
	switch port {
	case 53, 137:
		return len(b) >= 12 && binary.BigEndian.Uint16(b) == uint16(cookie)
	case 123:
		return len(b) >= 48 && binary.BigEndian.Uint32(b[24:]) == cookie && binary.BigEndian.Uint32(b[28:]) == ^cookie
	}
	return true
}

// udpServiceFromReply names the service that answered, when the reply
// says.
func udpServiceFromReply(port uint16, b []byte) string {
	switch {
	case (port == 53 || port == 5353) && len(b) >= 12 && b[2]&0x80 != 0:
		return "domain"
	case port == 123 && len(b) >= 48 && b[0]&7 == 4:
		return "ntp"
	case port == 161 && len(b) > 2 && b[0] == 0x30:
		return "snmp"
	}
	return ServiceName(UDP, port)
}

// runUDPKernel scans UDP ports with the kernel's sockets, one connected
// socket per probe: the way where raw sockets cannot be used.
func runUDPKernel(ctx context.Context, sp *space, cfg *Config, emit func(Result)) (Stats, error) {
	k := &kernelScan{sp: sp, cfg: cfg, emit: emit}
	wait := cfg.timeout()
	// Linux sends at most one ICMP error a second to a destination after a
	// burst of six (net.ipv4.icmp_ratelimit): retries of the silent ports
	// come a second apart, so each finds tokens to answer with.
	return k.run(ctx, func(ctx context.Context, fd int, a netip.Addr, port uint16, attempt int) (Result, bool) {
		r := Result{Addr: a, Port: port, Proto: UDP, Service: ServiceName(UDP, port)}
		c, err := connectUDP(fd, netip.AddrPortFrom(a, port))
		if err != nil {
			return r, false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(wait))
		var pb [maxPayload]byte
		if _, err := c.Write(udpPayload(pb[:], port, uint32(port)^uint32(attempt))); err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				r.State, r.Reason = Closed, "port-unreach"
				return r, true
			}
			return r, false
		}
		buf := make([]byte, 1500)
		stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		n, err := c.Read(buf)
		switch {
		case err == nil:
			r.State, r.Reason, r.Service = Open, "udp-response", udpServiceFromReply(port, buf[:n])
		case errors.Is(err, syscall.ECONNREFUSED):
			r.State, r.Reason = Closed, "port-unreach"
		case errors.Is(err, syscall.EHOSTUNREACH):
			r.State, r.Reason = Filtered, "host-unreach"
		case errors.Is(err, os.ErrDeadlineExceeded):
			return r, false
		default:
			return r, false
		}
		return r, true
	}, time.Second, OpenFiltered)
}
