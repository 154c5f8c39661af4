//go:build !linux

package capture

import "context"

// Handle is a live capture; on this system none can be opened.
type Handle struct{}

// Open returns ErrNotSupported on this system.
func Open(ctx context.Context, cfg Config) (*Handle, error) { return nil, ErrNotSupported }

// ZeroCopyReadPacketData returns ErrNotSupported.
func (h *Handle) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	return nil, CaptureInfo{}, ErrNotSupported
}

// ReadPacketData returns ErrNotSupported.
func (h *Handle) ReadPacketData() ([]byte, CaptureInfo, error) {
	return nil, CaptureInfo{}, ErrNotSupported
}

// Stats returns ErrNotSupported.
func (h *Handle) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// Close does nothing.
func (h *Handle) Close() error { return nil }
