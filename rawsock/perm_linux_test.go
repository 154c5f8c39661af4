//go:build linux

package rawsock_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"sonde/lab/labtest"
	"sonde/rawsock"
)

// TestPermissionError runs the test binary again as nobody, without
// CAP_NET_RAW: every constructor must fail with an error that satisfies
// errors.Is(err, os.ErrPermission), which the CLI turns into a hint.
func TestPermissionError(t *testing.T) {
	if os.Getenv("SONDE_RAWSOCK_UNPRIVILEGED") == "1" {
		if os.Geteuid() == 0 {
			t.Fatal("the child runs as root")
		}
		_, err1 := rawsock.Listen(0, nil)
		_, err2 := rawsock.OpenIP(nil)
		_, err3 := rawsock.ListenIP(rawsock.IPv4, 1, nil)
		for i, err := range []error{err1, err2, err3} {
			if !errors.Is(err, os.ErrPermission) {
				t.Errorf("constructor %d without CAP_NET_RAW: %v, want an os.ErrPermission", i, err)
			}
		}
		return
	}
	labtest.RequirePrivileges(t)
	// The test binary's directory is private: copy it where nobody can
	// run it.
	dir, err := os.MkdirTemp("", "sonde-rawsock-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rawsock.test")
	if err := copyFile(bin, os.Args[0]); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPermissionError$", "-test.v")
	cmd.Env = append(os.Environ(), "SONDE_RAWSOCK_UNPRIVILEGED=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged run: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestPermissionError")) {
		t.Fatalf("the unprivileged run did not run the checks:\n%s", out)
	}
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
