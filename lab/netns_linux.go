package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 publishes named network namespaces.
const netnsDir = "/run/netns"

// newNetns creates a network namespace and returns a descriptor of it,
// leaving the calling thread where it was. When path is not empty the
// namespace is also bind-mounted there, as `ip netns add` does.
func newNetns(path string) (fd int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("lab: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return -1, fmt.Errorf("lab: creating a network namespace: %w", errnoErr(err))
	}
	// From here the thread must go back to orig whatever happens.
	defer func() {
		if rerr := unix.Setns(orig, unix.CLONE_NEWNET); rerr != nil {
			runtime.LockOSThread() // never reuse this thread: it dies with the goroutine
			err = errors.Join(err, fmt.Errorf("lab: returning to the original namespace: %w", rerr))
		}
	}()
	fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("lab: %w", err)
	}
	if path != "" {
		if err := publish(path); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// publish bind-mounts the calling thread's network namespace at path.
func publish(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	f.Close()
	if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("lab: publishing %s: %w", path, errnoErr(err))
	}
	return nil
}

// unpublish undoes publish; a path that is not there is not an error.
func unpublish(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("lab: unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// inNetns runs fn on the calling goroutine, locked to its thread, with the
// thread in the namespace fd; the thread returns to its own namespace
// afterwards, even when fn calls runtime.Goexit (as t.Fatal does).
func inNetns(fd int, fn func() error) (err error) {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: %w", err)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: entering namespace: %w", errnoErr(err))
	}
	defer func() {
		rerr := unix.Setns(orig, unix.CLONE_NEWNET)
		unix.Close(orig)
		if rerr != nil {
			// Stay locked: the runtime discards the thread when the
			// goroutine exits, so no other goroutine runs in the lab.
			err = errors.Join(err, fmt.Errorf("lab: returning to the original namespace: %w", rerr))
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// errnoErr makes permission errors satisfy errors.Is(err, os.ErrPermission).
func errnoErr(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%w)", os.ErrPermission, err)
	}
	return err
}

// netnsInode identifies a namespace by the inode of its nsfs file.
func netnsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}
