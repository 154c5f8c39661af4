//go:build !linux

package rawsock

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"
)

// errUnsupported is what every constructor returns off Linux.
var errUnsupported = errors.New("rawsock: not supported on " + runtime.GOOS)

// BatchSize is the most frames WriteBatch hands the kernel in one call.
const BatchSize = 64

// PacketConn is an AF_PACKET socket; it exists only on Linux.
type PacketConn struct{}

// Listen returns an error: AF_PACKET sockets exist only on Linux.
func Listen(ifindex int, cfg *Config) (*PacketConn, error) { return nil, errUnsupported }

// Ifindex returns 0.
func (c *PacketConn) Ifindex() int { return 0 }

// ReadFrom returns an error.
func (c *PacketConn) ReadFrom(buf []byte) (int, PacketInfo, error) {
	return 0, PacketInfo{}, errUnsupported
}

// Write returns an error.
func (c *PacketConn) Write(frame []byte) (int, error) { return 0, errUnsupported }

// WriteTo returns an error.
func (c *PacketConn) WriteTo(frame []byte, ifindex int) (int, error) { return 0, errUnsupported }

// WriteToHW returns an error.
func (c *PacketConn) WriteToHW(frame []byte, ifindex int, dst net.HardwareAddr) (int, error) {
	return 0, errUnsupported
}

// WriteBatch returns an error.
func (c *PacketConn) WriteBatch(frames [][]byte) (int, error) { return 0, errUnsupported }

// SetDeadline returns an error.
func (c *PacketConn) SetDeadline(t time.Time) error { return errUnsupported }

// SetReadDeadline returns an error.
func (c *PacketConn) SetReadDeadline(t time.Time) error { return errUnsupported }

// SetWriteDeadline returns an error.
func (c *PacketConn) SetWriteDeadline(t time.Time) error { return errUnsupported }

// Stats returns an error.
func (c *PacketConn) Stats() (Stats, error) { return Stats{}, errUnsupported }

// Close returns an error.
func (c *PacketConn) Close() error { return errUnsupported }

// IPConn sends whole IP packets; it exists only on Linux.
type IPConn struct{}

// OpenIP returns an error: sonde's raw sockets exist only on Linux.
func OpenIP(cfg *IPConfig) (*IPConn, error) { return nil, errUnsupported }

// WriteTo returns an error.
func (c *IPConn) WriteTo(pkt []byte, dst netip.Addr) error { return errUnsupported }

// Close returns an error.
func (c *IPConn) Close() error { return errUnsupported }

// ProtoConn receives the packets of one IP protocol; it exists only on
// Linux.
type ProtoConn struct{}

// ListenIP returns an error: sonde's raw sockets exist only on Linux.
func ListenIP(f Family, proto int, cfg *IPConfig) (*ProtoConn, error) { return nil, errUnsupported }

// ReadFrom returns an error.
func (c *ProtoConn) ReadFrom(buf []byte) (int, IPInfo, error) { return 0, IPInfo{}, errUnsupported }

// Taken returns an error.
func (c *ProtoConn) Taken() (uint64, bool, error) { return 0, false, errUnsupported }

// Family returns 0.
func (c *ProtoConn) Family() Family { return 0 }

// SetDeadline returns an error.
func (c *ProtoConn) SetDeadline(t time.Time) error { return errUnsupported }

// SetReadDeadline returns an error.
func (c *ProtoConn) SetReadDeadline(t time.Time) error { return errUnsupported }

// Close returns an error.
func (c *ProtoConn) Close() error { return errUnsupported }
