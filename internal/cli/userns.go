package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// inUsernsEnv marks the process re-executed inside a user namespace.
const inUsernsEnv = "SONDE_IN_USERNS"

// needUserns reports whether this process must re-execute itself inside a
// user namespace to build a lab: it is not root and has not done so yet.
func needUserns() (bool, error) {
	if os.Geteuid() == 0 || os.Getenv(inUsernsEnv) == "1" {
		return false, nil
	}
	return true, nil
}

// runInUserns re-executes the current command as root of a new user and
// network namespace (the kernel allows it to unprivileged users on most
// distributions), and returns its exit status. When the kernel refuses,
// nothing was created: it is a usage error, as the issue of privileges is
// the caller's.
func runInUserns(ctx context.Context, e *env, _ error) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, e.args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	cmd.Env = append(os.Environ(), inUsernsEnv+"=1")
	cmd.SysProcAttr = usernsAttr()
	if err := cmd.Start(); err != nil {
		return usagef("lab: building a lab needs root, or user namespaces, and this system allows neither (%v)", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Ctrl-C reached the child too (same process group); SIGTERM may
		// have reached only us: pass it on, and let the child clean up.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitStatus(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// exitStatus is an error that carries the exit status of a child that has
// already reported its own errors.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }
