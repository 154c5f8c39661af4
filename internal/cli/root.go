package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, as the README documents them.
const (
	ExitOK       = 0 // the command did its job
	ExitFailure  = 1 // the command ran but failed (I/O, network, peer errors)
	ExitUsage    = 2 // bad input: nothing was sent or created
	ExitCanceled = 130
)

// usageError marks an error caused by the user's input. The CLI prints it as
// one line and exits with ExitUsage; by contract nothing was sent or created.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError built like fmt.Errorf.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// asUsage wraps err (when not nil) as a usage error.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// env carries the process's streams to the subcommands, so tests can run the
// CLI in-process.
type env struct {
	args           []string // the command line, without the program name
	stdin          io.Reader
	stdout, stderr io.Writer
}

// registration is a subcommand's constructor, with the name of the command
// it builds.
type registration struct {
	name string // "": known only once built, so built only with the whole tree
	new  func(*env) *cobra.Command
}

// registrations holds the subcommands; each file of this package adds its own
// in an init function (no side effects: it only appends).
var registrations []registration

// register adds the constructor of a subcommand and the command's name
// (cobra.Command.Name; a test checks that it is). A command line that names
// it builds that command alone, without the rest of the tree. A command that
// needs the whole tree (man) is registered without a name.
func register(f func(*env) *cobra.Command, name ...string) {
	r := registration{new: f}
	if len(name) > 0 {
		r.name = name[0]
	}
	registrations = append(registrations, r)
}

// newRoot builds the whole command tree.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "sonde",
		Short: "Network reconnaissance and traffic analysis, with a built-in practice lab",
		Long: `sonde crafts and sends packets and matches their replies, traces routes,
scans ports, captures and analyses traffic, and geolocates addresses.

Practise only on networks you own: "sonde lab" builds a virtual one.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// A command line that names a subcommand builds that one alone: every
	// command's flags and help, built for nothing, cost each run of sonde
	// about half a millisecond.
	if len(e.args) > 0 {
		for _, r := range registrations {
			if r.name != "" && r.name == e.args[0] {
				root.AddCommand(r.new(e))
				// Nor cobra's completion command, which only a command
				// line naming it uses.
				root.CompletionOptions.DisableDefaultCmd = true
				return root
			}
		}
	}
	for _, r := range registrations {
		root.AddCommand(r.new(e))
	}
	return root
}

// Main runs the command line args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{args: args, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	return report(e.stderr, cmd, err)
}

// report prints err as one line and picks the exit code.
func report(w io.Writer, cmd *cobra.Command, err error) int {
	msg := strings.TrimSpace(err.Error())
	var ue usageError
	var status exitStatus
	switch {
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, &ue) || isCobraUsage(err):
		if cmd != nil && isCobraUsage(err) {
			msg += " (see " + cmd.CommandPath() + " --help)"
		}
		fmt.Fprintf(w, "sonde: %s\n", msg)
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "sonde: interrupted\n")
		return ExitCanceled
	case errors.Is(err, os.ErrPermission):
		fmt.Fprintf(w, "sonde: %s (hint: run as root, or give the binary CAP_NET_RAW and CAP_NET_ADMIN)\n", msg)
		return ExitFailure
	default:
		fmt.Fprintf(w, "sonde: %s\n", msg)
		return ExitFailure
	}
}

// isCobraUsage recognises cobra's own argument errors, which it returns as
// plain errors.
func isCobraUsage(err error) bool {
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}
