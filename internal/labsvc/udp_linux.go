package labsvc

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// pktinfo makes a wildcard UDP socket answer from the address a datagram
// was sent to. Without it the kernel picks the reply's source address by
// route, and on a host with many local addresses (a lab host with a local
// route) the client would drop a reply that comes from another address than
// the one it asked. It uses IP_PKTINFO or IPV6_RECVPKTINFO; Linux reports
// and honours IPV6_PKTINFO for IPv4 datagrams on a dual-stack socket too,
// as v4-mapped addresses.
//
// Such a socket sees the address a datagram was sent to, and answers
// only datagrams that reached it, so it replies only from local addresses.
type pktinfo struct {
	family int // unix.AF_INET or unix.AF_INET6
}

// local is where a datagram arrived.
type local struct {
	addr    netip.Addr
	ifindex uint32
}

func enablePktinfo(c *net.UDPConn) (pktinfo, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return pktinfo{}, err
	}
	var pi pktinfo
	var serr error
	err = raw.Control(func(fd uintptr) {
		pi.family, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if serr != nil {
			return
		}
		if pi.family == unix.AF_INET6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
		if serr == nil {
			// An address of an IPv6 local route ("ip -6 route add local
			// PREFIX dev lo") is not assigned to an interface, and the
			// kernel refuses it as IPV6_PKTINFO source unless the socket
			// may use foreign addresses. The option is shared by both
			// families and only widens what the socket may send from.
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		}
	})
	return pi, errors.Join(err, serr)
}

func (pi pktinfo) read(c *net.UDPConn, buf, oob []byte) (int, local, netip.AddrPort, error) {
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		return 0, local{}, from, err
	}
	var l local
	msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
	if perr == nil {
		for _, m := range msgs {
			switch {
			case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 20:
				l.addr = netip.AddrFrom16([16]byte(m.Data[:16]))
				l.ifindex = binary.NativeEndian.Uint32(m.Data[16:20])
			case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= 12:
				l.ifindex = binary.NativeEndian.Uint32(m.Data[0:4])
				l.addr = netip.AddrFrom4([4]byte(m.Data[8:12]))
			}
		}
	}
	return n, l, from, nil
}

func (pi pktinfo) write(c *net.UDPConn, b []byte, l local, to netip.AddrPort) error {
	var oob []byte
	if l.addr.IsValid() && !l.addr.IsMulticast() && !l.addr.Unmap().IsMulticast() {
		var ifindex uint32
		if l.addr.IsLinkLocalUnicast() || to.Addr().IsLinkLocalUnicast() {
			ifindex = l.ifindex // the scope of a link-local address is its link
		}
		if pi.family == unix.AF_INET6 {
			oob = unix.PktInfo6(&unix.Inet6Pktinfo{Addr: l.addr.As16(), Ifindex: ifindex})
		} else if l.addr.Unmap().Is4() {
			oob = unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: int32(ifindex), Spec_dst: l.addr.Unmap().As4()})
		}
	}
	_, _, err := c.WriteMsgUDPAddrPort(b, oob, to)
	if err != nil && oob != nil && errors.Is(err, syscall.EINVAL) {
		// e.g. a datagram sent to a broadcast address: let the kernel choose.
		_, _, err = c.WriteMsgUDPAddrPort(b, nil, to)
	}
	return err
}

// isTemporary reports errors after which a socket can go on: out of file
// descriptors or buffers, or an ICMP error queued on a UDP socket.
func isTemporary(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
