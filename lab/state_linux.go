package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stateDir holds one JSON file per published lab, so that other processes
// (sonde lab exec, ls, down) find it.
const stateDir = "/run/sonde/labs"

// Info describes a published lab, as List returns it.
type Info struct {
	ID       string     `json:"id"`
	Topology string     `json:"topology"`
	Owner    int        `json:"owner"` // pid of the process that built it
	Created  time.Time  `json:"created"`
	Client   string     `json:"client"`
	Target   string     `json:"target"`
	Nodes    []NodeInfo `json:"nodes"`
	// Alive reports whether the owner is still running; a lab whose owner
	// died (SIGKILL) is left for Down.
	Alive bool `json:"alive"`
}

// NodeInfo describes one node of a published lab.
type NodeInfo struct {
	Name  string       `json:"name"`
	Path  string       `json:"netns"`
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

func writeState(l *Lab) error {
	info := Info{ID: l.ID, Topology: l.Topology.Name, Owner: os.Getpid(), Created: time.Now().UTC(),
		Client: l.Topology.Client, Target: l.Topology.Target}
	for _, n := range l.Topology.Nodes {
		info.Nodes = append(info.Nodes, NodeInfo{Name: n.Name, Path: filepath.Join(netnsDir, nsName(l.ID, n.Name)),
			Addrs: l.Topology.Addrs(n.Name)})
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", errnoErr(err))
	}
	if err := os.WriteFile(filepath.Join(stateDir, l.ID+".json"), b, 0o644); err != nil {
		return fmt.Errorf("lab: %w", errnoErr(err))
	}
	return nil
}

func removeState(id string) error {
	if err := os.Remove(filepath.Join(stateDir, id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// List returns the published labs, oldest first, and, as labs with no
// topology, any sonde namespaces in /run/netns that no lab claims.
func List() ([]Info, error) {
	files, _ := filepath.Glob(filepath.Join(stateDir, "*.json"))
	var out []Info
	claimed := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // removed meanwhile
		}
		var info Info
		if err := json.Unmarshal(b, &info); err != nil {
			return nil, fmt.Errorf("lab: %s: %w", f, err)
		}
		info.Alive = info.Owner > 0 && unix.Kill(info.Owner, 0) == nil
		for _, n := range info.Nodes {
			claimed[n.Path] = true
		}
		out = append(out, info)
	}
	orphans := map[string]*Info{}
	paths, _ := filepath.Glob(filepath.Join(netnsDir, "sonde-*"))
	for _, p := range paths {
		if claimed[p] {
			continue
		}
		id, node, ok := strings.Cut(strings.TrimPrefix(filepath.Base(p), "sonde-"), "-")
		if !ok {
			continue
		}
		if orphans[id] == nil {
			orphans[id] = &Info{ID: id}
		}
		orphans[id].Nodes = append(orphans[id].Nodes, NodeInfo{Name: node, Path: p})
	}
	for _, o := range orphans {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Info) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Find returns the published lab called id, or the only one when id is
// empty.
func Find(id string) (Info, error) {
	labs, err := List()
	if err != nil {
		return Info{}, err
	}
	var up []Info
	for _, l := range labs {
		if l.Topology != "" && (id == "" || l.ID == id) {
			up = append(up, l)
		}
	}
	switch {
	case len(up) == 1:
		return up[0], nil
	case len(up) == 0 && id != "":
		return Info{}, fmt.Errorf("lab: no lab named %q is up (sonde lab ls)", id)
	case len(up) == 0:
		return Info{}, errors.New("lab: no lab is up (sonde lab up)")
	default:
		ids := make([]string, len(up))
		for i, l := range up {
			ids[i] = l.ID
		}
		return Info{}, fmt.Errorf("lab: %d labs are up (%s): name one with --lab", len(up), strings.Join(ids, ", "))
	}
}

// Node returns the named node of a published lab.
func (info Info) Node(name string) (NodeInfo, error) {
	for _, n := range info.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	names := make([]string, len(info.Nodes))
	for i, n := range info.Nodes {
		names[i] = n.Name
	}
	return NodeInfo{}, fmt.Errorf("lab: lab %s has no node %q (nodes: %s)", info.ID, name, strings.Join(names, ", "))
}

// Exec replaces the calling process with argv run inside the node's
// namespace, as `ip netns exec` does. It returns only on error.
func (n NodeInfo) Exec(argv []string) error {
	path, err := lookPath(argv[0])
	if err != nil {
		return err
	}
	fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lab: %w", errnoErr(err))
	}
	return inNetns(fd, func() error {
		// The thread that execs becomes the whole process, so the
		// program runs entirely inside the namespace.
		return fmt.Errorf("lab: exec %s: %w", argv[0], syscall.Exec(path, argv, os.Environ()))
	})
}

// Down removes the published labs named in ids, or all of them (and every
// orphaned sonde namespace) when ids is empty: it asks a live owner to
// tear its lab down, kills what is left running inside, and removes the
// namespaces. It returns the IDs removed.
func Down(ids ...string) ([]string, error) {
	labs, err := List()
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, info := range labs {
		if len(ids) > 0 && !slices.Contains(ids, info.ID) {
			continue
		}
		if info.Alive && info.Owner != os.Getpid() {
			unix.Kill(info.Owner, unix.SIGTERM)
			for i := 0; i < 50 && unix.Kill(info.Owner, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		for _, n := range info.Nodes {
			killIn(n.Path)
			if err := unpublish(n.Path); err != nil {
				errs = append(errs, err)
			}
		}
		if info.Topology != "" {
			errs = append(errs, removeState(info.ID))
		}
		done = append(done, info.ID)
	}
	for _, id := range ids {
		if !slices.Contains(done, id) {
			errs = append(errs, fmt.Errorf("lab: no lab named %q", id))
		}
	}
	return done, errors.Join(errs...)
}

// killIn kills every process (but this one) whose network namespace is the
// one published at path.
func killIn(path string) {
	ino, err := netnsInode(path)
	if err != nil {
		return
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if i, err := netnsInode(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && i == ino {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}
