package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRegisteredNames checks each registration's name against the command
// it builds: a wrong name would send its command line to another command.
func TestRegisteredNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range registrations {
		cmd := r.new(&env{})
		switch {
		case r.name == "" && cmd.Name() != "man":
			t.Errorf("command %s is registered without its name: register(newXxxCmd, %q)", cmd.Name(), cmd.Name())
		case r.name != "" && r.name != cmd.Name():
			t.Errorf("command %s is registered as %q", cmd.Name(), r.name)
		case seen[cmd.Name()]:
			t.Errorf("command %s is registered twice", cmd.Name())
		}
		seen[cmd.Name()] = true
	}
}

// TestCommandAloneAsInTree checks that a command built alone (the command
// line names it) says the same as in the whole tree: its help, and a usage
// error.
func TestCommandAloneAsInTree(t *testing.T) {
	run := func(args ...string) string {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
		return out.String() + "|" + errb.String() + "|" + string(rune('0'+code))
	}
	for _, r := range registrations {
		if r.name == "" {
			continue
		}
		alone, tree := run(r.name, "--help"), run("help", r.name)
		if alone != tree || len(alone) < 50 {
			t.Errorf("%s --help alone:\n%s\nin the tree:\n%s", r.name, alone, tree)
		}
		if got := run(r.name, "--no-such-flag"); !strings.Contains(got, "unknown flag: --no-such-flag (see sonde "+r.name+" --help)") {
			t.Errorf("%s --no-such-flag: %s", r.name, got)
		}
	}
	if got := run("tarce"); !strings.Contains(got, "unknown command") || !strings.Contains(got, "trace") {
		t.Errorf("a misspelt command: %s", got)
	}
}
