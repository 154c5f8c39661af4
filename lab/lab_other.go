//go:build !linux

package lab

import (
	"context"
	"errors"
	"os/exec"
)

// ErrNotSupported is returned on systems without Linux network namespaces.
var ErrNotSupported = errors.New("lab: network namespaces need Linux")

// Config tunes Up; see the Linux documentation.
type Config struct {
	ID          string
	Unpublished bool
	Logf        func(format string, args ...any)
}

// Lab is a built topology; it cannot be built on this system.
type Lab struct {
	ID       string
	Topology Topology
}

// Node is a running node of a lab.
type Node struct {
	Name string
	Path string
}

// Info describes a published lab.
type Info struct {
	ID, Topology, Client, Target string
	Owner                        int
	Alive                        bool
	Nodes                        []NodeInfo
}

// NodeInfo describes one node of a published lab.
type NodeInfo struct {
	Name, Path string
}

// Up returns ErrNotSupported.
func Up(context.Context, Topology, *Config) (*Lab, error) { return nil, ErrNotSupported }

// List returns ErrNotSupported.
func List() ([]Info, error) { return nil, ErrNotSupported }

// Find returns ErrNotSupported.
func Find(string) (Info, error) { return Info{}, ErrNotSupported }

// Down returns ErrNotSupported.
func Down(...string) ([]string, error) { return nil, ErrNotSupported }

// Node returns nil.
func (l *Lab) Node(string) *Node { return nil }

// Close does nothing.
func (l *Lab) Close() error { return nil }

// Err returns nil.
func (l *Lab) Err() error { return nil }

// Published reports false.
func (l *Lab) Published() bool { return false }

// Do returns ErrNotSupported.
func (n *Node) Do(func() error) error { return ErrNotSupported }

// Start returns ErrNotSupported.
func (n *Node) Start(*exec.Cmd) error { return ErrNotSupported }

// Run returns ErrNotSupported.
func (n *Node) Run(*exec.Cmd) error { return ErrNotSupported }

// Node returns ErrNotSupported.
func (info Info) Node(string) (NodeInfo, error) { return NodeInfo{}, ErrNotSupported }

// Exec returns ErrNotSupported.
func (n NodeInfo) Exec([]string) error { return ErrNotSupported }
