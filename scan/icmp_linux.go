package scan

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"sonde/packet"
	"sonde/rawsock"
)

// pingHosts sends each IPv4 address an ICMP echo request and an ICMP
// timestamp request (RFC 792), as nmap's discovery does, and returns those
// that answered with the reason (echo-reply, timestamp-reply). The
// requests carry a keyed hash of the destination in their identifier and
// sequence number, so replies validate without a table. Sockets are opened
// on the calling thread.
func pingHosts(ctx context.Context, addrs []netip.Addr, key sipKey, retries int, wait time.Duration) (map[netip.Addr]string, error) {
	var v4 []netip.Addr
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		}
	}
	up := map[netip.Addr]string{}
	if len(v4) == 0 {
		return up, nil
	}
	tx, err := rawsock.OpenIP(nil)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer tx.Close()
	rx, err := rawsock.ListenIP(rawsock.IPv4, 1, nil)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer rx.Close()
	tag := func(a netip.Addr) (uint16, uint16) {
		h := key.sum(uint64(addrU32(a)), 0x70696e67)
		return uint16(h), uint16(h >> 16)
	}
	var mu sync.Mutex
	var last time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, info, err := rx.ReadFrom(buf)
			if err != nil {
				return
			}
			p := buf[:n]
			if len(p) < 20 || p[0]>>4 != 4 {
				continue
			}
			ihl := int(p[0]&0x0f) * 4
			if len(p) < ihl+8 {
				continue
			}
			icmp := p[ihl:]
			reason := map[byte]string{0: "echo-reply", 14: "timestamp-reply"}[icmp[0]]
			src := info.Src.Unmap()
			if reason == "" || !src.Is4() {
				continue
			}
			id, seq := tag(src)
			if binary.BigEndian.Uint16(icmp[4:]) != id || binary.BigEndian.Uint16(icmp[6:]) != seq {
				continue
			}
			mu.Lock()
			if _, ok := up[src]; !ok {
				up[src] = reason
			}
			last = time.Now()
			mu.Unlock()
		}
	}()
	pkt := make([]byte, 20+20)
	for attempt := 0; attempt <= retries && ctx.Err() == nil; attempt++ {
		sent := 0
		for _, a := range v4 {
			mu.Lock()
			_, ok := up[a]
			mu.Unlock()
			if ok {
				continue
			}
			id, seq := tag(a)
			for _, typ := range []byte{8, 13} {
				n := buildPing(pkt, a, typ, id, seq)
				if err := tx.WriteTo(pkt[:n], a); err == nil {
					sent++
				}
			}
		}
		if sent == 0 {
			break
		}
		end := time.Now()
		for ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			l := last
			mu.Unlock()
			if l.Before(end) {
				l = end
			}
			if time.Since(l) > 50*time.Millisecond || time.Since(end) > wait {
				break
			}
		}
	}
	rx.SetDeadline(time.Unix(1, 0))
	<-done
	mu.Lock()
	defer mu.Unlock()
	return up, nil
}

// buildPing writes an IPv4 packet with an ICMP echo (typ 8) or timestamp
// (typ 13) request to dst; the kernel fills the source address, the
// identification and the header checksum (raw(7), IP_HDRINCL).
func buildPing(b []byte, dst netip.Addr, typ byte, id, seq uint16) int {
	icmpLen := 8
	if typ == 13 {
		icmpLen = 20
	}
	clear(b)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+icmpLen))
	b[8], b[9] = 64, 1
	d := dst.As4()
	copy(b[16:20], d[:])
	m := b[20 : 20+icmpLen]
	m[0] = typ
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	binary.BigEndian.PutUint16(m[2:], packet.Checksum(0, m))
	return 20 + icmpLen
}
